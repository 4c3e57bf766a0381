package io.pushbridge;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link GatewayExtension} may do with the gateway it runs in: send through the cluster,
 * reach this node's own sockets, and name the session and user of a connection. Every method is
 * thread-safe and never blocks.
 */
public interface GatewayContext {

    /** This node's id. */
    String nodeId();

    /** Sends through the cluster, exactly as the host application does. */
    PushTemplate pushTemplate();

    /**
     * Emits an event to this node's sockets only, the way a routed message reaches them, but
     * without storing it and without an ack callback: for inputs that every node receives itself
     * (a Redis channel each node subscribes to), where routing would deliver it once per node.
     * The request is checked as a send is.
     *
     * @return how many local sockets it was emitted to
     * @throws PushRefusedException for an unknown site or a bad request (nothing is emitted)
     */
    int emitLocally(SendRequest request);

    /**
     * Carries out a command if this node holds its socket (checked as {@link PushTemplate#join}
     * checks it).
     *
     * @return whether this node holds the socket
     * @throws PushRefusedException for an unknown site or bad room names
     */
    boolean executeLocally(SocketCommand command);

    /**
     * Which node holds a socket: this node's id, another's, or {@code null} when no live node
     * does. Asks the router's registry when the socket is not on this node.
     */
    CompletionStage<@Nullable String> locate(String site, String socketId);

    /** A connection of this node, or {@code null}. */
    @Nullable ConnectionInfo socket(String site, String socketId);

    /** This node's connections of a site that authenticated with a session. */
    List<ConnectionInfo> socketsOfSession(String site, String sessionId);

    /** This node's connections of a site. */
    List<ConnectionInfo> sockets(String site);

    /**
     * Records the session and the user of a connection of this node (either may be {@code null}:
     * not known, or no longer). Shown by the admin view and used by {@link #socketsOfSession}.
     *
     * @return whether this node holds the socket
     */
    boolean identify(String site, String socketId, @Nullable String sessionId, @Nullable String userId);

    /** The gateway's options: its limits (rooms per send, room and event name lengths, message size), its node id. */
    io.pushbridge.gateway.GatewayOptions options();

    /** The names of the configured sites. */
    Set<String> sites();

    /**
     * The limits in force for a site: its own where it sets them, else the gateway's (the gateway's
     * for an unknown site). Inputs an extension turns into sends (rooms built from user ids, say)
     * are shaped by these.
     */
    default io.pushbridge.gateway.Limits limits(String site) {
        return options().limits();
    }

    /** The gateway's worker pool, for work that must leave an I/O thread. */
    Executor executor();

    /**
     * Adds one to a counter of the gateway's statistics (see {@code PushBridgeGateway.stats()}). A
     * counter that counts a {@link io.pushbridge.metrics.BadInput} also moves its
     * {@code pushbridge.bad.inputs} meter.
     */
    void count(String counter);

    /**
     * Counts one message an extension took in from its own source in the site's
     * {@code pushbridge.messages.accepted} meter (tag {@code source}): once per message received,
     * however many {@link #emitLocally} calls it takes to deliver it. {@link #emitLocally} itself
     * counts nothing there (only the {@code sends.local} statistic). Does nothing for an unknown site.
     */
    default void countAccepted(String site, io.pushbridge.metrics.MessageSource source) {
    }

    /**
     * The registry the gateway records its meters in, for an extension's own (each built from a
     * {@link io.pushbridge.metrics.PushBridgeMeter}, and removed when the extension stops); one that
     * records nothing when the gateway has none.
     */
    default io.micrometer.core.instrument.MeterRegistry meterRegistry() {
        return io.pushbridge.metrics.PushBridgeMeters.none().registry();
    }
}
