package io.pushbridge.redis;

import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.ConnectionListing;
import io.pushbridge.Message;
import io.pushbridge.NodeInfo;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes messages and socket commands between gateway nodes over Redis pub/sub.
 *
 * <p><b>Channels.</b> Every node subscribes to one channel per configured site and to its own node
 * channel. A message for rooms or for the whole site goes to the site channel, so every node
 * receives every such message of the site and delivers it to its local members (docs/cluster.md
 * gives the measurements behind this choice over one channel per room). A message for one socket
 * and a command go only to the node channel of the node that holds the socket, found in the
 * {@link RedisNodeRegistry} (and remembered: a socket never moves between nodes).
 *
 * <p><b>Modes.</b> On standalone Redis and Sentinel, {@code PUBLISH}/{@code SUBSCRIBE}. On Redis
 * Cluster, sharded pub/sub ({@code SPUBLISH}/{@code SSUBSCRIBE}): each channel lives on the shard
 * that owns its slot, instead of every message being broadcast over the cluster bus to every shard.
 * The subscriptions follow the slot owners: they are checked every few seconds and moved after a
 * failover or resharding.
 *
 * <p><b>Failures.</b> While Redis is unreachable {@link #publish} and {@link #command} fail at once
 * with {@link PushUnavailableException}. Lettuce reconnects and re-subscribes by itself; each
 * re-subscription after the first tells the receiver that routing {@link Router.Receiver#resumed()
 * resumed}, so that the gateway re-sends from the user queues whatever its sockets missed. A
 * message that cannot be decoded is dropped, counted and logged (rate limited).
 *
 * <p><b>Meters</b> ({@code pushbridge.router.*}, see {@link PushBridgeMeter}), in the receiver's
 * registry from {@link #start} to {@link #stop}: what was published, failed to publish, was
 * received, and the receive lag, the time from a publish (on any node, by its clock) to its
 * receipt here. A routed item that cannot be decoded is counted in the receiver's statistics as
 * {@code router.dropped.malformed} (the {@code pushbridge.bad.inputs} meter).
 *
 * <p>Thread-safe. Received messages are handed to the receiver on Lettuce's I/O thread.
 */
public final class RedisRouter implements Router {

    private static final Logger log = LoggerFactory.getLogger(RedisRouter.class);
    private static final int SOCKET_CACHE_SIZE = 100_000;
    private static final long RESUME_DEBOUNCE_MILLIS = 100;
    /** The receiver's statistics counter of routed items that cannot be decoded (a {@code BadInput}). */
    static final String MALFORMED = BadInput.ROUTER_MALFORMED.statsKey();

    private final RedisConnector connector;
    private final RedisNodeRegistry registry;
    private final RedisKeys keys;
    private final String nodeId;
    private final List<String> sites;
    private final byte[] nodeChannel;
    private final Map<String, Boolean> subscribedOnce = new ConcurrentHashMap<>();
    /** Local sockets (id to site): commands for them need no registry lookup. */
    private final Map<String, String> localSockets = new ConcurrentHashMap<>();
    /** Remote sockets' nodes; sockets never move, so entries are never stale, only evicted. */
    private final Map<String, String> socketNodes = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > SOCKET_CACHE_SIZE;
        }
    });
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong publishFailures = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong resumes = new AtomicLong();
    private final AtomicLong lastDropLog = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean resumePending = new java.util.concurrent.atomic.AtomicBoolean();
    private final Map<String, String> shardOwners = new ConcurrentHashMap<>();
    /** Connection listings this node asked for and is collecting answers to, by request id. */
    private final Map<String, Listing> listings = new ConcurrentHashMap<>();

    private volatile @Nullable Receiver receiver;
    private volatile PushBridgeMeters meters = PushBridgeMeters.none();
    private volatile @Nullable Timer receiveLag;
    private volatile @Nullable StatefulRedisPubSubConnection<byte[], byte[]> pubSub;
    private @Nullable ScheduledExecutorService watcher;
    /** Builds, encodes and decodes connection listings: large, and never on a Lettuce I/O thread. */
    private volatile java.util.concurrent.@Nullable ExecutorService listingWorker;

    /**
     * @param connector the application's Redis connections
     * @param registry this node's registry (same node id, same keys)
     * @param sites the names of the sites this node serves
     */
    public RedisRouter(RedisConnector connector, RedisNodeRegistry registry, Collection<String> sites) {
        this.connector = Objects.requireNonNull(connector, "connector");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.keys = registry.keys();
        this.nodeId = registry.nodeId();
        this.sites = List.copyOf(sites);
        if (this.sites.isEmpty()) {
            throw new IllegalArgumentException("a router needs at least one site");
        }
        this.nodeChannel = bytes(keys.nodeChannel(nodeId));
        registry.onReaped(this::reconnectAll);
    }

    /**
     * Subscribes and starts handing messages to {@code receiver}. Blocks until Redis confirmed the
     * subscriptions (at most a few seconds).
     *
     * @throws PushBridgeException when the subscriptions fail
     * @throws IllegalStateException when the receiver's public URL is not the one the registry
     *     registers (the two must be configured alike)
     */
    @Override
    public synchronized void start(Receiver receiver) {
        Objects.requireNonNull(receiver, "receiver");
        if (this.receiver != null) {
            throw new IllegalStateException("router is already running");
        }
        if (!Objects.equals(receiver.publicUrl(), registry.publicUrl())) {
            throw new IllegalStateException("node " + nodeId + ": the gateway's publicUrl (" + receiver.publicUrl()
                    + ") differs from the one its RedisNodeRegistry registers (" + registry.publicUrl()
                    + "); configure both with the same URL (pushbridge.public-url)");
        }
        List<byte[]> channels = new ArrayList<>();
        for (String site : sites) {
            channels.add(bytes(keys.siteChannel(site)));
        }
        channels.add(nodeChannel);
        PushBridgeMeters m = new PushBridgeMeters(receiver.meterRegistry());
        m.functionCounter(PushBridgeMeter.ROUTER_PUBLISHED, published, AtomicLong::get);
        m.functionCounter(PushBridgeMeter.ROUTER_PUBLISH_ERRORS, publishFailures, AtomicLong::get);
        m.functionCounter(PushBridgeMeter.ROUTER_RECEIVED, received, AtomicLong::get);
        m.functionCounter(PushBridgeMeter.ROUTER_RESUMES, resumes, AtomicLong::get);
        this.receiveLag = m.timer(PushBridgeMeter.ROUTER_RECEIVE_LAG);
        this.meters = m;
        StatefulRedisPubSubConnection<byte[], byte[]> c = connector.newPubSub();
        this.pubSub = c;
        this.listingWorker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pushbridge-listing-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        this.receiver = receiver;
        try {
            if (connector.isCluster()) {
                StatefulRedisClusterPubSubConnection<byte[], byte[]> cc = RedisConnector.asCluster(c);
                cc.setNodeMessagePropagation(true);
                cc.addListener(new RedisClusterPubSubAdapter<>() {
                    @Override
                    public void smessage(RedisClusterNode node, byte[] channel, byte[] message) {
                        onMessage(message);
                    }

                    @Override
                    public void ssubscribed(RedisClusterNode node, byte[] channel, long count) {
                        onSubscribed(channel);
                    }
                });
                List<CompletableFuture<?>> subs = new ArrayList<>();
                for (byte[] channel : channels) {
                    subs.add(shardSubscribe(cc, channel));
                }
                CompletableFuture.allOf(subs.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
                watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "pushbridge-shards-" + nodeId);
                    t.setDaemon(true);
                    return t;
                });
                watcher.scheduleWithFixedDelay(() -> followShards(cc, channels), 2, 2, TimeUnit.SECONDS);
            } else {
                c.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(byte[] channel, byte[] message) {
                        onMessage(message);
                    }

                    @Override
                    public void subscribed(byte[] channel, long count) {
                        onSubscribed(channel);
                    }
                });
                c.async().subscribe(channels.toArray(byte[][]::new)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            stop();
            throw new PushBridgeException("Could not subscribe to the routing channels in Redis (" + connector.description()
                    + "): " + e.getMessage(), e);
        }
        log.info("[{}] Routing through Redis {} pub/sub on {} site channel(s) and node channel {}", nodeId,
                connector.isCluster() ? "sharded" : "classic", sites.size(), keys.nodeChannel(nodeId));
    }

    @Override
    public CompletionStage<Void> publish(Message message) {
        Objects.requireNonNull(message, "message");
        if (receiver == null) {
            return notRunning();
        }
        String socketId = message.target().socketId();
        byte[] payload = Wire.encode(message, System.currentTimeMillis());
        if (socketId != null) {
            return toNodeOf(socketId, payload);
        }
        return send(bytes(keys.siteChannel(message.site())), payload);
    }

    @Override
    public CompletionStage<Void> command(SocketCommand command) {
        Objects.requireNonNull(command, "command");
        if (receiver == null) {
            return notRunning();
        }
        return toNodeOf(command.socketId(), Wire.encode(command, System.currentTimeMillis()));
    }

    @Override
    public CompletionStage<Void> socketConnected(String site, String socketId) {
        localSockets.put(socketId, site);
        return registry.socketConnected(site, socketId);
    }

    @Override
    public CompletionStage<Void> socketDisconnected(String site, String socketId) {
        localSockets.remove(socketId);
        return registry.socketDisconnected(site, socketId);
    }

    @Override
    public CompletionStage<@Nullable String> locate(String site, String socketId) {
        if (localSockets.containsKey(socketId)) {
            return CompletableFuture.completedFuture(nodeId);
        }
        return registry.nodeOf(socketId).handle((node, failure) -> {
            if (failure != null) {
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            return node;
        });
    }

    /**
     * Asks every node (on the site's channel) for its connections of the site and collects the
     * answers of the live nodes the registry lists, for at most {@link #LISTING_TIMEOUT_MILLIS}.
     * Each node writes its list to a short-lived key and publishes only where it is, so that a
     * long list never passes through a subscriber's output buffer.
     */
    @Override
    public CompletionStage<ConnectionListing> listConnections(String site, int limit) {
        if (receiver == null) {
            return notRunning();
        }
        if (!sites.contains(site)) {
            return CompletableFuture.completedFuture(new ConnectionListing(List.of(), List.of(), List.of(), false));
        }
        String requestId = java.util.UUID.randomUUID().toString();
        return registry.liveNodes().handle((nodes, failure) -> {
            if (failure != null) {
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            return nodes;
        }).thenCompose(nodes -> {
            java.util.Set<String> expected = new java.util.LinkedHashSet<>(nodes);
            expected.add(nodeId);
            Listing listing = new Listing(expected, limit);
            listings.put(requestId, listing);
            CompletableFuture.delayedExecutor(LISTING_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
                listings.remove(requestId);
                listing.finish();
            });
            send(bytes(keys.siteChannel(site)), Wire.encode(new Wire.ListRequest(site, requestId, nodeId, limit)))
                    .whenComplete((v, sendFailure) -> {
                        if (sendFailure != null) {
                            listings.remove(requestId);
                            listing.result.completeExceptionally(sendFailure);
                        }
                    });
            return listing.result;
        });
    }

    /**
     * The live nodes that registered a public URL ({@link RedisNodeRegistry#nodeInfos()}), sorted
     * by id; nodes without one, such as application nodes, are left out.
     */
    @Override
    public CompletionStage<List<NodeInfo>> nodes() {
        if (receiver == null) {
            return notRunning();
        }
        return registry.nodeInfos().handle((nodes, failure) -> {
            if (failure != null) {
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            return nodes.stream().filter(node -> node.publicUrl() != null).toList();
        });
    }

    /** Every node whose heartbeat is current, with or without a public URL. */
    @Override
    public CompletionStage<List<NodeInfo>> clusterNodes() {
        if (receiver == null) {
            return notRunning();
        }
        return registry.nodeInfos().handle((nodes, failure) -> {
            if (failure != null) {
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            return nodes;
        });
    }

    @Override
    public synchronized void stop() {
        receiver = null;
        receiveLag = null;
        meters.close();
        meters = PushBridgeMeters.none();
        java.util.concurrent.ExecutorService worker = listingWorker;
        listingWorker = null;
        if (worker != null) {
            worker.shutdownNow();
        }
        if (watcher != null) {
            watcher.shutdownNow();
            watcher = null;
        }
        StatefulRedisPubSubConnection<byte[], byte[]> c = pubSub;
        pubSub = null;
        if (c != null) {
            c.closeAsync();
        }
    }

    public boolean isRunning() {
        return receiver != null;
    }

    /** Whether the subscription connection is up (for health checks). */
    public boolean isSubscribed() {
        StatefulRedisPubSubConnection<byte[], byte[]> c = pubSub;
        return c != null && c.isOpen();
    }

    /** Counters: published, publish failures, received, dropped (malformed), resumes. */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("published", published.get());
        m.put("publish_failures", publishFailures.get());
        m.put("received", received.get());
        m.put("dropped", dropped.get());
        m.put("resumes", resumes.get());
        return m;
    }

    // ---- sending -----------------------------------------------------------------------------

    private CompletionStage<Void> toNodeOf(String socketId, byte[] payload) {
        if (localSockets.containsKey(socketId)) {
            return send(nodeChannel, payload);
        }
        String known = socketNodes.get(socketId);
        if (known != null) {
            return send(bytes(keys.nodeChannel(known)), payload);
        }
        return registry.nodeOf(socketId).handle((node, failure) -> {
            if (failure != null) {
                publishFailures.incrementAndGet();
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            return node;
        }).thenCompose(node -> {
            if (node == null) {
                return CompletableFuture.completedFuture(null); // no node holds it: nothing to deliver
            }
            socketNodes.put(socketId, node);
            return send(bytes(keys.nodeChannel(node)), payload);
        });
    }

    private CompletionStage<Void> send(byte[] channel, byte[] payload) {
        CompletionStage<Long> sent;
        try {
            sent = connector.isCluster()
                    ? connector.commands().spublish(channel, payload)
                    : connector.commands().publish(channel, payload);
        } catch (RuntimeException e) {
            // a connection that is closed (or closing) throws rather than failing the stage
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((n, failure) -> {
            if (failure != null) {
                publishFailures.incrementAndGet();
                throw new CompletionException(RedisMessageStore.unavailable(failure));
            }
            published.incrementAndGet();
            return null;
        });
    }

    private static <T> CompletionStage<T> notRunning() {
        return CompletableFuture.failedFuture(new PushUnavailableException("router is not running",
                new IllegalStateException("publish before start() or after stop()")));
    }

    // ---- receiving ---------------------------------------------------------------------------

    private void onMessage(byte[] payload) {
        Receiver r = receiver;
        if (r == null) {
            return;
        }
        Object item;
        long publishedAt;
        try {
            Wire.Routed routed = Wire.decodeRouted(payload);
            item = routed.item();
            publishedAt = routed.publishedAtMillis();
        } catch (RuntimeException e) {
            dropped.incrementAndGet();
            r.count(MALFORMED);
            long now = System.currentTimeMillis();
            long last = lastDropLog.get();
            if (now - last >= 1000 && lastDropLog.compareAndSet(last, now)) {
                log.warn("[{}] Dropped a malformed routed message ({} bytes): {} ({} dropped so far)", nodeId, payload.length,
                        e.getMessage(), dropped.get());
            }
            return;
        }
        received.incrementAndGet();
        Timer lag = receiveLag;
        if (publishedAt > 0 && lag != null) {
            lag.record(Math.max(0, System.currentTimeMillis() - publishedAt), TimeUnit.MILLISECONDS);
        }
        try {
            if (item instanceof Message m) {
                r.deliver(m);
            } else if (item instanceof SocketCommand c) {
                r.execute(c);
            } else if (item instanceof Wire.ListRequest request) {
                answer(r, request);
            } else {
                collect((Wire.ListReply) item);
            }
        } catch (RuntimeException e) {
            log.error("[{}] The receiver failed on a routed message", nodeId, e);
        }
    }

    // ---- connection listings -----------------------------------------------------------------

    static final long LISTING_TIMEOUT_MILLIS = 2000;
    private static final long LISTING_TTL_MILLIS = 30_000;

    /** Answers a listing request: this node's connections go to a key, its name to the asker's channel. */
    private void answer(Receiver r, Wire.ListRequest request) {
        java.util.concurrent.ExecutorService worker = listingWorker;
        if (!sites.contains(request.site()) || worker == null) {
            return;
        }
        String key = keys.listing(request.requestId(), nodeId);
        CompletableFuture.supplyAsync(() -> {
            List<ConnectionInfo> local = r.localConnections(request.site(), request.limit() + 1);
            boolean truncated = local.size() > request.limit();
            return Wire.encodeConnections(truncated ? local.subList(0, request.limit()) : local, truncated);
        }, worker)
                .thenCompose(value -> connector.commands().set(bytes(key), value, io.lettuce.core.SetArgs.Builder.px(LISTING_TTL_MILLIS)))
                .thenCompose(ok -> send(bytes(keys.nodeChannel(request.from())),
                        Wire.encode(new Wire.ListReply(request.requestId(), nodeId, key))))
                .whenComplete((v, failure) -> {
                    if (failure != null) {
                        log.warn("[{}] Could not answer a connection listing of {}: {}", nodeId, request.from(), failure.toString());
                    }
                });
    }

    /** An answer to a listing this node asked for: reads the node's list, and completes when every node answered. */
    private void collect(Wire.ListReply reply) {
        Listing listing = listings.get(reply.requestId());
        java.util.concurrent.ExecutorService worker = listingWorker;
        if (listing == null || worker == null) {
            return; // timed out meanwhile (its key expires by itself)
        }
        byte[] key = bytes(reply.key());
        connector.commands().get(key).toCompletableFuture().whenCompleteAsync((value, failure) -> {
            connector.commands().del(key);
            if (failure != null || value == null) {
                log.warn("[{}] Could not read the connection listing of node {}: {}", nodeId, reply.node(),
                        failure == null ? "gone" : failure.toString());
                return;
            }
            Wire.Connections connections;
            try {
                connections = Wire.decodeConnections(value);
            } catch (IllegalArgumentException e) {
                dropped.incrementAndGet();
                Receiver r = receiver;
                if (r != null) {
                    r.count(MALFORMED);
                }
                log.warn("[{}] Dropped a malformed connection listing of node {}: {}", nodeId, reply.node(), e.getMessage());
                return;
            }
            if (listing.add(reply.node(), connections)) {
                listings.remove(reply.requestId());
                listing.finish();
            }
        }, worker);
    }

    /** The answers collected for one listing. */
    private static final class Listing {
        final CompletableFuture<ConnectionListing> result = new CompletableFuture<>();
        private final java.util.Set<String> expected;
        private final int limit;
        private final List<ConnectionInfo> connections = new ArrayList<>();
        private final List<String> answered = new ArrayList<>();
        private boolean truncated;

        Listing(java.util.Set<String> expected, int limit) {
            this.expected = expected;
            this.limit = limit;
        }

        /** Adds a node's answer; returns whether every expected node has answered. */
        synchronized boolean add(String node, Wire.Connections answer) {
            if (answered.contains(node)) {
                return false;
            }
            answered.add(node);
            for (ConnectionInfo c : answer.connections()) {
                if (connections.size() < limit) {
                    connections.add(c);
                } else {
                    truncated = true;
                }
            }
            truncated |= answer.truncated();
            return answered.containsAll(expected);
        }

        synchronized void finish() {
            List<String> missing = expected.stream().filter(n -> !answered.contains(n)).toList();
            result.complete(new ConnectionListing(connections, answered, missing, truncated));
        }
    }

    private void onSubscribed(byte[] channel) {
        if (subscribedOnce.putIfAbsent(new String(channel, StandardCharsets.UTF_8), Boolean.TRUE) == null) {
            return; // the first subscription of this channel, at start
        }
        // a reconnect re-subscribes every channel of the connection, one callback each: resume once
        if (resumePending.compareAndSet(false, true)) {
            CompletableFuture.delayedExecutor(RESUME_DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS).execute(this::resume);
        }
    }

    private void resume() {
        resumePending.set(false);
        Receiver r = receiver;
        if (r != null) {
            resumes.incrementAndGet();
            log.info("[{}] Routing resumed after a Redis reconnect; re-sending what sockets may have missed", nodeId);
            try {
                r.resumed();
            } catch (RuntimeException e) {
                log.error("[{}] The receiver failed to resume", nodeId, e);
            }
        }
    }

    /**
     * This node's registrations are gone from Redis (it was declared dead, or Redis lost its
     * data): every local connection is closed so that its client reconnects and registers again.
     */
    private void reconnectAll() {
        Receiver r = receiver;
        if (r != null) {
            r.reconnectAll();
        }
    }

    // ---- sharded subscriptions on Redis Cluster ------------------------------------------------

    private CompletableFuture<Void> shardSubscribe(StatefulRedisClusterPubSubConnection<byte[], byte[]> cc, byte[] channel) {
        RedisClusterNode owner = cc.getPartitions().getMasterBySlot(SlotHash.getSlot(channel));
        if (owner == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("no shard owns the slot of channel "
                    + new String(channel, StandardCharsets.UTF_8), null));
        }
        String key = new String(channel, StandardCharsets.UTF_8);
        return cc.getConnectionAsync(owner.getNodeId())
                .thenCompose(node -> node.async().ssubscribe(channel).toCompletableFuture())
                .thenAccept(v -> shardOwners.put(key, owner.getNodeId()));
    }

    /** Moves a subscription whose slot changed owner (failover, resharding). */
    private void followShards(StatefulRedisClusterPubSubConnection<byte[], byte[]> cc, List<byte[]> channels) {
        try {
            for (byte[] channel : channels) {
                String key = new String(channel, StandardCharsets.UTF_8);
                RedisClusterNode owner = cc.getPartitions().getMasterBySlot(SlotHash.getSlot(channel));
                String was = shardOwners.get(key);
                if (owner != null && !owner.getNodeId().equals(was)) {
                    log.info("[{}] Channel {} moved to shard {}; subscribing there", nodeId, key, owner.getUri());
                    shardSubscribe(cc, channel).whenComplete((v, failure) -> {
                        if (failure != null) {
                            log.warn("[{}] Could not follow channel {} to its new shard: {}", nodeId, key, failure.toString());
                        } else if (was != null && resumePending.compareAndSet(false, true)) {
                            CompletableFuture.delayedExecutor(RESUME_DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS).execute(this::resume);
                        }
                    });
                }
            }
        } catch (RuntimeException e) {
            log.debug("[{}] Shard check failed: {}", nodeId, e.toString());
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisRouter[" + nodeId + ", " + connector.description() + "]";
    }
}
