package io.pushbridge;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Hears the sockets of a site come and go, registered with {@code SiteOptions.Builder.listener}.
 *
 * <p>Called on a PushBridge worker thread, never on a Netty I/O thread, in one order per socket:
 * {@link #connected} once the client learned it is connected, then the socket's events (to their
 * {@link ClientEventHandler}s) in the order sent, then {@link #disconnected} after the last of them.
 * The next call for a socket waits until the stage of the previous one completed, so a listener
 * that records something asynchronously keeps that order. A stage that fails is logged and counted
 * ({@code listeners.failed}); it stops nothing. Implementations must be thread-safe.
 */
public interface SocketListener {

    /** A socket was admitted and its client has its CONNECT answer. */
    default CompletionStage<Void> connected(ConnectionInfo socket) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * A socket that {@link #connected} was called for is gone.
     *
     * @param reason as Socket.IO names it: {@code client namespace disconnect} (the client left),
     *     {@code server namespace disconnect} (a {@code disconnect} command), {@code transport close}
     *     (the connection dropped or timed out), {@code client too slow} (more than the site's
     *     {@code maxBufferedBytes} waited for its client, and its connection was closed), or
     *     {@code server shutting down}
     */
    default CompletionStage<Void> disconnected(ConnectionInfo socket, String reason) {
        return CompletableFuture.completedFuture(null);
    }
}
