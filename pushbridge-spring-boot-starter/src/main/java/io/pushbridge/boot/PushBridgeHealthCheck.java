package io.pushbridge.boot;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A part of the {@code pushbridge} health check beyond the gateway itself, such as the Redis
 * connections ({@link PushBridgeRedisHealthCheck}). Free of health and Redis types, so that the
 * health indicator can collect the checks that exist whatever is on the classpath.
 */
@FunctionalInterface
interface PushBridgeHealthCheck {

    /**
     * Checks, adding what it found to {@code details}; must not block for long.
     *
     * @return why PushBridge cannot work as it should, or {@code null} when all is well
     */
    @Nullable String check(Map<String, Object> details);
}
