package io.pushbridge.redis.upstream;

import io.lettuce.core.Consumer;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.RateLimitedLog;
import io.pushbridge.redis.LuaScript;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application side of upstream routing: reads the records that gateway nodes append to the
 * {@link UpstreamStreams upstream streams} and hands each to an {@link UpstreamListener}, on an
 * application node (a {@code PushBridgeGateway} built with {@code GatewayOptions.serve(false)},
 * whose {@code PushTemplate} answers through the cluster).
 *
 * <pre>{@code
 * RedisUpstreamConsumer apps = RedisUpstreamConsumer.builder(connector, keys, listener)
 *     .sites(List.of("chat"))
 *     .partitions(8)                          // the gateways' number
 *     .idleTimeout(Duration.ofSeconds(30))
 *     .build();
 * PushBridgeGateway node = PushBridgeGateway.builder()
 *     .options(GatewayOptions.builder().nodeId("app-1").serve(false).build())
 *     .site(chat).store(store).router(router).extension(apps)
 *     .build();
 * }</pre>
 *
 * <p><b>Partitions and leases.</b> Each site has {@code partitions} streams, read by one consumer
 * group ({@value UpstreamStreams#GROUP}); this node reads as consumer {@code nodeId}. A partition is
 * read by the one application node that holds its lease ({@code SET NX PX idleTimeout}), renewed
 * every {@code idleTimeout / 3} only while it is still this node's, and released when the node
 * stops. Application nodes announce themselves in a sorted set per site (expiring after
 * {@code idleTimeout}); each takes a fair share, {@code ceil(partitions / live nodes)}, claims
 * free partitions up to it and gives back the ones above it (after their current batch) when a
 * node joins. A node that dies leaves its leases to expire: after {@code idleTimeout} the others
 * take its partitions over, with the records it had read but not acknowledged. Nodes' clocks must
 * agree to well within {@code idleTimeout}.
 *
 * <p><b>Delivery.</b> On gaining a partition this node first claims the pending records of every
 * other consumer ({@code XAUTOCLAIM} with no minimum idle time: the lease makes it the only reader),
 * then reads its own pending records, then new ones. Records are read only while the lease is
 * still this node's (checked atomically with the read). A record is acknowledged only after its
 * listener's stage completed (or after it went to the dead letters), so no record is lost; but a
 * record is handled at least once, not exactly once: an old owner that stalled (a long GC pause, a
 * partition from Redis) while handling a record, and lost its lease meanwhile, finishes that record
 * while the new owner handles it again.
 *
 * <p><b>Order.</b> Each partition is handled one record at a time, in stream order, so the records
 * of one socket (which all go to the partition of its socket id) reach the listener in order, each
 * after the stage of the previous one completed; partitions run in parallel. Idle partitions are
 * polled (no blocking read on the shared connection) every 10 to 50 ms.
 *
 * <p><b>Refusals.</b> A stage that fails with {@link PushRefusedException} is the listener's answer,
 * not a failure: the record is acknowledged at once and a client waiting for an answer gets the
 * refusal's reason as its error code ({@code invalid}, ...) with its problems as the message.
 *
 * <p><b>Failures.</b> A listener that throws or whose stage fails otherwise is tried again after 100 ms,
 * 200 ms, ... up to {@code maxDeliveries} attempts in all; then the record goes to the site's dead
 * letters ({@link UpstreamStreams#deadLetters}: the original bytes in field
 * {@value UpstreamStreams#FIELD}, {@code error}, {@code deliveries}, {@code stream} and {@code id};
 * at most about {@value #DEAD_LETTERS_MAXLEN} entries) and is acknowledged, and a client waiting for
 * an answer gets error code {@code "error"}. The socket's later records are handled as usual. An
 * entry that cannot be decoded goes to the dead letters at once, with an error starting with
 * {@code "malformed: "}. Redis commands that fail are tried again after a pause; every failure is
 * counted ({@link #stats()}) and logged at most once per second.
 *
 * <p><b>Threading.</b> The listener is called on the gateway's workers
 * ({@link GatewayContext#executor()}); one scheduler thread of this consumer times polls, retries
 * and lease renewals, and only sends commands. Nothing here blocks a Lettuce or Netty thread.
 * {@link #start} and {@link #stop} block (they run on the thread that starts or stops the gateway).
 *
 * <p><b>Ownership.</b> The {@link RedisConnector} belongs to the caller, who closes it after the
 * gateway stopped. One instance per application node.
 */
public final class RedisUpstreamConsumer implements GatewayExtension {

    /** The partitions of a site's stream, when not configured; must equal the gateways'. */
    public static final int DEFAULT_PARTITIONS = 8;
    /** How long a dead node keeps its partitions, when not configured. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Attempts at a record before it goes to the dead letters, when not configured. */
    public static final int DEFAULT_MAX_DELIVERIES = 5;
    /** Records read at once from a partition, when not configured. */
    public static final int DEFAULT_BATCH_SIZE = 100;
    /** The approximate length the dead letter stream of a site is trimmed to. */
    public static final int DEAD_LETTERS_MAXLEN = 10_000;

    private static final Logger log = LoggerFactory.getLogger(RedisUpstreamConsumer.class);
    private static final LuaScript TAKE_LEASE = LuaScript.load("lease", false);
    private static final LuaScript RENEW_LEASE = LuaScript.load("renew", false);
    private static final LuaScript RELEASE_LEASE = LuaScript.load("release", false);
    private static final LuaScript READ = LuaScript.load("upstream-read", false);
    private static final byte[] GROUP = bytes(UpstreamStreams.GROUP);
    private static final byte[] FIELD = bytes(UpstreamStreams.FIELD);
    private static final String NEW_RECORDS = ">";
    private static final long FIRST_POLL_MILLIS = 10;
    private static final long MAX_POLL_MILLIS = 50;
    private static final long RETRY_STEP_MILLIS = 100;
    private static final long REDIS_RETRY_MILLIS = 500;
    private static final Duration REDIS_WAIT = Duration.ofSeconds(5);
    private static final Duration MAX_STOP_WAIT = Duration.ofSeconds(5);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final UpstreamStreams streams;
    private final UpstreamListener listener;
    private final List<String> sites;
    private final int partitions;
    private final Duration idleTimeout;
    private final int maxDeliveries;
    private final int batchSize;

    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final RateLimitedLog warnings = new RateLimitedLog(log, 1000);
    private final Executor onWorkers = this::runOnWorker;

    private final Object lifecycle = new Object();
    /** Guards {@link #running} against a rebalancing round that is about to start. */
    private final Object roundLock = new Object();
    /** The rebalancing round in progress, or the last one. Guarded by {@link #roundLock}. */
    private CompletableFuture<Void> round = DONE;
    private boolean started;
    private boolean stopped;
    /** Claiming, renewing and reading; false once stopping. */
    private volatile boolean running;
    /** Nothing more is sent for a record (no acknowledgement, no dead letter, no answer). */
    private volatile boolean closed;
    private volatile String nodeId = "";
    private volatile byte[] node = new byte[0];
    private volatile Executor workers = Runnable::run;
    private volatile Clock clock = Clock.systemUTC();
    private volatile @Nullable ScheduledExecutorService scheduler;
    private volatile Map<String, List<Partition>> partitionsBySite = Map.of();
    /** The partitions per site last logged as this node's. */
    private final Map<String, List<Integer>> loggedShares = new ConcurrentHashMap<>();

    private RedisUpstreamConsumer(Builder b) {
        this.redis = b.connector.commands();
        this.streams = new UpstreamStreams(b.keys, b.partitions);
        this.listener = b.listener;
        this.sites = List.copyOf(b.sites);
        this.partitions = b.partitions;
        this.idleTimeout = b.idleTimeout;
        this.maxDeliveries = b.maxDeliveries;
        this.batchSize = b.batchSize;
    }

    /**
     * A builder for a consumer on this connector (its shared command connection carries every
     * command; nothing blocks it), with the keys' prefix the gateways use, handing records to
     * {@code listener}.
     */
    public static Builder builder(RedisConnector connector, RedisKeys keys, UpstreamListener listener) {
        return new Builder(connector, keys, listener);
    }

    /** The streams' keys and format this consumer reads. */
    public UpstreamStreams streams() {
        return streams;
    }

    /**
     * Creates the consumer group of every partition of every site (from the streams' beginning, so
     * that records appended before the first application node started are handled too), announces
     * this node and starts claiming partitions. Blocks until Redis answered, at most a few seconds.
     *
     * @throws PushBridgeException when the gateway has no site of a configured name
     * @throws PushUnavailableException when Redis cannot be reached
     */
    @Override
    public void start(GatewayContext context) {
        synchronized (lifecycle) {
            if (started) {
                throw new IllegalStateException("this upstream consumer is already started");
            }
            started = true;
            for (String site : sites) {
                if (!context.sites().contains(site)) {
                    throw new PushBridgeException("upstream consumer: the node has no site '" + site + "' (its sites: "
                            + context.sites() + "); an application node answers through the sites it handles");
                }
            }
            nodeId = context.nodeId();
            node = bytes(nodeId);
            workers = context.executor();
            clock = context.options().clock();
            Map<String, List<Partition>> bySite = new LinkedHashMap<>();
            for (String site : sites) {
                List<Partition> list = new ArrayList<>();
                for (int p = 0; p < partitions; p++) {
                    list.add(new Partition(site, p));
                }
                bySite.put(site, List.copyOf(list));
            }
            partitionsBySite = Map.copyOf(bySite);
            List<CompletableFuture<?>> ready = new ArrayList<>();
            for (List<Partition> list : bySite.values()) {
                for (Partition partition : list) {
                    ready.add(createGroup(partition));
                }
            }
            for (String site : sites) {
                ready.add(announce(site));
            }
            await(CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)), REDIS_WAIT, "create the consumer groups");
            String name = nodeId;
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pushbridge-upstream-" + name);
                t.setDaemon(true);
                return t;
            });
            scheduler = timer;
            running = true;
            timer.execute(this::rebalance);
            log.info("[{}] Handling upstream records of sites {}: {} partitions each, idle timeout {} ms, at most {} deliveries,"
                    + " batches of {}", nodeId, sites, partitions, idleTimeout.toMillis(), maxDeliveries, batchSize);
        }
    }

    /**
     * Stops: claims no more partitions, lets each partition finish the record it is handling (at
     * most {@code min(idleTimeout / 2, 5 s)}; a record not finished by then is left unacknowledged
     * for the next owner), releases this node's leases and withdraws its announcement, so that the
     * other nodes take the partitions over at once. Blocks for a few seconds at most.
     */
    @Override
    public void stop() {
        synchronized (lifecycle) {
            if (!started || stopped) {
                return;
            }
            stopped = true;
            CompletableFuture<Void> lastRound;
            synchronized (roundLock) {
                running = false;
                lastRound = round;
            }
            try {
                // a round's claims either began their partitions or gave them back when it ends
                lastRound.get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.debug("[{}] The last rebalancing round did not end: {}", nodeId, e.toString());
            }
            List<CompletableFuture<Void>> finishing = new ArrayList<>();
            for (Partition partition : allPartitions()) {
                finishing.add(partition.finished);
            }
            Duration wait = idleTimeout.dividedBy(2).compareTo(MAX_STOP_WAIT) < 0 ? idleTimeout.dividedBy(2) : MAX_STOP_WAIT;
            try {
                CompletableFuture.allOf(finishing.toArray(CompletableFuture[]::new)).get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                log.warn("[{}] Records still being handled after {} ms are left unacknowledged, for the partitions' next owners",
                        nodeId, wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                log.warn("[{}] Stopping the upstream partitions failed", nodeId, e.getCause());
            }
            closed = true;
            List<CompletableFuture<?>> released = new ArrayList<>();
            for (Partition partition : allPartitions()) {
                if (partition.held) {
                    partition.held = false;
                    released.add(RELEASE_LEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node));
                }
            }
            for (String site : sites) {
                released.add(redis.zrem(bytes(streams.apps(site)), node).toCompletableFuture());
            }
            try {
                await(CompletableFuture.allOf(released.toArray(CompletableFuture[]::new)), REDIS_WAIT, "release the leases");
            } catch (PushUnavailableException e) {
                errors.incrementAndGet();
                log.warn("[{}] {}; the other nodes take the partitions over after the idle timeout ({} ms)", nodeId,
                        e.getMessage(), idleTimeout.toMillis());
            }
            shutdownScheduler();
            log.info("[{}] Stopped handling upstream records; {}", nodeId, stats());
        }
    }

    /**
     * Stops everything at once as a crash would, for tests: no lease is released, nothing more is
     * acknowledged, the announcement stays until it expires. Other nodes take the partitions over
     * after the idle timeout. {@link #stop()} does nothing afterwards.
     */
    public void abandonForTests() {
        synchronized (lifecycle) {
            stopped = true;
            running = false;
            closed = true;
            shutdownScheduler();
            log.warn("[{}] Upstream consumer abandoned (as in a crash): leases are left to expire", nodeId);
        }
    }

    /**
     * Counters for metrics: {@code handled} (records whose listener succeeded, acknowledged),
     * {@code refused} (events the listener refused with {@code PushRefusedException}),
     * {@code failed_attempts} (listener calls that threw or failed), {@code dead_lettered} (records
     * written to the dead letters, malformed ones included), {@code malformed} (entries that could
     * not be decoded), {@code replies} (answers published to gateway nodes, errors included),
     * {@code partitions_owned} (partitions this node reads now) and {@code errors} (Redis commands
     * that failed and unexpected failures; each was tried again).
     */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("handled", handled.get());
        m.put("refused", refusals.get());
        m.put("failed_attempts", failedAttempts.get());
        m.put("dead_lettered", deadLettered.get());
        m.put("malformed", malformed.get());
        m.put("replies", replies.get());
        m.put("partitions_owned", allPartitions().stream().filter(p -> p.held && !p.lost).count());
        m.put("errors", errors.get());
        return m;
    }

    // ---- leases and fair shares ----------------------------------------------------------------

    /**
     * One round on the scheduler thread, every {@code idleTimeout / 3}: per site, renews the leases,
     * renews the announcement and counts the live nodes, then claims or gives back partitions.
     */
    private void rebalance() {
        CompletableFuture<Void> thisRound = new CompletableFuture<>();
        synchronized (roundLock) {
            if (!running) {
                return;
            }
            round = thisRound;
        }
        List<CompletableFuture<Void>> rounds = new ArrayList<>();
        for (String site : sites) {
            rounds.add(renewLeases(site)
                    .thenCompose(v -> announce(site))
                    .thenCompose(live -> balance(site, live).thenRun(() -> logShare(site, live))));
        }
        CompletableFuture.allOf(rounds.toArray(CompletableFuture[]::new)).whenComplete((v, failure) -> {
            if (failure != null) {
                failed("Rebalancing the upstream partitions", failure);
            }
            thisRound.complete(null);
            schedule(this::rebalance, Math.max(1, idleTimeout.toMillis() / 3));
        });
    }

    /** One line when the partitions this node reads change. */
    private void logShare(String site, long liveNodes) {
        List<Integer> owned = partitionsBySite.get(site).stream().filter(p -> p.held && !p.lost && !p.releasing)
                .map(p -> p.index).toList();
        if (!owned.equals(loggedShares.put(site, owned))) {
            log.info("[{}] Reads partitions {} of {} of site '{}' ({} live application nodes)", nodeId, owned, partitions, site,
                    liveNodes);
        }
    }

    private CompletableFuture<Void> renewLeases(String site) {
        List<CompletableFuture<?>> renewals = new ArrayList<>();
        for (Partition partition : partitionsBySite.get(site)) {
            if (!partition.held || partition.lost) {
                continue;
            }
            int generation = partition.generation;
            renewals.add(RENEW_LEASE.<Long>run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node,
                    bytes(Long.toString(idleTimeout.toMillis()))).handle((renewed, failure) -> {
                        if (failure != null) {
                            failed("Renewing the lease of " + partition, failure);
                        } else if (renewed == 0L && partition.generation == generation && partition.held) {
                            partition.lost = true;
                            log.warn("[{}] The lease of {} expired or was taken (this node could not renew it within {} ms);"
                                    + " the partition's next owner handles its records", nodeId, partition, idleTimeout.toMillis());
                        }
                        return null;
                    }));
        }
        return CompletableFuture.allOf(renewals.toArray(CompletableFuture[]::new));
    }

    /** Announces this node for {@code idleTimeout}, forgets expired nodes; the live nodes' count. */
    private CompletableFuture<Long> announce(String site) {
        byte[] key = bytes(streams.apps(site));
        long now = clock.millis();
        CompletableFuture<Long> added = redis.zadd(key, (double) (now + idleTimeout.toMillis()), node).toCompletableFuture();
        CompletableFuture<Long> forgotten = redis.zremrangebyscore(key,
                Range.from(Range.Boundary.unbounded(), Range.Boundary.excluding(now))).toCompletableFuture();
        CompletableFuture<Long> live = redis.zcount(key,
                Range.from(Range.Boundary.including(now), Range.Boundary.unbounded())).toCompletableFuture();
        return CompletableFuture.allOf(added, forgotten, live).thenApply(v -> Math.max(1L, live.join()));
    }

    /** Claims free partitions up to the fair share, or marks the ones above it to be given back. */
    private CompletableFuture<Void> balance(String site, long liveNodes) {
        if (!running) {
            return DONE;
        }
        List<Partition> all = partitionsBySite.get(site);
        int target = (int) ((partitions + liveNodes - 1) / liveNodes);
        List<Partition> kept = all.stream().filter(p -> p.held && !p.lost && !p.releasing).toList();
        if (kept.size() > target) {
            for (Partition partition : kept.subList(target, kept.size())) {
                partition.releasing = true;
                log.debug("[{}] Giving {} back after its current batch ({} live application nodes, {} partitions each)",
                        nodeId, partition, liveNodes, target);
            }
            return DONE;
        }
        // start at a place of this node's own, so that nodes starting together try different partitions first
        int start = Math.floorMod(nodeId.hashCode(), partitions);
        List<Partition> free = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            Partition partition = all.get((start + i) % partitions);
            if (!partition.held) {
                free.add(partition);
            }
        }
        return claim(free, 0, target - kept.size());
    }

    /** Tries the free partitions from {@code index} on, one after the other, until {@code wanted} were taken. */
    private CompletableFuture<Void> claim(List<Partition> free, int index, int wanted) {
        if (wanted <= 0 || index >= free.size() || !running) {
            return DONE;
        }
        Partition partition = free.get(index);
        return TAKE_LEASE.<Long>run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node,
                bytes(Long.toString(idleTimeout.toMillis()))).handle((taken, failure) -> {
                    if (failure != null) {
                        failed("Taking the lease of " + partition, failure);
                        return false;
                    }
                    if (taken == 1L && running) {
                        partition.begin();
                        return true;
                    }
                    if (taken == 1L) {
                        // stopping meanwhile: stop() releases what is held, so give this one back now
                        RELEASE_LEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node);
                    }
                    return false;
                }).thenCompose(took -> claim(free, index + 1, took ? wanted - 1 : wanted));
    }

    private CompletableFuture<Void> createGroup(Partition partition) {
        return redis.xgroupCreate(XReadArgs.StreamOffset.from(partition.stream, "0"), GROUP, new XGroupCreateArgs().mkstream(true))
                .toCompletableFuture().handle((ok, failure) -> {
                    if (failure != null && !String.valueOf(unwrap(failure).getMessage()).startsWith("BUSYGROUP")) {
                        throw new CompletionException(unwrap(failure));
                    }
                    return null;
                });
    }

    // ---- one partition ---------------------------------------------------------------------------

    /**
     * One partition of a site and the loop that reads it while this node holds its lease. The loop
     * runs one step at a time (each step starts the next when its Redis answer or listener stage
     * arrives), so its own state needs no lock; the flags are set by the rebalancing round.
     */
    private final class Partition {

        final String site;
        final int index;
        final byte[] stream;
        final byte[] lease;
        final String streamKey;
        /** The lease is this node's and the loop runs (or is winding down). */
        volatile boolean held;
        /** The fair share is smaller: give the lease back after the current batch. */
        volatile boolean releasing;
        /** The lease could not be renewed: stop after the current record, without releasing. */
        volatile boolean lost;
        /** Which holding of the lease a renewal's answer belongs to. */
        volatile int generation;
        /** Completes when the loop of the current holding ended (at once while not held). */
        volatile CompletableFuture<Void> finished = DONE;
        /** Where the next read starts: the last pending id seen, or {@code >} for new records. */
        private String cursor = "0";
        private long pollMillis;

        Partition(String site, int index) {
            this.site = site;
            this.index = index;
            this.streamKey = streams.stream(site, index);
            this.stream = bytes(streamKey);
            this.lease = bytes(streams.owner(site, index));
        }

        /** The lease was just taken: claims the other consumers' pending records, then reads. */
        void begin() {
            finished = new CompletableFuture<>();
            releasing = false;
            lost = false;
            generation++;
            held = true;
            pollMillis = 0;
            log.debug("[{}] Took {}", nodeId, this);
            runOnWorker(() -> takeOver("0-0"));
        }

        /** The loop stops before the next read (or record, unless only giving the lease back). */
        boolean mustStop() {
            return !running || lost || closed;
        }

        private void takeOver(String start) {
            if (mustStop() || releasing) {
                end();
                return;
            }
            XAutoClaimArgs<byte[]> args = new XAutoClaimArgs<byte[]>().consumer(Consumer.from(GROUP, node))
                    .minIdleTime(0).startId(start).count(batchSize).justid();
            redis.xautoclaim(stream, args).toCompletableFuture().whenCompleteAsync((claimed, failure) -> {
                if (failure != null) {
                    retryLater("Claiming the pending records of " + this, failure, () -> takeOver(start));
                } else if (claimed.getId() == null || "0-0".equals(claimed.getId())) {
                    cursor = "0";
                    read();
                } else {
                    takeOver(claimed.getId());
                }
            }, onWorkers);
        }

        /** Reads the next batch (own pending records first, then new ones) if the lease is still this node's. */
        private void read() {
            if (mustStop() || releasing) {
                end();
                return;
            }
            String from = cursor;
            READ.<List<Object>>run(redis, ScriptOutputType.MULTI, new byte[][] {lease, stream}, node, GROUP,
                    bytes(Integer.toString(batchSize)), bytes(from)).whenCompleteAsync((reply, failure) -> {
                        if (failure != null || reply == null || reply.isEmpty()) {
                            retryLater("Reading " + this, failure != null ? failure
                                    : new IllegalStateException("the read script returned nothing"), this::read);
                            return;
                        }
                        if (!(reply.get(0) instanceof Long ours) || ours != 1L) {
                            lost = true;
                            log.warn("[{}] The lease of {} is no longer this node's; its next owner handles its records", nodeId, this);
                            end();
                            return;
                        }
                        List<StreamEntry> entries = entries(reply.size() > 1 ? reply.get(1) : null);
                        if (entries.isEmpty()) {
                            if (!NEW_RECORDS.equals(from)) {
                                cursor = NEW_RECORDS;
                                read();
                            } else {
                                pollMillis = pollMillis == 0 ? FIRST_POLL_MILLIS : Math.min(MAX_POLL_MILLIS, pollMillis * 2);
                                later(pollMillis, this::read);
                            }
                            return;
                        }
                        pollMillis = 0;
                        if (!NEW_RECORDS.equals(from)) {
                            cursor = entries.get(entries.size() - 1).id();
                        }
                        handleBatch(entries, 0).whenComplete((v, unexpected) -> {
                            if (unexpected != null) {
                                // a bug: read this node's pending records again rather than skip any
                                cursor = "0";
                                retryLater("Handling a batch of " + this, unexpected, this::read);
                            } else {
                                read();
                            }
                        });
                    }, onWorkers);
        }

        private CompletableFuture<Void> handleBatch(List<StreamEntry> entries, int at) {
            if (at >= entries.size() || mustStop()) {
                return DONE;
            }
            return handle(this, entries.get(at)).thenComposeAsync(v -> handleBatch(entries, at + 1), onWorkers);
        }

        /** A Redis command failed: counted and logged; tried again after a pause (recreating a deleted group). */
        private void retryLater(String what, Throwable failure, Runnable again) {
            failed(what, failure);
            if (mustStop()) {
                end();
                return;
            }
            CompletableFuture<Void> repaired = String.valueOf(unwrap(failure).getMessage()).contains("NOGROUP")
                    ? createGroup(this) : DONE;
            repaired.whenComplete((v, groupFailure) -> {
                if (groupFailure != null) {
                    failed("Creating the consumer group of " + this, groupFailure);
                }
                later(REDIS_RETRY_MILLIS, again);
            });
        }

        /** The loop ends; a lease given back to the fair share is released now, one stopping is released by {@link #stop()}. */
        private void end() {
            if (releasing && running && !lost) {
                RELEASE_LEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {lease}, node).whenComplete((v, failure) -> {
                    if (failure != null) {
                        failed("Releasing the lease of " + this + " (it expires after the idle timeout)", failure);
                    }
                    log.debug("[{}] Gave {} back", nodeId, this);
                    held = false;
                    finished.complete(null);
                });
                return;
            }
            if (!running && !lost && !closed) {
                // stopping: stop() releases the lease once every loop ended
                finished.complete(null);
                return;
            }
            held = false;
            finished.complete(null);
        }

        /** Runs a step of this loop after a pause (on the workers); when stopped meanwhile, ends the loop. */
        private void later(long millis, Runnable step) {
            delay(millis).whenComplete((v, cancelled) -> {
                if (cancelled != null) {
                    end();
                } else {
                    step.run();
                }
            });
        }

        @Override
        public String toString() {
            return "partition " + index + " of site '" + site + "'";
        }
    }

    // ---- one record ------------------------------------------------------------------------------

    /**
     * Handles one entry: decodes it, calls the listener (tries again on failure), answers the
     * client, and acknowledges. The stage completes when the entry is acknowledged, or when it is
     * left unacknowledged because the partition stops.
     */
    private CompletableFuture<Void> handle(Partition partition, StreamEntry entry) {
        if (entry.field() == null) {
            return malformed(partition, entry, "the entry has no field '" + UpstreamStreams.FIELD + "' (deleted from the stream?)");
        }
        UpstreamStreams.Entry decoded;
        try {
            decoded = UpstreamStreams.decode(entry.field(), entry.id());
        } catch (IllegalArgumentException e) {
            return malformed(partition, entry, String.valueOf(e.getMessage()));
        }
        return attempt(partition, entry, decoded, 1);
    }

    private CompletableFuture<Void> malformed(Partition partition, StreamEntry entry, String problem) {
        malformed.incrementAndGet();
        warnings.warn("[{}] Malformed upstream entry {} in {}, moved to the dead letters: {}", nodeId, entry.id(), partition,
                RateLimitedLog.excerpt(problem));
        return deadLetter(partition, entry, "malformed: " + problem, 1).thenCompose(written -> written
                ? acknowledge(partition, entry.id()).thenApply(acked -> (Void) null) : DONE);
    }

    /** Attempt {@code n} at a decoded record. */
    private CompletableFuture<Void> attempt(Partition partition, StreamEntry entry, UpstreamStreams.Entry decoded, int n) {
        if (n > 1 && partition.mustStop()) {
            return DONE; // left pending for the partition's next owner
        }
        UpstreamRecord record = decoded.record();
        return call(record).handleAsync((answer, failure) -> {
            if (closed) {
                return DONE;
            }
            if (failure == null) {
                return succeeded(partition, entry, decoded, answer);
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof PushRefusedException refused) {
                // the listener's answer, not a failure: the client gets the refusal, nothing is retried
                refusals.incrementAndGet();
                return answer(decoded, List.of(), refused.reason().name().toLowerCase(java.util.Locale.ROOT),
                        String.join("; ", refused.problems()))
                        .thenCompose(v -> acknowledge(partition, entry.id()))
                        .thenApply(acked -> (Void) null);
            }
            failedAttempts.incrementAndGet();
            if (n < maxDeliveries) {
                warnings.warn("[{}] The upstream listener failed on {} record {} of socket {} in {} (attempt {} of {}), trying"
                        + " again: {}", nodeId, record.kind(), record.id(), record.socketId(), partition, n, maxDeliveries,
                        cause.toString(), cause);
                return delay(RETRY_STEP_MILLIS * n).handle((v, cancelled) -> cancelled == null)
                        .thenCompose(again -> again ? attempt(partition, entry, decoded, n + 1) : DONE);
            }
            warnings.warn("[{}] The upstream listener failed on {} record {} of socket {} in {} {} times; moved to the dead"
                    + " letters: {}", nodeId, record.kind(), record.id(), record.socketId(), partition, n, cause.toString(), cause);
            return deadLetter(partition, entry, String.valueOf(cause), n).thenCompose(written -> {
                if (!written) {
                    return DONE;
                }
                return answer(decoded, List.of(), "error", null)
                        .thenCompose(v -> acknowledge(partition, entry.id()))
                        .thenApply(acked -> (Void) null);
            });
        }, onWorkers).thenCompose(next -> next);
    }

    /** The listener's stage for a record; a listener that throws or returns no stage gives a failed stage. */
    private CompletableFuture<List<Object>> call(UpstreamRecord record) {
        CompletionStage<?> stage;
        try {
            stage = switch (record.kind()) {
                case CONNECTED -> listener.connected(record);
                case EVENT -> listener.event(record);
                case DISCONNECTED -> listener.disconnected(record);
            };
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (stage == null) {
            return CompletableFuture.failedFuture(new NullPointerException("the listener returned no stage"));
        }
        CompletableFuture<List<Object>> answer = new CompletableFuture<>();
        stage.whenComplete((value, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else {
                answer.complete(record.kind() == UpstreamRecord.Kind.EVENT && value instanceof List<?> args
                        ? new ArrayList<>(args) : List.of());
            }
        });
        return answer;
    }

    private CompletableFuture<Void> succeeded(Partition partition, StreamEntry entry, UpstreamStreams.Entry decoded,
            List<Object> answer) {
        return answer(decoded, answer, null, null)
                .thenCompose(v -> acknowledge(partition, entry.id()))
                .thenAccept(acked -> {
                    if (acked) {
                        handled.incrementAndGet();
                    }
                });
    }

    /** Publishes the answer to an event whose client waits for one; never fails (a failure is counted and logged). */
    private CompletableFuture<Void> answer(UpstreamStreams.Entry decoded, List<Object> args, @Nullable String errorCode,
            @Nullable String errorMessage) {
        String replyTo = decoded.replyTo();
        if (replyTo == null || decoded.record().kind() != UpstreamRecord.Kind.EVENT || closed) {
            return DONE;
        }
        int bar = replyTo.lastIndexOf('|');
        if (bar <= 0 || bar == replyTo.length() - 1) {
            errors.incrementAndGet();
            warnings.warn("[{}] Upstream record {} has a bad reply address '{}' (expected <node>|<reply id>); no answer sent",
                    nodeId, decoded.record().id(), RateLimitedLog.excerpt(replyTo));
            return DONE;
        }
        byte[] channel = bytes(streams.replyChannel(replyTo.substring(0, bar)));
        String replyId = replyTo.substring(bar + 1);
        byte[] message;
        try {
            message = UpstreamStreams.encode(new UpstreamStreams.Reply(replyId, args, errorCode, errorMessage));
        } catch (RuntimeException e) {
            // an answer that cannot be written (a null argument, a value CBOR cannot hold): the client gets an error
            errors.incrementAndGet();
            warnings.warn("[{}] The listener's answer to upstream record {} cannot be sent ({}); the client gets an error",
                    nodeId, decoded.record().id(), e.toString());
            message = UpstreamStreams.encode(new UpstreamStreams.Reply(replyId, List.of(), "error"));
        }
        return redis.publish(channel, message).toCompletableFuture().handle((receivers, failure) -> {
            if (failure != null) {
                failed("Answering upstream record " + decoded.record().id() + " (its client gets no answer)", failure);
            } else {
                replies.incrementAndGet();
            }
            return null;
        });
    }

    /**
     * Writes an entry to its site's dead letters, trying again while the partition runs.
     *
     * @return whether it was written (false: the partition stopped first, the entry stays pending)
     */
    private CompletableFuture<Boolean> deadLetter(Partition partition, StreamEntry entry, String error, int deliveries) {
        if (closed) {
            return CompletableFuture.completedFuture(false);
        }
        Map<byte[], byte[]> body = new LinkedHashMap<>();
        body.put(FIELD, entry.field() == null ? new byte[0] : entry.field());
        body.put(bytes("error"), bytes(error));
        body.put(bytes("deliveries"), bytes(Integer.toString(deliveries)));
        body.put(bytes("stream"), partition.stream);
        body.put(bytes("id"), bytes(entry.id()));
        XAddArgs args = new XAddArgs().maxlen(DEAD_LETTERS_MAXLEN).approximateTrimming();
        return redis.xadd(bytes(streams.deadLetters(partition.site)), args, body).toCompletableFuture()
                .handleAsync((id, failure) -> {
                    if (failure == null) {
                        deadLettered.incrementAndGet();
                        return CompletableFuture.completedFuture(true);
                    }
                    failed("Writing entry " + entry.id() + " of " + partition + " to the dead letters", failure);
                    if (partition.mustStop()) {
                        return CompletableFuture.completedFuture(false);
                    }
                    return delay(REDIS_RETRY_MILLIS).handle((v, cancelled) -> cancelled == null)
                            .thenCompose(again -> again ? deadLetter(partition, entry, error, deliveries)
                                    : CompletableFuture.completedFuture(false));
                }, onWorkers).thenCompose(next -> next);
    }

    /**
     * Acknowledges an entry, trying again while the partition runs.
     *
     * @return whether it was acknowledged (false: the partition stopped first, the entry stays pending)
     */
    private CompletableFuture<Boolean> acknowledge(Partition partition, String id) {
        if (closed) {
            return CompletableFuture.completedFuture(false);
        }
        return redis.xack(partition.stream, GROUP, id).toCompletableFuture().handleAsync((count, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(true);
            }
            failed("Acknowledging entry " + id + " of " + partition, failure);
            if (partition.mustStop()) {
                return CompletableFuture.completedFuture(false);
            }
            return delay(REDIS_RETRY_MILLIS).handle((v, cancelled) -> cancelled == null)
                    .thenCompose(again -> again ? acknowledge(partition, id) : CompletableFuture.completedFuture(false));
        }, onWorkers).thenCompose(next -> next);
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** A stream entry as the read script returns it; {@code field} is null for an entry deleted from the stream. */
    private record StreamEntry(String id, byte @Nullable [] field) {
    }

    /** The entries of an XREADGROUP reply of one stream: {@code [[stream, [[id, [field, value, ...]], ...]]]}. */
    private static List<StreamEntry> entries(@Nullable Object reply) {
        List<StreamEntry> out = new ArrayList<>();
        if (!(reply instanceof List<?> perStream) || perStream.isEmpty()
                || !(perStream.get(0) instanceof List<?> streamReply) || streamReply.size() < 2
                || !(streamReply.get(1) instanceof List<?> list)) {
            return out;
        }
        for (Object item : list) {
            if (!(item instanceof List<?> pair) || pair.isEmpty() || !(pair.get(0) instanceof byte[] id)) {
                throw new IllegalStateException("unexpected XREADGROUP reply item " + item);
            }
            byte[] field = null;
            if (pair.size() > 1 && pair.get(1) instanceof List<?> fields) {
                for (int i = 0; i + 1 < fields.size(); i += 2) {
                    if (fields.get(i) instanceof byte[] name && Arrays.equals(name, FIELD) && fields.get(i + 1) instanceof byte[] value) {
                        field = value;
                    }
                }
            }
            out.add(new StreamEntry(new String(id, StandardCharsets.UTF_8), field));
        }
        return out;
    }

    /** Completes on the workers after {@code millis}; fails with {@link CancellationException} once the scheduler is gone. */
    private CompletableFuture<Void> delay(long millis) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ScheduledExecutorService timer = scheduler;
        if (timer == null || closed) {
            done.completeExceptionally(new CancellationException("stopped"));
            return done;
        }
        try {
            timer.schedule(() -> runOnWorker(() -> done.complete(null)), millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new CancellationException("stopped"));
        }
        return done;
    }

    private void schedule(Runnable task, long millis) {
        ScheduledExecutorService timer = scheduler;
        if (timer == null || !running) {
            return;
        }
        try {
            timer.schedule(task, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("[{}] Not rescheduled: the consumer stopped", nodeId);
        }
    }

    private void runOnWorker(Runnable task) {
        try {
            workers.execute(task);
        } catch (RejectedExecutionException e) {
            if (!closed) {
                errors.incrementAndGet();
                warnings.warn("[{}] The gateway's workers refused upstream work (stopping?): {}", nodeId, e.toString());
            }
        }
    }

    private void failed(String what, Throwable failure) {
        if (closed) {
            log.debug("[{}] {} failed after the consumer stopped: {}", nodeId, what, failure.toString());
            return;
        }
        errors.incrementAndGet();
        Throwable cause = unwrap(failure);
        if (cause instanceof io.lettuce.core.RedisException || cause instanceof TimeoutException) {
            warnings.warn("[{}] {} failed, trying again: {}", nodeId, what, RedisConnector.redacted(List.of(String.valueOf(cause))));
        } else {
            warnings.warn("[{}] {} failed unexpectedly, trying again", nodeId, what, cause);
        }
    }

    private List<Partition> allPartitions() {
        List<Partition> all = new ArrayList<>();
        partitionsBySite.values().forEach(all::addAll);
        return all;
    }

    private void shutdownScheduler() {
        ScheduledExecutorService timer = scheduler;
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private void await(CompletableFuture<?> stage, Duration timeout, String what) {
        try {
            stage.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PushUnavailableException("upstream consumer: interrupted while waiting to " + what, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? unwrap(e.getCause()) : e;
            throw new PushUnavailableException("upstream consumer: could not " + what + " on Redis: "
                    + RedisConnector.redacted(List.of(String.valueOf(cause.getMessage()))), cause);
        }
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisUpstreamConsumer[" + (nodeId.isEmpty() ? "not started" : nodeId) + ", sites " + sites + "]";
    }

    /** Builds a {@link RedisUpstreamConsumer}; {@link #build()} checks every value and names the bad one. */
    public static final class Builder {

        private final RedisConnector connector;
        private final RedisKeys keys;
        private final UpstreamListener listener;
        private List<String> sites = List.of();
        private int partitions = DEFAULT_PARTITIONS;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private int maxDeliveries = DEFAULT_MAX_DELIVERIES;
        private int batchSize = DEFAULT_BATCH_SIZE;

        private Builder(RedisConnector connector, RedisKeys keys, UpstreamListener listener) {
            this.connector = Objects.requireNonNull(connector, "connector");
            this.keys = Objects.requireNonNull(keys, "keys");
            this.listener = Objects.requireNonNull(listener, "listener");
        }

        /** The sites whose records this node handles (at least one; the node must serve each). */
        public Builder sites(List<String> sites) {
            this.sites = new ArrayList<>(sites);
            return this;
        }

        /** The partitions of each site's stream, 1..1024; must equal the gateways'; default {@value RedisUpstreamConsumer#DEFAULT_PARTITIONS}. */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /**
         * How long a node that stopped renewing keeps its partitions (and their unacknowledged
         * records) before other nodes take them over; leases and announcements are renewed every
         * third of it. At least 30 ms; default 30 s.
         */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** Attempts at a record before it goes to the dead letters, 1..100; default {@value RedisUpstreamConsumer#DEFAULT_MAX_DELIVERIES}. */
        public Builder maxDeliveries(int maxDeliveries) {
            this.maxDeliveries = maxDeliveries;
            return this;
        }

        /** Records read from a partition at once, 1..10000; default {@value RedisUpstreamConsumer#DEFAULT_BATCH_SIZE}. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public RedisUpstreamConsumer build() {
            String prefix = "upstream consumer: ";
            require(!sites.isEmpty(), prefix + "at least one site is required");
            for (String site : sites) {
                require(site != null && !site.isEmpty() && site.indexOf('{') < 0 && site.indexOf('}') < 0,
                        prefix + "site names must be non-empty and free of '{' and '}', was '" + site + "'");
            }
            require(new LinkedHashSet<>(sites).size() == sites.size(), prefix + "sites must not repeat, was " + sites);
            require(partitions >= 1 && partitions <= 1024, prefix + "partitions must be 1..1024, was " + partitions);
            require(idleTimeout != null && idleTimeout.toMillis() >= 30, prefix + "idleTimeout must be at least 30 ms, was " + idleTimeout);
            require(maxDeliveries >= 1 && maxDeliveries <= 100, prefix + "maxDeliveries must be 1..100, was " + maxDeliveries);
            require(batchSize >= 1 && batchSize <= 10_000, prefix + "batchSize must be 1..10000, was " + batchSize);
            return new RedisUpstreamConsumer(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
