package io.pushbridge.memory;

import io.pushbridge.Message;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Router} of a single node: {@link #publish} hands the message straight to this node's
 * {@link Router.Receiver}.
 *
 * <p><b>Threading.</b> Thread-safe; one instance per gateway. {@link #publish} calls the receiver
 * synchronously on the publishing thread and completes once it returns; the receiver must therefore
 * not block (see {@link Router.Receiver#deliver}). An exception thrown by the receiver is logged and
 * does not fail the publish: the message was handed over, only its delivery went wrong.
 *
 * <p><b>Lifecycle.</b> {@link #start} once, then {@link #stop}; a stopped router may be started
 * again. A publish while the router is not running fails with {@link PushUnavailableException}.
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

    /** Stops routing; later publishes fail. Does nothing if the router is not running. */
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
