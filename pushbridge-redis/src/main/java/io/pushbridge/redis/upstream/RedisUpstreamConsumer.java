package io.pushbridge.redis.upstream;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.RateLimitedLog;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import io.micrometer.core.instrument.Timer;
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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * node joins. A node that joins, gives partitions back or stops publishes on the site's
 * {@link UpstreamStreams#rebalanceChannel rebalance channel}, and every node runs a round about
 * 50 ms later, so released partitions are taken over at once; otherwise rounds run every
 * {@code idleTimeout / 3}. A node that dies leaves its leases to expire: after {@code idleTimeout}
 * the others take its partitions over, with the records it had read but not acknowledged. Nodes'
 * clocks must agree to well within {@code idleTimeout}.
 *
 * <p><b>Lease deadline.</b> A node trusts its lease of a partition only until the last successful
 * take or renewal was <em>sent</em> plus {@code idleTimeout * 3 / 4} (measured on its own
 * monotonic clock); a renewal that fails (a Redis error or timeout) does not extend it. Before each
 * record and each retry the partition's loop checks the deadline; once it passed (a stall, or
 * renewals failing) the loop stops without acknowledging or answering, leaving the records pending
 * for the next owner, which can take the lease only after it expired in Redis, a quarter of the
 * idle timeout later at the earliest.
 *
 * <p><b>Delivery.</b> On gaining a partition this node first claims the pending records of every
 * other consumer ({@code XAUTOCLAIM} with no minimum idle time: the lease makes it the only reader),
 * then reads its own pending records (one at a time), then new ones. Claims and reads happen only
 * while the lease is still this node's (checked atomically with them). A record is acknowledged
 * only after its listener's stage completed (or after it went to the dead letters), so no record
 * is lost; but a record is handled at least once, not exactly once: the record an old owner was
 * handling when its lease deadline passed is handled again by the new owner (the old owner neither
 * acknowledges nor answers it), and a stage that outlives the lease (longer than the handle timeout
 * allows, or a node frozen past the lease) may still be running then. Pending entries whose stream
 * entry was trimmed away (the gateways' MAXLEN) are acknowledged and counted as {@code trimmed}.
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
 * <p><b>Failures.</b> A listener that throws, whose stage fails otherwise, or whose stage does not
 * complete within the handle timeout (default {@code idleTimeout / 2}; a stage that completes later
 * neither answers nor acknowledges) is tried again after 100 ms,
 * 200 ms, ... up to {@code maxDeliveries} attempts in all; then the record goes to the site's dead
 * letters ({@link UpstreamStreams#deadLetters}: the original bytes in field
 * {@value UpstreamStreams#FIELD}, {@code error}, {@code deliveries}, {@code stream} and {@code id};
 * at most about {@value #DEAD_LETTERS_MAXLEN} entries) and is acknowledged, and a client waiting for
 * an answer gets error code {@code "error"}. Those attempts are counted in memory; across nodes,
 * Redis counts deliveries (each read of a record: the batch read, then one per node that takes it
 * over), and a pending record already delivered {@code maxDeliveries} times (a poison record that
 * killed or hung the nodes that read it) goes to the dead letters without reaching the listener,
 * with error {@code "gave up after N deliveries"}. The socket's later records are handled as usual. An
 * entry that cannot be decoded goes to the dead letters at once, with an error starting with
 * {@code "malformed: "}. Redis commands that fail are tried again after a pause; every failure is
 * counted ({@link #stats()}) and logged at most once per second.
 *
 * <p><b>Meters</b> (see {@link PushBridgeMeter}), in the node's registry while this runs:
 * {@code pushbridge.upstream.records} by outcome, {@code pushbridge.upstream.partitions.owned}, and
 * {@code pushbridge.upstream.lag} per site, the time from a record's creation on a gateway node (by
 * its clock) to this node handing it to the listener the first time. A malformed entry is counted
 * in the gateway's statistics as {@code upstream.dropped.malformed_record} (the
 * {@code pushbridge.bad.inputs} meter).
 *
 * <p><b>Threading.</b> The listener is called on the gateway's workers
 * ({@link GatewayContext#executor()}); one scheduler thread of this consumer times polls, retries,
 * handle timeouts and lease renewals, and only sends commands; the rebalance subscription has a
 * pub/sub connection of its own ({@link RedisConnector#newPubSub()}). Nothing here blocks a Lettuce or Netty thread.
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
    private static final LuaScript CLAIM = LuaScript.load("upstream-claim", false);
    private static final byte[] GROUP = bytes(UpstreamStreams.GROUP);
    private static final byte[] FIELD = bytes(UpstreamStreams.FIELD);
    private static final String NEW_RECORDS = ">";
    private static final long FIRST_POLL_MILLIS = 10;
    private static final long MAX_POLL_MILLIS = 50;
    private static final long RETRY_STEP_MILLIS = 100;
    private static final long REDIS_RETRY_MILLIS = 500;
    private static final Duration REDIS_WAIT = Duration.ofSeconds(5);
    private static final Duration MAX_STOP_WAIT = Duration.ofSeconds(5);
    private static final long REBALANCE_DEBOUNCE_MILLIS = 50;
    private static final byte[] REBALANCE_MESSAGE = bytes("rebalance");
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final RedisConnector connector;
    private final RedisClusterAsyncCommands<byte[], byte[]> redis;
    private final UpstreamStreams streams;
    private final UpstreamListener listener;
    private final List<String> sites;
    private final int partitions;
    private final Duration idleTimeout;
    private final int maxDeliveries;
    private final int batchSize;
    private final Duration handleTimeout;
    /** How long after a take or renewal was sent this node trusts its lease: the idle timeout less a quarter. */
    private final long leaseNanos;

    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong trimmed = new AtomicLong();
    private final AtomicLong handleTimeouts = new AtomicLong();
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final RateLimitedLog warnings = new RateLimitedLog(log, 1000);
    private final Executor onWorkers = this::runOnWorker;

    private final Object lifecycle = new Object();
    /** Guards {@link #running} against a rebalancing round that is about to start. */
    private final Object roundLock = new Object();
    /** The rebalancing round in progress, or the last one. Guarded by {@link #roundLock}. */
    private CompletableFuture<Void> round = DONE;
    /** A round was asked for (periodically, or by another node); the next one starts when the current one ended. */
    private final AtomicBoolean roundWanted = new AtomicBoolean();
    /** A round asked for by another node is scheduled (rebalance messages are debounced). */
    private final AtomicBoolean roundSoon = new AtomicBoolean();
    /** The subscription to the sites' rebalance channels. */
    private volatile @Nullable StatefulRedisPubSubConnection<byte[], byte[]> pubSub;
    /** Leases can be neither taken nor renewed, as if Redis answered with errors; for tests. */
    private volatile boolean leasesFailForTests;
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
    private volatile @Nullable GatewayContext context;
    private volatile PushBridgeMeters meters = PushBridgeMeters.none();
    /** The {@code pushbridge.upstream.lag} timer of each site. */
    private volatile Map<String, Timer> lags = Map.of();
    private volatile @Nullable ScheduledExecutorService scheduler;
    private volatile Map<String, List<Partition>> partitionsBySite = Map.of();
    /** The partitions per site last logged as this node's. */
    private final Map<String, List<Integer>> loggedShares = new ConcurrentHashMap<>();

    private RedisUpstreamConsumer(Builder b) {
        this.connector = b.connector;
        this.redis = b.connector.commands();
        this.streams = new UpstreamStreams(b.keys, b.partitions);
        this.listener = b.listener;
        this.sites = List.copyOf(b.sites);
        this.partitions = b.partitions;
        this.idleTimeout = b.idleTimeout;
        this.maxDeliveries = b.maxDeliveries;
        this.batchSize = b.batchSize;
        this.handleTimeout = b.handleTimeout != null ? b.handleTimeout : b.idleTimeout.dividedBy(2);
        this.leaseNanos = b.idleTimeout.minus(b.idleTimeout.dividedBy(4)).toNanos();
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
            for (String site : sites) {
                streams.checkPartitions(redis, site);
            }
            nodeId = context.nodeId();
            node = bytes(nodeId);
            workers = context.executor();
            clock = context.options().clock();
            this.context = context;
            PushBridgeMeters m = new PushBridgeMeters(context.meterRegistry());
            String outcome = PushBridgeMeter.TagKey.OUTCOME.key();
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, handled, AtomicLong::get, outcome, "handled");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, refusals, AtomicLong::get, outcome, "refused");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, failedAttempts, AtomicLong::get, outcome, "failed_attempts");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, deadLettered, AtomicLong::get, outcome, "dead_lettered");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, malformed, AtomicLong::get, outcome, "malformed");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, trimmed, AtomicLong::get, outcome, "trimmed");
            m.functionCounter(PushBridgeMeter.UPSTREAM_RECORDS, handleTimeouts, AtomicLong::get, outcome, "handle_timeouts");
            m.gauge(PushBridgeMeter.UPSTREAM_PARTITIONS_OWNED, this, c -> c.stats().get("partitions_owned"));
            Map<String, Timer> lagBySite = new LinkedHashMap<>();
            for (String site : sites) {
                lagBySite.put(site, m.timer(PushBridgeMeter.UPSTREAM_LAG, PushBridgeMeter.TagKey.SITE.key(), site));
            }
            lags = Map.copyOf(lagBySite);
            meters = m;
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
            // other nodes ask for a round at once when they join or give partitions back
            StatefulRedisPubSubConnection<byte[], byte[]> connection = connector.newPubSub();
            pubSub = connection;
            connection.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(byte[] channel, byte[] message) {
                    roundSoon(); // on a Netty thread: only schedules
                }
            });
            byte[][] channels = sites.stream().map(site -> bytes(streams.rebalanceChannel(site))).toArray(byte[][]::new);
            ready.add(connection.async().subscribe(channels).toCompletableFuture());
            try {
                await(CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)), REDIS_WAIT,
                        "create the consumer groups and subscribe");
            } catch (RuntimeException e) {
                pubSub = null;
                connection.closeAsync();
                throw e;
            }
            String name = nodeId;
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pushbridge-upstream-" + name);
                t.setDaemon(true);
                return t;
            });
            scheduler = timer;
            running = true;
            long period = Math.max(1, idleTimeout.toMillis() / 3);
            timer.scheduleWithFixedDelay(() -> {
                try {
                    requestRound();
                } catch (RuntimeException e) {
                    failed("Starting a rebalancing round", e);
                }
            }, 0, period, TimeUnit.MILLISECONDS);
            // the other nodes count this one now and give back what is above their new share
            sites.forEach(this::publishRebalance);
            log.info("[{}] Handling upstream records of sites {}: {} partitions each, idle timeout {} ms, handle timeout {} ms,"
                    + " at most {} deliveries, batches of {}", nodeId, sites, partitions, idleTimeout.toMillis(),
                    handleTimeout.toMillis(), maxDeliveries, batchSize);
        }
    }

    /**
     * Stops: claims no more partitions, renews the leases once more, lets each partition finish the
     * record it is handling (at most {@code min(idleTimeout / 2, 5 s)}), releases the leases of the
     * partitions whose loop ended, withdraws its announcement and tells the other nodes (on the
     * site's {@link UpstreamStreams#rebalanceChannel rebalance channel}), so that they take those
     * partitions over at once. A partition whose record is still being handled by then is not
     * released: its record is left unacknowledged and its lease to expire, so that its next owner
     * does not handle the partition while this node's listener still runs. Blocks for a few seconds
     * at most.
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
            // so that the partitions finishing their records keep their lease for the wait below
            List<CompletableFuture<Void>> renewals = new ArrayList<>();
            for (String site : sites) {
                renewals.add(renewLeases(site));
            }
            try {
                CompletableFuture.allOf(renewals.toArray(CompletableFuture[]::new)).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.debug("[{}] Renewing the leases before stopping failed: {}", nodeId, e.toString());
            }
            List<CompletableFuture<Void>> finishing = new ArrayList<>();
            for (Partition partition : allPartitions()) {
                finishing.add(partition.finished);
            }
            Duration wait = idleTimeout.dividedBy(2).compareTo(MAX_STOP_WAIT) < 0 ? idleTimeout.dividedBy(2) : MAX_STOP_WAIT;
            try {
                CompletableFuture.allOf(finishing.toArray(CompletableFuture[]::new)).get(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                log.warn("[{}] Records still being handled after {} ms are left unacknowledged, for the partitions' next owners"
                        + " (their leases are left to expire)", nodeId, wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                log.warn("[{}] Stopping the upstream partitions failed", nodeId, e.getCause());
            }
            closed = true;
            List<CompletableFuture<?>> released = new ArrayList<>();
            List<Partition> stillHandling = new ArrayList<>();
            for (Partition partition : allPartitions()) {
                if (!partition.held) {
                    continue;
                }
                if (!partition.finished.isDone()) {
                    // its listener still runs: the next owner must not take the partition before the lease expires
                    stillHandling.add(partition);
                } else if (!partition.lost) {
                    partition.held = false;
                    released.add(RELEASE_LEASE.run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node));
                } else {
                    partition.held = false;
                }
            }
            if (!stillHandling.isEmpty()) {
                log.warn("[{}] Not releasing {} (a record is still being handled): their leases expire after the idle timeout"
                        + " ({} ms)", nodeId, stillHandling, idleTimeout.toMillis());
            }
            for (String site : sites) {
                released.add(redis.zrem(bytes(streams.apps(site)), node).toCompletableFuture());
            }
            try {
                await(CompletableFuture.allOf(released.toArray(CompletableFuture[]::new)), REDIS_WAIT, "release the leases");
                List<CompletableFuture<?>> told = new ArrayList<>();
                for (String site : sites) {
                    told.add(redis.publish(bytes(streams.rebalanceChannel(site)), REBALANCE_MESSAGE).toCompletableFuture());
                }
                await(CompletableFuture.allOf(told.toArray(CompletableFuture[]::new)), REDIS_WAIT, "tell the other nodes");
            } catch (PushUnavailableException e) {
                errors.incrementAndGet();
                log.warn("[{}] {}; the other nodes take the partitions over after the idle timeout ({} ms)", nodeId,
                        e.getMessage(), idleTimeout.toMillis());
            }
            closePubSub();
            shutdownScheduler();
            closeMeters();
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
            closePubSub();
            shutdownScheduler();
            closeMeters();
            log.warn("[{}] Upstream consumer abandoned (as in a crash): leases are left to expire", nodeId);
        }
    }

    /**
     * From now on, leases can be neither taken nor renewed, as if Redis answered those commands
     * with errors (everything else works); for tests of a node whose renewals fail.
     */
    void failLeasesForTests() {
        leasesFailForTests = true;
    }

    private void closeMeters() {
        lags = Map.of();
        meters.close();
        meters = PushBridgeMeters.none();
    }

    /**
     * Counters for metrics: {@code handled} (records whose listener succeeded, acknowledged),
     * {@code refused} (events the listener refused with {@code PushRefusedException}),
     * {@code failed_attempts} (listener calls that threw, failed or timed out),
     * {@code handle_timeouts} (listener stages that did not complete within the handle timeout,
     * counted in {@code failed_attempts} too), {@code dead_lettered} (records written to the dead
     * letters, malformed ones and those given up after {@code maxDeliveries} deliveries included),
     * {@code malformed} (entries that could not be decoded), {@code trimmed} (pending entries whose
     * stream entry was trimmed away before they were handled: acknowledged, not dead-lettered),
     * {@code replies} (answers published to gateway nodes, errors included),
     * {@code partitions_owned} (partitions this node reads now) and {@code errors} (Redis commands
     * that failed and unexpected failures; each was tried again).
     */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("handled", handled.get());
        m.put("refused", refusals.get());
        m.put("failed_attempts", failedAttempts.get());
        m.put("handle_timeouts", handleTimeouts.get());
        m.put("dead_lettered", deadLettered.get());
        m.put("malformed", malformed.get());
        m.put("trimmed", trimmed.get());
        m.put("replies", replies.get());
        m.put("partitions_owned", allPartitions().stream().filter(p -> p.held && !p.lost).count());
        m.put("errors", errors.get());
        return m;
    }

    // ---- leases and fair shares ----------------------------------------------------------------

    /** Asks for a rebalancing round: every {@code idleTimeout / 3}, and soon after another node asked for one. */
    private void requestRound() {
        roundWanted.set(true);
        startRoundIfWanted();
    }

    /** A rebalance message came (on a Netty thread): a round after {@value #REBALANCE_DEBOUNCE_MILLIS} ms, one for a burst. */
    private void roundSoon() {
        if (running && roundSoon.compareAndSet(false, true)) {
            schedule(() -> {
                roundSoon.set(false);
                requestRound();
            }, REBALANCE_DEBOUNCE_MILLIS);
        }
    }

    /**
     * Starts a round on the scheduler thread if one was asked for and none runs (rounds never
     * overlap, so two of them cannot take the same partition): per site, renews the leases, renews
     * the announcement and counts the live nodes, then claims or gives back partitions.
     */
    private void startRoundIfWanted() {
        CompletableFuture<Void> thisRound = new CompletableFuture<>();
        synchronized (roundLock) {
            if (!running || !round.isDone() || !roundWanted.getAndSet(false)) {
                return;
            }
            round = thisRound;
        }
        List<CompletableFuture<Void>> rounds = new ArrayList<>();
        for (String site : sites) {
            try {
                rounds.add(renewLeases(site)
                        .thenCompose(v -> announce(site))
                        .thenCompose(live -> balance(site, live).thenRun(() -> logShare(site, live))));
            } catch (RuntimeException e) {
                rounds.add(CompletableFuture.failedFuture(e));
            }
        }
        CompletableFuture.allOf(rounds.toArray(CompletableFuture[]::new)).whenComplete((v, failure) -> {
            if (failure != null) {
                failed("Rebalancing the upstream partitions", failure);
            }
            thisRound.complete(null);
            schedule(this::startRoundIfWanted, 0); // one asked for meanwhile
        });
    }

    /** Tells the site's nodes (this one included) to run a round now; never fails (a failure is counted and logged). */
    private void publishRebalance(String site) {
        redis.publish(bytes(streams.rebalanceChannel(site)), REBALANCE_MESSAGE).whenComplete((receivers, failure) -> {
            if (failure != null) {
                failed("Asking the application nodes of site '" + site + "' to rebalance (they do within "
                        + idleTimeout.toMillis() / 3 + " ms)", failure);
            }
        });
    }

    private void closePubSub() {
        StatefulRedisPubSubConnection<byte[], byte[]> connection = pubSub;
        pubSub = null;
        if (connection != null && connection.isOpen()) {
            connection.closeAsync(); // ends the subscription on the server as well
        }
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
            long sentAt = System.nanoTime();
            CompletableFuture<Long> renewal = leasesFailForTests
                    ? CompletableFuture.failedFuture(new io.lettuce.core.RedisException("leases fail (for tests)"))
                    : RENEW_LEASE.<Long>run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node,
                            bytes(Long.toString(idleTimeout.toMillis())));
            renewals.add(renewal.handle((renewed, failure) -> {
                        if (failure != null) {
                            // the local deadline is not advanced: the partition stops before another node can take it
                            failed("Renewing the lease of " + partition, failure);
                        } else if (renewed == 1L && partition.generation == generation) {
                            partition.leaseConfirmed(sentAt);
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
        long sentAt = System.nanoTime();
        CompletableFuture<Long> take = leasesFailForTests
                ? CompletableFuture.failedFuture(new io.lettuce.core.RedisException("leases fail (for tests)"))
                : TAKE_LEASE.<Long>run(redis, ScriptOutputType.INTEGER, new byte[][] {partition.lease}, node,
                        bytes(Long.toString(idleTimeout.toMillis())));
        return take.handle((taken, failure) -> {
                    if (failure != null) {
                        failed("Taking the lease of " + partition, failure);
                        return false;
                    }
                    if (taken == 1L && running) {
                        partition.begin(sentAt);
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
        /**
         * Until when ({@link System#nanoTime()}) this node trusts its lease: when the last successful
         * take or renewal was sent, plus the idle timeout less a quarter of it. Past it, the loop stops
         * before the next record or attempt, without acknowledging, as another node may take over.
         */
        volatile long leaseDeadline;
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

        /** The lease was just taken (the take sent at {@code sentAt}): claims the other consumers' pending records, then reads. */
        void begin(long sentAt) {
            leaseDeadline = sentAt + leaseNanos;
            finished = new CompletableFuture<>();
            releasing = false;
            lost = false;
            generation++;
            held = true;
            pollMillis = 0;
            log.debug("[{}] Took {}", nodeId, this);
            runOnWorker(() -> takeOver("0-0"));
        }

        /** A renewal sent at {@code sentAt} succeeded: the lease is this node's for a while longer. */
        void leaseConfirmed(long sentAt) {
            long deadline = sentAt + leaseNanos;
            if (deadline - leaseDeadline > 0) {
                leaseDeadline = deadline;
            }
        }

        /** Whether the lease may have expired (its deadline passed); the first time, the partition is marked lost. */
        boolean leaseExpired() {
            if (System.nanoTime() - leaseDeadline < 0) {
                return false;
            }
            if (!lost && held && !closed) {
                lost = true;
                log.warn("[{}] The lease of {} could not be renewed in time (the last renewal was sent over {} ms ago);"
                        + " stopping the partition, its records are left for its next owner", nodeId, this,
                        TimeUnit.NANOSECONDS.toMillis(leaseNanos));
            }
            return true;
        }

        /** The loop stops before the next read (or record, unless only giving the lease back). */
        boolean mustStop() {
            return !running || lost || closed || leaseExpired();
        }

        private void takeOver(String start) {
            if (mustStop() || releasing) {
                end();
                return;
            }
            // XAUTOCLAIM JUSTID: the entries' delivery counts stay as they were (the reads below count them)
            CLAIM.<List<Object>>run(redis, ScriptOutputType.MULTI, new byte[][] {lease, stream}, node, GROUP, bytes(start),
                    bytes(Integer.toString(batchSize))).whenCompleteAsync((reply, failure) -> {
                        if (failure != null || reply == null || reply.isEmpty()) {
                            retryLater("Claiming the pending records of " + this, failure != null ? failure
                                    : new IllegalStateException("the claim script returned nothing"), () -> takeOver(start));
                            return;
                        }
                        if (!(reply.get(0) instanceof Long ours) || ours != 1L) {
                            lost = true;
                            log.warn("[{}] The lease of {} is no longer this node's; its next owner handles its records", nodeId, this);
                            end();
                            return;
                        }
                        if (!(reply.size() > 1 && reply.get(1) instanceof List<?> claimed) || claimed.isEmpty()
                                || !(claimed.get(0) instanceof byte[] nextBytes)) {
                            retryLater("Claiming the pending records of " + this,
                                    new IllegalStateException("unexpected XAUTOCLAIM reply " + reply), () -> takeOver(start));
                            return;
                        }
                        if (claimed.size() > 2 && claimed.get(2) instanceof List<?> deleted && !deleted.isEmpty()) {
                            // Redis removed them from the pending entries list already: nothing to acknowledge
                            trimmed.addAndGet(deleted.size());
                            warnings.warn("[{}] {} pending entries of {} were trimmed from the stream before they were handled"
                                    + " (the application nodes fell behind by more than the gateways' max-length); skipped",
                                    nodeId, deleted.size(), this);
                        }
                        String next = new String(nextBytes, StandardCharsets.UTF_8);
                        if ("0-0".equals(next)) {
                            cursor = "0";
                            read();
                        } else {
                            takeOver(next);
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
            // pending records one at a time, so that each read counts a delivery of the record handled next only
            int count = NEW_RECORDS.equals(from) ? batchSize : 1;
            READ.<List<Object>>run(redis, ScriptOutputType.MULTI, new byte[][] {lease, stream}, node, GROUP,
                    bytes(Integer.toString(count)), bytes(from)).whenCompleteAsync((reply, failure) -> {
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
                        long before = reply.size() > 2 && reply.get(2) instanceof Long n ? n : 0L;
                        List<StreamEntry> entries = entries(reply.size() > 1 ? reply.get(1) : null, before);
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
                    if (failure == null) {
                        publishRebalance(site); // the node that takes it over does so now, not in its next round
                    }
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
        if (entry.deleted()) {
            // a pending entry trimmed from the stream (MAXLEN) before it was handled: nothing left to handle
            trimmed.incrementAndGet();
            warnings.warn("[{}] Pending entry {} of {} was trimmed from the stream before it was handled (the application"
                    + " nodes fell behind by more than the gateways' max-length); skipped", nodeId, entry.id(), partition);
            return acknowledge(partition, entry.id()).thenApply(acked -> (Void) null);
        }
        if (entry.field() == null) {
            return malformed(partition, entry, "the entry has no field '" + UpstreamStreams.FIELD + "'");
        }
        UpstreamStreams.Entry decoded;
        try {
            decoded = UpstreamStreams.decode(entry.field(), entry.id());
        } catch (IllegalArgumentException e) {
            return malformed(partition, entry, String.valueOf(e.getMessage()));
        }
        if (entry.deliveries() >= maxDeliveries) {
            // delivered that often already (by nodes that died or hung on it): a poison record, not handed to the listener
            return giveUp(partition, entry, decoded);
        }
        return attempt(partition, entry, decoded, 1);
    }

    private CompletableFuture<Void> giveUp(Partition partition, StreamEntry entry, UpstreamStreams.Entry decoded) {
        UpstreamRecord record = decoded.record();
        String error = "gave up after " + entry.deliveries() + " deliveries";
        warnings.warn("[{}] Upstream {} record {} of socket {} in {} was delivered {} times already (its handlers died or hung?);"
                + " moved to the dead letters", nodeId, record.kind(), record.id(), record.socketId(), partition, entry.deliveries());
        return deadLetter(partition, entry, error, (int) Math.min(Integer.MAX_VALUE, entry.deliveries())).thenCompose(written -> {
            if (!written) {
                return DONE;
            }
            return answer(decoded, List.of(), "error", null)
                    .thenCompose(v -> acknowledge(partition, entry.id()))
                    .thenApply(acked -> (Void) null);
        });
    }

    private CompletableFuture<Void> malformed(Partition partition, StreamEntry entry, String problem) {
        malformed.incrementAndGet();
        GatewayContext ctx = context;
        if (ctx != null) {
            ctx.count(BadInput.UPSTREAM_MALFORMED_RECORD.statsKey());
        }
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
        if (n == 1) {
            Timer lag = lags.get(partition.site);
            if (lag != null) {
                lag.record(Math.max(0, clock.millis() - record.createdAt()), TimeUnit.MILLISECONDS);
            }
        }
        return call(record).handleAsync((answer, failure) -> {
            if (closed || partition.leaseExpired()) {
                return DONE; // no answer, no acknowledgement: the partition's next owner handles the record
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
        ScheduledFuture<?> timeout = null;
        ScheduledExecutorService timer = scheduler;
        if (timer != null) {
            try {
                timeout = timer.schedule(() -> {
                    // a failed attempt; the stage's late completion changes nothing (answer is completed)
                    if (answer.completeExceptionally(new TimeoutException("the listener's stage did not complete within "
                            + handleTimeout.toMillis() + " ms"))) {
                        handleTimeouts.incrementAndGet();
                    }
                }, handleTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                log.debug("[{}] No handle timeout: the consumer stopped", nodeId);
            }
        }
        ScheduledFuture<?> timer0 = timeout;
        stage.whenComplete((value, failure) -> {
            if (timer0 != null) {
                timer0.cancel(false);
            }
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

    /**
     * A stream entry as the read script returns it: {@code field} is null for an entry without it
     * or {@code deleted} from the stream (trimmed: a pending entry whose body is nil);
     * {@code deliveries} how many times it had been delivered before this read (pending entries).
     */
    private record StreamEntry(String id, byte @Nullable [] field, boolean deleted, long deliveries) {
    }

    /**
     * The entries of an XREADGROUP reply of one stream: {@code [[stream, [[id, [field, value, ...]], ...]]]};
     * the first one delivered {@code deliveriesOfFirst} times before (pending reads read one).
     */
    private static List<StreamEntry> entries(@Nullable Object reply, long deliveriesOfFirst) {
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
            boolean deleted = pair.size() < 2 || pair.get(1) == null;
            if (pair.size() > 1 && pair.get(1) instanceof List<?> fields) {
                for (int i = 0; i + 1 < fields.size(); i += 2) {
                    if (fields.get(i) instanceof byte[] name && Arrays.equals(name, FIELD) && fields.get(i + 1) instanceof byte[] value) {
                        field = value;
                    }
                }
            }
            out.add(new StreamEntry(new String(id, StandardCharsets.UTF_8), field, deleted, out.isEmpty() ? deliveriesOfFirst : 0L));
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
        private @Nullable Duration handleTimeout;

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

        /**
         * How long a listener's stage may take: one that has not completed by then is a failed
         * attempt (tried again, then dead-lettered), and its late completion neither answers nor
         * acknowledges. It bounds how long one record holds up its partition; the lease is renewed
         * meanwhile. At least 1 ms; default {@code idleTimeout / 2}.
         */
        public Builder handleTimeout(Duration handleTimeout) {
            this.handleTimeout = handleTimeout;
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
            require(handleTimeout == null || handleTimeout.toMillis() >= 1,
                    prefix + "handleTimeout must be at least 1 ms, was " + handleTimeout);
            return new RedisUpstreamConsumer(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
