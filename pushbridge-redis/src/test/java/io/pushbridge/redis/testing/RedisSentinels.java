package io.pushbridge.redis.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real Redis Sentinel setup on loopback, for tests: one master, one replica and three sentinels
 * monitoring the master as {@value #MASTER_NAME} with quorum 2, {@code down-after-milliseconds 1000}
 * and {@code failover-timeout 5000}.
 *
 * <p>{@link #start()} starts the master, then the replica ({@code --replicaof}) and waits for
 * {@code master_link_status:up}, then the sentinels (each from a generated {@code sentinel.conf} in its
 * own temporary directory), and returns once every sentinel reports the master's address, knows the
 * replica and knows the other two sentinels, so that a failover can be authorized right away (at most
 * 20 s).
 *
 * <p>Lifecycle: every process is a {@link RedisServer} that can be killed, stopped and restarted on
 * its port; sentinels keep the state they wrote to their config file across a restart.
 * {@link #master()} and {@link #replica()} name the initial roles; after a failover ask
 * {@link #currentMaster()}. {@link #close()} kills everything and deletes the directories.
 *
 * <p>Threading: immutable after {@link #start()}; see {@link RedisServer} for the processes.
 */
public final class RedisSentinels implements AutoCloseable {

    /** The name the sentinels monitor the master under. */
    public static final String MASTER_NAME = "mymaster";

    private static final int SENTINELS = 3;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);

    private final RedisServer master;
    private final RedisServer replica;
    private final List<RedisServer> sentinels;

    private RedisSentinels(RedisServer master, RedisServer replica, List<RedisServer> sentinels) {
        this.master = master;
        this.replica = replica;
        this.sentinels = List.copyOf(sentinels);
    }

    /**
     * Starts master, replica and three sentinels and waits until they all agree.
     *
     * @throws IllegalStateException when a process or the setup does not come up
     */
    public static RedisSentinels start() {
        List<RedisServer> started = new ArrayList<>();
        try {
            RedisServer master = RedisServer.start();
            started.add(master);
            RedisServer replica = RedisServer.start("--replicaof", RedisServer.HOST, String.valueOf(master.port()));
            started.add(replica);
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            // sentinels learn about replicas from the master's INFO, which they ask for as soon as they
            // connect and then only every 10 s: have the replica attached before they start
            await(deadline, () -> {
                Object info = replica.callQuietly("INFO", "replication");
                return info instanceof String text && text.contains("master_link_status:up") ? null
                        : replica + " reports " + info;
            }, started);

            List<RedisServer> sentinels = new ArrayList<>();
            for (int i = 0; i < SENTINELS; i++) {
                RedisServer sentinel = RedisServer.launch("redis-sentinel", "pushbridge-redis-sentinel-",
                        FreePorts::pick, (port, dir) -> sentinelCommand(port, dir, master.port()));
                started.add(sentinel);
                sentinels.add(sentinel);
            }
            RedisSentinels setup = new RedisSentinels(master, replica, sentinels);
            await(deadline, setup::notReady, started);
            return setup;
        } catch (RuntimeException | Error e) {
            started.forEach(RedisServer::close);
            throw e;
        }
    }

    private static List<String> sentinelCommand(int port, Path dir, int masterPort) throws IOException {
        Path config = dir.resolve("sentinel.conf");
        String text = String.join("\n",
                "port " + port,
                "bind " + RedisServer.HOST,
                "daemonize no",
                "dir " + quote(dir.toString()),
                "logfile " + quote(dir.resolve(RedisServer.LOG_FILE).toString()),
                "sentinel monitor " + MASTER_NAME + " " + RedisServer.HOST + " " + masterPort + " 2",
                "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
                "sentinel failover-timeout " + MASTER_NAME + " 5000",
                "");
        Files.writeString(config, text, StandardCharsets.UTF_8);
        return List.of(RedisBinaries.sentinel().toString(), config.toString());
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** What the sentinels do not agree on yet, or {@code null}. */
    private String notReady() {
        for (RedisServer sentinel : sentinels) {
            Object address = sentinel.callQuietly("SENTINEL", "get-master-addr-by-name", MASTER_NAME);
            if (!(address instanceof List<?> hostPort) || hostPort.size() != 2
                    || !String.valueOf(master.port()).equals(hostPort.get(1))) {
                return sentinel + " reports master " + Resp.render(address);
            }
            Object replicas = sentinel.callQuietly("SENTINEL", "replicas", MASTER_NAME);
            if (!(replicas instanceof List<?> replicaList) || replicaList.size() != 1) {
                return sentinel + " knows replicas " + Resp.render(replicas);
            }
            Object others = sentinel.callQuietly("SENTINEL", "sentinels", MASTER_NAME);
            if (!(others instanceof List<?> sentinelList) || sentinelList.size() != SENTINELS - 1) {
                return sentinel + " knows sentinels " + Resp.render(others);
            }
        }
        return null;
    }

    @FunctionalInterface
    private interface Check {
        /** {@code null} when satisfied, otherwise what is still missing. */
        String problem();
    }

    private static void await(long deadline, Check check, List<RedisServer> involved) {
        while (true) {
            String problem = check.problem();
            if (problem == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Sentinel setup not ready after " + READY_TIMEOUT.toSeconds() + " s: "
                        + problem + "\n" + involved.stream().map(RedisServer::logTail).collect(Collectors.joining()));
            }
            RedisServer.sleep(20);
        }
    }

    /** Always {@value #MASTER_NAME}. */
    public String masterName() {
        return MASTER_NAME;
    }

    /** The server started as master (after a failover it may be the replica). */
    public RedisServer master() {
        return master;
    }

    /** The server started as replica (after a failover it may be the master). */
    public RedisServer replica() {
        return replica;
    }

    /** The sentinel processes. */
    public List<RedisServer> sentinels() {
        return sentinels;
    }

    /** The sentinels' ports. */
    public List<Integer> sentinelPorts() {
        return sentinels.stream().map(RedisServer::port).collect(Collectors.toList());
    }

    /**
     * The Lettuce sentinel URI: {@code redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/0#mymaster}.
     */
    public String uri() {
        return "redis-sentinel://" + sentinels.stream().map(s -> RedisServer.HOST + ":" + s.port())
                .collect(Collectors.joining(",")) + "/0#" + MASTER_NAME;
    }

    /**
     * The server the first reachable sentinel names as master now.
     *
     * @throws IllegalStateException when no sentinel answers or it names neither server
     */
    public RedisServer currentMaster() {
        for (RedisServer sentinel : sentinels) {
            Object address = sentinel.callQuietly("SENTINEL", "get-master-addr-by-name", MASTER_NAME);
            if (address instanceof List<?> hostPort && hostPort.size() == 2) {
                int port = Integer.parseInt(String.valueOf(hostPort.get(1)));
                if (port == master.port()) {
                    return master;
                }
                if (port == replica.port()) {
                    return replica;
                }
                throw new IllegalStateException(sentinel + " names unknown master port " + port);
            }
        }
        throw new IllegalStateException("no sentinel answers get-master-addr-by-name");
    }

    /**
     * Forces a failover ({@code SENTINEL FAILOVER}) and waits until every running sentinel names the
     * other server as master and that server reports {@code role:master}.
     *
     * @return the new master
     */
    public RedisServer failover() {
        RedisServer before = currentMaster();
        RedisServer after = before == master ? replica : master;
        RedisServer asked = sentinels.stream().filter(RedisServer::isRunning).findFirst()
                .orElseThrow(() -> new IllegalStateException("no sentinel running"));
        String reply = asked.command("SENTINEL", "FAILOVER", MASTER_NAME);
        if (!"OK".equals(reply)) {
            throw new IllegalStateException(asked + " refused the failover: " + reply);
        }
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        List<RedisServer> involved = new ArrayList<>(List.of(master, replica));
        involved.addAll(sentinels);
        await(deadline, () -> {
            for (RedisServer sentinel : sentinels) {
                if (!sentinel.isRunning()) {
                    continue;
                }
                Object address = sentinel.callQuietly("SENTINEL", "get-master-addr-by-name", MASTER_NAME);
                if (!(address instanceof List<?> hostPort) || !String.valueOf(after.port()).equals(hostPort.get(1))) {
                    return sentinel + " names master " + Resp.render(address);
                }
            }
            Object info = after.callQuietly("INFO", "replication");
            return info instanceof String text && text.contains("role:master") ? null : after + " reports " + info;
        }, involved);
        return after;
    }

    /** Kills every process and deletes the directories. Idempotent. */
    @Override
    public void close() {
        List<RedisServer> all = new ArrayList<>(sentinels);
        all.add(replica);
        all.add(master);
        RedisServer.closeAll(all);
    }

    @Override
    public String toString() {
        return "RedisSentinels[master=" + master.port() + ", replica=" + replica.port() + ", sentinels=" + sentinelPorts()
                + "]";
    }
}
