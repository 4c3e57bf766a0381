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
 * handed to the router. It fails with {@link PushRefusedException} for a bad request (nothing was
 * stored) and with {@link PushUnavailableException} when the store or router is down.
 * Thread-safe; share one instance.
 */
public interface PushTemplate {

    /** Starts a fluent send to a site. */
    default SendBuilder site(String site) {
        return new SendBuilder(this, site);
    }

    /** Sends a fully built request. */
    CompletionStage<SendResult> send(SendRequest request);
}
