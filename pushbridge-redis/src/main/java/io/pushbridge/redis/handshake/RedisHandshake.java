package io.pushbridge.redis.handshake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pushbridge.ClientEvent;
import io.pushbridge.ClientEventHandler;
import io.pushbridge.ConnectRequest;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.SendRequest;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.redis.Ingestion;
import io.pushbridge.redis.RedisConnector;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code redis-handshake} mode of one site, as the old Node.js service of that name worked:
 * rooms are granted by a backend over Redis pub/sub, and backends push to rooms over Redis pub/sub.
 *
 * <ol>
 *   <li><b>Connect.</b> Every client is admitted, with no rooms ({@link #authorize}).</li>
 *   <li><b>Asking for a room.</b> A client emits {@code subscribe} (the {@link Builder#event event})
 *       with {@code {room, uid, sid}}. This publishes
 *       {@code {"room":..,"uid":..,"sid":..,"socketId":..,"ip":..}}, keys in that order, to the
 *       {@link Builder#authChannel auth channel} ({@code socket.io:auth}) on every configured Redis
 *       server, so that a backend listening on any of them hears it. {@code uid} and {@code sid} are
 *       passed through as the client gave them (a string or a number); when absent or
 *       {@code null} their key is left out, as the old service's {@code JSON.stringify} did with
 *       {@code undefined}. {@code socketId} is the id the client sees as {@code socket.id},
 *       {@code ip} the client's address as the gateway sees it. Other keys of the request are
 *       ignored. The client's callback, if it passed one, gets {@code {"ok": true}} once the request
 *       is published on every server; an invalid request (not an object; {@code room} missing, not
 *       a string, empty, longer than 200 characters or with control characters; {@code uid} or
 *       {@code sid} neither a string nor a number) is refused with {@code {"error": {"code":
 *       "invalid", "message": ..}}}; if a server cannot take it the callback gets code
 *       {@code "error"} (the stage fails with {@link PushUnavailableException}).</li>
 *   <li><b>Ingestion.</b> On each server this subscribes to the {@link Builder#channel ingestion
 *       channel} ({@code socket.io}) and expects JSON objects:
 *       <ul>
 *         <li>{@code {"socketId": S, "type": "authorize", "room": R}} joins socket {@code S} to room
 *             {@code R} if this node holds it. Every gateway node gets the message; a node that does
 *             not hold the socket ignores it if another live node does, else drops it as
 *             {@code unknown_socket}.</li>
 *         <li>{@code {"room": R, "type": T, ...}} emits event {@code T} to this node's members of
 *             room {@code R}, with the whole object as its one argument. Only to this node's own
 *             sockets: every node receives the message itself, so routing it would deliver it once
 *             per node.</li>
 *       </ul>
 *       A message published on several of the servers is delivered once per server, as before.</li>
 * </ol>
 *
 * <p><b>Bad messages</b> on the ingestion channel are dropped, counted in the gateway's statistics
 * as {@code ingestion.dropped.<reason>} and in {@link #stats()}, and logged at most once per second
 * (the channel and the problem, never the whole payload). Reasons: {@code too_large} (more than
 * {@link Builder#maxMessageSize} bytes, or more than the gateway's message limit),
 * {@code malformed_json}, {@code not_an_object}, {@code missing_field} ({@code type}, {@code room}
 * or {@code socketId} missing or not a string), {@code invalid} (the gateway refused the room,
 * event or socket id: reserved event names, control characters, ...), {@code unknown_socket} (no
 * live node holds the socket to authorize), {@code unavailable} (the registry could not be asked
 * where the socket is) and {@code error} (an unexpected failure, logged with its stack trace). The
 * subscription goes on after each of them.
 *
 * <p><b>Threading.</b> Ingested messages are handled on the Lettuce I/O thread that received them,
 * one after the other, so that a join is done before the messages published after it; the work
 * done there (parsing, local delivery) does not block. {@code subscribe} events run on the
 * gateway's workers and only start asynchronous publishes. Thread-safe.
 *
 * <p><b>Ownership.</b> The {@link RedisConnector}s belong to the caller, who closes them after the
 * gateway stopped; this class only opens and closes its own pub/sub connections on them.
 *
 * <pre>{@code
 * RedisHandshake handshake = RedisHandshake.builder("legacy").servers(List.of(redisA, redisB)).build();
 * SiteOptions site = handshake.applyTo(SiteOptions.builder("legacy").namespace("/").userRoomPrefix("")).build();
 * PushBridgeGateway gateway = PushBridgeGateway.builder().site(site).extension(handshake).build();
 * }</pre>
 */
public final class RedisHandshake implements RoomAuthorizer, ClientEventHandler, GatewayExtension {

    /** The client event that asks for a room. */
    public static final String DEFAULT_EVENT = "subscribe";
    /** The channel room requests are published to. */
    public static final String DEFAULT_AUTH_CHANNEL = "socket.io:auth";
    /** The channel backends publish grants and messages to. */
    public static final String DEFAULT_CHANNEL = "socket.io";
    /** The message type that grants a room. */
    public static final String DEFAULT_AUTHORIZE_TYPE = "authorize";
    /** The largest ingested message, in bytes. */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 1_000_000;

    private static final Logger log = LoggerFactory.getLogger(RedisHandshake.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final TypeReference<LinkedHashMap<String, Object>> OBJECT = new TypeReference<>() {
    };
    /** The gateway's default limits, for a request that comes before the gateway gave its context (none in practice). */
    private static final io.pushbridge.gateway.Limits DEFAULT_LIMITS = GatewayOptions.builder().build().limits();
    private static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration UNSUBSCRIBE_TIMEOUT = Duration.ofSeconds(1);
    private static final List<Object> OK = List.of(Map.of("ok", true));

    private final String site;
    private final List<RedisConnector> servers;
    private final String event;
    private final String authChannel;
    private final byte[] authChannelBytes;
    private final String channel;
    private final byte[] channelBytes;
    private final String authorizeType;
    private final int maxMessageSize;

    private final AtomicLong received = new AtomicLong();
    private final AtomicLong emitted = new AtomicLong();
    private final AtomicLong authorized = new AtomicLong();
    private final AtomicLong authorizedElsewhere = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong requestFailures = new AtomicLong();
    private final Ingestion drops;

    private final List<StatefulRedisPubSubConnection<byte[], byte[]>> pubSubs = new ArrayList<>();
    private volatile @Nullable GatewayContext context;
    private boolean started;

    private RedisHandshake(Builder b) {
        this.site = b.site;
        this.servers = List.copyOf(b.servers);
        this.event = b.event;
        this.authChannel = b.authChannel;
        this.authChannelBytes = b.authChannel.getBytes(StandardCharsets.UTF_8);
        this.channel = b.channel;
        this.channelBytes = b.channel.getBytes(StandardCharsets.UTF_8);
        this.authorizeType = b.authorizeType;
        this.maxMessageSize = b.maxMessageSize;
        this.drops = new Ingestion(log, b.site, b.channel);
    }

    /** A builder for the site of this name. */
    public static Builder builder(String site) {
        return new Builder(site);
    }

    /**
     * Makes the site use this mode: this is its authorizer and handles its {@link Builder#event
     * event}. The site's other settings are the caller's: clients that call {@code io()} need the
     * namespace {@code /}, and the old service had no user rooms (no ack queues), which a user room
     * prefix of {@code ""} keeps so.
     *
     * @return {@code site}
     */
    public SiteOptions.Builder applyTo(SiteOptions.Builder site) {
        return site.authorizer(this).onEvent(event, this);
    }

    /** Admits every client, with no rooms: the old service had no connect-time authorization. */
    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        return CompletableFuture.completedFuture(Set.of());
    }

    /**
     * Publishes a client's request for a room to the auth channel of every server.
     *
     * @return a stage that completes with {@code [{"ok": true}]} once every server took the request;
     *     fails with {@link PushRefusedException} for an invalid request (nothing is published) and
     *     with {@link PushUnavailableException} when a server could not take it
     */
    @Override
    public CompletionStage<List<Object>> handle(ClientEvent clientEvent) {
        GatewayContext ctx = context;
        if (ctx != null && ctx.socket(site, clientEvent.socketId()) == null) {
            // the client left while its request waited: a grant could only be dropped
            return CompletableFuture.completedFuture(List.of());
        }
        byte[] request;
        try {
            request = JSON.writeValueAsBytes(authRequest(clientEvent, ctx));
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("the request cannot be written as JSON: " + e.getOriginalMessage())));
        } catch (PushRefusedException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<CompletableFuture<Long>> published = new ArrayList<>(servers.size());
        for (RedisConnector server : servers) {
            published.add(publish(server, request));
        }
        return CompletableFuture.allOf(published.toArray(CompletableFuture[]::new)).handle((v, failure) -> {
            if (failure != null) {
                requestFailures.incrementAndGet();
                throw failure instanceof CompletionException ce ? ce : new CompletionException(failure);
            }
            requests.incrementAndGet();
            return OK;
        });
    }

    /**
     * The auth request of a {@code subscribe} event, keys in the order the old service wrote them.
     * The room must be one the socket could join: a valid name by the site's limits (see
     * {@code Limits#roomNameProblem}), so that no grant is asked for that the join would refuse.
     */
    private Map<String, Object> authRequest(ClientEvent clientEvent, @Nullable GatewayContext ctx) {
        io.pushbridge.gateway.Limits limits = ctx == null ? DEFAULT_LIMITS : ctx.limits(site);
        if (!(clientEvent.firstArg() instanceof Map<?, ?> args)) {
            throw new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("the first argument must be an object {room, uid, sid}"));
        }
        List<String> problems = new ArrayList<>();
        Object room = args.get("room");
        if (!(room instanceof String name)) {
            problems.add("room must be a string");
        } else if (name.isEmpty()) {
            problems.add("room must not be empty");
        } else {
            // the site's limits only (its max-room-name-length may be above the default)
            io.pushbridge.gateway.Limits.NameProblem problem = limits.roomName(name);
            if (problem != null) {
                if (ctx != null) {
                    ctx.count(io.pushbridge.gateway.Limit.ROOM_NAME.counter(site));
                }
                problems.add(problem.loggable());
            }
        }
        Object uid = args.get("uid");
        Object sid = args.get("sid");
        checkIdentifier("uid", uid, problems);
        checkIdentifier("sid", sid, problems);
        if (!problems.isEmpty()) {
            throw new PushRefusedException(PushRefusedException.Reason.INVALID, problems);
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("room", room);
        if (uid != null) {
            request.put("uid", uid);
        }
        if (sid != null) {
            request.put("sid", sid);
        }
        request.put("socketId", clientEvent.socketId());
        request.put("ip", clientEvent.client().remoteAddress());
        return request;
    }

    private static void checkIdentifier(String field, @Nullable Object value, List<String> problems) {
        if (value != null && !(value instanceof String) && !(value instanceof Number)) {
            problems.add(field + " must be a string or a number");
        }
    }

    private CompletableFuture<Long> publish(RedisConnector server, byte[] request) {
        CompletableFuture<Long> sent;
        try {
            sent = server.commands().publish(authChannelBytes, request).toCompletableFuture();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((receivers, failure) -> {
            if (failure != null) {
                throw new CompletionException(new PushUnavailableException("Could not publish to channel '" + authChannel
                        + "' on Redis " + server.description(), unwrap(failure)));
            }
            return receivers;
        });
    }

    /**
     * Subscribes to the ingestion channel on every server. Blocks until each confirmed, at most a few
     * seconds.
     *
     * @throws PushBridgeException naming the server when a subscription fails or does not answer in
     *     time, or when the gateway has no site of this mode's name
     */
    @Override
    public synchronized void start(GatewayContext gatewayContext) {
        if (started) {
            throw new IllegalStateException("redis-handshake of site '" + site + "' is already started");
        }
        started = true;
        if (!gatewayContext.sites().contains(site)) {
            throw new PushBridgeException("redis-handshake: the gateway has no site '" + site + "' (it has "
                    + gatewayContext.sites() + ")");
        }
        this.context = gatewayContext;
        List<CompletableFuture<?>> subscriptions = new ArrayList<>(servers.size());
        for (RedisConnector server : servers) {
            try {
                StatefulRedisPubSubConnection<byte[], byte[]> pubSub = server.newPubSub();
                pubSubs.add(pubSub);
                pubSub.addListener(new RedisPubSubAdapter<>() {
                    @Override
                    public void message(byte[] from, byte[] message) {
                        onMessage(server, message);
                    }
                });
                subscriptions.add(pubSub.async().subscribe(channelBytes).toCompletableFuture());
            } catch (RuntimeException e) {
                throw subscribeFailed(server, e);
            }
        }
        long deadline = System.nanoTime() + SUBSCRIBE_TIMEOUT.toNanos();
        for (int i = 0; i < servers.size(); i++) {
            try {
                subscriptions.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw subscribeFailed(servers.get(i), e);
            } catch (ExecutionException | TimeoutException e) {
                throw subscribeFailed(servers.get(i), e instanceof ExecutionException ? e.getCause() : e);
            }
        }
        log.info("[{}] redis-handshake for site '{}': listening on channel '{}', '{}' events published to '{}', "
                + "type '{}' grants rooms; on {} Redis server(s): {}", gatewayContext.nodeId(), site, channel, event,
                authChannel, authorizeType, servers.size(), servers.stream().map(RedisConnector::description).toList());
    }

    private PushBridgeException subscribeFailed(RedisConnector server, Throwable cause) {
        String why = cause instanceof TimeoutException ? "no answer within " + SUBSCRIBE_TIMEOUT.toSeconds() + " s"
                : RedisConnector.redacted(List.of(String.valueOf(cause.getMessage())));
        return new PushBridgeException("redis-handshake of site '" + site + "': could not subscribe to channel '" + channel
                + "' on Redis " + server.description() + ": " + why, cause);
    }

    /** Unsubscribes and closes this mode's pub/sub connections (not the connectors). */
    @Override
    public synchronized void stop() {
        context = null;
        List<CompletableFuture<?>> unsubscribed = new ArrayList<>();
        for (StatefulRedisPubSubConnection<byte[], byte[]> pubSub : pubSubs) {
            if (pubSub.isOpen()) {
                unsubscribed.add(pubSub.async().unsubscribe(channelBytes).toCompletableFuture());
            }
        }
        try {
            CompletableFuture.allOf(unsubscribed.toArray(CompletableFuture[]::new))
                    .get(UNSUBSCRIBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // closing the connection ends the subscription on the server as well
            log.debug("redis-handshake of site '{}': unsubscribing failed ({}); closing the connections", site, e.toString());
        }
        for (StatefulRedisPubSubConnection<byte[], byte[]> pubSub : pubSubs) {
            pubSub.closeAsync();
        }
        pubSubs.clear();
    }

    /**
     * Counters for metrics: {@code received} (ingested messages), {@code emitted} (messages emitted
     * to a room), {@code authorized} (joins done on this node), {@code authorized_elsewhere}
     * (grants for a socket of another node, left to it), {@code auth_requests} (room requests
     * published to every server), {@code auth_request_failures}, and {@code dropped.<reason>} for
     * each reason (see the class documentation).
     */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("received", received.get());
        m.put("emitted", emitted.get());
        m.put("authorized", authorized.get());
        m.put("authorized_elsewhere", authorizedElsewhere.get());
        m.put("auth_requests", requests.get());
        m.put("auth_request_failures", requestFailures.get());
        m.putAll(drops.counts());
        return m;
    }

    // ---- ingestion -----------------------------------------------------------------------------

    /** One message of the ingestion channel, on the Lettuce thread of {@code server}'s subscription. */
    private void onMessage(RedisConnector server, byte[] payload) {
        GatewayContext ctx = context;
        if (ctx == null) {
            return;
        }
        received.incrementAndGet();
        try {
            ingest(ctx, server, payload);
        } catch (RuntimeException e) {
            drops.failed(ctx, server.description(), e);
        }
    }

    private void ingest(GatewayContext ctx, RedisConnector server, byte[] payload) {
        ObjectNode message;
        try {
            message = Ingestion.readObject(payload, maxMessageSize);
        } catch (Ingestion.Dropped e) {
            drop(ctx, server, e.reason(), e.getMessage());
            return;
        }
        String type = text(message, "type");
        String room = text(message, "room");
        if (type == null || room == null) {
            drop(ctx, server, Ingestion.Reason.MISSING_FIELD, (type == null ? "type" : "room") + " is missing or not a string");
            return;
        }
        if (type.equals(authorizeType)) {
            String socketId = text(message, "socketId");
            if (socketId == null) {
                drop(ctx, server, Ingestion.Reason.MISSING_FIELD, "socketId is missing or not a string");
            } else if (socketId.isEmpty()) {
                drop(ctx, server, Ingestion.Reason.INVALID, "socketId is empty");
            } else {
                join(ctx, server, socketId, room);
            }
        } else {
            emit(ctx, server, room, type, message);
        }
    }

    /** Joins the socket to the room if this node holds it; else leaves it to the node that does. */
    private void join(GatewayContext ctx, RedisConnector server, String socketId, String room) {
        SocketCommand join = SocketCommand.join(site, socketId, Set.of(room));
        try {
            if (ctx.executeLocally(join)) {
                authorized.incrementAndGet();
                return;
            }
        } catch (PushRefusedException e) {
            drop(ctx, server, Ingestion.Reason.INVALID, String.join("; ", e.problems()));
            return;
        }
        ctx.locate(site, socketId).whenComplete((node, failure) -> {
            try {
                if (failure != null) {
                    drop(ctx, server, Ingestion.Reason.UNAVAILABLE, "could not find the node of the socket to authorize: "
                            + unwrap(failure));
                } else if (node == null) {
                    drop(ctx, server, Ingestion.Reason.UNKNOWN_SOCKET, "no live node holds the socket to authorize");
                } else if (!node.equals(ctx.nodeId())) {
                    authorizedElsewhere.incrementAndGet();
                } else if (ctx.executeLocally(join)) {
                    authorized.incrementAndGet(); // it connected to this node meanwhile
                } else {
                    drop(ctx, server, Ingestion.Reason.UNKNOWN_SOCKET, "the socket to authorize has just gone");
                }
            } catch (RuntimeException e) {
                drops.failed(ctx, server.description(), e);
            }
        });
    }

    /** Emits the whole message as event {@code type} to this node's members of the room. */
    private void emit(GatewayContext ctx, RedisConnector server, String room, String type, JsonNode message) {
        Map<String, Object> body = JSON.convertValue(message, OBJECT);
        try {
            ctx.emitLocally(new SendRequest(site, Target.rooms(Set.of(room)), type, List.of(body), false));
        } catch (PushRefusedException e) {
            Ingestion.Reason reason = e.reason() == PushRefusedException.Reason.TOO_LARGE
                    ? Ingestion.Reason.TOO_LARGE : Ingestion.Reason.INVALID;
            drop(ctx, server, reason, String.join("; ", e.problems()));
            return;
        }
        ctx.countAccepted(site, MessageSource.REDIS);
        emitted.incrementAndGet();
    }

    private void drop(GatewayContext ctx, RedisConnector server, Ingestion.Reason reason, @Nullable String problem) {
        drops.drop(ctx, server.description(), reason, String.valueOf(problem));
    }

    private static @Nullable String text(JsonNode object, String field) {
        JsonNode value = object.get(field);
        return value != null && value.isTextual() ? value.textValue() : null;
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
        return "RedisHandshake[site " + site + ", channel " + channel + ", " + servers.size() + " server(s)]";
    }

    /** Builds a {@link RedisHandshake}; {@link #build()} checks every value and names the bad one. */
    public static final class Builder {

        private final String site;
        private List<RedisConnector> servers = List.of();
        private String event = DEFAULT_EVENT;
        private String authChannel = DEFAULT_AUTH_CHANNEL;
        private String channel = DEFAULT_CHANNEL;
        private String authorizeType = DEFAULT_AUTHORIZE_TYPE;
        private int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;

        private Builder(String site) {
            this.site = site;
        }

        /**
         * The Redis servers (at least one; the old {@code SOCKETIO_REDIS_URLS}): room requests are
         * published on each, and each is subscribed to. Owned by the caller, who closes them.
         */
        public Builder servers(List<RedisConnector> servers) {
            this.servers = List.copyOf(servers);
            return this;
        }

        /** The client event that asks for a room; default {@value RedisHandshake#DEFAULT_EVENT}. */
        public Builder event(String event) {
            this.event = event;
            return this;
        }

        /** Where room requests are published; default {@value RedisHandshake#DEFAULT_AUTH_CHANNEL}. */
        public Builder authChannel(String authChannel) {
            this.authChannel = authChannel;
            return this;
        }

        /** The ingestion channel; default {@value RedisHandshake#DEFAULT_CHANNEL}. */
        public Builder channel(String channel) {
            this.channel = channel;
            return this;
        }

        /** The message type that grants a room; default {@value RedisHandshake#DEFAULT_AUTHORIZE_TYPE}. */
        public Builder authorizeType(String authorizeType) {
            this.authorizeType = authorizeType;
            return this;
        }

        /** The largest ingested message in bytes; default {@value RedisHandshake#DEFAULT_MAX_MESSAGE_SIZE}. */
        public Builder maxMessageSize(int bytes) {
            this.maxMessageSize = bytes;
            return this;
        }

        public RedisHandshake build() {
            require(site != null && !site.isEmpty(), "redis-handshake: the site name is required");
            String prefix = "redis-handshake of site '" + site + "': ";
            require(!servers.isEmpty(), prefix + "at least one Redis server is required");
            requireName(event, prefix + "event");
            requireName(authChannel, prefix + "authChannel");
            requireName(channel, prefix + "channel");
            requireName(authorizeType, prefix + "authorizeType");
            require(!authChannel.equals(channel), prefix + "authChannel must differ from channel ('" + channel
                    + "'): the requests would come back as ingested messages");
            require(maxMessageSize > 0, prefix + "maxMessageSize must be > 0, got " + maxMessageSize);
            return new RedisHandshake(this);
        }

        private static void requireName(@Nullable String value, String setting) {
            require(value != null && !value.isEmpty() && !io.pushbridge.gateway.Limits.hasControlCharacters(value),
                    setting + " '" + value + "' is invalid: it must be non-empty, without control characters");
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
