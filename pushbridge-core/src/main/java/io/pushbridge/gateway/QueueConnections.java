package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import io.pushbridge.metrics.ResyncReason;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records in the store which sockets have a user queue open: opening (and reading what is pending)
 * when a socket is admitted with a user room or joins one, closing when it leaves the room or
 * closes. Every store call starts on the workers, never on a Netty I/O thread. Counts the resyncs
 * asked because a queue expired holding messages, which only a read of the queue finds out.
 */
final class QueueConnections {

    private static final Logger log = LoggerFactory.getLogger(QueueConnections.class);

    private final MessageStore store;
    private final Executor executor;
    private final GatewayStats stats;
    private final InFlight inFlight;
    private final Map<String, SiteRuntime> sitesByName;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);

    QueueConnections(MessageStore store, Executor executor, GatewayStats stats, InFlight inFlight,
            Map<String, SiteRuntime> sitesByName) {
        this.store = store;
        this.executor = executor;
        this.stats = stats;
        this.inFlight = inFlight;
        this.sitesByName = sitesByName;
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
                .thenApply(p -> batch(queue, p))
                .toCompletableFuture();
    }

    /**
     * What a read of a queue gives its socket. A resync the store asks because an earlier queue of
     * the user expired holding messages is counted here ({@code resyncs.expiry}, and the
     * {@code pushbridge.resyncs} meter with reason {@code expiry}): the store hands that mark out
     * once. An overflow's mark was counted when the overflow happened.
     */
    SiteSocket.PendingBatch batch(UserQueue queue, MessageStore.Pending pending) {
        if (pending.resyncCause() == MessageStore.ResyncCause.EXPIRY) {
            stats.increment("resyncs.expiry");
            SiteRuntime site = sitesByName.get(queue.site());
            if (site != null) {
                site.meters().resync(ResyncReason.EXPIRY, 1);
            }
        }
        return new SiteSocket.PendingBatch(queue.room(), pending.messages(), pending.resyncRequired());
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
