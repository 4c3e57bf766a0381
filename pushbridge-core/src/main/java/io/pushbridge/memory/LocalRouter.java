package io.pushbridge.memory;

import io.pushbridge.ConnectionListing;
import io.pushbridge.Message;
import io.pushbridge.NodeInfo;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Router} of a single node: {@link #publish} hands the message, and {@link #command} the
 * socket command, straight to this node's {@link Router.Receiver}.
 *
 * <p><b>Threading.</b> Thread-safe; one instance per gateway. {@link #publish} and {@link #command}
 * call the receiver synchronously on the calling thread and complete once it returns; the receiver
 * must therefore not block (see {@link Router.Receiver}). An exception thrown by the receiver is
 * logged and does not fail the call: the message or command was handed over, only carrying it out
 * went wrong.
 *
 * <p><b>Lifecycle.</b> {@link #start} once, then {@link #stop}; a stopped router may be started
 * again. A publish or command while the router is not running fails with
 * {@link PushUnavailableException}. {@link #socketConnected} and {@link #socketDisconnected} have
 * nothing to record on one node and always succeed.
 */
public final class LocalRouter implements Router {

    private static final Logger log = LoggerFactory.getLogger(LocalRouter.class);

    private volatile @Nullable Receiver receiver;

    /**
     * Starts routing to {@code receiver}.
     *
     * @throws IllegalStateException if the router is already running
     */
    @Override
    public synchronized void start(Receiver receiver) {
        Objects.requireNonNull(receiver, "receiver");
        if (this.receiver != null) {
            throw new IllegalStateException("router is already running");
        }
        this.receiver = receiver;
    }

    @Override
    public CompletionStage<Void> publish(Message message) {
        Objects.requireNonNull(message, "message");
        Receiver r = receiver;
        if (r == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("router is not running",
                    new IllegalStateException("publish before start() or after stop()")));
        }
        try {
            r.deliver(message);
        } catch (RuntimeException e) {
            log.error("Receiver failed to deliver message {} (site {}, event '{}'); the publish still succeeds",
                    message.id(), message.site(), message.event(), e);
        }
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Hands the command to the receiver's {@link Router.Receiver#execute} on the calling thread; the
     * receiver ignores a socket it does not hold, and the stage completes normally then too.
     */
    @Override
    public CompletionStage<Void> command(SocketCommand command) {
        Objects.requireNonNull(command, "command");
        Receiver r = receiver;
        if (r == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("router is not running",
                    new IllegalStateException("command before start() or after stop()")));
        }
        try {
            r.execute(command);
        } catch (RuntimeException e) {
            log.error("Receiver failed to execute {} for socket {} (site {}); the command still succeeds",
                    command.kind(), command.socketId(), command.site(), e);
        }
        return CompletableFuture.completedFuture(null);
    }

    /** This node's own connections (there is no other node). */
    @Override
    public CompletionStage<ConnectionListing> listConnections(String site, int limit) {
        Receiver r = receiver;
        if (r == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("router is not running",
                    new IllegalStateException("listConnections before start() or after stop()")));
        }
        java.util.List<io.pushbridge.ConnectionInfo> local = r.localConnections(site, limit == Integer.MAX_VALUE ? limit : limit + 1);
        boolean truncated = local.size() > limit;
        return CompletableFuture.completedFuture(new ConnectionListing(
                truncated ? local.subList(0, limit) : local, java.util.List.of(r.nodeId()), java.util.List.of(), truncated));
    }

    /** This node, with the receiver's public URL (or {@code null}): there is no other node. */
    @Override
    public CompletionStage<java.util.List<NodeInfo>> nodes() {
        Receiver r = receiver;
        if (r == null) {
            return CompletableFuture.failedFuture(new PushUnavailableException("router is not running",
                    new IllegalStateException("nodes before start() or after stop()")));
        }
        return CompletableFuture.completedFuture(java.util.List.of(new NodeInfo(r.nodeId(), r.publicUrl())));
    }

    /** Stops routing; later publishes and commands fail. Does nothing if the router is not running. */
    @Override
    public synchronized void stop() {
        receiver = null;
    }

    /** Whether the router is started and not stopped. */
    public boolean isRunning() {
        return receiver != null;
    }

    @Override
    public String toString() {
        return "LocalRouter[" + (isRunning() ? "running" : "stopped") + "]";
    }
}
