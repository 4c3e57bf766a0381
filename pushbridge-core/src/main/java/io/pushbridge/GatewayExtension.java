package io.pushbridge;

/**
 * Something that runs inside a gateway and lives as long as it: an ingestion channel, an
 * authorizer that listens to Redis. Registered with {@code PushBridgeGateway.Builder.extension};
 * the gateway calls {@link #start} after its router started and before it accepts connections (a
 * failure there fails the gateway's start), and {@link #stop} when it stops, after the last
 * connection closed.
 */
public interface GatewayExtension {

    /** Starts; may block (it runs on the thread that starts the gateway). */
    void start(GatewayContext context);

    /** Stops; called once, also when {@link #start} failed. */
    void stop();
}
