package io.pushbridge.boot;

import io.pushbridge.gateway.PushBridgeGateway;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code pushbridge} health indicator: UP when the gateway is running and every
 * {@link PushBridgeHealthCheck} passes (with Redis: Redis answers PING, the router is subscribed to
 * its channels, the node's last heartbeat reached Redis); OUT_OF_SERVICE with the reason
 * {@code draining} while the gateway drains (it is stopping: a load balancer should send it nothing
 * new); DOWN with a {@code reason} otherwise.
 *
 * <p>Details: {@code nodeId}, {@code port} (-1 while not listening), {@code sites} (each site's
 * number of sockets connected to this node) and, with Redis, {@code redis} (mode, ping, subscription,
 * heartbeat and the router's counters). A check takes at most about a second, even with Redis down.
 */
final class PushBridgeHealthIndicator implements HealthIndicator {

    private final PushBridgeGateway gateway;
    private final List<PushBridgeHealthCheck> checks;

    PushBridgeHealthIndicator(PushBridgeGateway gateway, List<PushBridgeHealthCheck> checks) {
        this.gateway = gateway;
        this.checks = List.copyOf(checks);
    }

    @Override
    public Health health() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("nodeId", gateway.options().nodeId());
        details.put("port", gateway.port());
        Map<String, Integer> sites = new LinkedHashMap<>();
        for (String site : gateway.sites().keySet()) {
            sites.put(site, gateway.connectionCount(site));
        }
        details.put("sites", sites);
        List<String> problems = new ArrayList<>();
        if (!gateway.isRunning()) {
            problems.add("the gateway is not running");
        }
        for (PushBridgeHealthCheck check : checks) {
            try {
                String problem = check.check(details);
                if (problem != null) {
                    problems.add(problem);
                }
            } catch (RuntimeException e) {
                problems.add("a health check failed: " + e);
            }
        }
        Health.Builder health;
        if (gateway.isDraining()) {
            health = Health.outOfService().withDetail("reason", "draining");
        } else {
            health = problems.isEmpty() ? Health.up() : Health.down().withDetail("reason", String.join("; ", problems));
        }
        return health.withDetails(details).build();
    }
}
