package io.pushbridge;

import java.util.concurrent.CompletionStage;

/**
 * Carries messages between gateway nodes: a message reaches every node that may hold one of its
 * target sockets, where it is handed to that node's {@link Receiver}. The in-memory router hands it
 * straight back to its own node.
 */
public interface Router {

    /**
     * Starts routing; from now on messages for this node go to {@code receiver}. Called once, by the
     * gateway, before it accepts connections.
     */
    void start(Receiver receiver);

    /**
     * Sends a message to every node that may hold its targets (this one included). Completes when
     * the message is handed over (not when it is delivered to clients); fails with
     * {@link PushUnavailableException} when it cannot be.
     */
    CompletionStage<Void> publish(Message message);

    /** Stops routing; messages published afterwards fail. */
    void stop();

    /** What a node does with a message routed to it. */
    @FunctionalInterface
    interface Receiver {

        /**
         * Delivers a message to this node's sockets. Must not block: called on the thread that
         * published (in memory) or on the router's I/O thread.
         */
        void deliver(Message message);
    }
}
