/**
 * Spring Boot auto-configuration of PushBridge. Start at {@link io.pushbridge.boot.PushBridgeProperties}
 * for the {@code pushbridge.*} settings and at {@link io.pushbridge.boot.PushBridgeAutoConfiguration}
 * for the beans it defines ({@link io.pushbridge.boot.PushBridgeRedisAutoConfiguration} for those of
 * {@code pushbridge.redis.*}). This package only wires core's and pushbridge-redis' classes; it holds
 * no gateway logic.
 */
@NullMarked
package io.pushbridge.boot;

import org.jspecify.annotations.NullMarked;
