package io.pushbridge.boot;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import io.pushbridge.redis.upstream.RedisUpstream;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import java.util.List;
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
        this(meters, registry, router, List.of(), null);
    }

    /**
     * With the upstream meters too: {@code pushbridge.upstream.*} of each site's {@link RedisUpstream}
     * (gateway side, tagged by site) and of the application node's {@link RedisUpstreamConsumer}.
     */
    PushBridgeRedisMetrics(@Nullable MeterRegistry meters, RedisNodeRegistry registry, @Nullable RedisRouter router,
            List<RedisUpstream> upstreams, @Nullable RedisUpstreamConsumer consumer) {
        this.bound = meters != null;
        if (meters == null) {
            return;
        }
        for (RedisUpstream upstream : upstreams) {
            Tags site = Tags.of("site", upstream.site());
            statCounter(meters, name -> upstream.stats().get(name), "pushbridge.upstream.appended", "appended", site,
                    "Upstream records this gateway node appended to Redis");
            statCounter(meters, name -> upstream.stats().get(name), "pushbridge.upstream.append.failures", "append_failures", site,
                    "Upstream records Redis could not take");
            statCounter(meters, name -> upstream.stats().get(name), "pushbridge.upstream.replies", "replies", site,
                    "Application nodes' answers handed to clients' callbacks");
            Gauge.builder("pushbridge.upstream.pending", upstream, u -> stat(u.stats(), "pending")).tags(site)
                    .description("Client events waiting for an application node's answer").register(meters);
        }
        if (consumer != null) {
            for (String stat : List.of("handled", "refused", "failed_attempts", "dead_lettered", "malformed", "trimmed",
                    "handle_timeouts")) {
                FunctionCounter.builder("pushbridge.upstream.records", consumer, c -> stat(c.stats(), stat))
                        .tag("outcome", stat).description("Upstream records this application node read, by outcome")
                        .register(meters);
            }
            Gauge.builder("pushbridge.upstream.partitions.owned", consumer, c -> stat(c.stats(), "partitions_owned"))
                    .description("Upstream partitions this application node reads").register(meters);
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

    private static double stat(java.util.Map<String, Long> stats, String name) {
        Long value = stats.get(name);
        return value == null ? 0 : value;
    }

    /** A function counter of one of a {@code stats()} map's entries (read fresh at each scrape). */
    private static void statCounter(MeterRegistry meters, java.util.function.Function<String, Long> stats, String name,
            String stat, Tags tags, String description) {
        FunctionCounter.builder(name, stats, s -> {
            Long value = s.apply(stat);
            return value == null ? 0 : value;
        }).tags(tags).description(description).register(meters);
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
