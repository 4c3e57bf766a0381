package io.pushbridge.redis;

import io.lettuce.core.KeyScanArgs;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.pushbridge.MessageStore;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.RateLimitedLog;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ack queues in Redis, shared by every gateway node: the same contract as the in-memory store
 * (see {@link MessageStore}), held by the same contract tests.
 *
 * <p><b>Layout.</b> Each queue is three keys with one hash tag, so that a queue lives on one Redis
 * Cluster shard (see {@link RedisKeys}): a meta hash (arrival counter, resync mark, deadline, open
 * connections per node), a sorted set of message ids scored by arrival, and a hash of the stored
 * messages; a fourth, small string with the same tag marks a queue that may expire holding
 * messages. Every operation is one Lua script: atomic, and one round trip.
 *
 * <p><b>Presence and expiry.</b> Each node counts its own open connections of a user in the queue's
 * meta hash, and notes in its own registry hash which queues it counts in; when a node dies, the
 * {@link RedisNodeRegistry} of a surviving node subtracts its counts ({@link #nodeGone}). After the
 * user's last connection anywhere closes, the deadline is set {@code clientTtl} ahead; each script
 * treats a queue past its deadline as absent (time from the injected clock), and Redis' own key
 * expiry, set a grace period later, frees the memory of queues nobody touches again.
 *
 * <p><b>Expired queues remembered.</b> Redis drops an abandoned queue's keys by itself, so no script
 * sees the moment a queue expires. Instead, whenever a queue without connection is kept holding
 * messages (or a resync mark), its lost marker is written with the time until which a loss is
 * remembered: the queue's deadline plus {@link Builder#resyncMemory} (with Redis' own expiry a grace
 * period later). It is deleted when a connection opens in time or the queue is emptied or cleared.
 * Once the queue is gone, a marker still there means its user lost messages: the next
 * {@link #takePending} answers {@link ResyncCause#EXPIRY} (or a new queue made meanwhile carries it
 * as its resync mark) and deletes it.
 *
 * <p><b>Failures.</b> Every stage fails with {@link PushUnavailableException} when Redis cannot be
 * reached or answers with an error; nothing is retried here (a failed append was not stored, or
 * was stored and will be found by the id on a retry: an append with a known id keeps its place).
 *
 * <p>Thread-safe; stages complete on Lettuce's I/O threads, except where {@link Builder#executor} says.
 */
public final class RedisMessageStore implements MessageStore {

    private static final Logger log = LoggerFactory.getLogger(RedisMessageStore.class);

    /** How much later than the deadline Redis itself drops an abandoned queue's keys. */
    static final Duration EXPIRY_GRACE = Duration.ofSeconds(60);

    private static final LuaScript APPEND = LuaScript.load("append", true);
    private static final LuaScript TAKE = LuaScript.load("take", true);
    private static final LuaScript ACK = LuaScript.load("ack", true);
    private static final LuaScript REMOVE = LuaScript.load("remove", true);
    private static final LuaScript CLEAR = LuaScript.load("clear", true);
    private static final LuaScript OPENED = LuaScript.load("opened", true);
    private static final LuaScript CLOSED = LuaScript.load("closed", true);
    private static final LuaScript DEPTH = LuaScript.load("depth", true);
    private static final LuaScript SETCOUNT = LuaScript.load("setcount", true);
    private static final LuaScript COUNTER = LuaScript.load("counter", false);
    private static final LuaScript INSPECT = LuaScript.load("inspect", List.of("common", "cbor"));
    private static final LuaScript INSPECT_MANY = LuaScript.load("inspect-many", List.of("cbor"));

    /** The most resync memory passed to the scripts: 100 years. */
    private static final long MAX_MEMORY_MILLIS = Duration.ofDays(36_500).toMillis();

    /** How many keys one {@code SCAN} of {@link #siteQueues} asks a server to look at. */
    static final int SCAN_BATCH = 500;
    /** The CBOR items one inspect-many call may skip in all, which bounds how long it holds Redis (a few ms). */
    static final int WALK_ITEMS_PER_CALL = 20_000;
    /** The CBOR items the walk skips in one message before it gives up its age (counted without it). */
    static final int WALK_ITEMS_PER_MESSAGE = 10_000;
    /** The default of {@link Builder#resyncMemory}: a week, as the in-memory store's. */
    public static final Duration DEFAULT_RESYNC_MEMORY = io.pushbridge.memory.InMemoryMessageStore.DEFAULT_RESYNC_MEMORY;

    /** How often a node that waits for another node's first totals looks for them. */
    static final Duration SHARED_TOTALS_POLL = Duration.ofMillis(500);
    /** How many max ages the shared totals stay in Redis after they were written. */
    static final int SHARED_TOTALS_LIFETIME = 3;
    /** The default of {@link Builder#siteQueuesMaxAge}. */
    public static final Duration DEFAULT_SITE_QUEUES_MAX_AGE = Duration.ofSeconds(10);

    private final RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final RedisKeys keys;
    private final String nodeId;
    private final int maxPendingPerUser;
    private final Duration clientTtl;
    private final Duration resyncMemory;
    private final byte[] ttlArg;
    private final byte[] graceArg;
    private final byte[] memoryArg;
    private final Clock clock;
    private final long siteQueuesMaxAgeNanos;
    private final java.util.concurrent.Executor executor;
    /** The last walk of {@link #siteQueues}: in flight, or done and shared while it is young enough. */
    private final java.util.concurrent.atomic.AtomicReference<SiteWalk> lastWalk = new java.util.concurrent.atomic.AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicLong walks = new java.util.concurrent.atomic.AtomicLong();
    private final RateLimitedLog unreadable = new RateLimitedLog(log, 60_000);
    /** This node's view of its connections per queue, kept only while non-zero or to be repaired. */
    private final java.util.concurrent.ConcurrentHashMap<UserQueue, Presence> presences = new java.util.concurrent.ConcurrentHashMap<>();
    /** The queues whose presence is dirty: what {@link #repairCounts()} looks at. */
    private final java.util.Set<UserQueue> dirtyQueues = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private RedisMessageStore(Builder b) {
        this.redis = b.redis;
        this.keys = b.keys;
        this.nodeId = b.nodeId;
        this.maxPendingPerUser = b.maxPendingPerUser;
        this.clientTtl = b.clientTtl;
        long ttlMillis = b.clientTtl.isZero() ? 0 : Math.max(1, saturatedMillis(b.clientTtl));
        this.ttlArg = arg(ttlMillis);
        this.graceArg = arg(EXPIRY_GRACE.toMillis());
        this.resyncMemory = b.resyncMemory;
        // capped (at about a century) so that deadline + memory stays an exact integer in Lua
        this.memoryArg = arg(b.resyncMemory.isZero() ? 0 : Math.max(1, Math.min(saturatedMillis(b.resyncMemory), MAX_MEMORY_MILLIS)));
        this.clock = b.clock;
        this.siteQueuesMaxAgeNanos = b.siteQueuesMaxAge.toNanos();
        this.executor = b.executor != null ? b.executor : DecodeThread.EXECUTOR;
    }

    /**
     * A builder.
     *
     * @param redis the command API of a {@link RedisConnector}
     * @param nodeId this gateway node's id (unique among running nodes)
     */
    public static Builder builder(RedisClusterAsyncCommands<byte[], byte[]> redis, String nodeId) {
        return new Builder(redis, nodeId);
    }

    public int maxPendingPerUser() {
        return maxPendingPerUser;
    }

    public Duration clientTtl() {
        return clientTtl;
    }

    /** How long after its deadline a queue that expired holding messages is remembered; zero: none. */
    public Duration resyncMemory() {
        return resyncMemory;
    }

    /** How long one walk of the key space answers {@link #siteQueues} (see {@link Builder#siteQueuesMaxAge}). */
    public Duration siteQueuesMaxAge() {
        return Duration.ofNanos(siteQueuesMaxAgeNanos);
    }

    @Override
    public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
        Objects.requireNonNull(message, "message");
        byte[] value = Wire.encodeQueued(message);
        return this.<Long>run(APPEND, ScriptOutputType.INTEGER, queue, arg(maxPendingPerUser), arg(message.id()), value)
                .thenApply(r -> r == 1L ? AppendOutcome.OVERFLOWED : AppendOutcome.APPENDED);
    }

    @Override
    public CompletionStage<Pending> takePending(UserQueue queue) {
        return this.<List<Object>>run(TAKE, ScriptOutputType.MULTI, queue).thenApply(reply -> {
            long mark = ((Number) reply.get(0)).longValue();
            ResyncCause cause = mark == 1L ? ResyncCause.OVERFLOW : mark == 2L ? ResyncCause.EXPIRY : null;
            List<QueuedMessage> messages = new ArrayList<>(reply.size() - 1);
            for (int i = 1; i < reply.size(); i++) {
                try {
                    messages.add(Wire.decodeQueued((byte[]) reply.get(i)));
                } catch (RuntimeException e) {
                    // never expected: only this class writes queue entries; skip it rather than
                    // lose the whole queue, and say so loudly
                    log.error("Skipped an unreadable stored message in {}: {}", queue, e.toString());
                }
            }
            return new Pending(messages, cause);
        });
    }

    @Override
    public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
        return this.<Long>run(ACK, ScriptOutputType.INTEGER, queue, arg(messageId)).thenApply(r -> switch (r.intValue()) {
            case 1 -> AckOutcome.REMOVED;
            case 2 -> AckOutcome.RESYNC;
            default -> AckOutcome.NOT_FOUND;
        });
    }

    @Override
    public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
        Objects.requireNonNull(messageIds, "messageIds");
        if (messageIds.isEmpty()) {
            return CompletableFuture.completedFuture(0);
        }
        byte[][] ids = new byte[messageIds.size()][];
        int i = 0;
        for (Long id : messageIds) {
            ids[i++] = arg(id);
        }
        return this.<Long>run(REMOVE, ScriptOutputType.INTEGER, queue, ids).thenApply(Long::intValue);
    }

    @Override
    public CompletionStage<Void> clear(UserQueue queue) {
        return purge(queue).thenApply(r -> null);
    }

    /** {@inheritDoc} One script: the count is that of the messages it removed. */
    @Override
    public CompletionStage<Integer> purge(UserQueue queue) {
        return this.<Long>run(CLEAR, ScriptOutputType.INTEGER, queue).thenApply(Long::intValue);
    }

    /**
     * {@inheritDoc}
     *
     * <p>A failed open (the caller then never closes) may still have been counted in Redis, for
     * example when the reply timed out: the queue is then marked for {@link #repairCounts()}.
     */
    @Override
    public CompletionStage<Void> connectionOpened(UserQueue queue) {
        Presence presence = presence(queue, +1);
        // the node's own note first: if the node dies between the two, the note names a queue
        // it holds nothing on, which its cleanup skips harmlessly
        return settled(queue, presence, counter(queue, 1)
                .thenCompose(v -> this.<Long>run(OPENED, ScriptOutputType.INTEGER, queue, arg(nodeId))), true);
    }

    /**
     * {@inheritDoc}
     *
     * <p>A close that fails (Redis unreachable) leaves the queue marked for
     * {@link #repairCounts()}, which sets this node's count right once Redis answers again.
     */
    @Override
    public CompletionStage<Void> connectionClosed(UserQueue queue) {
        Presence presence = presence(queue, -1);
        return settled(queue, presence, this.<Long>run(CLOSED, ScriptOutputType.INTEGER, queue, arg(nodeId), arg(1))
                .thenCompose(held -> counter(queue, -1)), false);
    }

    /**
     * Sets this node's connection counts right in Redis for every queue where an open or close
     * failed: to the number of connections the gateway holds open on it now. The node registry
     * calls it with every heartbeat; it does nothing when nothing failed.
     *
     * @return how many queues it repaired
     */
    public CompletionStage<Integer> repairCounts() {
        List<CompletableFuture<Boolean>> repairs = new ArrayList<>();
        for (UserQueue queue : dirtyQueues) {
            Presence presence = presences.get(queue);
            if (presence == null) {
                dirtyQueues.remove(queue);
                continue;
            }
            int target;
            synchronized (presence) {
                if (!presence.dirty || presence.inFlight > 0) {
                    continue;
                }
                presence.inFlight++;
                target = presence.open;
            }
            String meta = keys.queue(queue);
            byte[] node = RedisKeys.bytes(keys.nodeQueues(nodeId));
            CompletableFuture<Boolean> repair = this.<Long>run(SETCOUNT, ScriptOutputType.INTEGER, queue, arg(nodeId), arg(target))
                    .thenCompose(v -> (target > 0
                            ? redis.hset(node, RedisKeys.bytes(meta), arg(target)).thenApply(x -> 1L)
                            : redis.hdel(node, RedisKeys.bytes(meta))).toCompletableFuture())
                    .handle((v, failure) -> {
                        synchronized (presence) {
                            presence.inFlight--;
                            if (failure == null && presence.open == target) {
                                presence.dirty = false;
                                dirtyQueues.remove(queue);
                            }
                            forgetIfIdle(queue, presence);
                        }
                        return failure == null;
                    }).toCompletableFuture();
            repairs.add(repair);
        }
        return CompletableFuture.allOf(repairs.toArray(CompletableFuture[]::new))
                .thenApply(v -> (int) repairs.stream().filter(CompletableFuture::join).count());
    }

    /** Queues whose counts in Redis may be wrong and wait for {@link #repairCounts()}; for tests and health. */
    public int countsToRepair() {
        return dirtyQueues.size();
    }

    /** This node's open connections on one queue, as the gateway reported them. Guarded by itself. */
    private static final class Presence {
        int open;
        int inFlight;
        boolean dirty;
        /** Set once it has left the map; a thread still holding it must look again. */
        boolean retired;
    }

    private Presence presence(UserQueue queue, int delta) {
        Objects.requireNonNull(queue, "queue");
        for (;;) {
            Presence presence = presences.computeIfAbsent(queue, q -> new Presence());
            synchronized (presence) {
                if (presence.retired) {
                    continue; // dropped by another thread meanwhile; take the new one
                }
                presence.open = Math.max(0, presence.open + delta);
                presence.inFlight++;
                return presence;
            }
        }
    }

    private CompletionStage<Void> settled(UserQueue queue, Presence presence, CompletionStage<?> op, boolean opening) {
        return op.handle((v, failure) -> {
            synchronized (presence) {
                presence.inFlight--;
                if (failure != null) {
                    if (opening) {
                        presence.open = Math.max(0, presence.open - 1); // the caller will not close it
                    }
                    presence.dirty = true;
                    dirtyQueues.add(queue);
                }
                forgetIfIdle(queue, presence);
            }
            if (failure != null) {
                throw new CompletionException(unavailable(failure));
            }
            return null;
        });
    }

    /** Called holding the presence's lock. */
    private void forgetIfIdle(UserQueue queue, Presence presence) {
        if (presence.open == 0 && presence.inFlight == 0 && !presence.dirty && !presence.retired) {
            presence.retired = true;
            presences.remove(queue, presence);
        }
    }

    /**
     * Removes every connection a dead node held on a queue, by the queue's meta key as the node's
     * registry hash names it; starts the ttl where that was the user's last connection.
     */
    CompletionStage<Void> nodeGone(String queueKey, String deadNodeId) {
        byte[][] k = queueKeys(queueKey);
        return orUnavailable(CLOSED.<Long>run(redis, ScriptOutputType.INTEGER, k, args(arg(deadNodeId), arg("all"))))
                .thenApply(r -> null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One read-only script on the queue's shard: O(1) plus the walk of the oldest message's CBOR
     * items to find its creation time (its strings are skipped by length).
     */
    @Override
    public CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
        return this.<List<Object>>run(INSPECT, ScriptOutputType.MULTI, queue, arg("whole")).thenCompose(reply -> {
            if (((Number) reply.get(0)).longValue() < 0) {
                throw new IllegalStateException("the keys of this queue in Redis cannot be read (a key of another type under "
                        + keys.prefix() + "?)");
            }
            if (reply.size() > 4 && reply.get(4) instanceof byte[]) {
                // the script could not walk the oldest message (over 10,000 CBOR items, or malformed):
                // decoding it whole is not work for Lettuce's I/O thread
                return CompletableFuture.supplyAsync(() -> snapshot(queue, reply), executor);
            }
            return CompletableFuture.completedFuture(snapshot(queue, reply));
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p><b>Cost.</b> There is no index of a site's queues (it could not be kept in the same
     * script as the queue on Redis Cluster, where they live on other shards): a walk goes over the
     * whole key space with {@code SCAN}, matching the queues' id keys ({@code TYPE zset}, 500 keys a
     * batch), one batch after the other, and reads the queues of each batch with a read-only script:
     * one script for the batch on a standalone or Sentinel Redis (it stops after 20,000 CBOR items
     * and is called again for the rest), one per queue, pipelined, on Redis Cluster, where Lettuce
     * scans the masters one after the other. Each command holds Redis a few milliseconds at most.
     * The work is O(keys in the database + queues holding messages): measured on a 2-core machine
     * with 100,000 such queues (300,000 keys), a walk took about 3 s and 1.7 to 2.3 s of Redis time
     * ({@code SiteQueuesBenchmark}). A message with more than 10,000 CBOR items is counted without
     * its age.
     *
     * <p>One walk totals every site at once: concurrent calls, for any site, share the walk in
     * flight, and calls within {@link Builder#siteQueuesMaxAge} (10 s by default) of the last walk
     * share its result. With a max age above zero the walk is also shared by every node of the
     * cluster: the node that wins a short lease ({@code <prefix>queue-totals:walker}, {@code SET NX
     * PX <max age>}) walks and writes the totals with the time it computed them to
     * {@code <prefix>queue-totals}; the others answer those totals while they are younger than the
     * max age, the last ones while another node walks, and wait for the first ones (looking again
     * every 0.5 s, and walking themselves once the lease ran out without any). An answer thus
     * describes the queues as a walk found them, at most about the max age plus one walk ago.
     *
     * <p>A queue whose keys cannot be read (a key of another type, say) is left out and counted
     * in a line logged at most once a minute; a key {@code SCAN} returns twice counts once.
     */
    @Override
    public CompletionStage<SiteQueues> siteQueues(String site) {
        Objects.requireNonNull(site, "site");
        return walk().thenApply(totals -> totals.getOrDefault(site, SiteQueues.EMPTY));
    }

    /** A walk over every queue of every site in flight, or one recent enough; starts one otherwise. */
    private CompletableFuture<Map<String, SiteQueues>> walk() {
        for (;;) {
            SiteWalk last = lastWalk.get();
            if (last != null && last.reusable(System.nanoTime(), siteQueuesMaxAgeNanos)) {
                return last.result;
            }
            SiteWalk fresh = new SiteWalk();
            if (lastWalk.compareAndSet(last, fresh)) {
                if (siteQueuesMaxAgeNanos == 0) {
                    scan(fresh, false);
                } else {
                    shared(fresh);
                }
                return fresh.result;
            }
        }
    }

    /**
     * The totals for the whole cluster, computed by one node per max age: the totals key when it
     * is young enough; else the node that wins the walker lease walks and writes the key, and the
     * others answer the key's last totals, or, when there are none yet, look again shortly (and
     * walk themselves once the winner's lease ran out without totals).
     */
    private void shared(SiteWalk walk) {
        long maxAgeMillis = Math.max(1, Duration.ofNanos(siteQueuesMaxAgeNanos).toMillis());
        CompletionStage<byte[]> read;
        try {
            read = redis.get(RedisKeys.bytes(keys.queueTotals()));
        } catch (RuntimeException e) {
            walk.fail(e);
            return;
        }
        read.thenCompose(value -> {
            SharedTotals last = SharedTotals.parse(value);
            if (value != null && last == null) {
                unreadable.warn("Ignored unreadable queue totals in {}", keys.queueTotals());
            }
            if (last != null && clock.millis() - last.computedAtMillis() < maxAgeMillis) {
                walk.complete(last.totals());
                return CompletableFuture.completedFuture(null);
            }
            return redis.set(RedisKeys.bytes(keys.queueTotalsWalker()), arg(nodeId), SetArgs.Builder.nx().px(maxAgeMillis))
                    .thenAccept(won -> {
                        if ("OK".equals(won)) {
                            scan(walk, true);
                        } else if (last != null) {
                            walk.complete(last.totals()); // older than the max age; the next is under way
                        } else {
                            // none yet: another node walks; look again shortly
                            CompletableFuture.delayedExecutor(Math.min(maxAgeMillis, SHARED_TOTALS_POLL.toMillis()),
                                    java.util.concurrent.TimeUnit.MILLISECONDS, Runnable::run).execute(() -> shared(walk));
                        }
                    });
        }).whenComplete((v, failure) -> {
            if (failure != null) {
                walk.fail(failure);
            }
        });
    }

    /** Walks the key space for the walk; with {@code publish}, writes what it found to the totals key. */
    private void scan(SiteWalk walk, boolean publish) {
        walks.incrementAndGet();
        if (publish) {
            // written before the walk answers, so that whoever it answers finds them in Redis
            walk.publisher = totals -> {
                long ttl = Math.max(1, Duration.ofNanos(siteQueuesMaxAgeNanos).toMillis()) * SHARED_TOTALS_LIFETIME;
                try {
                    return redis.set(RedisKeys.bytes(keys.queueTotals()), SharedTotals.encode(clock.millis(), totals),
                            SetArgs.Builder.px(ttl)).whenComplete((ok, failure) -> {
                                if (failure != null) {
                                    unreadable.warn("Could not share the queue totals in {}: {}", keys.queueTotals(),
                                            failure.toString());
                                }
                            });
                } catch (RuntimeException e) {
                    return CompletableFuture.completedFuture(null);
                }
            };
        }
        KeyScanArgs args = new KeyScanArgs().match(globEscaped(keys.prefix()) + "q:{*}:i", StandardCharsets.UTF_8)
                .type("zset").limit(SCAN_BATCH);
        scanFrom(null, args, now(), walk);
    }

    /** Walks of the key space this store made (not those whose totals it read from another node); for tests. */
    long walks() {
        return walks.get();
    }

    /**
     * The queue totals shared through {@link RedisKeys#queueTotals()}: one string, {@code v1}, the
     * time they were computed (epoch ms, the writer's clock), then one line per site with its
     * queues, messages, oldest creation time and URL-encoded name.
     */
    record SharedTotals(long computedAtMillis, Map<String, SiteQueues> totals) {

        static byte[] encode(long computedAtMillis, Map<String, SiteQueues> totals) {
            StringBuilder out = new StringBuilder("v1\n").append(computedAtMillis).append('\n');
            totals.forEach((site, t) -> out.append(t.queues()).append(' ').append(t.messages()).append(' ')
                    .append(t.oldestCreatedAtMillis()).append(' ').append(java.net.URLEncoder.encode(site, StandardCharsets.UTF_8))
                    .append('\n'));
            return out.toString().getBytes(StandardCharsets.UTF_8);
        }

        /** The totals, or null when absent or not in this form. */
        static @Nullable SharedTotals parse(byte @Nullable [] value) {
            if (value == null) {
                return null;
            }
            try {
                String[] lines = new String(value, StandardCharsets.UTF_8).split("\n");
                if (lines.length < 2 || !lines[0].equals("v1")) {
                    return null;
                }
                Map<String, SiteQueues> totals = new java.util.HashMap<>();
                for (int i = 2; i < lines.length; i++) {
                    String[] f = lines[i].split(" ", 4);
                    if (f.length != 4) {
                        return null;
                    }
                    totals.put(java.net.URLDecoder.decode(f[3], StandardCharsets.UTF_8),
                            new SiteQueues(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
                }
                return new SharedTotals(Long.parseLong(lines[1]), Map.copyOf(totals));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    /** One batch: a SCAN, then the queues it found, then the next batch or the end. */
    private void scanFrom(@Nullable ScanCursor cursor, KeyScanArgs args, byte[] now, SiteWalk walk) {
        CompletionStage<KeyScanCursor<byte[]>> scan;
        try {
            scan = cursor == null ? redis.scan(args) : redis.scan(cursor, args);
        } catch (RuntimeException e) {
            walk.fail(e);
            return;
        }
        scan.thenCompose(page -> {
            List<UserQueue> queues = new ArrayList<>(page.getKeys().size());
            List<String> metas = new ArrayList<>(page.getKeys().size());
            for (byte[] key : page.getKeys()) {
                String ids = new String(key, StandardCharsets.UTF_8);
                UserQueue queue = queueOfIdsKey(ids);
                // else not a queue's key after all (a name this version does not write); SCAN may
                // return a key more than once (rehashing, resharding): each queue counts once
                if (queue != null && walk.firstSeen(ids)) {
                    queues.add(queue);
                    metas.add(ids.substring(0, ids.length() - 2));
                }
            }
            return read(queues, metas, now, walk).thenApply(v -> page);
        }).whenComplete((page, failure) -> {
            if (failure != null) {
                walk.fail(failure);
            } else if (page.isFinished()) {
                long skipped = walk.skippedCount();
                if (skipped > 0) {
                    unreadable.warn("Left {} queue(s) out of the queue totals: their keys could not be read (a key of another type"
                            + " under this prefix, {}?)", skipped, keys.prefix());
                }
                walk.finish();
            } else {
                scanFrom(page, args, now, walk);
            }
        });
    }

    /**
     * Reads the queues of one batch into the walk: on a standalone or Sentinel Redis with one
     * script for the whole batch, on Redis Cluster (where they live in other slots) one script
     * each, pipelined.
     */
    private CompletableFuture<?> read(List<UserQueue> queues, List<String> metas, byte[] now, SiteWalk walk) {
        if (queues.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        if (redis instanceof io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands) {
            List<CompletableFuture<?>> reads = new ArrayList<>(queues.size());
            for (int i = 0; i < queues.size(); i++) {
                UserQueue queue = queues.get(i);
                reads.add(INSPECT.<List<Object>>run(redis, ScriptOutputType.MULTI, queueKeys(metas.get(i)),
                        now, ttlArg, graceArg, memoryArg, arg("-"))
                        .thenAccept(reply -> {
                            if (((Number) reply.get(0)).longValue() < 0) {
                                walk.skipped();
                            } else {
                                walk.add(queue.site(), snapshot(queue, reply));
                            }
                        }));
            }
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
        }
        byte[][] keys = new byte[metas.size() * 3][];
        for (int i = 0; i < metas.size(); i++) {
            System.arraycopy(queueKeys(metas.get(i)), 0, keys, i * 3, 3);
        }
        return INSPECT_MANY.<List<Object>>run(redis, ScriptOutputType.MULTI, keys, now, arg(WALK_ITEMS_PER_CALL),
                arg(WALK_ITEMS_PER_MESSAGE)).thenCompose(reply -> {
                    int done = ((Number) reply.get(0)).intValue();
                    for (int i = 0; i < done; i++) {
                        if (((Number) reply.get(1 + i * 2)).longValue() < 0) {
                            walk.skipped();
                            continue;
                        }
                        List<Object> one = new ArrayList<>(4);
                        one.add(reply.get(1 + i * 2));
                        one.add(0L);
                        one.add(0L);
                        one.add(reply.get(2 + i * 2));
                        walk.add(queues.get(i).site(), snapshot(queues.get(i), one));
                    }
                    if (done <= 0) {
                        throw new IllegalStateException("the inspect-many script read no queue");
                    }
                    // the script stopped at its budget: the rest in another call
                    return read(queues.subList(done, queues.size()), metas.subList(done, metas.size()), now, walk);
                });
    }

    /** The queue whose ids key this is, or null when the key is not one this class writes. */
    @Nullable UserQueue queueOfIdsKey(String ids) {
        String head = keys.prefix() + "q:{";
        if (!ids.startsWith(head) || !ids.endsWith("}:i")) {
            return null;
        }
        int colon = ids.indexOf(':', head.length());
        if (colon < 0 || colon - head.length() > 6) {
            return null;
        }
        int siteLength;
        try {
            siteLength = Integer.parseInt(ids, head.length(), colon, 10);
        } catch (NumberFormatException e) {
            return null;
        }
        int siteEnd = colon + 1 + siteLength;
        int roomEnd = ids.length() - 3;
        if (siteLength < 0 || siteEnd >= roomEnd || ids.charAt(siteEnd) != ':') {
            return null;
        }
        return new UserQueue(ids.substring(colon + 1, siteEnd), ids.substring(siteEnd + 1, roomEnd));
    }

    /** A glob pattern that matches exactly {@code literal} (Redis' patterns: * ? [ ] and \ are special). */
    static String globEscaped(String literal) {
        StringBuilder out = new StringBuilder(literal.length() + 8);
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /** Reads the reply of the inspect script. */
    private QueueSnapshot snapshot(UserQueue queue, List<Object> reply) {
        int depth = ((Number) reply.get(0)).intValue();
        int connections = (int) Math.max(0, Math.min(Integer.MAX_VALUE, ((Number) reply.get(1)).longValue()));
        boolean resync = ((Number) reply.get(2)).longValue() == 1L;
        long oldest = 0;
        if (reply.size() > 3 && reply.get(3) instanceof byte[] createdAt) {
            try {
                oldest = Wire.cborInteger(createdAt);
            } catch (IllegalArgumentException e) {
                unreadable.warn("Unreadable creation time of the oldest message in a queue of site {}: {}", queue.site(), e.getMessage());
            }
        } else if (reply.size() > 4 && reply.get(4) instanceof byte[] whole) {
            try {
                oldest = Wire.decodeQueued(whole).createdAtMillis();
            } catch (IllegalArgumentException e) {
                unreadable.warn("Unreadable oldest message in a queue of site {}: {}", queue.site(), e.getMessage());
            }
        }
        if (depth == 0 && connections == 0 && !resync) {
            return QueueSnapshot.EMPTY;
        }
        return new QueueSnapshot(depth, depth == 0 ? 0 : oldest, connections, resync);
    }

    /**
     * One walk of {@link #siteQueues}: totals per site, summed as the queues' reads complete, and
     * the ids keys seen so far (memory proportional to the queues that hold messages), so that a
     * key SCAN returns twice counts once.
     */
    static final class SiteWalk {

        final CompletableFuture<Map<String, SiteQueues>> result = new CompletableFuture<>();
        private final Map<String, long[]> totals = new java.util.HashMap<>();
        private final java.util.Set<String> seen = new java.util.HashSet<>();
        private long skipped;
        private volatile long finishedAt;
        /** Where the walk writes its totals before it answers them (the node that won the lease), or null. */
        volatile java.util.function.@Nullable Function<Map<String, SiteQueues>, CompletionStage<?>> publisher;

        /** Whether this is the first time the walk meets this queue key. */
        synchronized boolean firstSeen(String key) {
            return seen.add(key);
        }

        /** A queue whose keys could not be read (another type, say): left out of the totals. */
        synchronized void skipped() {
            skipped++;
        }

        synchronized long skippedCount() {
            return skipped;
        }

        synchronized void add(String site, QueueSnapshot queue) {
            if (queue.depth() == 0) {
                return;
            }
            long[] t = totals.computeIfAbsent(site, s -> new long[] {0, 0, Long.MAX_VALUE});
            t[0]++;
            t[1] += queue.depth();
            if (queue.oldestCreatedAtMillis() != 0) {
                t[2] = Math.min(t[2], queue.oldestCreatedAtMillis());
            }
        }

        void finish() {
            Map<String, SiteQueues> out = new java.util.HashMap<>();
            synchronized (this) {
                totals.forEach((site, t) -> out.put(site, new SiteQueues(t[0], t[1], t[2] == Long.MAX_VALUE ? 0 : t[2])));
                seen.clear();
            }
            Map<String, SiteQueues> found = Map.copyOf(out);
            java.util.function.Function<Map<String, SiteQueues>, CompletionStage<?>> publish = publisher;
            if (publish == null) {
                complete(found);
            } else {
                publish.apply(found).whenComplete((v, failure) -> complete(found));
            }
        }

        /** Answers totals found elsewhere (another node's walk). */
        void complete(Map<String, SiteQueues> found) {
            finishedAt = System.nanoTime();
            result.complete(found);
        }

        void fail(Throwable failure) {
            result.completeExceptionally(unavailable(failure));
        }

        boolean reusable(long nowNanos, long maxAgeNanos) {
            if (!result.isDone()) {
                return true;
            }
            return !result.isCompletedExceptionally() && nowNanos - finishedAt < maxAgeNanos;
        }
    }

    /** Pending messages and open connections (cluster-wide) of a queue; for administration and tests. */
    public CompletionStage<QueueInfo> info(UserQueue queue) {
        return this.<List<Object>>run(DEPTH, ScriptOutputType.MULTI, queue)
                .thenApply(r -> new QueueInfo(((Number) r.get(0)).intValue(), ((Number) r.get(1)).intValue()));
    }

    /** What {@link #info} answers. */
    public record QueueInfo(int depth, int connections) {
    }

    private CompletionStage<Long> counter(UserQueue queue, int delta) {
        return orUnavailable(COUNTER.<Long>run(redis, ScriptOutputType.INTEGER,
                new byte[][] {RedisKeys.bytes(keys.nodeQueues(nodeId))}, RedisKeys.bytes(keys.queue(queue)), arg(delta)));
    }

    private <T> CompletionStage<T> run(LuaScript script, ScriptOutputType type, UserQueue queue, byte[]... extra) {
        Objects.requireNonNull(queue, "queue");
        return orUnavailable(script.<T>run(redis, type, queueKeys(keys.queue(queue)), args(extra)));
    }

    /** The arguments of a queue script (common.lua): now, ttl, grace, resync memory, then {@code extra}. */
    private byte[][] args(byte[]... extra) {
        byte[][] args = new byte[4 + extra.length][];
        args[0] = now();
        args[1] = ttlArg;
        args[2] = graceArg;
        args[3] = memoryArg;
        System.arraycopy(extra, 0, args, 4, extra.length);
        return args;
    }

    /** A queue's keys by its meta key: meta, ids, messages, lost marker (see {@link RedisKeys#queue}). */
    private static byte[][] queueKeys(String meta) {
        return new byte[][] {RedisKeys.bytes(meta), RedisKeys.bytes(meta + RedisKeys.IDS), RedisKeys.bytes(meta + RedisKeys.MESSAGES),
                RedisKeys.bytes(meta + RedisKeys.LOST)};
    }

    private byte[] now() {
        return arg(clock.millis());
    }

    private static byte[] arg(long value) {
        return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] arg(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }

    /** The stage, failing with {@link PushUnavailableException} where it fails with anything else. */
    static <T> CompletionStage<T> orUnavailable(CompletionStage<T> stage) {
        return stage.handle((r, failure) -> {
            if (failure != null) {
                throw new CompletionException(unavailable(failure));
            }
            return r;
        });
    }

    static PushUnavailableException unavailable(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof PushUnavailableException u) {
            return u;
        }
        return new PushUnavailableException("Redis is unavailable: " + cause.getMessage(), cause);
    }

    private static long saturatedMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    @Override
    public String toString() {
        return "RedisMessageStore[node=" + nodeId + ", prefix=" + keys.prefix() + ", maxPendingPerUser=" + maxPendingPerUser
                + ", clientTtl=" + clientTtl + ", resyncMemory=" + resyncMemory + "]";
    }

    /** The default {@link Builder#executor}: one daemon thread, started on first use. */
    private static final class DecodeThread {

        static final java.util.concurrent.Executor EXECUTOR = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pushbridge-redis-store");
            t.setDaemon(true);
            return t;
        });
    }

    /** Builds a {@link RedisMessageStore}; setters check their value and name it when out of range. */
    public static final class Builder {

        private final RedisClusterAsyncCommands<byte[], byte[]> redis;
        private final String nodeId;
        private RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
        private int maxPendingPerUser = 10_000;
        private Duration clientTtl = Duration.ofSeconds(3600);
        private Duration resyncMemory = DEFAULT_RESYNC_MEMORY;
        private Clock clock = Clock.systemUTC();
        private Duration siteQueuesMaxAge = DEFAULT_SITE_QUEUES_MAX_AGE;
        private java.util.concurrent.@Nullable Executor executor;

        private Builder(RedisClusterAsyncCommands<byte[], byte[]> redis, String nodeId) {
            this.redis = Objects.requireNonNull(redis, "redis");
            require(nodeId != null && !nodeId.isEmpty(), "nodeId must not be empty");
            this.nodeId = nodeId;
        }

        public Builder keys(RedisKeys keys) {
            this.keys = Objects.requireNonNull(keys, "keys");
            return this;
        }

        public Builder maxPendingPerUser(int max) {
            require(max >= 1, "maxPendingPerUser must be >= 1, was " + max);
            this.maxPendingPerUser = max;
            return this;
        }

        public Builder clientTtl(Duration ttl) {
            require(ttl != null && !ttl.isNegative(), "clientTtl must be >= 0 (0 keeps queues forever), was " + ttl);
            this.clientTtl = ttl;
            return this;
        }

        /**
         * How long after its deadline a queue that expired holding messages is remembered, so that
         * its user's next connection is told to resync ({@link #DEFAULT_RESYNC_MEMORY} by default);
         * zero remembers none. Costs one small key per such queue for that time.
         */
        public Builder resyncMemory(Duration memory) {
            require(memory != null && !memory.isNegative(), "resyncMemory must be >= 0 (0 remembers no expired queue), was " + memory);
            this.resyncMemory = memory;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How long the totals of one walk of the key space answer {@link #siteQueues} (for every
         * site) before the next call walks again; {@link #DEFAULT_SITE_QUEUES_MAX_AGE} by default.
         * Zero shares only a walk in flight.
         */
        public Builder siteQueuesMaxAge(Duration maxAge) {
            require(maxAge != null && !maxAge.isNegative(), "siteQueuesMaxAge must be >= 0, was " + maxAge);
            this.siteQueuesMaxAge = maxAge;
            return this;
        }

        /**
         * Where the store does CPU work beyond reading a reply, off Lettuce's I/O threads: decoding
         * an oldest message too large for the inspect script to walk. By default one daemon thread
         * shared by every store of the JVM, started the first time it is needed.
         */
        public Builder executor(java.util.concurrent.Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public RedisMessageStore build() {
            return new RedisMessageStore(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
