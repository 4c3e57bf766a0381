package io.pushbridge.boot;

import io.pushbridge.GatewayCommandHandler;
import java.util.Objects;

/**
 * Registers a handler of custom commands ({@code PushTemplate.command}) for one site and type: a
 * bean of this type is picked up by the auto-configured gateway.
 *
 * <pre>{@code
 * @Bean
 * PushBridgeCommandHandler setNickname() {
 *     return new PushBridgeCommandHandler("chat", "setNickname", command -> ...);
 * }
 * }</pre>
 *
 * @param site the site's name (one of pushbridge.sites)
 * @param type the command type it handles
 * @param handler what to do, on each gateway node that holds recipients of the command
 */
public record PushBridgeCommandHandler(String site, String type, GatewayCommandHandler handler) {

    public PushBridgeCommandHandler {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(handler, "handler");
    }
}
