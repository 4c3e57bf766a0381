package io.pushbridge.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis connections of one application: one command connection (Lettuce multiplexes every
 * caller over it) and the pub/sub connections the router asks for, on one shared set of client
 * resources (event loops, timers).
 *
 * <p>Modes, from the configured addresses:
 * <ul>
 *   <li>one {@code redis://} or {@code rediss://} URI: a standalone server, with password
 *       ({@code redis://:secret@host:6379/0} or {@code redis://user:secret@...}), database and TLS
 *       ({@code rediss://});</li>
 *   <li>one {@code redis-sentinel://host1:26379,host2:26379/0#mymaster} URI: Sentinel, which
 *       names the master and follows failovers;</li>
 *   <li>{@link Builder#cluster cluster seed nodes}: Redis Cluster; the topology is discovered from
 *       the seeds and refreshed periodically and on MOVED/ASK redirects and reconnects.</li>
 * </ul>
 *
 * <p>Failure behaviour: while a connection is down, commands are rejected at once rather than
 * queued, so that senders get an error immediately; Lettuce reconnects by itself and re-subscribes
 * pub/sub channels. Every command has a timeout.
 *
 * <p>Thread-safe. {@link #close()} closes the connections, the clients, and the client resources
 * when this connector created them.
 */
public final class RedisConnector implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisConnector.class);

    /** How Redis is deployed. */
    public enum Mode { STANDALONE, SENTINEL, CLUSTER }

    private final Mode mode;
    private final String description;
    private final ClientResources resources;
    private final boolean ownsResources;
    private final @Nullable RedisClient client;
    private final @Nullable RedisClusterClient clusterClient;
    private final RedisClusterAsyncCommands<byte[], byte[]> commands;
    private final AutoCloseable commandConnection;
    private final List<StatefulRedisPubSubConnection<byte[], byte[]>> pubSubs = new ArrayList<>();
    /** The standalone or Sentinel URI (null on Cluster), for new pub/sub connections. */
    private @Nullable RedisURI uri;

    private RedisConnector(Builder b) {
        this.ownsResources = b.resources == null;
        // reconnect attempts back off from 100 ms to at most 2 s (Lettuce's default waits up to
        // 30 s), so that routing resumes soon after Redis is back
        this.resources = b.resources != null ? b.resources : DefaultClientResources.builder()
                .reconnectDelay(() -> Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
                .build();
        TimeoutOptions timeouts = TimeoutOptions.builder().fixedTimeout(b.commandTimeout).build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(b.connectTimeout).keepAlive(true).build();
        try {
            if (!b.clusterNodes.isEmpty()) {
                this.mode = Mode.CLUSTER;
                List<RedisURI> seeds = new ArrayList<>();
                for (String node : b.clusterNodes) {
                    seeds.add(parse(node, b));
                }
                this.description = "cluster " + redacted(b.clusterNodes);
                RedisClusterClient cc = RedisClusterClient.create(resources, seeds);
                cc.setOptions(ClusterClientOptions.builder()
                        .timeoutOptions(timeouts)
                        .socketOptions(socket)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(b.topologyRefresh)
                                .enableAllAdaptiveRefreshTriggers()
                                .build())
                        .build());
                this.clusterClient = cc;
                this.client = null;
                StatefulRedisClusterConnection<byte[], byte[]> c = cc.connect(ByteArrayCodec.INSTANCE);
                this.commands = c.async();
                this.commandConnection = c;
            } else {
                RedisURI uri = parse(Objects.requireNonNull(b.uri, "a Redis URI or cluster nodes are required"), b);
                this.mode = uri.getSentinels().isEmpty() ? Mode.STANDALONE : Mode.SENTINEL;
                this.description = mode.name().toLowerCase(java.util.Locale.ROOT) + " " + redacted(List.of(b.uri));
                RedisClient rc = RedisClient.create(resources);
                rc.setOptions(ClientOptions.builder()
                        .timeoutOptions(timeouts)
                        .socketOptions(socket)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .build());
                this.client = rc;
                this.clusterClient = null;
                StatefulRedisConnection<byte[], byte[]> c = rc.connect(ByteArrayCodec.INSTANCE, uri);
                this.commands = c.async();
                this.commandConnection = c;
                this.uri = uri;
            }
        } catch (RuntimeException e) {
            shutdownQuietly();
            throw e;
        }
        log.info("Connected to Redis ({})", description);
    }

    /** A builder; give {@link Builder#uri} or {@link Builder#cluster}. */
    public static Builder builder() {
        return new Builder();
    }

    public Mode mode() {
        return mode;
    }

    /** The database number of a standalone or Sentinel connection (from the URI, 0 by default); 0 on Redis Cluster. */
    public int database() {
        RedisURI u = uri;
        return u == null ? 0 : u.getDatabase();
    }

    public boolean isCluster() {
        return mode == Mode.CLUSTER;
    }

    /** The shared command API (standalone, Sentinel and Cluster alike). */
    public RedisClusterAsyncCommands<byte[], byte[]> commands() {
        return commands;
    }

    /** A new pub/sub connection, closed with this connector. On Cluster, a cluster pub/sub connection. */
    public synchronized StatefulRedisPubSubConnection<byte[], byte[]> newPubSub() {
        StatefulRedisPubSubConnection<byte[], byte[]> c = clusterClient != null
                ? clusterClient.connectPubSub(ByteArrayCodec.INSTANCE)
                : Objects.requireNonNull(client).connectPubSub(ByteArrayCodec.INSTANCE, Objects.requireNonNull(uri));
        pubSubs.add(c);
        return c;
    }

    /** The cluster pub/sub connection type, for sharded subscriptions; only in {@link Mode#CLUSTER}. */
    static StatefulRedisClusterPubSubConnection<byte[], byte[]> asCluster(StatefulRedisPubSubConnection<byte[], byte[]> c) {
        return (StatefulRedisClusterPubSubConnection<byte[], byte[]>) c;
    }

    /** PING, for health checks. */
    public CompletionStage<String> ping() {
        return commands.ping();
    }

    /** A description without passwords, for logs. */
    public String description() {
        return description;
    }

    @Override
    public synchronized void close() {
        for (StatefulRedisPubSubConnection<byte[], byte[]> c : pubSubs) {
            if (c.isOpen()) {
                c.closeAsync();
            }
        }
        pubSubs.clear();
        try {
            commandConnection.close();
        } catch (Exception e) {
            log.debug("Closing the Redis connection failed: {}", e.toString());
        }
        shutdownQuietly();
        log.info("Closed the Redis connections ({})", description);
    }

    private void shutdownQuietly() {
        if (client != null) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
        if (clusterClient != null) {
            clusterClient.shutdown(0, 2, TimeUnit.SECONDS);
        }
        if (ownsResources) {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    private static RedisURI parse(String text, Builder b) {
        RedisURI uri;
        try {
            uri = RedisURI.create(text);
        } catch (RuntimeException e) {
            // Lettuce's message may quote the whole URI, password included
            throw new IllegalArgumentException("not a Redis URI: " + redacted(List.of(text)) + " ("
                    + redacted(List.of(String.valueOf(e.getMessage()))) + ")");
        }
        uri.setTimeout(b.commandTimeout);
        if (b.clientName != null) {
            uri.setClientName(b.clientName);
        }
        return uri;
    }

    /** URIs (or text quoting them) with any user and password replaced by {@code ***}; comma-joined. */
    public static String redacted(List<String> uris) {
        List<String> out = new ArrayList<>();
        for (String u : uris) {
            out.add(u == null ? "null" : u.replaceAll("(?<=://)([^@/]*)@", "***@"));
        }
        return String.join(",", out);
    }

    /** Builds a {@link RedisConnector}; {@link #build()} connects and fails if Redis is unreachable. */
    public static final class Builder {

        private @Nullable String uri;
        private List<String> clusterNodes = List.of();
        private Duration commandTimeout = Duration.ofSeconds(2);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private boolean topologyRefresh = true;
        private @Nullable String clientName;
        private @Nullable ClientResources resources;

        private Builder() {
        }

        /** A {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI. */
        public Builder uri(String uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /** Redis Cluster seed nodes, as {@code redis://host:port} URIs (at least one). */
        public Builder cluster(List<String> seedNodes) {
            this.clusterNodes = List.copyOf(seedNodes);
            return this;
        }

        /** How long a command may take before it fails; default 2 s. */
        public Builder commandTimeout(Duration timeout) {
            require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "commandTimeout must be > 0");
            this.commandTimeout = timeout;
            return this;
        }

        /** How long connecting may take; default 2 s. */
        public Builder connectTimeout(Duration timeout) {
            require(timeout != null && !timeout.isNegative() && !timeout.isZero(), "connectTimeout must be > 0");
            this.connectTimeout = timeout;
            return this;
        }

        /** The name this application shows in {@code CLIENT LIST}. */
        public Builder clientName(@Nullable String name) {
            this.clientName = name;
            return this;
        }

        /** Lettuce client resources to share with the rest of the application; closed by their owner. */
        public Builder clientResources(@Nullable ClientResources resources) {
            this.resources = resources;
            return this;
        }

        /** Connects. */
        public RedisConnector build() {
            require(uri != null || !clusterNodes.isEmpty(), "a Redis URI or cluster nodes are required");
            require(uri == null || clusterNodes.isEmpty(), "give a Redis URI or cluster nodes, not both");
            return new RedisConnector(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
