package io.pushbridge.boot;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The {@code pushbridge.redis.*} meters, read from {@link RedisRouter#stats()} and the
 * {@link RedisNodeRegistry}'s counters; see {@link PushBridgeMetrics} for the table of names.
 */
final class PushBridgeRedisMetrics {

    private final boolean bound;

    /** Registers the meters, when there is a {@code MeterRegistry}; the router's when it is a {@link RedisRouter}. */
    PushBridgeRedisMetrics(@Nullable MeterRegistry meters, RedisNodeRegistry registry, @Nullable RedisRouter router) {
        this.bound = meters != null;
        if (meters == null) {
            return;
        }
        if (router != null) {
            routerCounter(meters, router, "pushbridge.redis.published", "published",
                    "Messages and commands published to Redis");
            routerCounter(meters, router, "pushbridge.redis.publish.failures", "publish_failures",
                    "Publishes to Redis that failed");
            routerCounter(meters, router, "pushbridge.redis.received", "received",
                    "Routed messages and commands received from Redis");
            routerCounter(meters, router, "pushbridge.redis.dropped", "dropped",
                    "Routed messages dropped because they could not be decoded");
            routerCounter(meters, router, "pushbridge.redis.resumes", "resumes",
                    "Times routing resumed after a Redis reconnect");
        }
        counter(meters, registry, "pushbridge.redis.heartbeat.failures", RedisNodeRegistry::heartbeatFailures,
                "Node registry heartbeats that did not reach Redis");
        counter(meters, registry, "pushbridge.redis.reaped.nodes", RedisNodeRegistry::reapedNodes,
                "Dead gateway nodes this node cleaned up after");
    }

    /** Whether a {@code MeterRegistry} was found to register with. */
    boolean isBound() {
        return bound;
    }

    @Override
    public String toString() {
        return "PushBridgeRedisMetrics[" + (bound ? "registered" : "no MeterRegistry") + "]";
    }

    private static void routerCounter(MeterRegistry meters, RedisRouter router, String name, String stat, String description) {
        counter(meters, router, name, r -> {
            Long value = r.stats().get(stat);
            return value == null ? 0 : value;
        }, description);
    }

    private static <T> void counter(MeterRegistry meters, T source, String name, ToDoubleFunction<T> value,
            String description) {
        FunctionCounter.builder(name, source, value).description(description).register(meters);
    }
}
