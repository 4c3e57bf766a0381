package io.pushbridge.redis.session;

import io.lettuce.core.RedisCommandExecutionException;
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
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.SendRequest;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.gateway.RateLimitedLog;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.redis.Ingestion;
import io.pushbridge.redis.RedisConnector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code redis-session} mode of a site, the successor of the Node service
 * {@code yunity-sockets}: a web application keeps {@code <keyPrefix><sessionId> = <userId>} in
 * Redis, clients authenticate with their session id, and the application pushes to users by
 * publishing on a channel.
 *
 * <ol>
 *   <li><b>Connect.</b> Every client is admitted, in no room ({@link #authorize}).</li>
 *   <li><b>Authenticate.</b> The client emits {@code authenticate} with {@code {sessionId}} (a
 *       string; a number counts as its text). The socket leaves the room of the user it had, if its
 *       session changes, then joins {@code <roomPrefix><userId>} if the session key holds a user; if
 *       not, it stays connected in no room. The client's callback, if any, gets
 *       {@code {"sessionId": "...", "userId": "..." | null}}: the user the key held when it was
 *       read. A bad session id answers {@code {"error": {"code": "invalid", ...}}}; Redis down
 *       answers code {@code "error"}.</li>
 *   <li><b>Live membership.</b> Every node subscribes to the keyspace notifications of the session
 *       keys and, when a key of a session changes (set, deleted, expired, renamed, evicted), reads
 *       it again and moves this node's sockets of that session: to the new user's room, or out of
 *       any. Reads are issued in order on one connection and only the latest read of a session is
 *       applied, so that a slow answer never overrides a newer one. After a Redis reconnect, when
 *       notifications may have been missed (and a restarted Redis lost its configuration), the
 *       configuration is checked again and every session of this node is read again.</li>
 *   <li><b>Notifications.</b> A message {@code {"users": [23, "user5"], "data": <any JSON>}} on
 *       the notifications channel is emitted as {@code message} with the argument {@code data} to
 *       this node's sockets in those users' rooms. Every node subscribes, so each delivers to its
 *       own sockets only. A bad message is dropped, counted ({@code ingestion.dropped.<reason>} in
 *       the gateway's statistics and in {@link #stats()}), and logged at most once a second.</li>
 * </ol>
 *
 * <p>Keyspace notifications must be on: {@code notify-keyspace-events} needs {@code K} and the
 * classes {@code $}, {@code g} and {@code x} ({@code A} covers the classes). Without them
 * {@link #start} fails, naming the fix, unless {@link Builder#configureKeyspaceEvents} lets it run
 * {@code CONFIG SET}. If Redis refuses {@code CONFIG GET} (some managed services do), the check is
 * skipped with a warning. Redis Cluster is not supported (keyspace notifications are per shard).
 *
 * <p>Ownership and threading: the caller owns the {@link RedisConnector} and closes it after the
 * gateway stopped; this class opens one pub/sub connection of its own, closed by {@link #stop()}.
 * Every method is thread-safe; only {@link #start} and {@link #stop} block. Pub/sub messages are handled
 * on Lettuce's I/O thread, Redis answers on the gateway's workers.
 */
public final class RedisSessions implements RoomAuthorizer, ClientEventHandler, GatewayExtension {

    public static final String DEFAULT_KEY_PREFIX = "session-store-";
    public static final String DEFAULT_EVENT = "authenticate";
    public static final String DEFAULT_NOTIFICATIONS_CHANNEL = "notifications";
    public static final String DEFAULT_NOTIFICATIONS_EVENT = "message";
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 1_000_000;
    /** The longest session id (and user id) accepted, in characters. */
    public static final int MAX_ID_LENGTH = 256;
    /** The keyspace event flags needed: keyspace channel, string, generic and expired events. */
    static final String REQUIRED_FLAGS = "K$gx";

    private static final Logger log = LoggerFactory.getLogger(RedisSessions.class);
    private static final long START_TIMEOUT_SECONDS = 10;
    private static final long RESUME_DEBOUNCE_MILLIS = 100;
    private static final long RESUME_RETRY_MILLIS = 500;
    private static final int RESUME_ATTEMPTS = 20;

    private final String site;
    private final RedisConnector connector;
    private final String keyPrefix;
    private final String event;
    private final String roomPrefix;
    private final @Nullable String notificationsChannel;
    private final String notificationsEvent;
    private final boolean configureKeyspaceEvents;
    private final int maxMessageSize;

    private final AtomicLong authenticated = new AtomicLong();
    private final AtomicLong unknownSessions = new AtomicLong();
    private final AtomicLong keyspaceEvents = new AtomicLong();
    private final AtomicLong notifications = new AtomicLong();
    private final AtomicLong resumes = new AtomicLong();
    private final Ingestion drops;
    private final RateLimitedLog warnings = new RateLimitedLog(log, 1000);

    /** Guards the membership changes and {@link #latestReads}. */
    private final Object lock = new Object();
    /** The sequence number of the newest read in flight, by session; only that read is applied. */
    private final Map<String, Long> latestReads = new HashMap<>();
    private long readSequence;

    private final Set<String> subscribedOnce = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean resumePending = new AtomicBoolean();
    private volatile @Nullable GatewayContext context;
    private volatile @Nullable StatefulRedisPubSubConnection<byte[], byte[]> pubSub;
    private volatile String keyspaceChannelPrefix = "";

    private static final int REREAD_ATTEMPTS = 30;
    private static final long REREAD_FIRST_DELAY_MILLIS = 250;
    private static final long REREAD_MAX_DELAY_MILLIS = 5000;

    private RedisSessions(Builder b) {
        this.site = b.site;
        this.connector = Objects.requireNonNull(b.redis);
        this.keyPrefix = b.keyPrefix;
        this.event = b.event;
        this.roomPrefix = b.roomPrefix;
        this.notificationsChannel = b.notificationsChannel == null || b.notificationsChannel.isEmpty() ? null : b.notificationsChannel;
        this.notificationsEvent = b.notificationsEvent;
        this.configureKeyspaceEvents = b.configureKeyspaceEvents;
        this.maxMessageSize = b.maxMessageSize;
        this.drops = new Ingestion(log, b.site, String.valueOf(notificationsChannel));
    }

    /** A builder for the site of this name. */
    public static Builder builder(String site) {
        return new Builder(site);
    }

    /** Registers this as the site's authorizer and as the handler of the authenticate event. */
    public SiteOptions.Builder applyTo(SiteOptions.Builder site) {
        return site.authorizer(this).onEvent(event, this);
    }

    // ---- connect and authenticate -------------------------------------------------------------

    /** Admits every client, in no room: clients join their user's room by authenticating. */
    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        return CompletableFuture.completedFuture(Set.of());
    }

    /**
     * Handles {@code authenticate {sessionId}}: see the class description. Answers with
     * {@code [{"sessionId", "userId"}]}; fails with {@link PushRefusedException} for a bad session
     * id and with {@link PushUnavailableException} when Redis does not answer.
     */
    @Override
    public CompletionStage<List<Object>> handle(ClientEvent clientEvent) {
        GatewayContext ctx = context;
        if (ctx == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("Redis sessions of site '" + site + "' are not running",
                    new IllegalStateException("an event before start() or after stop()")));
        }
        String sessionId;
        try {
            sessionId = sessionIdOf(clientEvent.firstArg());
        } catch (PushRefusedException e) {
            return CompletableFuture.failedFuture(e);
        }
        String socketId = clientEvent.socketId();
        CompletableFuture<@Nullable String> read;
        synchronized (lock) {
            ConnectionInfo socket = ctx.socket(site, socketId);
            if (socket == null) {
                return CompletableFuture.completedFuture(List.of()); // gone meanwhile: no one to answer
            }
            if (!sessionId.equals(socket.sessionId())) {
                if (socket.userId() != null) {
                    ctx.executeLocally(SocketCommand.leave(site, socketId, Set.of(roomPrefix + socket.userId())));
                }
                ctx.identify(site, socketId, sessionId, null);
            }
            read = read(ctx, sessionId);
        }
        return read.thenApply(userId -> {
            (userId == null ? unknownSessions : authenticated).incrementAndGet();
            Map<String, @Nullable Object> answer = new LinkedHashMap<>();
            answer.put("sessionId", sessionId);
            answer.put("userId", userId);
            return List.<Object>of(answer);
        });
    }

    /** The session id of the authenticate event's first argument, checked. */
    private static String sessionIdOf(@Nullable Object arg) {
        if (!(arg instanceof Map<?, ?> map)) {
            throw invalid("the first argument must be an object {sessionId}");
        }
        Object value = map.get("sessionId");
        String sessionId;
        if (value instanceof String s) {
            sessionId = s;
        } else if (value instanceof Number n) {
            sessionId = n.toString();
        } else {
            throw invalid(value == null ? "sessionId is required" : "sessionId must be a string");
        }
        if (!isValidId(sessionId)) {
            throw invalid("sessionId must be 1 to " + MAX_ID_LENGTH + " characters without control characters");
        }
        return sessionId;
    }

    private static PushRefusedException invalid(String problem) {
        return new PushRefusedException(PushRefusedException.Reason.INVALID, List.of(problem));
    }

    /** Whether a session or user id is usable: 1 to {@value #MAX_ID_LENGTH} characters, no control characters. */
    static boolean isValidId(String id) {
        if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (Character.isISOControl(id.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    // ---- reading sessions and moving sockets --------------------------------------------------

    /**
     * Reads a session's key and, if no newer read of that session was issued meanwhile, moves every
     * local socket of the session to its user's room. Completes with the user read ({@code null}:
     * none), or fails with {@link PushUnavailableException}.
     */
    private CompletableFuture<@Nullable String> read(GatewayContext ctx, String sessionId) {
        long sequence;
        CompletableFuture<byte[]> get;
        synchronized (lock) {
            sequence = ++readSequence;
            latestReads.put(sessionId, sequence);
            // issued under the lock: sequence order is command order on the one command connection
            get = connector.commands().get((keyPrefix + sessionId).getBytes(StandardCharsets.UTF_8)).toCompletableFuture();
        }
        return get.handleAsync((value, failure) -> {
            @Nullable String userId;
            if (failure == null) {
                userId = value == null ? null : userIdOf(sessionId, new String(value, StandardCharsets.UTF_8));
            } else if (unwrap(failure) instanceof RedisCommandExecutionException refused) {
                warnings.warn("[{}] Site '{}': the key of session {} cannot be read as a user id ({}); the session has no user",
                        ctx.nodeId(), site, fingerprint(sessionId), refused.getMessage());
                userId = null;
            } else {
                synchronized (lock) {
                    latestReads.remove(sessionId, sequence);
                }
                throw new CompletionException(new PushUnavailableException("Could not read session " + fingerprint(sessionId)
                        + " from Redis (" + connector.description() + ")", unwrap(failure)));
            }
            synchronized (lock) {
                if (latestReads.remove(sessionId, sequence)) {
                    apply(ctx, sessionId, userId);
                }
            }
            return userId;
        }, ctx.executor());
    }

    private @Nullable String userIdOf(String sessionId, String value) {
        if (isValidId(value)) {
            return value;
        }
        warnings.warn("[{}] Site '{}': session {} holds no valid user id (empty, longer than {} characters, or with control "
                + "characters); the session has no user", nodeId(), site, fingerprint(sessionId), MAX_ID_LENGTH);
        return null;
    }

    /** Moves this node's sockets of a session to the room of {@code userId}, or out of any. Holds the lock. */
    private void apply(GatewayContext ctx, String sessionId, @Nullable String userId) {
        for (ConnectionInfo socket : ctx.socketsOfSession(site, sessionId)) {
            String old = socket.userId();
            if (Objects.equals(old, userId)) {
                continue;
            }
            if (old != null) {
                ctx.executeLocally(SocketCommand.leave(site, socket.socketId(), Set.of(roomPrefix + old)));
            }
            String joined = userId;
            if (userId != null) {
                try {
                    ctx.executeLocally(SocketCommand.join(site, socket.socketId(), Set.of(roomPrefix + userId)));
                } catch (PushRefusedException e) {
                    warnings.warn("[{}] Site '{}': session {} cannot join the room of user '{}': {}", ctx.nodeId(), site,
                            fingerprint(sessionId), RateLimitedLog.excerpt(userId), e.getMessage());
                    joined = null;
                }
            }
            ctx.identify(site, socket.socketId(), sessionId, joined);
        }
    }

    /** Reads a changed session again if this node has sockets of it (on Lettuce's I/O thread). */
    private void onKeyspaceEvent(byte[] channel) {
        GatewayContext ctx = context;
        if (ctx == null) {
            return;
        }
        keyspaceEvents.incrementAndGet();
        String name = new String(channel, StandardCharsets.UTF_8);
        String prefix = keyspaceChannelPrefix + keyPrefix;
        if (!name.startsWith(prefix)) {
            return;
        }
        String sessionId = name.substring(prefix.length());
        if (ctx.socketsOfSession(site, sessionId).isEmpty()) {
            return;
        }
        reread(ctx, sessionId, 0);
    }

    /**
     * Reads a changed session; a read that fails (Redis slow or away) is tried again with a growing
     * delay, 250 ms up to 5 s, for about two minutes, while this node still has sockets of the
     * session: a logout must not be missed because one read timed out.
     */
    private void reread(GatewayContext ctx, String sessionId, int attempt) {
        read(ctx, sessionId).whenComplete((userId, failure) -> {
            if (failure == null || context != ctx || ctx.socketsOfSession(site, sessionId).isEmpty()) {
                return;
            }
            if (attempt >= REREAD_ATTEMPTS) {
                warnings.warn("[{}] Site '{}': gave up re-reading session {} after {} attempts: {}", ctx.nodeId(), site,
                        fingerprint(sessionId), attempt + 1, unwrap(failure).getMessage());
                return;
            }
            warnings.warn("[{}] Site '{}': {}; trying again", ctx.nodeId(), site, unwrap(failure).getMessage());
            long delay = Math.min(REREAD_MAX_DELAY_MILLIS, REREAD_FIRST_DELAY_MILLIS << Math.min(attempt, 5));
            CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, ctx.executor())
                    .execute(() -> reread(ctx, sessionId, attempt + 1));
        });
    }

    /**
     * How a session id appears in logs and errors: the first 8 hex digits of its SHA-256. A session
     * id is as good as a password (it is the web application's session cookie).
     */
    static String fingerprint(String sessionId) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(sessionId.getBytes(StandardCharsets.UTF_8));
            return "#" + java.util.HexFormat.of().formatHex(digest, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    // ---- notifications ------------------------------------------------------------------------

    /** Delivers a notification to this node's sockets of its users (on Lettuce's I/O thread). */
    private void onNotification(byte[] payload) {
        GatewayContext ctx = context;
        if (ctx == null) {
            return;
        }
        Notification notification;
        try {
            notification = Notification.parse(payload, maxMessageSize);
        } catch (Ingestion.Dropped e) {
            drop(ctx, e.reason(), e.getMessage());
            return;
        }
        notifications.incrementAndGet();
        // users whose room name would be too long, or break the rules of names, are left out (counted
        // once); the others still get it
        io.pushbridge.gateway.Limits limits = ctx.limits(site);
        List<String> rooms = new ArrayList<>(notification.users().size());
        int unusable = 0;
        String problem = null;
        for (String user : notification.users()) {
            String room = roomPrefix + user;
            io.pushbridge.gateway.Limits.NameProblem p = limits.roomName(room);
            if (p == null) {
                rooms.add(room);
            } else {
                unusable++;
                problem = p.loggable(); // user ids stay out of logs
            }
        }
        if (unusable > 0) {
            ctx.count(io.pushbridge.gateway.Limit.ROOM_NAME.counter(site));
            drop(ctx, Ingestion.Reason.INVALID, unusable + " of " + notification.users().size()
                    + " user id(s) make an invalid room name (" + problem + "); the others get it");
        }
        // a send names at most maxRoomsPerSend rooms; a socket is in one user room, so chunks reach it once
        // one notification counts once in pushbridge.messages.accepted, however many sends it takes
        int chunk = ctx.limits(site).maxRoomsPerSend();
        boolean counted = false;
        for (int from = 0; from < rooms.size(); from += chunk) {
            Set<String> part = new LinkedHashSet<>(rooms.subList(from, Math.min(rooms.size(), from + chunk)));
            try {
                ctx.emitLocally(new SendRequest(site, Target.rooms(part), notificationsEvent, List.of(notification.data()), false));
            } catch (PushRefusedException e) {
                drop(ctx, Ingestion.Reason.INVALID, RateLimitedLog.excerpt(e.getMessage()));
                return;
            }
            if (!counted) {
                ctx.countAccepted(site, MessageSource.REDIS);
                counted = true;
            }
        }
    }

    private void drop(GatewayContext ctx, Ingestion.Reason reason, String detail) {
        drops.drop(ctx, connector.description(), reason, detail);
    }

    // ---- lifecycle ----------------------------------------------------------------------------

    /**
     * Checks the keyspace notification settings (and sets them, if allowed), then subscribes to the
     * session keys' notifications and the notifications channel. Blocks until Redis confirmed, at
     * most a few seconds.
     *
     * @throws IllegalStateException when the site is unknown, Redis is a cluster, or keyspace
     *     notifications are off and may not be turned on (the message says how to fix it)
     * @throws PushBridgeException when Redis cannot be reached
     */
    @Override
    public void start(GatewayContext ctx) {
        Objects.requireNonNull(ctx, "context");
        if (!ctx.sites().contains(site)) {
            throw new IllegalStateException("Redis sessions: site '" + site + "' is not configured on this gateway (sites: "
                    + ctx.sites() + ")");
        }
        if (context != null) {
            throw new IllegalStateException("Redis sessions of site '" + site + "' are already started");
        }
        if (notificationsEvent.length() > ctx.limits(site).maxEventNameLength()) {
            throw new IllegalStateException("Redis sessions of site '" + site + "': notificationsEvent is longer than the "
                    + "site's maxEventNameLength (" + ctx.limits(site).maxEventNameLength() + ")");
        }
        int database = connector.database();
        await(checkKeyspaceEvents(ctx.nodeId()), "CONFIG GET notify-keyspace-events");
        keyspaceChannelPrefix = "__keyspace@" + database + "__:";
        String pattern = keyspaceChannelPrefix + escapeGlob(keyPrefix) + "*";
        StatefulRedisPubSubConnection<byte[], byte[]> c = connector.newPubSub();
        this.pubSub = c;
        this.context = ctx;
        c.addListener(new Listener());
        List<CompletableFuture<?>> subscriptions = new ArrayList<>();
        subscriptions.add(c.async().psubscribe(bytes(pattern)).toCompletableFuture());
        if (notificationsChannel != null) {
            subscriptions.add(c.async().subscribe(bytes(notificationsChannel)).toCompletableFuture());
        }
        await(CompletableFuture.allOf(subscriptions.toArray(CompletableFuture[]::new)), "SUBSCRIBE");
        log.info("[{}] Redis sessions of site '{}': keys '{}*' in database {} of {}, event '{}', rooms '{}<userId>', {}", ctx.nodeId(),
                site, keyPrefix, database, connector.description(), event, roomPrefix, notificationsChannel == null
                        ? "no notifications channel"
                        : "notifications on channel '" + notificationsChannel + "' as event '" + notificationsEvent + "'");
    }

    /**
     * Unsubscribes and closes the pub/sub connection (never the connector); waits for Redis at most
     * a second.
     */
    @Override
    public void stop() {
        String nodeId = nodeId();
        context = null;
        StatefulRedisPubSubConnection<byte[], byte[]> c = pubSub;
        pubSub = null;
        if (c == null) {
            return;
        }
        if (c.isOpen()) {
            List<CompletableFuture<?>> unsubscriptions = new ArrayList<>();
            unsubscriptions.add(c.async().punsubscribe().toCompletableFuture());
            if (notificationsChannel != null) {
                unsubscriptions.add(c.async().unsubscribe().toCompletableFuture());
            }
            try {
                CompletableFuture.allOf(unsubscriptions.toArray(CompletableFuture[]::new)).get(1, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                log.debug("[{}] Redis sessions of site '{}': unsubscribing failed ({}); closing the connection anyway", nodeId,
                        site, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        c.close();
        log.info("[{}] Redis sessions of site '{}' stopped", nodeId, site);
    }

    /**
     * Counters: {@code authenticated} (authenticate events whose session had a user),
     * {@code unknownSessions} (whose session had none), {@code keyspaceEvents}, {@code notifications}
     * (delivered), {@code resumes} (re-reads after a reconnect), and {@code dropped.<reason>} for each
     * reason a notification is dropped, the same reasons as the redis-handshake mode's:
     * {@code too_large}, {@code malformed_json}, {@code not_an_object}, {@code missing_field}
     * ({@code users} or {@code data}), {@code invalid} ({@code users} not a non-empty array of user
     * ids, or the gateway refused the emit, e.g. a room name too long). The log line says which.
     */
    public Map<String, Long> stats() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("authenticated", authenticated.get());
        m.put("unknownSessions", unknownSessions.get());
        m.put("keyspaceEvents", keyspaceEvents.get());
        m.put("notifications", notifications.get());
        m.put("resumes", resumes.get());
        m.putAll(drops.counts());
        return m;
    }

    // ---- keyspace notification settings ------------------------------------------------------

    /**
     * Completes when the settings are right (or were set, or cannot be read); fails with
     * {@link IllegalStateException} naming the fix when they are not and may not be set.
     */
    private CompletableFuture<Void> checkKeyspaceEvents(String nodeId) {
        return connector.commands().configGet("notify-keyspace-events").toCompletableFuture().handle((config, failure) -> {
            if (failure != null) {
                if (unwrap(failure) instanceof RedisCommandExecutionException refused) {
                    log.warn("[{}] Redis sessions of site '{}': Redis refused CONFIG GET ({}), so keyspace notifications cannot be "
                            + "checked; sockets follow session changes only if notify-keyspace-events includes '{}' (managed Redis "
                            + "services set it in their parameters)", nodeId, site, refused.getMessage(), REQUIRED_FLAGS);
                    return CompletableFuture.<Void>completedFuture(null);
                }
                return CompletableFuture.<Void>failedFuture(unwrap(failure));
            }
            String current = config.getOrDefault("notify-keyspace-events", "");
            String missing = missingFlags(current);
            if (missing.isEmpty()) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            String wanted = current + missing;
            if (!configureKeyspaceEvents) {
                return CompletableFuture.<Void>failedFuture(new IllegalStateException(notConfigured(current, missing, wanted)));
            }
            return connector.commands().configSet("notify-keyspace-events", wanted).toCompletableFuture().handle((ok, setFailure) -> {
                if (setFailure == null) {
                    log.info("[{}] Redis sessions of site '{}': set notify-keyspace-events from '{}' to '{}' in {} (add it to "
                            + "redis.conf too, or it is lost when Redis restarts without this gateway)", nodeId, site, current,
                            wanted, connector.description());
                    return (Void) null;
                }
                Throwable cause = unwrap(setFailure);
                if (cause instanceof RedisCommandExecutionException) {
                    throw new IllegalStateException(notConfigured(current, missing, wanted) + ". CONFIG SET was refused ("
                            + cause.getMessage() + "): managed Redis services often disable CONFIG; set the parameter "
                            + "notify-keyspace-events to '" + wanted + "' in the service's settings", cause);
                }
                throw new CompletionException(cause);
            });
        }).thenCompose(stage -> stage);
    }

    private String notConfigured(String current, String missing, String wanted) {
        return "Redis sessions of site '" + site + "' need keyspace notifications for the keys '" + keyPrefix + "*', but "
                + connector.description() + " has notify-keyspace-events '" + current + "' (missing: '" + missing + "'; needed: 'K' "
                + "and the classes '$', 'g', 'x', or 'KA'). Fix: redis-cli config set notify-keyspace-events '" + wanted
                + "' (and the same line in redis.conf), or set pushbridge.sites." + site
                + ".redis-session.configure-keyspace-events=true to let PushBridge run CONFIG SET at start (managed Redis "
                + "services may refuse CONFIG: then set it in the service's parameters)";
    }

    /** The flags of {@link #REQUIRED_FLAGS} that {@code current} lacks ({@code A} stands for the classes). */
    static String missingFlags(String current) {
        StringBuilder missing = new StringBuilder();
        for (char flag : REQUIRED_FLAGS.toCharArray()) {
            boolean covered = current.indexOf(flag) >= 0 || flag != 'K' && current.indexOf('A') >= 0;
            if (!covered) {
                missing.append(flag);
            }
        }
        return missing.toString();
    }


    /** A key prefix as a literal part of a PSUBSCRIBE pattern. */
    static String escapeGlob(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    // ---- after a reconnect --------------------------------------------------------------------

    private void onSubscribed(String name) {
        if (subscribedOnce.add(name)) {
            return; // the first subscription, at start
        }
        // a reconnect re-subscribes the pattern and the channel, one callback each: resume once
        if (resumePending.compareAndSet(false, true)) {
            GatewayContext ctx = context;
            if (ctx != null) {
                CompletableFuture.delayedExecutor(RESUME_DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS, ctx.executor()).execute(this::resume);
            }
        }
    }

    /** Checks the settings again, then reads every session of this node's sockets again. */
    private void resume() {
        resumePending.set(false);
        GatewayContext ctx = context;
        if (ctx == null) {
            return;
        }
        resumes.incrementAndGet();
        resume(ctx, 1);
    }

    /**
     * One attempt to resume. The pub/sub connection may be back before the command connection: an
     * attempt that finds Redis unavailable is retried, {@value #RESUME_ATTEMPTS} times at most.
     */
    private void resume(GatewayContext ctx, int attempt) {
        checkKeyspaceEvents(ctx.nodeId()).handleAsync((v, failure) -> {
            Throwable cause = failure == null ? null : unwrap(failure);
            if (cause instanceof IllegalStateException) {
                log.error("[{}] Redis sessions of site '{}': after a Redis reconnect, sockets no longer follow session changes: {}",
                        ctx.nodeId(), site, cause.getMessage());
            } else if (cause != null) {
                return CompletableFuture.failedFuture(cause);
            }
            Set<String> sessions = new LinkedHashSet<>();
            for (ConnectionInfo socket : ctx.sockets(site)) {
                if (socket.sessionId() != null) {
                    sessions.add(socket.sessionId());
                }
            }
            log.info("[{}] Redis sessions of site '{}' resubscribed after a Redis reconnect; reading {} session(s) again",
                    ctx.nodeId(), site, sessions.size());
            return CompletableFuture.allOf(sessions.stream().map(sessionId -> read(ctx, sessionId)).toArray(CompletableFuture[]::new));
        }, ctx.executor()).thenCompose(stage -> stage).whenComplete((v, failure) -> {
            if (failure == null || context != ctx) {
                return;
            }
            if (attempt < RESUME_ATTEMPTS) {
                log.debug("[{}] Redis sessions of site '{}': resuming failed ({}); trying again", ctx.nodeId(), site, failure.toString());
                CompletableFuture.delayedExecutor(RESUME_RETRY_MILLIS, TimeUnit.MILLISECONDS, ctx.executor())
                        .execute(() -> resume(ctx, attempt + 1));
            } else {
                log.error("[{}] Redis sessions of site '{}': could not read the sessions again after a Redis reconnect ({}); "
                        + "sockets may be in the rooms of stale sessions until their keys change", ctx.nodeId(), site,
                        unwrap(failure).getMessage());
            }
        });
    }

    /** Hands pub/sub traffic on; catches its own failures so that the subscription keeps running. */
    private final class Listener extends RedisPubSubAdapter<byte[], byte[]> {

        @Override
        public void message(byte[] channel, byte[] message) {
            try {
                onNotification(message);
            } catch (RuntimeException e) {
                log.error("Redis sessions of site '{}': a notification failed", site, e);
            }
        }

        @Override
        public void message(byte[] pattern, byte[] channel, byte[] message) {
            try {
                onKeyspaceEvent(channel);
            } catch (RuntimeException e) {
                log.error("Redis sessions of site '{}': a keyspace event failed", site, e);
            }
        }

        @Override
        public void subscribed(byte[] channel, long count) {
            onSubscribed("channel " + new String(channel, StandardCharsets.UTF_8));
        }

        @Override
        public void psubscribed(byte[] pattern, long count) {
            onSubscribed("pattern " + new String(pattern, StandardCharsets.UTF_8));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private String nodeId() {
        GatewayContext ctx = context;
        return ctx == null ? "-" : ctx.nodeId();
    }

    private <T> T await(CompletableFuture<T> stage, String what) {
        try {
            return stage.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof IllegalStateException illegal) {
                throw illegal;
            }
            throw new PushBridgeException("Redis sessions of site '" + site + "': " + what + " failed on "
                    + connector.description() + ": " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new PushBridgeException("Redis sessions of site '" + site + "': " + what + " got no answer from "
                    + connector.description() + " within " + START_TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PushBridgeException("Redis sessions of site '" + site + "': interrupted while starting", e);
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "RedisSessions[" + site + ", keys '" + keyPrefix + "*', " + connector.description() + "]";
    }

    /** Builds {@link RedisSessions}; {@link #build()} checks every value and names the bad one. */
    public static final class Builder {

        private final String site;
        private @Nullable RedisConnector redis;
        private String keyPrefix = DEFAULT_KEY_PREFIX;
        private String event = DEFAULT_EVENT;
        private String roomPrefix = SiteOptions.DEFAULT_USER_ROOM_PREFIX;
        private @Nullable String notificationsChannel = DEFAULT_NOTIFICATIONS_CHANNEL;
        private String notificationsEvent = DEFAULT_NOTIFICATIONS_EVENT;
        private boolean configureKeyspaceEvents;
        private int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;

        private Builder(String site) {
            this.site = site;
        }

        /** The Redis that holds the session keys (required); the caller owns and closes it. */
        public Builder redis(RedisConnector redis) {
            this.redis = redis;
            return this;
        }

        /** The session key is this prefix and the session id; default {@value #DEFAULT_KEY_PREFIX}. */
        public Builder keyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
            return this;
        }

        /** The client event that carries {@code {sessionId}}; default {@value #DEFAULT_EVENT}. */
        public Builder event(String event) {
            this.event = event;
            return this;
        }

        /** A user's room is this prefix and the user id; give the site's user room prefix (default {@code user_}). */
        public Builder roomPrefix(String roomPrefix) {
            this.roomPrefix = roomPrefix;
            return this;
        }

        /** The channel the application publishes notifications on; {@code null} or empty: none. Default {@value #DEFAULT_NOTIFICATIONS_CHANNEL}. */
        public Builder notificationsChannel(@Nullable String channel) {
            this.notificationsChannel = channel;
            return this;
        }

        /** The event clients receive notifications as; default {@value #DEFAULT_NOTIFICATIONS_EVENT}. */
        public Builder notificationsEvent(String event) {
            this.notificationsEvent = event;
            return this;
        }

        /**
         * Whether {@link RedisSessions#start} may turn keyspace notifications on with
         * {@code CONFIG SET} (adding what is missing to the current flags); default {@code false}:
         * start fails and says how to turn them on.
         */
        public Builder configureKeyspaceEvents(boolean configure) {
            this.configureKeyspaceEvents = configure;
            return this;
        }

        /** The largest notification accepted, in bytes; default {@value #DEFAULT_MAX_MESSAGE_SIZE}. */
        public Builder maxMessageSize(int bytes) {
            this.maxMessageSize = bytes;
            return this;
        }

        public RedisSessions build() {
            String where = "Redis sessions of site '" + site + "': ";
            if (site == null || site.isEmpty()) {
                throw new IllegalArgumentException("Redis sessions: the site name is required");
            }
            if (redis == null) {
                throw new IllegalArgumentException(where + "redis is required");
            }
            if (redis.isCluster()) {
                throw new IllegalArgumentException(where + "Redis Cluster is not supported (keyspace notifications are "
                        + "published per shard); use a standalone or Sentinel Redis for the session keys");
            }
            if (keyPrefix == null || io.pushbridge.gateway.Limits.hasControlCharacters(keyPrefix)) {
                throw new IllegalArgumentException(where + "keyPrefix '" + keyPrefix + "' is invalid (use \"\" for none)");
            }
            if (event == null || event.isEmpty() || io.pushbridge.gateway.Limits.hasControlCharacters(event)) {
                throw new IllegalArgumentException(where + "event '" + event + "' is invalid");
            }
            if (roomPrefix == null || io.pushbridge.gateway.Limits.hasControlCharacters(roomPrefix)) {
                throw new IllegalArgumentException(where + "roomPrefix '" + roomPrefix + "' is invalid (use \"\" for none)");
            }
            if (notificationsChannel != null && io.pushbridge.gateway.Limits.hasControlCharacters(notificationsChannel)) {
                throw new IllegalArgumentException(where + "notificationsChannel must not contain control characters");
            }
            if (notificationsEvent == null || notificationsEvent.isEmpty() || io.pushbridge.gateway.Limits.hasControlCharacters(notificationsEvent)) {
                throw new IllegalArgumentException(where + "notificationsEvent '" + notificationsEvent + "' is invalid");
            }
            if (SiteOptions.isReservedEvent(notificationsEvent)) {
                throw new IllegalArgumentException(where + "notificationsEvent '" + notificationsEvent
                        + "' is reserved (Socket.IO and PushBridge use it)");
            }
            if (maxMessageSize <= 0) {
                throw new IllegalArgumentException(where + "maxMessageSize must be > 0, got " + maxMessageSize);
            }
            return new RedisSessions(this);
        }
    }
}
