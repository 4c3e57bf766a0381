package io.pushbridge.boot;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.PushRefusedException;
import io.pushbridge.gateway.GatewayStats;
import io.pushbridge.gateway.PushBridgeGateway;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
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
 *   <tr><td>{@code pushbridge.events}</td><td>function counter</td><td>{@code outcome}</td>
 *       <td>client events: {@code handled}, {@code refused} (the handler refused them),
 *       {@code unhandled} (no handler), {@code failed}, {@code timeout}, {@code too_many_pending},
 *       {@code rate_limited}</td></tr>
 *   <tr><td>{@code pushbridge.ingestion.dropped}</td><td>function counter</td><td>{@code reason}</td>
 *       <td>messages of the Redis ingestion channels (redis-handshake, redis-session) dropped:
 *       {@code too_large}, {@code malformed_json}, {@code not_an_object}, {@code missing_field},
 *       {@code invalid}, {@code unknown_socket}, {@code unavailable}, {@code error}</td></tr>
 *   <tr><td>{@code pushbridge.upstream.appended}, {@code .append.failures}, {@code .replies}</td>
 *       <td>function counter</td><td>{@code site}</td><td>gateway side of upstream routing</td></tr>
 *   <tr><td>{@code pushbridge.upstream.pending}</td><td>gauge</td><td>{@code site}</td>
 *       <td>client events waiting for an application node's answer</td></tr>
 *   <tr><td>{@code pushbridge.upstream.records}</td><td>function counter</td><td>{@code outcome}</td>
 *       <td>an application node's records: handled, refused, failed_attempts, dead_lettered,
 *       malformed, trimmed, handle_timeouts</td></tr>
 *   <tr><td>{@code pushbridge.upstream.partitions.owned}</td><td>gauge</td><td></td>
 *       <td>the upstream partitions an application node reads</td></tr>
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
 * The {@code pushbridge.redis.*} and {@code pushbridge.upstream.*} meters exist only with Redis
 * ({@link PushBridgeRedisMetrics}); the
 * router's only when the router is PushBridge's {@code RedisRouter}. Tags are the site name, which
 * comes from configuration, and fixed sets of outcomes and reasons: the number of time series does
 * not grow with traffic.
 */
final class PushBridgeMetrics {

    static final String CONNECTIONS = "pushbridge.connections";
    static final String EVENTS = "pushbridge.events";
    static final String INGESTION_DROPPED = "pushbridge.ingestion.dropped";
    static final List<String> INGESTION_DROP_REASONS = List.of("too_large", "malformed_json", "not_an_object",
            "missing_field", "invalid", "unknown_socket", "unavailable", "error");

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
        GatewayStats stats = gateway.stats();
        Map<String, ToDoubleFunction<GatewayStats>> outcomes = new LinkedHashMap<>();
        outcomes.put("handled", st -> st.get("events.handled"));
        outcomes.put("refused", st -> {
            long n = 0;
            for (PushRefusedException.Reason reason : PushRefusedException.Reason.values()) {
                if (reason != PushRefusedException.Reason.RATE_LIMITED) {
                    // events.refused.rate_limited is the rate_limited outcome below
                    n += st.get("events.refused." + reason.name().toLowerCase(Locale.ROOT));
                }
            }
            return n;
        });
        outcomes.put("unhandled", st -> st.get("events.unhandled"));
        outcomes.put("failed", st -> st.get("events.failed"));
        outcomes.put("timeout", st -> st.get("events.timeout"));
        outcomes.put("too_many_pending", st -> st.get("events.refused.too_many_pending"));
        outcomes.put("rate_limited", st -> st.get("events.refused.rate_limited"));
        outcomes.forEach((outcome, read) -> FunctionCounter.builder(EVENTS, stats, read)
                .tag("outcome", outcome)
                .description("Events clients emitted, by how their handling ended")
                .register(registry));
        for (String reason : INGESTION_DROP_REASONS) {
            FunctionCounter.builder(INGESTION_DROPPED, stats, st -> st.get("ingestion.dropped." + reason))
                    .tag("reason", reason)
                    .description("Messages of the Redis ingestion channels that were dropped")
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
