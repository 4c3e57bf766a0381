package io.pushbridge.redis.testing;

import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster of N masters (N ≥ 3, no replicas) on loopback, for tests.
 *
 * <p>{@link #start(int)} starts N {@link RedisServer}s with {@code --cluster-enabled yes
 * --cluster-config-file nodes-PORT.conf --cluster-node-timeout 2000}, each in its own temporary
 * directory and on a port whose cluster bus port (port + 10000) is free too, then runs
 * {@code redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes}, and returns once every
 * node reports {@code cluster_state:ok}, all 16384 slots assigned and all N nodes known (at most
 * 20 s). {@code redis-cli} splits the slots evenly among the nodes.
 *
 * <p>Lifecycle: the nodes can be killed, stopped and restarted individually through
 * {@link #nodes()}; a restarted node reads its {@code nodes-PORT.conf} again and rejoins with its
 * slots (and no data: nothing is persisted). {@link #close()} kills all nodes and deletes their
 * directories.
 *
 * <p>Threading: immutable after {@link #start(int)}; see {@link RedisServer} for the nodes.
 */
public final class RedisCluster implements AutoCloseable {

    /** Number of hash slots in Redis Cluster. */
    public static final int SLOTS = 16384;

    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(20);

    private final List<RedisServer> nodes;

    private RedisCluster(List<RedisServer> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    /**
     * Starts a cluster of {@code masters} master nodes and waits until it is healthy.
     *
     * @throws IllegalArgumentException when {@code masters < 3}
     * @throws IllegalStateException when a node or the cluster does not come up
     */
    public static RedisCluster start(int masters) {
        if (masters < 3) {
            throw new IllegalArgumentException("Redis Cluster needs at least 3 masters, got " + masters);
        }
        List<RedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < masters; i++) {
                nodes.add(RedisServer.launch("redis-server (cluster)", "pushbridge-redis-cluster-",
                        FreePorts::pickWithBus,
                        (port, dir) -> RedisServer.serverCommand(port, dir, List.of(
                                "--cluster-enabled", "yes",
                                "--cluster-config-file", "nodes-" + port + ".conf",
                                "--cluster-node-timeout", "2000"))));
            }
            create(nodes);
            RedisCluster cluster = new RedisCluster(nodes);
            cluster.awaitHealthy(CONVERGE_TIMEOUT);
            return cluster;
        } catch (RuntimeException | Error e) {
            nodes.forEach(RedisServer::close);
            throw e;
        }
    }

    private static void create(List<RedisServer> nodes) {
        List<String> command = new ArrayList<>(List.of(RedisBinaries.cli().toString(), "--cluster", "create"));
        for (RedisServer node : nodes) {
            command.add(RedisServer.HOST + ":" + node.port());
        }
        command.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
        Path output = nodes.get(0).dir().resolve("cluster-create.log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(Redirect.to(output.toFile()))
                .redirectInput(Redirect.from(new java.io.File("/dev/null")));
        Process cli = RedisServer.startProcess(builder, "redis-cli");
        try {
            if (!cli.waitFor(CREATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                cli.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create did not finish within "
                        + CREATE_TIMEOUT.toSeconds() + " s\n" + RedisServer.tail(output, 0));
            }
            if (cli.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed with exit code " + cli.exitValue()
                        + "\ncommand: " + String.join(" ", command) + "\n" + RedisServer.tail(output, 0));
            }
        } catch (InterruptedException e) {
            cli.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the cluster", e);
        } finally {
            Reaper.unregister(cli);
        }
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok}, all slots assigned and all
     * nodes known. Useful after restarting a node.
     *
     * @throws IllegalStateException when that does not happen within {@code timeout}
     */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String problem = problem();
            if (problem == null) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster not healthy after " + timeout.toSeconds() + " s: " + problem
                        + "\n" + nodes.stream().map(RedisServer::logTail).collect(Collectors.joining()));
            }
            RedisServer.sleep(50);
        }
    }

    /** What is still wrong with the cluster, or {@code null} when every node is happy. */
    private String problem() {
        for (RedisServer node : nodes) {
            Object reply = node.callQuietly("CLUSTER", "INFO");
            if (!(reply instanceof String info)) {
                return node + " answers CLUSTER INFO with " + reply;
            }
            if (!info.contains("cluster_state:ok")
                    || !info.contains("cluster_slots_assigned:" + SLOTS)
                    || !info.contains("cluster_known_nodes:" + nodes.size() + "\r")) {
                return node + " reports\n" + info;
            }
        }
        return null;
    }

    /** The nodes, in the order they were started (and handed to {@code redis-cli --cluster create}). */
    public List<RedisServer> nodes() {
        return nodes;
    }

    /** {@code redis://127.0.0.1:PORT} for each node. */
    public List<String> seedUris() {
        return nodes.stream().map(RedisServer::uri).collect(Collectors.toList());
    }

    /** The seed URIs joined by commas: {@code redis://127.0.0.1:p1,redis://127.0.0.1:p2,...}. */
    public String uri() {
        return String.join(",", seedUris());
    }

    /** The hash slot of a key, as {@code CLUSTER KEYSLOT} computes it. */
    public int slot(String key) {
        for (RedisServer node : nodes) {
            if (node.callQuietly("CLUSTER", "KEYSLOT", key) instanceof Long slot) {
                return slot.intValue();
            }
        }
        throw new IllegalStateException("no node answers CLUSTER KEYSLOT");
    }

    /** The node that serves the slot of {@code key} (as the first reachable node sees it). */
    public RedisServer nodeFor(String key) {
        int slot = slot(key);
        for (RedisServer node : nodes) {
            if (node.callQuietly("CLUSTER", "SLOTS") instanceof List<?> ranges) {
                for (Object range : ranges) {
                    List<?> r = (List<?>) range;
                    long from = (Long) r.get(0);
                    long to = (Long) r.get(1);
                    if (slot >= from && slot <= to) {
                        long ownerPort = (Long) ((List<?>) r.get(2)).get(1);
                        return nodes.stream().filter(n -> n.port() == ownerPort).findFirst()
                                .orElseThrow(() -> new IllegalStateException("slot " + slot + " is served by unknown port "
                                        + ownerPort));
                    }
                }
                throw new IllegalStateException("slot " + slot + " is not assigned");
            }
        }
        throw new IllegalStateException("no node answers CLUSTER SLOTS");
    }

    /** Kills all nodes and deletes their directories. Idempotent. */
    @Override
    public void close() {
        RedisServer.closeAll(nodes);
    }

    @Override
    public String toString() {
        return "RedisCluster" + nodes.stream().map(RedisServer::port).collect(Collectors.toList());
    }
}
