package io.pushbridge;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Carries messages and socket commands between gateway nodes: a message reaches every node that
 * may hold one of its target sockets, a command reaches the node that holds its socket; there each
 * is handed to that node's {@link Receiver}. The in-memory router hands everything straight back
 * to its own node.
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

    /**
     * Sends a command to the node that holds its socket. Completes when the command is handed over,
     * also when no node holds that socket (then nothing happens, as for a message to a socket that
     * is gone); fails with {@link PushUnavailableException} when it cannot be handed over.
     */
    CompletionStage<Void> command(SocketCommand command);

    /**
     * A socket was admitted on this node: from now on commands and messages for it must reach this
     * node. The gateway calls it before the client learns it is connected, and refuses the connect
     * if the stage fails. A router of one node has nothing to record.
     */
    default CompletionStage<Void> socketConnected(String site, String socketId) {
        return CompletableFuture.completedFuture(null);
    }

    /** A socket admitted on this node is gone (called once per successful {@link #socketConnected}). */
    default CompletionStage<Void> socketDisconnected(String site, String socketId) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Which node holds a socket that is not on this node: the node's id, or {@code null} when no
     * live node does. A router of one node knows no other node and answers {@code null}.
     */
    default CompletionStage<@Nullable String> locate(String site, String socketId) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Gathers the connections of a site from every live node, this one included (each node's
     * {@link Receiver#localConnections}), at most {@code limit} of them. A node that does not answer
     * in time is named in {@link ConnectionListing#missingNodes}. A router of one node lists its
     * own. Fails with {@link PushUnavailableException} when the broker cannot be reached.
     */
    default CompletionStage<ConnectionListing> listConnections(String site, int limit) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                getClass().getSimpleName() + " cannot list connections"));
    }

    /**
     * The nodes clients may connect to, for clients that pick a node themselves (the gateway's
     * nodes endpoint). A router of one node lists its own node, with its public URL or
     * {@code null} when it has none. A router of many nodes lists the live nodes that registered a
     * public URL, sorted by id: nodes without one are left out, since clients could not reach them
     * (application nodes, which serve no port, have none). Fails with
     * {@link PushUnavailableException} when the broker cannot be reached.
     */
    default CompletionStage<java.util.List<NodeInfo>> nodes() {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(
                getClass().getSimpleName() + " cannot list nodes"));
    }

    /**
     * Every live node of the cluster, sorted by id, with its public URL or {@code null}: gateway
     * nodes with or without a public URL, and application nodes; for operators (the admin
     * overview). Unlike {@link #nodes()}, nobody connects to them from this list. The default
     * answers {@link #nodes()}. Fails with {@link PushUnavailableException} when the broker cannot
     * be reached.
     */
    default CompletionStage<java.util.List<NodeInfo>> clusterNodes() {
        return nodes();
    }

    /** Stops routing; messages published afterwards fail. */
    void stop();

    /** What a node does with what is routed to it. Both methods must not block. */
    interface Receiver {

        /**
         * Delivers a message to this node's sockets: called on the thread that published (in
         * memory) or on the router's I/O thread.
         */
        void deliver(Message message);

        /** Carries out a command for one of this node's sockets; a socket it does not hold is ignored. */
        void execute(SocketCommand command);

        /**
         * Routing to this node was interrupted and is back (the router's connection to its broker
         * dropped and has reconnected): messages published meanwhile may not have arrived. The
         * gateway sends its sockets what their user queues hold that they have not received.
         * Receivers that keep no queues have nothing to do.
         */
        default void resumed() {
        }

        /**
         * This node's registrations in the router's broker are gone (it was declared dead while
         * alive, or the broker lost its data): closes every connection without a Socket.IO
         * disconnect, so that clients reconnect by themselves (to this node or another) and
         * register again. Their user queues keep their messages. Receivers that hold no
         * connections have nothing to close.
         */
        default void reconnectAll() {
        }

        /** This node's id, as it names itself in a {@link ConnectionListing}. */
        default String nodeId() {
            return "local";
        }

        /**
         * The URL clients reach this node at, for {@link Router#nodes()}; {@code null} when none
         * is configured.
         */
        default @Nullable String publicUrl() {
            return null;
        }

        /** This node's connections of a site (at most {@code limit}), for {@link Router#listConnections}. */
        default java.util.List<ConnectionInfo> localConnections(String site, int limit) {
            return java.util.List.of();
        }

        /**
         * Where a router registers its meters ({@code pushbridge.router.*}, see
         * {@link io.pushbridge.metrics.PushBridgeMeter}): the gateway's registry; by default one
         * that records nothing. A router removes its meters when it stops.
         */
        default io.micrometer.core.instrument.MeterRegistry meterRegistry() {
            return io.pushbridge.metrics.PushBridgeMeters.none().registry();
        }

        /**
         * Adds one to a counter of the gateway's statistics: for what the router drops, such as a
         * routed message it cannot decode ({@code router.dropped.malformed}, which also moves the
         * {@code pushbridge.bad.inputs} meter; see {@link io.pushbridge.metrics.BadInput}).
         */
        default void count(String counter) {
        }
    }
}
