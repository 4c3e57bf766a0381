package io.pushbridge.boot;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.gateway.PushBridgeGateway;
import org.jspecify.annotations.Nullable;

/**
 * PushBridge's meters, registered with the application's {@link MeterRegistry} (the unique or
 * primary {@code MeterRegistry} bean) when Micrometer is on the classpath. Every meter reads
 * PushBridge's own counters when the registry is scraped; nothing is counted twice.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@code pushbridge.connections}</td><td>gauge</td><td>{@code site}</td>
 *       <td>sockets connected to this node, per configured site</td></tr>
 *   <tr><td>{@code pushbridge.redis.published}</td><td>function counter</td><td></td>
 *       <td>messages and commands the router published to Redis</td></tr>
 *   <tr><td>{@code pushbridge.redis.publish.failures}</td><td>function counter</td><td></td>
 *       <td>publishes that failed (Redis unreachable); the sender got an error</td></tr>
 *   <tr><td>{@code pushbridge.redis.received}</td><td>function counter</td><td></td>
 *       <td>routed messages and commands received from Redis</td></tr>
 *   <tr><td>{@code pushbridge.redis.dropped}</td><td>function counter</td><td></td>
 *       <td>routed messages dropped because they could not be decoded (malformed)</td></tr>
 *   <tr><td>{@code pushbridge.redis.resumes}</td><td>function counter</td><td></td>
 *       <td>times routing resumed after a Redis reconnect (sockets were re-sent their queues)</td></tr>
 *   <tr><td>{@code pushbridge.redis.heartbeat.failures}</td><td>function counter</td><td></td>
 *       <td>node registry heartbeats that did not reach Redis</td></tr>
 *   <tr><td>{@code pushbridge.redis.reaped.nodes}</td><td>function counter</td><td></td>
 *       <td>dead nodes this node cleaned up after</td></tr>
 * </table>
 * The {@code pushbridge.redis.*} meters exist only with Redis ({@link PushBridgeRedisMetrics}); the
 * router's only when the router is PushBridge's {@code RedisRouter}. The only tag is the site name,
 * which comes from configuration: the number of time series does not grow with traffic.
 */
final class PushBridgeMetrics {

    static final String CONNECTIONS = "pushbridge.connections";

    private final boolean bound;

    /** Registers {@value #CONNECTIONS} for every site of the gateway, when there is a registry. */
    PushBridgeMetrics(@Nullable MeterRegistry registry, PushBridgeGateway gateway) {
        this.bound = registry != null;
        if (registry == null) {
            return;
        }
        for (String site : gateway.sites().keySet()) {
            Gauge.builder(CONNECTIONS, gateway, g -> g.connectionCount(site))
                    .tag("site", site)
                    .description("Sockets connected to this gateway node")
                    .baseUnit("connections")
                    .register(registry);
        }
    }

    /** Whether a {@code MeterRegistry} was found to register with. */
    boolean isBound() {
        return bound;
    }

    @Override
    public String toString() {
        return "PushBridgeMetrics[" + (bound ? "registered" : "no MeterRegistry") + "]";
    }
}
