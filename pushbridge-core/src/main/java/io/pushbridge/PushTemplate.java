package io.pushbridge;

import java.util.concurrent.CompletionStage;

/**
 * Sends events to the clients of a site. The in-process equivalent of the HTTP send API: both go
 * through the same validation, queueing and routing.
 *
 * <pre>{@code
 * push.site("newsite")
 *     .to("user_1", "staff")
 *     .event("update_store")
 *     .args("user", Map.of("id", 1, "age", 5))
 *     .resync(true)
 *     .send()
 *     .thenAccept(result -> log.info("sent {} to {} queues", result.idString(), result.queued()));
 * }</pre>
 *
 * <p>Sends never block: the stage completes once every user queue holds the message and it has been
 * handed to the router. It fails with {@link PushRefusedException} for a bad request or one over the
 * site's limits (nothing was stored; {@code RATE_LIMITED}, beyond the site's sends per second on
 * this node, says how long to wait in {@link PushRefusedException#retryAfter()}) and with
 * {@link PushUnavailableException} when the store or router is down.
 * Thread-safe; share one instance.
 */
public interface PushTemplate {

    /** Starts a fluent send to a site. */
    default SendBuilder site(String site) {
        return new SendBuilder(this, site);
    }

    /** Sends a fully built request. */
    CompletionStage<SendResult> send(SendRequest request);

    /**
     * Makes a socket join rooms, on whichever node holds it. Joining a user room opens that user's
     * queue for the socket: its pending messages arrive as a {@code batch}, later ones with acks.
     * Completes once the command is handed to the router (nothing happens for a socket that is
     * gone); fails with {@link PushRefusedException} for an unknown site or bad room names, and with
     * {@link PushUnavailableException} when the router is down.
     */
    CompletionStage<Void> join(String site, String socketId, java.util.Set<String> rooms);

    /** Makes a socket leave rooms, on whichever node holds it; completes and fails as {@link #join}. */
    CompletionStage<Void> leave(String site, String socketId, java.util.Set<String> rooms);

    /**
     * Disconnects a socket from its site, on whichever node holds it; its user queues keep their
     * messages. Completes and fails as {@link #join}.
     */
    CompletionStage<Void> disconnect(String site, String socketId);

    /**
     * Sends a custom command to the gateway nodes that hold the target's sockets (every node, for
     * {@link Target#site()}), where the site's {@link GatewayCommandHandler} for {@code type}
     * receives it with its local recipients. Checked like a send (site, type as an event name,
     * rooms, size); completes once the command is handed to the router.
     *
     * @throws UnsupportedOperationException (in the stage) from templates that cannot route commands
     */
    default CompletionStage<Void> command(String site, Target target, String type, java.util.Map<String, Object> data) {
        return java.util.concurrent.CompletableFuture.failedFuture(
                new UnsupportedOperationException(getClass().getSimpleName() + " cannot send commands"));
    }
}
