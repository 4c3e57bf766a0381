package io.pushbridge.redis.upstream;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pushbridge.ClientEvent;
import io.pushbridge.ClientEventHandler;
import io.pushbridge.ConnectRequest;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.SocketListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.RateLimitedLog;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import io.micrometer.core.instrument.Timer;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway side of upstream routing for one site: what its clients do (connect, emit events,
 * disconnect) is appended as {@link UpstreamRecord}s to the site's Redis streams (see
 * {@link UpstreamStreams}), where exactly one application node reads each record; the answers to
 * clients' callbacks come back on this node's reply channel.
 *
 * <ol>
 *   <li><b>Connect.</b> A {@link UpstreamRecord.Kind#CONNECTED CONNECTED} record ({@code newToApp}
 *       set) goes to the stream of the socket's partition. If it cannot be appended (Redis is
 *       down), the socket's later records carry {@code newToApp} until one of them is appended, so
 *       that the application learns of the client from whichever record reaches it first.</li>
 *   <li><b>Events.</b> An {@link UpstreamRecord.Kind#EVENT EVENT} record for each client event this
 *       handles: every event of the site, or only the {@link Builder#events listed} ones (the
 *       gateway answers others with {@code unknown_event}). When the client passed no callback, the
 *       event is done once Redis took the record. When it passed one, the record carries a reply
 *       address ({@code <node>|<reply id>}) and the callback gets the application's answer, which
 *       arrives on {@link UpstreamStreams#replyChannel this node's reply channel}; an application
 *       that failed answers with code {@code "error"}, no answer within the gateway's event timeout
 *       with code {@code "timeout"}. A record that cannot be appended answers {@code "error"}
 *       ({@link PushUnavailableException}); one larger than {@link Builder#maxRecordSize} is refused
 *       with {@code "too_large"}.</li>
 *   <li><b>Disconnect.</b> A {@link UpstreamRecord.Kind#DISCONNECTED DISCONNECTED} record with
 *       Socket.IO's reason.</li>
 * </ol>
 *
 * <p><b>Order.</b> The gateway hands a socket's connect, events and disconnect over one at a time,
 * each after the previous one's stage completed, so a socket's records reach its stream in order.
 * The price: an event whose client waits for an answer holds that socket's later events until the
 * answer arrives (at most the gateway's event timeout); other sockets are not held up.
 *
 * <p><b>Stream length.</b> Each partition's stream is capped at {@link Builder#maxLength} records:
 * appending trims the oldest records, whether or not an application node has read them. From
 * {@value #EXACT_TRIMMING_BELOW} records on the cap is approximate ({@code MAXLEN ~}: Redis trims
 * whole nodes of its radix tree, so a stream may hold a few hundred records more, cheaply); below
 * that it is exact ({@code MAXLEN =}), since approximate trimming would not trim such short streams
 * at all.
 *
 * <p><b>Failures</b> are counted ({@link #stats()}) and logged at most once per second: records
 * that could not be appended ({@code append_failures}), malformed messages on the reply channel
 * ({@code replies_dropped}; the subscription goes on) and answers that came after their event's
 * timeout ({@code replies_late}). Every site of a node shares the node's reply channel: reply ids
 * start with the site's name, and each site takes only its own.
 *
 * <p><b>Meters</b> (see {@link PushBridgeMeter}), in the gateway's registry while this runs, all
 * tagged with the site: {@code pushbridge.upstream.appended}, {@code .append.failures},
 * {@code .replies}, {@code .pending}, and {@code pushbridge.upstream.round.trip}, the time from
 * handing an event that waits for an answer to Redis to its answer arriving. A malformed answer is
 * counted in the gateway's statistics as {@code upstream.dropped.malformed_reply} (the
 * {@code pushbridge.bad.inputs} meter).
 *
 * <p><b>Threading.</b> {@link #handle}, {@link #connected} and {@link #disconnected} run on the
 * gateway's workers and only start asynchronous Redis commands; answers are taken on the Lettuce
 * thread of the reply subscription, which only completes stages. Nothing blocks a Netty or Lettuce
 * thread. Thread-safe.
 *
 * <p><b>Ownership.</b> The {@link RedisConnector} belongs to the caller, who closes it after the
 * gateway stopped; this class opens and closes only its own pub/sub connection on it.
 *
 * <pre>{@code
 * RedisUpstream upstream = RedisUpstream.builder("chat", connector, keys).partitions(8).build();
 * SiteOptions site = upstream.applyTo(SiteOptions.builder("chat").authorizer(authorizer)).build();
 * PushBridgeGateway gateway = PushBridgeGateway.builder().site(site).extension(upstream).build();
 * }</pre>
 */
public final class RedisUpstream implements ClientEventHandler, SocketListener, GatewayExtension {

    /** The default number of partitions (streams) per site; application nodes must use the same. */
    public static final int DEFAULT_PARTITIONS = 8;
    /** The default cap of a partition's stream, in records. */
    public static final long DEFAULT_MAX_LENGTH = 100_000;
    /** The default largest encoded record, in bytes. */
    public static final int DEFAULT_MAX_RECORD_SIZE = 1_000_000;
    /** Streams capped below this many records are trimmed exactly, from it on approximately. */
    public static final long EXACT_TRIMMING_BELOW = 1000;

    private static final Logger log = LoggerFactory.getLogger(RedisUpstream.class);
    private static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration UNSUBSCRIBE_TIMEOUT = Duration.ofSeconds(1);
    /** How much longer than the gateway's event timeout an answer is waited for before it is forgotten. */
    private static final Duration REPLY_GRACE = Duration.ofSeconds(1);
    private static final byte[] FIELD = UpstreamStreams.FIELD.getBytes(StandardCharsets.UTF_8);

    private final String site;
    private final RedisConnector connector;
    private final UpstreamStreams streams;
    private final Set<String> events;
    private final long maxLength;
    private final int maxRecordSize;

    private final AtomicLong appended = new AtomicLong();
    private final AtomicLong appendFailures = new AtomicLong();
    private final AtomicLong replies = new AtomicLong();
    private final AtomicLong repliesDropped = new AtomicLong();
    private final AtomicLong repliesLate = new AtomicLong();
    private final RateLimitedLog appendLog = new RateLimitedLog(log, 1000);
    private final RateLimitedLog replyLog = new RateLimitedLog(log, 1000);

    /** Events whose clients wait for an answer, by reply id. */
    private final Map<String, CompletableFuture<List<Object>>> pending = new ConcurrentHashMap<>();
    /** Sockets the application nodes may not have heard of: their CONNECTED record is not (yet) appended. */
    private final Set<String> unannounced = ConcurrentHashMap.newKeySet();

    private volatile @Nullable GatewayContext context;
    private volatile PushBridgeMeters meters = PushBridgeMeters.none();
    private volatile @Nullable Timer roundTrip;
    private volatile Duration replyTimeout = Duration.ZERO;
    private @Nullable StatefulRedisPubSubConnection<byte[], byte[]> pubSub;
    private byte[] replyChannel = new byte[0];
    private boolean started;

    private RedisUpstream(Builder b) {
        this.site = b.site;
        this.connector = b.connector;
        this.streams = new UpstreamStreams(b.keys, b.partitions);
        this.events = Set.copyOf(b.events);
        this.maxLength = b.maxLength;
        this.maxRecordSize = b.maxRecordSize;
    }

    /**
     * A builder for the site of this name.
     *
     * @param site the site's name
     * @param connector the cluster's Redis connections (owned by the caller)
     * @param keys the cluster's key names (their prefix), as the application nodes use them
     */
    public static Builder builder(String site, RedisConnector connector, RedisKeys keys) {
        return new Builder(site, connector, keys);
    }

    /**
     * Makes the site route its clients upstream: this handles every client event (or the
     * {@link Builder#events listed} ones) and hears its sockets come and go. Register this as the
     * gateway's extension too.
     *
     * @return {@code site}
     */
    public SiteOptions.Builder applyTo(SiteOptions.Builder site) {
        if (events.isEmpty()) {
            site.onAnyEvent(this);
        } else {
            events.forEach(event -> site.onEvent(event, this));
        }
        return site.listener(this);
    }

    /**
     * Appends the client's {@code CONNECTED} record. Completes when Redis took it or refused it
     * (then the failure is counted and the socket's next records carry {@code newToApp}); never
     * fails.
     */
    @Override
    public CompletionStage<Void> connected(ConnectionInfo socket) {
        // until Redis took this record: an event the gateway hands over meanwhile says so too
        unannounced.add(socket.socketId());
        UpstreamRecord record = record(UpstreamRecord.Kind.CONNECTED, socket, null, List.of(), false, null, true);
        return appendQuietly(record);
    }

    /**
     * Appends the client's {@code DISCONNECTED} record, with {@code reason}. Completes when Redis
     * took it or refused it (then the failure is counted); never fails.
     */
    @Override
    public CompletionStage<Void> disconnected(ConnectionInfo socket, String reason) {
        boolean unknownToApps = unannounced.remove(socket.socketId());
        UpstreamRecord record = record(UpstreamRecord.Kind.DISCONNECTED, socket, null, List.of(), false, reason,
                unknownToApps);
        return appendQuietly(record);
    }

    /**
     * Appends the event's record.
     *
     * @return without a callback: a stage that completes with no arguments once Redis took the
     *     record; with one: a stage that completes with the application's answer. It fails with
     *     {@link PushRefusedException} ({@code TOO_LARGE}) for a record over the size limit (nothing
     *     is appended), with {@link PushUnavailableException} when Redis could not take the record
     *     or this is stopped, and with {@link PushBridgeException} when the application failed.
     */
    @Override
    public CompletionStage<List<Object>> handle(ClientEvent event) {
        GatewayContext ctx = context;
        if (ctx == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException(
                    "redis-upstream of site '" + site + "' is not running", null));
        }
        UpstreamRecord record = eventRecord(ctx, event);
        // the site in the id: every site of a node shares the node's reply channel
        String replyId = event.ackRequested() ? site + ":" + UUID.randomUUID() : null;
        byte[] encoded = UpstreamStreams.encode(record, replyId == null ? null : ctx.nodeId() + "|" + replyId);
        if (encoded.length > maxRecordSize) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.TOO_LARGE,
                    List.of("the event's record is " + encoded.length + " bytes, more than the limit of " + maxRecordSize)));
        }
        if (replyId == null) {
            return append(record, encoded).thenApply(id -> List.of());
        }
        CompletableFuture<List<Object>> answer = new Waiting();
        pending.put(replyId, answer);
        // the gateway times out a copy of this stage, so this one needs its own bound
        answer.orTimeout(replyTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((args, failure) -> pending.remove(replyId, answer));
        append(record, encoded).whenComplete((id, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(unwrap(failure));
            }
        });
        return answer;
    }

    /**
     * Subscribes to this node's reply channel. Blocks until Redis confirmed, at most 5 s.
     *
     * @throws PushBridgeException when the gateway has no site of this name, or naming the Redis
     *     server when the subscription fails or is not confirmed in time
     */
    @Override
    public synchronized void start(GatewayContext gatewayContext) {
        if (started) {
            throw new IllegalStateException("redis-upstream of site '" + site + "' is already started");
        }
        started = true;
        if (!gatewayContext.sites().contains(site)) {
            throw new PushBridgeException("redis-upstream: the gateway has no site '" + site + "' (it has "
                    + gatewayContext.sites() + ")");
        }
        streams.checkPartitions(connector.commands(), site);
        String channel = streams.replyChannel(gatewayContext.nodeId());
        replyChannel = channel.getBytes(StandardCharsets.UTF_8);
        replyTimeout = gatewayContext.options().eventTimeout().plus(REPLY_GRACE);
        try {
            StatefulRedisPubSubConnection<byte[], byte[]> connection = connector.newPubSub();
            pubSub = connection;
            connection.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(byte[] from, byte[] message) {
                    onReply(gatewayContext, message);
                }
            });
            connection.async().subscribe(replyChannel).toCompletableFuture()
                    .get(SUBSCRIBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw subscribeFailed(channel, e);
        } catch (ExecutionException e) {
            throw subscribeFailed(channel, e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw subscribeFailed(channel, e);
        }
        PushBridgeMeters m = new PushBridgeMeters(gatewayContext.meterRegistry());
        String[] tag = {PushBridgeMeter.TagKey.SITE.key(), site};
        m.functionCounter(PushBridgeMeter.UPSTREAM_APPENDED, appended, AtomicLong::get, tag);
        m.functionCounter(PushBridgeMeter.UPSTREAM_APPEND_FAILURES, appendFailures, AtomicLong::get, tag);
        m.functionCounter(PushBridgeMeter.UPSTREAM_REPLIES, replies, AtomicLong::get, tag);
        m.gauge(PushBridgeMeter.UPSTREAM_PENDING, pending, Map::size, tag);
        roundTrip = m.timer(PushBridgeMeter.UPSTREAM_ROUND_TRIP, tag);
        meters = m;
        this.context = gatewayContext;
        int partitions = streams.partitions();
        log.info("[{}] redis-upstream for site '{}': {} to {} streams '{}'..'{}' (at most {} records each, {}), "
                + "records up to {} bytes, answers on channel '{}'; on Redis {}", gatewayContext.nodeId(), site,
                events.isEmpty() ? "every event" : "events " + events, partitions, streams.stream(site, 0),
                streams.stream(site, partitions - 1), maxLength, exactTrimming() ? "exact" : "approximate",
                maxRecordSize, channel, connector.description());
    }

    private PushBridgeException subscribeFailed(String channel, Throwable cause) {
        String why = cause instanceof TimeoutException ? "no answer within " + SUBSCRIBE_TIMEOUT.toSeconds() + " s"
                : RedisConnector.redacted(List.of(String.valueOf(cause.getMessage())));
        return new PushBridgeException("redis-upstream of site '" + site + "': could not subscribe to channel '" + channel
                + "' on Redis " + connector.description() + ": " + why, cause);
    }

    /**
     * Unsubscribes and closes the reply subscription (not the connector); events still waiting for
     * an answer fail with {@link PushUnavailableException}.
     */
    @Override
    public synchronized void stop() {
        context = null;
        roundTrip = null;
        meters.close();
        meters = PushBridgeMeters.none();
        StatefulRedisPubSubConnection<byte[], byte[]> connection = pubSub;
        pubSub = null;
        if (connection != null) {
            if (connection.isOpen()) {
                try {
                    connection.async().unsubscribe(replyChannel).toCompletableFuture()
                            .get(UNSUBSCRIBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException | TimeoutException e) {
                    // closing the connection ends the subscription on the server as well
                    log.debug("redis-upstream of site '{}': unsubscribing failed ({}); closing the connection", site,
                            e.toString());
                }
            }
            connection.closeAsync();
        }
        PushUnavailableException stopping = new PushUnavailableException(
                "redis-upstream of site '" + site + "' stopped before the application answered", null);
        for (CompletableFuture<List<Object>> answer : List.copyOf(pending.values())) {
            answer.completeExceptionally(stopping);
        }
    }

    /** The site whose client events this appends. */
    public String site() {
        return site;
    }

    /**
     * Counters for metrics: {@code appended} (records Redis took), {@code append_failures},
     * {@code replies} (answers handed to a waiting client), {@code replies_dropped} (malformed
     * messages on the reply channel), {@code replies_late} (answers nobody waits for any more: after
     * the timeout), and {@code pending} (events
     * waiting for an answer now).
     */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("appended", appended.get());
        m.put("append_failures", appendFailures.get());
        m.put("replies", replies.get());
        m.put("replies_dropped", repliesDropped.get());
        m.put("replies_late", repliesLate.get());
        m.put("pending", (long) pending.size());
        return m;
    }

    // ---- records -------------------------------------------------------------------------------

    /** An EVENT record: the socket as this node knows it, else as it connected (then in no room). */
    private UpstreamRecord eventRecord(GatewayContext ctx, ClientEvent event) {
        boolean unknownToApps = unannounced.contains(event.socketId());
        ConnectionInfo socket = ctx.socket(site, event.socketId());
        if (socket != null) {
            return record(UpstreamRecord.Kind.EVENT, socket, event.event(), event.args(), event.ackRequested(), null,
                    unknownToApps);
        }
        ConnectRequest client = event.client();
        Map<String, List<String>> query = new LinkedHashMap<>(client.query());
        query.keySet().removeAll(ConnectionInfo.SECRET_QUERY_PARAMETERS);
        return new UpstreamRecord(UpstreamRecord.Kind.EVENT, "", site, event.socketId(), ctx.nodeId(), null, null,
                Set.of(), client.remoteAddress(), query, event.event(), event.args(), event.ackRequested(), null,
                unknownToApps, System.currentTimeMillis());
    }

    private UpstreamRecord record(UpstreamRecord.Kind kind, ConnectionInfo socket, @Nullable String event,
            List<Object> args, boolean ackRequested, @Nullable String reason, boolean newToApp) {
        return new UpstreamRecord(kind, "", site, socket.socketId(), socket.nodeId(), socket.userId(), socket.sessionId(),
                socket.rooms(), socket.handshake().address(), socket.handshake().query(), event, args, ackRequested,
                reason, newToApp, System.currentTimeMillis());
    }

    /** Appends a connect or disconnect record; a failure is counted and logged by {@link #append}. */
    private CompletableFuture<Void> appendQuietly(UpstreamRecord record) {
        CompletableFuture<String> appending;
        try {
            appending = append(record, UpstreamStreams.encode(record, null));
        } catch (RuntimeException e) {
            countAppendFailure(record, e);
            return CompletableFuture.completedFuture(null);
        }
        return appending.handle((id, failure) -> null);
    }

    /**
     * XADDs an encoded record to its socket's stream. Completes with the entry id; fails with
     * {@link PushUnavailableException} (counted and logged).
     */
    private CompletableFuture<String> append(UpstreamRecord record, byte[] encoded) {
        String stream = streams.stream(site, streams.partition(record.socketId()));
        XAddArgs args = XAddArgs.Builder.maxlen(maxLength).approximateTrimming(!exactTrimming());
        CompletableFuture<String> sent;
        try {
            sent = connector.commands().xadd(stream.getBytes(StandardCharsets.UTF_8), args, Map.of(FIELD, encoded))
                    .toCompletableFuture();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((id, failure) -> {
            if (failure != null) {
                Throwable cause = unwrap(failure);
                countAppendFailure(record, cause);
                throw new CompletionException(new PushUnavailableException("Could not append to stream '" + stream
                        + "' on Redis " + connector.description(), cause));
            }
            appended.incrementAndGet();
            if (record.newToApp()) {
                unannounced.remove(record.socketId());
            }
            return id;
        });
    }

    private void countAppendFailure(UpstreamRecord record, Throwable cause) {
        appendFailures.incrementAndGet();
        appendLog.warn("[{}] redis-upstream of site '{}': could not append a record ({}) to Redis {}: {}", record.nodeId(),
                site, record.kind(), connector.description(),
                RateLimitedLog.excerpt(RedisConnector.redacted(List.of(String.valueOf(cause)))));
    }

    private boolean exactTrimming() {
        return maxLength < EXACT_TRIMMING_BELOW;
    }

    // ---- answers -------------------------------------------------------------------------------

    /** A message of the reply channel, on the subscription's Lettuce thread; never throws. */
    private void onReply(GatewayContext ctx, byte[] message) {
        try {
            UpstreamStreams.Reply reply;
            try {
                reply = UpstreamStreams.decodeReply(message);
            } catch (IllegalArgumentException e) {
                dropReply(ctx, e.getMessage());
                return;
            }
            if (!reply.replyId().startsWith(site + ":")) {
                return; // another site's answer: its own subscription takes it
            }
            CompletableFuture<List<Object>> answer = pending.get(reply.replyId());
            if (answer == null) {
                repliesLate.incrementAndGet();
                log.debug("[{}] redis-upstream of site '{}': an answer came for no waiting event (late)", ctx.nodeId(), site);
                return;
            }
            Timer timer = roundTrip;
            if (timer != null && !answer.isDone() && answer instanceof Waiting waiting) {
                // before the client can have the answer
                timer.record(System.nanoTime() - waiting.since, TimeUnit.NANOSECONDS);
            }
            boolean taken = reply.errorCode() == null ? answer.complete(reply.args())
                    : answer.completeExceptionally(failure(reply));
            // not taken: it timed out just now
            (taken ? replies : repliesLate).incrementAndGet();
        } catch (RuntimeException e) {
            dropReply(ctx, e.toString());
        }
    }

    /**
     * What an error answer becomes for the client: a refusal keeps its reason as the code (and its
     * message); anything else is code {@code "error"}.
     */
    private static Throwable failure(UpstreamStreams.Reply reply) {
        for (PushRefusedException.Reason reason : PushRefusedException.Reason.values()) {
            if (reason.name().toLowerCase(Locale.ROOT).equals(reply.errorCode())) {
                return new PushRefusedException(reason, List.of(reply.message() == null ? "refused" : reply.message()));
            }
        }
        return new PushBridgeException("the application failed to handle the event (code '" + reply.errorCode() + "')");
    }

    private void dropReply(GatewayContext ctx, @Nullable String problem) {
        repliesDropped.incrementAndGet();
        ctx.count(BadInput.UPSTREAM_MALFORMED_REPLY.statsKey());
        replyLog.warn("[{}] redis-upstream of site '{}': dropped a malformed answer on channel '{}': {}", ctx.nodeId(), site,
                streams.replyChannel(ctx.nodeId()), RateLimitedLog.excerpt(String.valueOf(problem)));
    }

    /** An event waiting for its answer, since it was handed over. */
    private static final class Waiting extends CompletableFuture<List<Object>> {
        final long since = System.nanoTime();
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public String toString() {
        return "RedisUpstream[site " + site + ", " + streams.partitions() + " partitions, "
                + (events.isEmpty() ? "every event" : "events " + events) + "]";
    }

    /** Builds a {@link RedisUpstream}; {@link #build()} checks every value and names the bad one. */
    public static final class Builder {

        private final String site;
        private final RedisConnector connector;
        private final RedisKeys keys;
        private int partitions = DEFAULT_PARTITIONS;
        private Set<String> events = Set.of();
        private long maxLength = DEFAULT_MAX_LENGTH;
        private int maxRecordSize = DEFAULT_MAX_RECORD_SIZE;

        private Builder(String site, RedisConnector connector, RedisKeys keys) {
            this.site = site;
            this.connector = connector;
            this.keys = keys;
        }

        /**
         * How many streams the site's records are spread over, by socket id; default
         * {@value RedisUpstream#DEFAULT_PARTITIONS}. Must equal the application nodes' setting.
         */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** The client events to route; empty (the default): every event the site's clients emit. */
        public Builder events(Set<String> events) {
            this.events = new LinkedHashSet<>(events);
            return this;
        }

        /**
         * The cap of each partition's stream, in records; default
         * {@value RedisUpstream#DEFAULT_MAX_LENGTH}. Appending trims the oldest records beyond it,
         * read or not (approximately from {@value RedisUpstream#EXACT_TRIMMING_BELOW} on, see the
         * class documentation).
         */
        public Builder maxLength(long records) {
            this.maxLength = records;
            return this;
        }

        /**
         * The largest encoded event record, in bytes; default
         * {@value RedisUpstream#DEFAULT_MAX_RECORD_SIZE}. A larger one is refused with
         * {@code too_large}.
         */
        public Builder maxRecordSize(int bytes) {
            this.maxRecordSize = bytes;
            return this;
        }

        public RedisUpstream build() {
            require(site != null && !site.isEmpty(), "redis-upstream: the site name is required");
            String prefix = "redis-upstream of site '" + site + "': ";
            require(connector != null, prefix + "a RedisConnector is required");
            require(keys != null, prefix + "RedisKeys are required");
            require(partitions >= 1 && partitions <= 1024, prefix + "partitions must be 1..1024, was " + partitions);
            for (String event : events) {
                require(event != null && !event.isEmpty() && !SiteOptions.isReservedEvent(event),
                        prefix + "events: '" + event + "' is empty or reserved");
            }
            require(maxLength >= 1, prefix + "maxLength must be >= 1, was " + maxLength);
            require(maxRecordSize >= 1, prefix + "maxRecordSize must be >= 1, was " + maxRecordSize);
            return new RedisUpstream(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
