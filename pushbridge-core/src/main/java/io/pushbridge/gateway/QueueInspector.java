package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import io.pushbridge.MessageStore.QueueSnapshot;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.UserQueue;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue inspector, for operators: reads one user's ack queue (depth, age of the oldest message,
 * open connections, resync mark) and purges it ({@link MessageStore#purge}). The gateway's admin
 * surface ({@code <admin page path>/queue}) and the Spring Boot actuator endpoint both answer
 * through it.
 *
 * <p><b>Off by default</b> ({@link GatewayOptions#queueInspector()}): while it is off every call is
 * refused with {@code queue_inspector_off} before anything else is looked at. Who may call it is the
 * concern of the surface in front (the admin key, the actuator's security).
 *
 * <p><b>Logs.</b> Every use is logged at INFO, one line naming the caller, the site and a
 * {@link #fingerprint fingerprint} of the room (never the room itself, never message contents);
 * refusals at WARN, at most one line a second. Counters: {@code admin.queue.inspected},
 * {@code admin.queue.purged}, {@code admin.queue.refused}, {@code admin.queue.failed}.
 *
 * <p>Thread-safe; every method answers at once with a stage, which completes on the store's thread.
 */
public final class QueueInspector {

    private static final Logger log = LoggerFactory.getLogger(QueueInspector.class);
    /** How long a store call may take before the inspector answers that the store is unavailable. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final String nodeId;
    private final boolean enabled;
    private final GatewayOptions options;
    private final Map<String, SiteRuntime> sites;
    private final MessageStore store;
    private final GatewayStats stats;
    private final Clock clock;
    private final RateLimitedLog refusals = new RateLimitedLog(log, 1000);

    QueueInspector(GatewayOptions options, Map<String, SiteRuntime> sites, MessageStore store, GatewayStats stats) {
        this.nodeId = options.nodeId();
        this.enabled = options.queueInspector();
        this.options = options;
        this.sites = sites;
        this.store = store;
        this.stats = stats;
        this.clock = options.clock();
    }

    /** Whether the inspector answers ({@link GatewayOptions#queueInspector()}). */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Reads one queue. Fails with {@link Refused} (inspector off, bad or unknown site, a room that
     * is not a user room of the site, a store that cannot inspect) or
     * {@link PushUnavailableException} (the store failed or did not answer in time).
     *
     * @param caller who asks, for the log line (such as {@code admin page from 10.0.0.7})
     */
    public CompletionStage<QueueReport> inspect(@Nullable String site, @Nullable String room, String caller) {
        UserQueue queue;
        try {
            queue = check(site, room, "read", caller);
        } catch (Refused e) {
            return CompletableFuture.failedFuture(e);
        }
        return call(() -> store.inspect(queue)).handle((snapshot, failure) -> {
            if (failure != null) {
                throw failed("read", queue, caller, failure);
            }
            stats.increment("admin.queue.inspected");
            log.info("[{}] Queue inspector ({}): read the queue of site '{}', room #{}: {} pending, {} connection(s){}", nodeId,
                    printable(caller), queue.site(), fingerprint(queue.room()), snapshot.depth(), snapshot.connections(),
                    snapshot.resyncRequired() ? ", marked for resync" : "");
            return report(queue, snapshot);
        });
    }

    /**
     * Purges one queue: drops its messages and its resync mark ({@link MessageStore#purge}); its
     * user's connections stay. Answers how many messages it dropped. Fails as {@link #inspect} does.
     *
     * @param caller who asks, for the log line
     */
    public CompletionStage<PurgeReport> purge(@Nullable String site, @Nullable String room, String caller) {
        UserQueue queue;
        try {
            queue = check(site, room, "purge", caller);
        } catch (Refused e) {
            return CompletableFuture.failedFuture(e);
        }
        // one store call that counts what it drops: a message appended meanwhile is both dropped and counted
        return call(() -> store.purge(queue))
                .handle((purged, failure) -> {
                    if (failure != null) {
                        throw failed("purge", queue, caller, failure);
                    }
                    stats.increment("admin.queue.purged");
                    log.info("[{}] Queue inspector ({}): purged the queue of site '{}', room #{}: {} message(s) dropped", nodeId,
                            printable(caller), queue.site(), fingerprint(queue.room()), purged);
                    return new PurgeReport(queue.site(), queue.room(), purged);
                });
    }

    /**
     * A short fingerprint of a room for logs: the first 12 hex digits of the SHA-256 of its UTF-8
     * bytes ({@code printf '%s' user_42 | sha256sum | cut -c1-12}). It lets an operator check
     * whether a log line is about a room they know, without the log naming anyone.
     */
    public static String fingerprint(String room) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(room.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private UserQueue check(@Nullable String site, @Nullable String room, String action, String caller) {
        if (!enabled) {
            throw refused(action, caller, site, new Refused("queue_inspector_off", 403,
                    "The queue inspector is off; turn it on with pushbridge.admin.queue-inspector=true"));
        }
        if (site == null || site.isBlank()) {
            throw refused(action, caller, null, new Refused("invalid_request", 400, "site is required"));
        }
        SiteRuntime runtime = sites.get(site);
        if (runtime == null) {
            throw refused(action, caller, null, new Refused("unknown_site", 404, "No such site"));
        }
        SiteOptions siteOptions = runtime.options();
        if (room == null || room.isEmpty()) {
            throw refused(action, caller, site, new Refused("invalid_request", 400, "room is required"));
        }
        int maxRoomNameLength = siteOptions.limits().resolve(options).maxRoomNameLength();
        if (room.length() > maxRoomNameLength) {
            throw refused(action, caller, site, new Refused("invalid_request", 400,
                    "room must have at most " + maxRoomNameLength + " characters"));
        }
        if (room.chars().anyMatch(Character::isISOControl)) {
            throw refused(action, caller, site, new Refused("invalid_request", 400, "room must not contain control characters"));
        }
        if (!siteOptions.isUserRoom(room)) {
            throw refused(action, caller, site, new Refused("not_a_user_room", 400, siteOptions.userRoomPrefix().isEmpty()
                    ? "site '" + site + "' has no user rooms (its user room prefix is empty), so it keeps no queues"
                    : "room is not a user room of site '" + site + "' (user rooms start with '" + siteOptions.userRoomPrefix()
                            + "'); only user rooms have queues"));
        }
        return new UserQueue(site, room);
    }

    private Refused refused(String action, String caller, @Nullable String site, Refused refusal) {
        stats.increment("admin.queue.refused");
        refusals.warn("[{}] Queue inspector ({}): refused to {} a queue{}: {}", nodeId, printable(caller), action,
                site == null || !sites.containsKey(site) ? "" : " of site '" + site + "'", refusal.code());
        return refusal;
    }

    private RuntimeException failed(String action, UserQueue queue, String caller, Throwable failure) {
        Throwable cause = Dispatcher.unwrap(failure);
        if (cause instanceof UnsupportedOperationException) {
            stats.increment("admin.queue.refused");
            return new CompletionException(new Refused("unsupported", 501,
                    "The message store (" + store.getClass().getSimpleName() + ") cannot inspect queues"));
        }
        stats.increment("admin.queue.failed");
        log.warn("[{}] Queue inspector ({}): could not {} the queue of site '{}', room #{}: {}", nodeId, printable(caller), action,
                queue.site(), fingerprint(queue.room()), cause.toString());
        if (cause instanceof PushUnavailableException unavailable) {
            return new CompletionException(unavailable);
        }
        String what = cause instanceof TimeoutException ? "did not answer within " + TIMEOUT.toSeconds() + " s" : "failed";
        return new CompletionException(new PushUnavailableException("The message store " + what, cause));
    }

    private static <T> CompletableFuture<T> call(java.util.function.Supplier<CompletionStage<T>> call) {
        return Stages.bounded(call, TIMEOUT);
    }

    private QueueReport report(UserQueue queue, QueueSnapshot snapshot) {
        long oldest = snapshot.depth() == 0 ? 0 : snapshot.oldestCreatedAtMillis();
        long age = oldest == 0 ? 0 : Math.max(0, clock.millis() - oldest);
        return new QueueReport(queue.site(), queue.room(), snapshot.depth(), oldest, age, snapshot.connections(),
                snapshot.resyncRequired());
    }

    /** A caller's description without control characters (it may come from a request), at most 200 characters. */
    static String printable(String caller) {
        String s = caller.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    /**
     * One queue as the inspector found it.
     *
     * @param depth pending messages
     * @param oldestCreatedAtMillis when the oldest pending message was accepted (epoch ms), 0 when none
     * @param oldestAgeMillis how long ago that was, 0 when none
     * @param connections open connections of the user, on every node
     * @param resyncRequired whether an overflow marked the queue for resync (its user's client is
     *     told on its next connect)
     */
    public record QueueReport(String site, String room, int depth, long oldestCreatedAtMillis, long oldestAgeMillis,
            int connections, boolean resyncRequired) {

        /** The JSON form of both admin surfaces. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("site", site);
            m.put("room", room);
            m.put("depth", depth);
            m.put("oldestCreatedAt", oldestCreatedAtMillis);
            m.put("oldestAgeMillis", oldestAgeMillis);
            m.put("connections", connections);
            m.put("resyncRequired", resyncRequired);
            return m;
        }
    }

    /**
     * What a purge did.
     *
     * @param purged the messages the purge dropped
     */
    public record PurgeReport(String site, String room, int purged) {

        /** The JSON form of both admin surfaces. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("site", site);
            m.put("room", room);
            m.put("purged", purged);
            return m;
        }
    }

    /**
     * What both admin surfaces (the admin page, the actuator endpoint) answer for a call of the
     * inspector that failed with {@code failure} (wrapped or not): the refusal's status and code,
     * 503 {@code unavailable} when the store is unavailable, else 500 {@code internal} with the
     * unexpected cause, which the surface logs.
     */
    public static ErrorAnswer errorAnswer(Throwable failure) {
        Throwable cause = Dispatcher.unwrap(failure);
        if (cause instanceof java.util.concurrent.ExecutionException && cause.getCause() != null) {
            cause = Dispatcher.unwrap(cause.getCause());
        }
        if (cause instanceof Refused refused) {
            return new ErrorAnswer(refused.status(), refused.code(), String.valueOf(refused.getMessage()), null);
        }
        if (cause instanceof PushUnavailableException || cause instanceof TimeoutException) {
            return new ErrorAnswer(503, "unavailable", "The message store is unavailable, retry later", null);
        }
        return new ErrorAnswer(500, "internal", "Internal error", cause);
    }

    /**
     * An error answer of the admin surfaces.
     *
     * @param unexpected the cause of a 500, to be logged; null otherwise
     */
    public record ErrorAnswer(int status, String code, String message, @Nullable Throwable unexpected) {
    }

    /**
     * The inspector refused a request; nothing was read or changed. {@link #code()} and
     * {@link #status()} are what the HTTP surfaces answer: {@code queue_inspector_off} (403),
     * {@code invalid_request} (400), {@code unknown_site} (404), {@code not_a_user_room} (400),
     * {@code unsupported} (501, a store without {@link MessageStore#inspect}).
     */
    public static final class Refused extends PushBridgeException {

        private static final long serialVersionUID = 1L;

        private final String code;
        private final int status;

        Refused(String code, int status, String message) {
            super(message);
            this.code = code;
            this.status = status;
        }

        public String code() {
            return code;
        }

        /** The HTTP status the admin surfaces answer with. */
        public int status() {
            return status;
        }
    }
}
