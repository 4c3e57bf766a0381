package io.pushbridge;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Handles, on an application node, what clients connected to the gateway nodes do: each
 * {@link UpstreamRecord} reaches exactly one application node. Answer through {@link PushTemplate}
 * (emit to the socket, its rooms, the site; make it join or leave rooms; disconnect it; send a
 * custom command to the gateways).
 *
 * <p>The records of one client arrive in order (connected, its events, disconnected), one after the
 * other: the next waits until the stage of the previous one completed. Records of different clients
 * are handled in parallel. A stage that fails is tried again a few times; then the record goes to
 * the dead letters with its error (and a client waiting for an answer gets an error). Implementations
 * must be thread-safe and should not block: answer with a stage.
 */
public interface UpstreamListener {

    /** A client connected ({@link UpstreamRecord.Kind#CONNECTED}). */
    default CompletionStage<Void> connected(UpstreamRecord record) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * A client emitted an event ({@link UpstreamRecord.Kind#EVENT}). The stage's value answers the
     * client's callback when it passed one ({@code null} or empty: no arguments).
     */
    default CompletionStage<List<Object>> event(UpstreamRecord record) {
        return CompletableFuture.completedFuture(List.of());
    }

    /** A client disconnected ({@link UpstreamRecord.Kind#DISCONNECTED}). */
    default CompletionStage<Void> disconnected(UpstreamRecord record) {
        return CompletableFuture.completedFuture(null);
    }
}
