package io.pushbridge.redis.testing;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that runs real Redis for the tests of one class: a standalone server
 * ({@link #standalone(String...)}), a cluster ({@link #cluster(int)}) or a sentinel setup
 * ({@link #sentinel()}), started before the first test and closed after the last.
 *
 * <pre>{@code
 * class StoreTests {
 *     @RegisterExtension
 *     static final RedisExtension redis = RedisExtension.standalone();
 *
 *     @Test
 *     void works() {
 *         RedisClient client = RedisClient.create(redis.uri());
 *         ...
 *         redis.server().kill();      // simulate a crash
 *         redis.server().restart();   // same port
 *     }
 * }
 * }</pre>
 *
 * <p>Register it on a {@code static} field: it starts in {@code beforeAll} and stops in
 * {@code afterAll} of the class that declares it; {@code @Nested} classes share the same processes.
 * Tests of a class share the processes too, so they should use distinct keys or flush
 * ({@code redis.server().command("FLUSHALL")}) as needed.
 *
 * <p>Threading: the accessors may be called from any thread once {@code beforeAll} has run.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

    private enum Kind { STANDALONE, CLUSTER, SENTINEL }

    private final Kind kind;
    private final List<String> extraArgs;
    private final int masters;

    private volatile AutoCloseable running;
    private String ownerId;

    private RedisExtension(Kind kind, List<String> extraArgs, int masters) {
        this.kind = kind;
        this.extraArgs = extraArgs;
        this.masters = masters;
    }

    /** A standalone {@link RedisServer}, started with the given extra command-line options. */
    public static RedisExtension standalone(String... extraArgs) {
        return new RedisExtension(Kind.STANDALONE, List.of(extraArgs), 0);
    }

    /**
     * A {@link RedisCluster} of {@code masters} masters (at least 3), e.g. {@code RedisExtension.cluster(3)}.
     *
     * <p>(There is no no-argument factory: Java does not allow a static {@code cluster()} next to the
     * instance accessor {@link #cluster()}.)
     */
    public static RedisExtension cluster(int masters) {
        if (masters < 3) {
            throw new IllegalArgumentException("Redis Cluster needs at least 3 masters, got " + masters);
        }
        return new RedisExtension(Kind.CLUSTER, List.of(), masters);
    }

    /** A {@link RedisSentinels} setup: master, replica and three sentinels. */
    public static RedisExtension sentinel() {
        return new RedisExtension(Kind.SENTINEL, List.of(), 0);
    }

    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (running != null) {
            return; // a @Nested class of the declaring class
        }
        switch (kind) {
            case STANDALONE -> running = RedisServer.start(extraArgs.toArray(String[]::new));
            case CLUSTER -> running = RedisCluster.start(masters);
            case SENTINEL -> running = RedisSentinels.start();
            default -> throw new IllegalStateException(String.valueOf(kind));
        }
        ownerId = context.getUniqueId();
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) throws Exception {
        if (running == null || !context.getUniqueId().equals(ownerId)) {
            return;
        }
        AutoCloseable closing = running;
        running = null;
        ownerId = null;
        closing.close();
    }

    /**
     * The URI to hand to Lettuce: {@code redis://127.0.0.1:PORT} (standalone), the comma-joined seed
     * URIs (cluster) or {@code redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/0#mymaster}.
     */
    public String uri() {
        AutoCloseable current = current();
        if (current instanceof RedisServer server) {
            return server.uri();
        }
        if (current instanceof RedisCluster cluster) {
            return cluster.uri();
        }
        return ((RedisSentinels) current).uri();
    }

    /**
     * The standalone server.
     *
     * @throws IllegalStateException if this extension runs a cluster or sentinels, or is not started
     */
    public RedisServer server() {
        return as(RedisServer.class, Kind.STANDALONE);
    }

    /**
     * The cluster.
     *
     * @throws IllegalStateException if this extension runs something else, or is not started
     */
    public RedisCluster cluster() {
        return as(RedisCluster.class, Kind.CLUSTER);
    }

    /**
     * The sentinel setup.
     *
     * @throws IllegalStateException if this extension runs something else, or is not started
     */
    public RedisSentinels sentinels() {
        return as(RedisSentinels.class, Kind.SENTINEL);
    }

    private <T> T as(Class<T> type, Kind wanted) {
        if (kind != wanted) {
            throw new IllegalStateException("this RedisExtension runs " + kind.name().toLowerCase(java.util.Locale.ROOT)
                    + ", not " + wanted.name().toLowerCase(java.util.Locale.ROOT));
        }
        return type.cast(current());
    }

    private AutoCloseable current() {
        AutoCloseable current = running;
        if (current == null) {
            throw new IllegalStateException("RedisExtension is not started: register it with @RegisterExtension on a "
                    + "static field and use it from tests or @BeforeAll/@BeforeEach methods");
        }
        return current;
    }

    @Override
    public String toString() {
        AutoCloseable current = running;
        return "RedisExtension[" + kind + (current == null ? "" : ", " + current) + "]";
    }
}
