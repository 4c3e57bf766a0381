package io.pushbridge.boot;

import io.pushbridge.gateway.PushBridgeGateway;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the gateway (binds its port) when the context has refreshed and drains it when the context
 * closes. Its phase, {@link #PHASE}, is late: it starts after lifecycle beans of lower phases, such
 * as Redis connection factories, and stops before them.
 *
 * <p>The drain ({@link PushBridgeGateway#stop()}, bounded by {@code pushbridge.shutdown-timeout})
 * runs on a thread of its own, so that other lifecycle beans of the same phase (Spring Boot's web
 * server graceful shutdown) stop meanwhile; Spring waits for it up to
 * {@code spring.lifecycle.timeout-per-shutdown-phase}, which start-up checks is longer.
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

    /** Drains and stops the gateway; blocks until done. */
    @Override
    public void stop() {
        gateway.stop();
    }

    /**
     * Drains and stops the gateway on a thread of its own (see {@link PushBridgeGateway#stop()}), then
     * runs the callback, also when stopping failed.
     */
    @Override
    public void stop(Runnable callback) {
        Thread drain = new Thread(() -> {
            try {
                gateway.stop();
            } finally {
                callback.run();
            }
        }, "pushbridge-drain");
        drain.setDaemon(true);
        drain.start();
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
