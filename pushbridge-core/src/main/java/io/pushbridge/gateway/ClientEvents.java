package io.pushbridge.gateway;

import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.ClientEvent;
import io.pushbridge.ClientEventHandler;
import io.pushbridge.PushRefusedException;
import io.pushbridge.SocketListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the events clients emit to the site's {@link ClientEventHandler}s (a named one, else the
 * site's handler of any event): on the workers, one event
 * of a socket after the other, at most {@code maxPending} waiting per socket, each answered within
 * the timeout. The client's callback, when it passed one, gets the handler's answer or an error
 * object {@code {"error": {"code", "message"}}}.
 *
 * <p>Counters: {@code events.received}, {@code events.handled}, {@code events.unhandled} (no
 * handler), {@code events.refused.too_many_pending}, {@code events.refused.<reason>} (the handler
 * refused it, or the name was invalid: then also {@code dropped.invalid_event}),
 * {@code events.refused.rate_limited} (more than {@code maxEventsPerSecond}),
 * {@code events.refused.binary} (events with binary arguments, which no handler takes yet),
 * {@code events.failed} (the handler failed, or no worker took the event; the client gets
 * {@code "unavailable"} then), {@code events.timeout}, {@code listeners.failed}. The limit hits
 * (the site's {@code maxEventsPerSecond}, an event name against the rules of {@link Limits}) also
 * count as {@code limits.<site>.events_per_second} and {@code limits.<site>.event_name}.
 *
 * <p>The site's {@link SocketListener}s run in the same per-socket order: {@code connected}, the
 * events, {@code disconnected}. Events a client sent before it left are still handled (a handler
 * that acts on the socket finds it gone).
 *
 * <p>The executor is the gateway's own pool, not the one that runs refused tasks on the caller: a
 * handler must never run on a Netty I/O thread.
 */
final class ClientEvents {

    private static final Logger log = LoggerFactory.getLogger(ClientEvents.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Executor executor;
    private final GatewayStats stats;
    private final Duration timeout;
    private final int maxPending;
    private final java.util.function.LongSupplier ticker;
    private final String nodeId;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);

    ClientEvents(Executor executor, GatewayStats stats, GatewayOptions options) {
        this.executor = executor;
        this.stats = stats;
        this.timeout = options.eventTimeout();
        this.maxPending = options.maxPendingEvents();
        this.ticker = options.ticker();
        this.nodeId = options.nodeId();
    }

    /** An EVENT packet of an admitted socket. Runs on the socket's I/O thread and does not block. */
    void received(SiteSocket socket, SioPacket packet) {
        stats.increment("events.received");
        JsonNode data = packet.data();
        String name = data.get(0).asText();
        long ackId = packet.ackId();
        Limits limits = socket.site().limits();
        String nameProblem = limits.eventNameProblem(name);
        if (nameProblem != null || Dispatcher.RESERVED_EVENTS.contains(name)) {
            // what no Socket.IO client library sends: refused before any handler sees it
            stats.increment("events.refused.invalid");
            stats.increment("dropped.invalid_event");
            if (nameProblem != null && !name.isEmpty()) {
                stats.increment(Limit.EVENT_NAME.counter(socket.site().options().name()));
            }
            failureLog.warn("Refused an event of {} with an invalid or reserved name: {}", socket,
                    nameProblem != null ? nameProblem : "reserved");
            answerError(socket, ackId, "invalid", "Invalid or reserved event name");
            return;
        }
        ClientEventHandler handler = socket.site().options().eventHandler(name);
        if (handler == null) {
            stats.increment("events.unhandled");
            log.debug("No handler for event '{}' of {}", name, socket);
            answerError(socket, ackId, "unknown_event", "No handler for this event");
            return;
        }
        int maxPerSecond = limits.maxEventsPerSecond();
        if (!socket.takeEventToken(maxPerSecond, ticker.getAsLong())) {
            stats.increment("events.refused.rate_limited");
            stats.increment(Limit.EVENTS_PER_SECOND.counter(socket.site().options().name()));
            failureLog.warn("Refused event '{}' of {}: more than {} events a second", name, socket, maxPerSecond);
            answerError(socket, ackId, "rate_limited", "Too many events, slow down");
            return;
        }
        List<Object> args = new ArrayList<>(data.size() - 1);
        for (int i = 1; i < data.size(); i++) {
            args.add(JSON.convertValue(data.get(i), Object.class));
        }
        boolean queued = socket.enqueueEvent(maxPending, () -> handle(socket, handler, name, args, ackId), () -> {
            stats.increment("events.failed");
            failureLog.warn("Could not hand event '{}' of {} to a worker (the gateway is stopping or its executor is full)",
                    name, socket);
            answerError(socket, ackId, "unavailable", "The event could not be handled now, retry later");
        }, executor);
        if (!queued) {
            if (!socket.isClosed()) {
                stats.increment("events.refused.too_many_pending");
                failureLog.warn("Refused event '{}' of {}: {} events are still being handled", name, socket, maxPending);
                answerError(socket, ackId, "too_many_pending", "Too many events waiting for an answer");
            }
        }
    }

    /**
     * A BINARY_EVENT packet of an admitted socket: handlers take JSON arguments only, so it is
     * refused, its callback answered with code {@code unsupported}, and counted
     * ({@code events.refused.binary}). Runs on the socket's I/O thread.
     */
    void binaryRefused(SiteSocket socket, SioPacket packet) {
        stats.increment("events.refused.binary");
        failureLog.warn("Refused an event with binary arguments of {}: not supported", socket);
        answerError(socket, packet.ackId(), "unsupported", "Events with binary arguments are not supported");
    }

    /** Runs the handler (on a worker) and answers the callback; the stage completes when it is done. */
    private CompletableFuture<Void> handle(SiteSocket socket, ClientEventHandler handler, String name, List<Object> args,
            long ackId) {
        ClientEvent event = new ClientEvent(socket.site().options().name(), socket.id(), name, args, ackId >= 0,
                socket.request());
        CompletableFuture<List<Object>> answer;
        try {
            CompletionStage<List<Object>> stage = handler.handle(event);
            answer = stage == null ? CompletableFuture.completedFuture(null) : stage.toCompletableFuture();
        } catch (RuntimeException | Error e) {
            // an Error too: the client gets its answer and the socket's next events still run
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).handle((result, failure) -> {
            if (failure == null) {
                stats.increment("events.handled");
                answer(socket, ackId, result == null ? List.of() : result);
                return null;
            }
            Throwable cause = Dispatcher.unwrap(failure);
            if (cause instanceof PushRefusedException refused) {
                String code = refused.reason().name().toLowerCase(Locale.ROOT);
                stats.increment("events.refused." + code);
                answerError(socket, ackId, code, String.join("; ", refused.problems()));
            } else if (cause instanceof TimeoutException) {
                stats.increment("events.timeout");
                failureLog.warn("The handler of event '{}' did not answer {} within {} ms", name, socket, timeout.toMillis());
                answerError(socket, ackId, "timeout", "No answer in time");
            } else {
                stats.increment("events.failed");
                failureLog.warn("The handler of event '{}' failed for {}: {}", name, socket, cause.toString());
                answerError(socket, ackId, "error", "The event could not be handled");
            }
            return null;
        });
    }

    // ---- listeners -----------------------------------------------------------------------------

    /** The socket was opened: its listeners hear {@code connected}, before any of its events. */
    void connected(SiteSocket socket) {
        List<SocketListener> listeners = socket.site().options().listeners();
        if (!listeners.isEmpty()) {
            socket.enqueueLifecycle(() -> each(socket, listeners, l -> l.connected(socket.info(nodeId)), "connected"),
                    () -> refused(socket, "connected"), executor);
        }
    }

    /** A socket that was open closed: its listeners hear {@code disconnected}, after its events. */
    void disconnected(SiteSocket socket, String reason) {
        List<SocketListener> listeners = socket.site().options().listeners();
        if (!listeners.isEmpty() && socket.wasOpen()) {
            io.pushbridge.ConnectionInfo info = socket.info(nodeId);
            socket.enqueueLifecycle(() -> each(socket, listeners, l -> l.disconnected(info, reason), "disconnected"),
                    () -> refused(socket, "disconnected"), executor);
        }
    }

    /** Calls each listener in turn (the next after the previous one's stage); completes after the last. */
    private CompletableFuture<Void> each(SiteSocket socket, List<SocketListener> listeners,
            java.util.function.Function<SocketListener, CompletionStage<Void>> call, String what) {
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        for (SocketListener listener : listeners) {
            done = done.thenCompose(v -> {
                CompletableFuture<Void> stage;
                try {
                    CompletionStage<Void> s = call.apply(listener);
                    stage = s == null ? CompletableFuture.completedFuture(null) : s.toCompletableFuture();
                } catch (RuntimeException | Error e) {
                    stage = CompletableFuture.failedFuture(e);
                }
                return stage.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).handle((x, failure) -> {
                    if (failure != null) {
                        stats.increment("listeners.failed");
                        failureLog.warn("A listener failed on {} of {}: {}", what, socket, Dispatcher.unwrap(failure).toString());
                    }
                    return null;
                });
            });
        }
        return done;
    }

    private void refused(SiteSocket socket, String what) {
        stats.increment("listeners.failed");
        failureLog.warn("Could not hand {} of {} to a worker (the gateway is stopping or its executor is full)", what, socket);
    }

    private static void answerError(SiteSocket socket, long ackId, String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        answer(socket, ackId, List.of(Map.of("error", error)));
    }

    /** Sends an ACK packet with these arguments, if the client asked for one and is still there. */
    private static void answer(SiteSocket socket, long ackId, @Nullable List<Object> args) {
        if (ackId < 0 || socket.isClosed()) {
            return;
        }
        Packet packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        packet.setSubType(PacketType.ACK);
        packet.setAckId(ackId);
        packet.setData(args == null ? List.of() : args);
        socket.client().send(packet);
    }
}
