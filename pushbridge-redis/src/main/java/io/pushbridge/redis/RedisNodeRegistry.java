package io.pushbridge.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.pushbridge.NodeInfo;
import io.pushbridge.gateway.RateLimitedLog;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster registry: which gateway nodes are alive (heartbeats), which node holds which socket,
 * and the cleanup after a node that died without stopping.
 *
 * <p><b>Heartbeats.</b> Each node sets its key {@code node:{id}} every {@code heartbeatInterval}
 * with an expiry of {@code nodeTimeout}. A node whose key has expired, and is still missing one
 * heartbeat interval later, is dead: one surviving node (a short lock decides which) releases the
 * user connections it held (so that those users' queues start their ttl), deletes its socket
 * entries, and marks it reaped. Cleanup therefore happens within about
 * {@code nodeTimeout + 2 * heartbeatInterval} of the crash.
 *
 * <p><b>A node that was reaped while alive</b> (it could not reach Redis for longer than the node
 * timeout while the others could) sees the mark at its next heartbeat and calls its
 * {@link #onReaped reaped listeners}: the router disconnects every local socket, so that the
 * clients reconnect and register again.
 *
 * <p><b>Public URLs.</b> A gateway node registers the URL clients reach it at
 * ({@link Builder#publicUrl}) in its heartbeat key, so that it goes with the node: it expires with
 * the heartbeat and is deleted when the node leaves. {@link #nodeInfos()} lists the live nodes with
 * their URLs.
 *
 * <p><b>Flake id slots.</b> {@link #claimWorkerSlot()} leases one of the 1,024 (datacenter, worker)
 * pairs for this node, renewed with the heartbeat, so that nodes never mint the same message id.
 *
 * <p>Thread-safe. Its one scheduler thread only sends commands and never waits on them.
 */
public final class RedisNodeRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RedisNodeRegistry.class);
    private static final LuaScript RENEW_LEASE = LuaScript.load("lease", false);
    private static final LuaScript RELEASE = LuaScript.load("release", false);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The number of (datacenter, worker) pairs of a flake id. */
    public static final int WORKER_SLOTS = 1024;

    private final RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final RedisKeys keys;
    private final String nodeId;
    private final @Nullable String publicUrl;
    private final Duration heartbeatInterval;
    private final Duration nodeTimeout;
    private final Clock clock;
    private final long startedAt;
    private final ScheduledExecutorService scheduler;
    private final List<RedisMessageStore> stores = new CopyOnWriteArrayList<>();
    private final List<Runnable> reapedListeners = new CopyOnWriteArrayList<>();
    private final Map<String, Long> suspects = new ConcurrentHashMap<>();
    private final AtomicLong reapedNodes = new AtomicLong();
    private final AtomicLong heartbeatFailures = new AtomicLong();
    private io.pushbridge.metrics.PushBridgeMeters meters = io.pushbridge.metrics.PushBridgeMeters.none();
    private final RateLimitedLog malformedBeats = new RateLimitedLog(log, 60_000);
    private volatile int workerSlot = -1;
    private volatile long pausedUntilNanos;
    /** The last heartbeat found this node reaped (so a missing membership is no news). */
    private volatile boolean reapedNow;
    private volatile boolean slotLost;
    private volatile long lastBeatNanos = System.nanoTime();
    private volatile boolean cutOffNotified;
    private volatile boolean running;
    private volatile boolean lastHeartbeatOk;
    private @Nullable ScheduledFuture<?> task;

    private RedisNodeRegistry(Builder b) {
        this.redis = b.redis;
        this.keys = b.keys;
        this.nodeId = b.nodeId;
        this.publicUrl = b.publicUrl;
        this.heartbeatInterval = b.heartbeatInterval;
        this.nodeTimeout = b.nodeTimeout;
        this.clock = b.clock;
        this.startedAt = clock.millis();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pushbridge-registry-" + nodeId);
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder(RedisClusterAsyncCommands<byte[], byte[]> redis, String nodeId) {
        return new Builder(redis, nodeId);
    }

    public String nodeId() {
        return nodeId;
    }

    public RedisKeys keys() {
        return keys;
    }

    /** The URL clients reach this node at, as registered; {@code null} for a node without one. */
    public @Nullable String publicUrl() {
        return publicUrl;
    }

    /** Stores whose connection counts this registry cleans up after dead nodes. */
    public void cleanUp(RedisMessageStore store) {
        stores.add(Objects.requireNonNull(store, "store"));
    }

    /** Called (on the registry's thread) when other nodes have reaped this node while it was alive. */
    public void onReaped(Runnable listener) {
        reapedListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Registers this node and starts beating. Leftovers of an earlier life of the same node id (a
     * crash, then a restart with a fixed id) are cleaned up first, so that the new life starts from
     * nothing. Blocks until Redis has answered (call it at startup, not on an I/O thread).
     *
     * @throws io.pushbridge.PushUnavailableException when Redis cannot be reached
     */
    public synchronized void start() {
        if (running) {
            return;
        }
        try {
            reap(nodeId, false).toCompletableFuture().get(timeoutMillis(), TimeUnit.MILLISECONDS);
            beat().toCompletableFuture().get(timeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw RedisMessageStore.unavailable(e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e);
        }
        running = true;
        long every = heartbeatInterval.toMillis();
        task = scheduler.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
        log.info("[{}] Registered in Redis (heartbeat every {} ms, declared dead after {} ms)", nodeId, every, nodeTimeout.toMillis());
    }

    /**
     * Leases a flake id slot 0..1023 (datacenter = slot / 32, worker = slot % 32) for this node,
     * renewed with each heartbeat and released by {@link #close()}. Blocks until Redis answered.
     * Call it after {@link #start()}: only a started registry renews the lease, which otherwise
     * expires after the node timeout.
     *
     * @throws IllegalStateException when all 1,024 slots are leased
     */
    public synchronized int claimWorkerSlot() {
        if (workerSlot >= 0) {
            return workerSlot;
        }
        int start = ThreadLocalRandom.current().nextInt(WORKER_SLOTS);
        try {
            for (int i = 0; i < WORKER_SLOTS; i++) {
                int slot = (start + i) % WORKER_SLOTS;
                String ok = redis.set(b(keys.worker(slot)), b(nodeId), SetArgs.Builder.nx().px(nodeTimeout.toMillis()))
                        .toCompletableFuture().get(timeoutMillis(), TimeUnit.MILLISECONDS);
                if ("OK".equals(ok)) {
                    workerSlot = slot;
                    log.info("[{}] Leased flake id slot {} (datacenter {}, worker {})", nodeId, slot, slot / 32, slot % 32);
                    return slot;
                }
            }
        } catch (Exception e) {
            throw RedisMessageStore.unavailable(e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e);
        }
        throw new IllegalStateException("all " + WORKER_SLOTS + " flake id slots are leased; set pushbridge.flake-id explicitly");
    }

    /**
     * Leases a given flake id slot (configured ids), so that no other node leases it: renewed and
     * released like {@link #claimWorkerSlot()}. Call it after {@link #start()}.
     *
     * @throws IllegalStateException naming the node that holds the slot when it is taken
     */
    public synchronized void reserveWorkerSlot(int slot) {
        if (slot < 0 || slot >= WORKER_SLOTS) {
            throw new IllegalArgumentException("flake id slot must be 0.." + (WORKER_SLOTS - 1) + ", was " + slot);
        }
        try {
            Long ok = RENEW_LEASE.<Long>run(redis, ScriptOutputType.INTEGER, new byte[][] {b(keys.worker(slot))}, b(nodeId),
                    b(Long.toString(nodeTimeout.toMillis()))).get(timeoutMillis(), TimeUnit.MILLISECONDS);
            if (ok == 0L) {
                byte[] holder = redis.get(b(keys.worker(slot))).toCompletableFuture().get(timeoutMillis(), TimeUnit.MILLISECONDS);
                throw new IllegalStateException("flake id datacenter " + slot / 32 + ", worker " + slot % 32 + " is already used by node "
                        + (holder == null ? "?" : new String(holder, StandardCharsets.UTF_8)));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw RedisMessageStore.unavailable(e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e);
        }
        workerSlot = slot;
    }

    /** Records that this node holds a socket. */
    public CompletionStage<Void> socketConnected(String site, String socketId) {
        // the node's own note goes first: while it is there, a cleanup after this node finds the entry
        CompletableFuture<Void> both = redis.hset(b(keys.nodeSockets(nodeId)), b(socketId), b(site)).toCompletableFuture()
                .thenCompose(ok -> redis.set(b(keys.socket(socketId)), b(nodeId)).toCompletableFuture())
                .thenApply(ok -> null);
        return RedisMessageStore.orUnavailable(both);
    }

    /** Forgets a socket of this node. */
    public CompletionStage<Void> socketDisconnected(String site, String socketId) {
        // the node's own note goes last: while it is there, a cleanup after this node finds the entry
        CompletableFuture<Void> both = redis.del(b(keys.socket(socketId))).toCompletableFuture()
                .thenCompose(n -> redis.hdel(b(keys.nodeSockets(nodeId)), b(socketId)).toCompletableFuture())
                .thenApply(n -> null);
        return RedisMessageStore.orUnavailable(both);
    }

    /** The node that holds a socket, or {@code null} when no node does. */
    public CompletionStage<@Nullable String> nodeOf(String socketId) {
        return RedisMessageStore.orUnavailable(redis.get(b(keys.socket(socketId))))
                .thenApply(v -> v == null ? null : new String(v, StandardCharsets.UTF_8));
    }

    /** The ids of the nodes whose heartbeat is current, sorted. */
    public CompletionStage<List<String>> liveNodes() {
        return nodeInfos().thenApply(nodes -> nodes.stream().map(NodeInfo::nodeId).toList());
    }

    /**
     * The nodes whose heartbeat is current, sorted by id, each with the public URL it registered
     * ({@code null} for a node without one: an application node, which serves no port, or a
     * gateway node configured without a URL). One {@code SMEMBERS} and one {@code GET} per node.
     */
    public CompletionStage<List<NodeInfo>> nodeInfos() {
        return redis.smembers(b(keys.nodes())).toCompletableFuture().thenCompose(members -> {
            List<String> ids = members.stream().map(m -> new String(m, StandardCharsets.UTF_8)).sorted().toList();
            List<CompletableFuture<byte[]>> beats = new ArrayList<>();
            for (String id : ids) {
                beats.add(redis.get(b(keys.node(id))).toCompletableFuture());
            }
            return CompletableFuture.allOf(beats.toArray(CompletableFuture[]::new)).thenApply(v -> {
                List<NodeInfo> live = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    byte[] beat = beats.get(i).join();
                    if (beat != null) {
                        live.add(new NodeInfo(ids.get(i), urlOf(ids.get(i), beat)));
                    }
                }
                return live;
            });
        });
    }

    /** The {@code url} of a heartbeat; {@code null} when it has none, or is not the JSON this class writes. */
    private @Nullable String urlOf(String node, byte[] beat) {
        try {
            JsonNode url = JSON.readTree(beat).get("url");
            return url != null && url.isTextual() ? url.asText() : null;
        } catch (java.io.IOException e) {
            malformedBeats.warn("[{}] The heartbeat of node {} is not JSON; listing it without a public URL: {}", nodeId, node,
                    e.toString());
            return null;
        }
    }

    /** Whether the last heartbeat reached Redis and this node still holds its flake id slot. */
    public boolean isHealthy() {
        return isBeating() && !slotLost;
    }

    /** Whether the registry runs and its last heartbeat reached Redis. */
    public boolean isBeating() {
        return running && lastHeartbeatOk;
    }

    /** Whether another node took this node's flake id slot (message ids may collide; restart the node). */
    public boolean hasLostWorkerSlot() {
        return slotLost;
    }

    /** Dead nodes this node cleaned up after. */
    public long reapedNodes() {
        return reapedNodes.get();
    }

    /** Heartbeats that failed (Redis unreachable). */
    public long heartbeatFailures() {
        return heartbeatFailures.get();
    }

    /**
     * Registers this registry's meters ({@code pushbridge.redis.heartbeat.failures},
     * {@code pushbridge.redis.reaped.nodes}); {@link #close()} removes them. Call it once.
     */
    public synchronized void bindTo(io.micrometer.core.instrument.MeterRegistry registry) {
        io.pushbridge.metrics.PushBridgeMeters m = new io.pushbridge.metrics.PushBridgeMeters(registry);
        m.functionCounter(io.pushbridge.metrics.PushBridgeMeter.HEARTBEAT_FAILURES, heartbeatFailures, AtomicLong::get);
        m.functionCounter(io.pushbridge.metrics.PushBridgeMeter.REAPED_NODES, reapedNodes, AtomicLong::get);
        meters.close();
        meters = m;
    }

    /**
     * Stops beating and removes this node from the registry, with whatever connections and sockets
     * it still had recorded. Blocks up to a few seconds for Redis; a node that cannot reach Redis
     * here is cleaned up by the others after the node timeout.
     */
    @Override
    public synchronized void close() {
        meters.close();
        if (!running) {
            scheduler.shutdownNow();
            return;
        }
        running = false;
        if (task != null) {
            task.cancel(false);
        }
        scheduler.shutdownNow();
        try {
            CompletableFuture<?> release = workerSlot >= 0
                    ? RELEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {b(keys.worker(workerSlot))}, b(nodeId))
                    : CompletableFuture.completedFuture(null);
            CompletableFuture.allOf(reap(nodeId, false).toCompletableFuture(), release)
                    .get(timeoutMillis(), TimeUnit.MILLISECONDS);
            log.info("[{}] Left the Redis registry", nodeId);
        } catch (Exception e) {
            log.warn("[{}] Could not leave the Redis registry cleanly ({}); other nodes clean up after {} ms",
                    nodeId, e.toString(), nodeTimeout.toMillis());
        }
    }

    /**
     * Stops beating without cleaning up, as a crashed process would: for fault-injection tests
     * only, so that other nodes' reaping can be observed.
     */
    synchronized void abandonForTests() {
        running = false;
        if (task != null) {
            task.cancel(false);
        }
        scheduler.shutdownNow();
    }

    // ---- heartbeat and reaping -----------------------------------------------------------------

    /**
     * Skips heartbeats for a while, as a node cut off from Redis would: for fault-injection tests
     * only, so that being reaped while alive can be observed.
     */
    void pauseHeartbeatsForTests(Duration pause) {
        pausedUntilNanos = System.nanoTime() + pause.toNanos();
    }

    private void tick() {
        if (pausedUntilNanos != 0 && System.nanoTime() < pausedUntilNanos) {
            return;
        }
        beat().whenComplete((v, failure) -> {
            if (failure != null) {
                cutOff();
                return;
            }
            lastBeatNanos = System.nanoTime();
            cutOffNotified = false;
            findDead();
            for (RedisMessageStore store : stores) {
                store.repairCounts();
            }
        });
    }

    /**
     * No heartbeat has reached Redis for the node timeout: the other nodes (if they reach Redis)
     * are about to release this node's sockets and connections, and this node can route nothing.
     * Its connections are closed once, so that clients move to a node that works.
     */
    private void cutOff() {
        if (!cutOffNotified && System.nanoTime() - lastBeatNanos >= nodeTimeout.toNanos()) {
            cutOffNotified = true;
            log.warn("[{}] No heartbeat reached Redis for {} ms; closing this node's connections so that clients reconnect"
                    + " to a node that can reach it", nodeId, nodeTimeout.toMillis());
            notifyReaped();
        }
    }

    /**
     * One heartbeat. First checks that this node is still a member of the node set: when it is
     * not and no other node reaped it, Redis lost its data (a restart without persistence, a
     * flush), and with it this node's socket entries and connection counts; the node is then
     * treated as reaped, so that its clients reconnect and register again.
     */
    private CompletionStage<Void> beat() {
        if (!running) {
            return register();
        }
        return redis.sismember(b(keys.nodes()), b(nodeId)).toCompletableFuture()
                .handle((member, failure) -> failure == null && Boolean.FALSE.equals(member))
                .thenCompose(lost -> register().thenApply(v -> {
                    if (lost && !reapedNow) {
                        log.warn("[{}] This node's registration is gone from Redis (restarted without persistence, or flushed);"
                                + " closing its connections so that clients register again", nodeId);
                        notifyReaped();
                    }
                    reapedNow = false;
                    return null;
                }));
    }

    private void notifyReaped() {
        for (Runnable listener : reapedListeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.error("[{}] A reaped listener failed", nodeId, e);
            }
        }
    }

    private CompletionStage<Void> register() {
        ObjectNode beat = JSON.createObjectNode().put("node", nodeId).put("started", startedAt).put("beat", clock.millis());
        if (workerSlot >= 0) {
            beat.put("flakeSlot", workerSlot);
        }
        if (publicUrl != null) {
            beat.put("url", publicUrl);
        }
        byte[] info = beat.toString().getBytes(StandardCharsets.UTF_8);
        long px = nodeTimeout.toMillis();
        List<CompletableFuture<?>> ops = new ArrayList<>();
        ops.add(redis.set(b(keys.node(nodeId)), info, SetArgs.Builder.px(px)).toCompletableFuture());
        ops.add(redis.sadd(b(keys.nodes()), b(nodeId)).toCompletableFuture());
        // the flake id lease is renewed only while it is still this node's (or free again): never
        // taken from another node
        CompletableFuture<Long> lease = workerSlot < 0 ? null : RENEW_LEASE.<Long>run(redis, ScriptOutputType.INTEGER,
                new byte[][] {b(keys.worker(workerSlot))}, b(nodeId), b(Long.toString(px)));
        if (lease != null) {
            ops.add(lease);
        }
        CompletableFuture<Long> reaped = redis.del(b(keys.nodeReaped(nodeId))).toCompletableFuture();
        ops.add(reaped);
        return CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new)).handle((v, failure) -> {
            if (failure != null) {
                heartbeatFailures.incrementAndGet();
                if (lastHeartbeatOk || !running) {
                    log.warn("[{}] Heartbeat failed: {}", nodeId, failure.toString());
                }
                lastHeartbeatOk = false;
                throw new java.util.concurrent.CompletionException(failure);
            }
            if (!lastHeartbeatOk && running) {
                log.info("[{}] Heartbeat reaches Redis again", nodeId);
            }
            lastHeartbeatOk = true;
            if (running && reaped.join() > 0) {
                log.warn("[{}] Other nodes declared this node dead and released its sockets; closing its connections so that clients register again", nodeId);
                reapedNow = true;
                notifyReaped();
            }
            if (running && lease != null && lease.join() == 0L) {
                slotLost = true;
                log.error("[{}] Flake id slot {} is leased by another node (this node was cut off from Redis for longer than {} ms):"
                        + " message ids may collide; restart this node", nodeId, workerSlot, nodeTimeout.toMillis());
            }
            return null;
        });
    }

    private void findDead() {
        redis.smembers(b(keys.nodes())).thenAccept(members -> {
            long now = System.nanoTime();
            Set<String> seen = new java.util.HashSet<>();
            for (byte[] m : members) {
                String id = new String(m, StandardCharsets.UTF_8);
                if (id.equals(nodeId)) {
                    continue;
                }
                seen.add(id);
                redis.exists(b(keys.node(id))).thenAccept(n -> {
                    if (n > 0) {
                        suspects.remove(id);
                        return;
                    }
                    Long since = suspects.putIfAbsent(id, now);
                    if (since != null && now - since >= heartbeatInterval.toNanos()) {
                        suspects.remove(id);
                        claimAndReap(id);
                    }
                });
            }
            suspects.keySet().retainAll(seen);
        });
    }

    private void claimAndReap(String deadNode) {
        redis.set(b(keys.nodeReaping(deadNode)), b(nodeId), SetArgs.Builder.nx().px(Math.max(60_000, nodeTimeout.toMillis() * 2)))
                .thenAccept(ok -> {
                    if (!"OK".equals(ok)) {
                        return; // another node is on it
                    }
                    reap(deadNode, true).whenComplete((v, failure) -> {
                        if (failure != null) {
                            log.warn("[{}] Cleanup after dead node {} failed, will retry: {}", nodeId, deadNode, failure.toString());
                            redis.del(b(keys.nodeReaping(deadNode)));
                        } else {
                            reapedNodes.incrementAndGet();
                            // a node id that comes back and dies again is reaped again at once
                            RELEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {b(keys.nodeReaping(deadNode))}, b(nodeId));
                        }
                    });
                });
    }

    /**
     * Releases everything a node recorded: its connections in user queues, its sockets, its
     * registration. With {@code mark}, the node is told (if it is alive after all) that it was reaped.
     */
    private CompletionStage<Void> reap(String node, boolean mark) {
        CompletableFuture<Map<byte[], byte[]>> queues = redis.hgetall(b(keys.nodeQueues(node))).toCompletableFuture();
        CompletableFuture<List<byte[]>> sockets = redis.hkeys(b(keys.nodeSockets(node))).toCompletableFuture();
        return queues.thenCombine(sockets, (q, s) -> {
            List<CompletableFuture<?>> ops = new ArrayList<>();
            for (byte[] queueKey : q.keySet()) {
                String key = new String(queueKey, StandardCharsets.UTF_8);
                for (RedisMessageStore store : stores) {
                    ops.add(store.nodeGone(key, node).toCompletableFuture());
                }
            }
            for (byte[] socketId : s) {
                ops.add(redis.del(b(keys.socket(new String(socketId, StandardCharsets.UTF_8)))).toCompletableFuture());
            }
            if (!q.isEmpty() || !s.isEmpty()) {
                if (node.equals(nodeId)) {
                    log.info("[{}] Released {} user connections and {} sockets left by this node id", nodeId, q.size(), s.size());
                } else {
                    log.warn("[{}] Node {} stopped beating: released its connections to {} user queues and its {} sockets",
                            nodeId, node, q.size(), s.size());
                }
            }
            return CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new));
        }).thenCompose(all -> all).thenCompose(v -> {
            List<CompletableFuture<?>> ops = new ArrayList<>();
            ops.add(redis.del(b(keys.nodeQueues(node)), b(keys.nodeSockets(node))).toCompletableFuture());
            ops.add(redis.srem(b(keys.nodes()), b(node)).toCompletableFuture());
            if (mark) {
                ops.add(redis.set(b(keys.nodeReaped(node)), b(nodeId), SetArgs.Builder.px(Duration.ofDays(1).toMillis())).toCompletableFuture());
            } else {
                ops.add(redis.del(b(keys.node(node)), b(keys.nodeReaped(node))).toCompletableFuture());
            }
            return CompletableFuture.allOf(ops.toArray(CompletableFuture[]::new));
        }).thenApply(v -> (Void) null);
    }


    private long timeoutMillis() {
        return Math.max(5_000, nodeTimeout.toMillis());
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisNodeRegistry[" + nodeId + "]";
    }

    /** Builds a {@link RedisNodeRegistry}. */
    public static final class Builder {

        private final RedisClusterAsyncCommands<byte[], byte[]> redis;
        private final String nodeId;
        private RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
        private Duration heartbeatInterval = Duration.ofSeconds(5);
        private Duration nodeTimeout = Duration.ofSeconds(15);
        private Clock clock = Clock.systemUTC();
        private @Nullable String publicUrl;

        private Builder(RedisClusterAsyncCommands<byte[], byte[]> redis, String nodeId) {
            this.redis = Objects.requireNonNull(redis, "redis");
            if (nodeId == null || nodeId.isEmpty() || nodeId.indexOf('{') >= 0 || nodeId.indexOf('}') >= 0) {
                throw new IllegalArgumentException("nodeId must be non-empty and free of '{' and '}', was '" + nodeId + "'");
            }
            this.nodeId = nodeId;
        }

        public Builder keys(RedisKeys keys) {
            this.keys = Objects.requireNonNull(keys, "keys");
            return this;
        }

        /** How often the node beats; default 5 s. */
        public Builder heartbeatInterval(Duration interval) {
            if (interval == null || interval.toMillis() < 10) {
                throw new IllegalArgumentException("heartbeatInterval must be at least 10 ms, was " + interval);
            }
            this.heartbeatInterval = interval;
            return this;
        }

        /** After how long without a heartbeat a node is dead; default 15 s, at least twice the interval. */
        public Builder nodeTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("nodeTimeout must be > 0, was " + timeout);
            }
            this.nodeTimeout = timeout;
            return this;
        }

        /**
         * The URL clients reach this node at (the gateway's {@code GatewayOptions.publicUrl}, which
         * validates it), registered with the heartbeat; {@code null} (the default): none, as for an
         * application node. A {@link RedisRouter} refuses to start when it differs from its gateway's.
         */
        public Builder publicUrl(@Nullable String publicUrl) {
            if (publicUrl != null && publicUrl.isBlank()) {
                throw new IllegalArgumentException("publicUrl must not be blank (null: none)");
            }
            this.publicUrl = publicUrl;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public RedisNodeRegistry build() {
            if (nodeTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("nodeTimeout (" + nodeTimeout + ") must be at least twice heartbeatInterval ("
                        + heartbeatInterval + ")");
            }
            return new RedisNodeRegistry(this);
        }
    }
}
