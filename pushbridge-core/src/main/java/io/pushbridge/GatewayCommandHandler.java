package io.pushbridge;

/**
 * Carries out custom commands of one type on a gateway node, registered with
 * {@code SiteOptions.Builder.onCommand(type, handler)}. Called on a PushBridge worker thread (never
 * a Netty I/O thread), once per node that holds recipients of the command (every node, for a
 * command to the whole site). Must not block for long; must be thread-safe. A handler that throws
 * is logged and counted ({@code commands.custom.failed}).
 */
@FunctionalInterface
public interface GatewayCommandHandler {

    void handle(GatewayCommand command);
}
