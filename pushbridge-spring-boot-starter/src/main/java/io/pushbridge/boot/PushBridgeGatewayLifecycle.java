package io.pushbridge.boot;

import io.pushbridge.gateway.PushBridgeGateway;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the gateway (binds its port) when the context has refreshed and stops it gracefully when the
 * context closes. Its phase, {@link #PHASE}, is late: it starts after lifecycle beans of lower phases,
 * such as Redis connection factories, and stops before them.
 *
 * <p>A gateway cannot be started again once stopped, so a context that is stopped and started again
 * ({@code ConfigurableApplicationContext#stop()} then {@code start()}) fails on the start.
 */
final class PushBridgeGatewayLifecycle implements SmartLifecycle {

    /** {@code Integer.MAX_VALUE - 1024}: after infrastructure, like Boot's own server lifecycles. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;

    private final PushBridgeGateway gateway;
    private final boolean autoStartup;

    PushBridgeGatewayLifecycle(PushBridgeGateway gateway, boolean autoStartup) {
        this.gateway = gateway;
        this.autoStartup = autoStartup;
    }

    /** Binds the port; fails with core's {@code PushBridgeException} naming it when it cannot. */
    @Override
    public void start() {
        gateway.start();
    }

    @Override
    public void stop() {
        gateway.stop();
    }

    /**
     * Stops the gateway, waiting for in-flight sends and acks (see {@link PushBridgeGateway#stop()}),
     * then runs the callback, also when stopping failed.
     */
    @Override
    public void stop(Runnable callback) {
        try {
            gateway.stop();
        } finally {
            callback.run();
        }
    }

    @Override
    public boolean isRunning() {
        return gateway.isRunning();
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    @Override
    public boolean isAutoStartup() {
        return autoStartup;
    }
}
