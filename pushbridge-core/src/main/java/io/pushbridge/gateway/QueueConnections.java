package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records in the store which sockets have a user queue open: opening (and reading what is pending)
 * when a socket is admitted with a user room or joins one, closing when it leaves the room or
 * closes. Every store call starts on the workers, never on a Netty I/O thread.
 */
final class QueueConnections {

    private static final Logger log = LoggerFactory.getLogger(QueueConnections.class);

    private final MessageStore store;
    private final Executor executor;
    private final GatewayStats stats;
    private final InFlight inFlight;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);

    QueueConnections(MessageStore store, Executor executor, GatewayStats stats, InFlight inFlight) {
        this.store = store;
        this.executor = executor;
        this.stats = stats;
        this.inFlight = inFlight;
    }

    /**
     * Opens a socket's connection to a user queue ({@code connectionOpened}), then reads what is
     * pending there ({@code takePending}).
     *
     * @param opened completed with whether the open succeeded (a later {@link #close} waits for it)
     * @return the pending batch; fails if either store call fails
     */
    CompletableFuture<SiteSocket.PendingBatch> open(UserQueue queue, CompletableFuture<Boolean> opened) {
        CompletableFuture<Void> open = CompletableFuture.supplyAsync(() -> store.connectionOpened(queue), executor)
                .thenCompose(stage -> stage);
        open.whenComplete((v, failure) -> opened.complete(failure == null));
        return open.thenCompose(v -> store.takePending(queue))
                .thenApply(p -> new SiteSocket.PendingBatch(queue.room(), p.messages(), p.resyncRequired()))
                .toCompletableFuture();
    }

    /**
     * Closes a socket's connection to a user queue ({@code connectionClosed}) once its open has
     * completed, and only if the open succeeded. Call it once per open. Failures are logged and
     * counted ({@code queues.close_failed}). A draining gateway waits for it ({@link InFlight.Kind#CLEANUPS}).
     */
    void close(UserQueue queue, CompletableFuture<Boolean> opened) {
        inFlight.track(InFlight.Kind.CLEANUPS, opened.thenComposeAsync(ok -> {
            if (!ok) {
                return CompletableFuture.<Void>completedFuture(null);
            }
            CompletableFuture<Void> closed;
            try {
                closed = store.connectionClosed(queue).toCompletableFuture();
            } catch (RuntimeException e) {
                closed = CompletableFuture.failedFuture(e);
            }
            return closed.whenComplete((v, failure) -> {
                if (failure != null) {
                    stats.increment("queues.close_failed");
                    failureLog.warn("Could not record the closed connection of {}: {}", queue, failure.toString());
                }
            });
        }, executor));
    }
}
