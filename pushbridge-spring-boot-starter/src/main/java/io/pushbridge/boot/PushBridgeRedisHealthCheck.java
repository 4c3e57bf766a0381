package io.pushbridge.boot;

import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The Redis part of the {@code pushbridge} health check: Redis answers PING within a short timeout
 * (at most 1s; while the connection is down Lettuce refuses commands at once, so a check with Redis
 * down does not wait), the router is subscribed to its channels, and the node registry's last
 * heartbeat reached Redis, and no other node holds this node's flake id slot. Its details go under
 * {@code redis}.
 */
final class PushBridgeRedisHealthCheck implements PushBridgeHealthCheck {

    private final RedisConnector connector;
    private final RedisNodeRegistry registry;
    private final @Nullable RedisRouter router;
    private final Duration pingTimeout;

    PushBridgeRedisHealthCheck(RedisConnector connector, RedisNodeRegistry registry, @Nullable RedisRouter router,
            Duration commandTimeout) {
        this.connector = connector;
        this.registry = registry;
        this.router = router;
        this.pingTimeout = commandTimeout.compareTo(Duration.ofSeconds(1)) < 0 ? commandTimeout : Duration.ofSeconds(1);
    }

    @Override
    public @Nullable String check(Map<String, Object> details) {
        Map<String, Object> redis = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        redis.put("mode", connector.mode().name().toLowerCase(Locale.ROOT));
        try {
            redis.put("ping", connector.ping().toCompletableFuture().get(pingTimeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            redis.put("ping", "timeout");
            problems.add("Redis did not answer PING within " + PushBridgeRedisSupport.format(pingTimeout));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            redis.put("ping", "failed");
            problems.add("Redis PING failed: " + PushBridgeRedisSupport.describe(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            redis.put("ping", "interrupted");
            problems.add("interrupted while waiting for Redis PING");
        }
        if (router != null) {
            boolean subscribed = router.isSubscribed();
            redis.put("subscribed", subscribed);
            if (!subscribed) {
                problems.add("the router is not subscribed to its Redis channels");
            }
            redis.put("router", router.stats());
        }
        boolean slotLost = registry.hasLostWorkerSlot();
        boolean beating = registry.isBeating();
        redis.put("heartbeat", beating ? "ok" : "failing");
        redis.put("heartbeatFailures", registry.heartbeatFailures());
        redis.put("reapedNodes", registry.reapedNodes());
        if (!beating) {
            problems.add("the node's last heartbeat did not reach Redis");
        }
        if (slotLost) {
            redis.put("flakeIdSlot", "lost");
            problems.add("another node leased this node's flake id slot (message ids may collide); restart this node");
        }
        details.put("redis", redis);
        return problems.isEmpty() ? null : String.join("; ", problems);
    }
}
