package io.pushbridge.redis;

import io.pushbridge.GatewayExtension;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One gateway node on Redis, as the starter wires it: its own connections, registry, store and
 * router, like a separate process. {@link #crash()} leaves Redis as a killed process would.
 */
final class GatewayNode implements AutoCloseable {

    static final Duration HEARTBEAT = Duration.ofMillis(250);
    static final Duration NODE_TIMEOUT = Duration.ofMillis(2000);

    final String nodeId;
    final RedisConnector connector;
    final RedisNodeRegistry registry;
    final RedisMessageStore store;
    final RedisRouter router;
    final PushBridgeGateway gateway;

    private GatewayNode(String nodeId, RedisConnector connector, List<SiteOptions> sites, Duration clientTtl, Duration nodeTimeout) {
        this(nodeId, connector, sites, List.of(), clientTtl, nodeTimeout, UnaryOperator.identity());
    }

    /** @param options adjusts the node's gateway options; their public URL is registered too */
    private GatewayNode(String nodeId, RedisConnector connector, List<SiteOptions> sites,
            List<GatewayExtension> extensions, Duration clientTtl, Duration nodeTimeout,
            UnaryOperator<GatewayOptions.Builder> options) {
        this(nodeId, connector, sites, extensions, clientTtl, nodeTimeout, options, null);
    }

    private GatewayNode(String nodeId, RedisConnector connector, List<SiteOptions> sites,
            List<GatewayExtension> extensions, Duration clientTtl, Duration nodeTimeout,
            UnaryOperator<GatewayOptions.Builder> options, io.micrometer.core.instrument.MeterRegistry meters) {
        this.nodeId = nodeId;
        this.connector = connector;
        GatewayOptions configured = options.apply(TestGateways.options().nodeId(nodeId)).build();
        this.registry = RedisNodeRegistry.builder(connector.commands(), nodeId).publicUrl(configured.publicUrl())
                .heartbeatInterval(HEARTBEAT).nodeTimeout(nodeTimeout).build();
        // totals of the queues (for the queue meters) read afresh at each refresh
        this.store = RedisMessageStore.builder(connector.commands(), nodeId).clientTtl(clientTtl)
                .siteQueuesMaxAge(Duration.ZERO).build();
        registry.cleanUp(store);
        if (meters != null) {
            registry.bindTo(meters);
        }
        registry.start();
        int slot = registry.claimWorkerSlot();
        this.router = new RedisRouter(connector, registry, sites.stream().map(SiteOptions::name).toList());
        this.gateway = TestGateways.start(configured.toBuilder().datacenterId(slot / 32).workerId(slot % 32).build(), b -> {
            b.sites(sites).store(store).router(router).meterRegistry(meters);
            extensions.forEach(b::extension);
        });
    }

    /** A node serving the test site "news" on the given Redis (one URI, or cluster seeds comma-joined). */
    static GatewayNode start(String nodeId, String redisUri) {
        return start(nodeId, redisUri, Duration.ofHours(1));
    }

    static GatewayNode start(String nodeId, String redisUri, Duration clientTtl) {
        return start(nodeId, redisUri, clientTtl, NODE_TIMEOUT);
    }

    /** With a node timeout of its own: how long Redis may be away before the node closes its connections. */
    static GatewayNode start(String nodeId, String redisUri, Duration clientTtl, Duration nodeTimeout) {
        RedisConnector.Builder b = RedisConnector.builder().commandTimeout(Duration.ofSeconds(2));
        if (redisUri.contains(",") && !redisUri.startsWith("redis-sentinel")) {
            b.cluster(List.of(redisUri.split(",")));
        } else {
            b.uri(redisUri);
        }
        return new GatewayNode(nodeId, b.build(), List.of(TestGateways.newsSite()), clientTtl, nodeTimeout);
    }

    /** A node serving these sites, with these extensions, on a standalone Redis. */
    static GatewayNode start(String nodeId, String redisUri, List<SiteOptions> sites, List<GatewayExtension> extensions) {
        RedisConnector connector = RedisConnector.builder().commandTimeout(Duration.ofSeconds(2)).uri(redisUri).build();
        return new GatewayNode(nodeId, connector, sites, extensions, Duration.ofHours(1), NODE_TIMEOUT, UnaryOperator.identity());
    }

    /** A node on a connection of the caller's (which the node closes), with these sites, extensions and options. */
    static GatewayNode start(String nodeId, RedisConnector connector, List<SiteOptions> sites,
            List<GatewayExtension> extensions, UnaryOperator<GatewayOptions.Builder> options) {
        return new GatewayNode(nodeId, connector, sites, extensions, Duration.ofHours(1), NODE_TIMEOUT, options);
    }

    /** A node like {@link #start(String, RedisConnector, List, List, UnaryOperator)} that records its meters in {@code meters}. */
    static GatewayNode start(String nodeId, RedisConnector connector, List<SiteOptions> sites,
            List<GatewayExtension> extensions, UnaryOperator<GatewayOptions.Builder> options,
            io.micrometer.core.instrument.MeterRegistry meters) {
        return new GatewayNode(nodeId, connector, sites, extensions, Duration.ofHours(1), NODE_TIMEOUT, options, meters);
    }

    /** A node serving the test site "news" on a standalone Redis, with its gateway options adjusted. */
    static GatewayNode start(String nodeId, String redisUri, UnaryOperator<GatewayOptions.Builder> options) {
        RedisConnector connector = RedisConnector.builder().commandTimeout(Duration.ofSeconds(2)).uri(redisUri).build();
        return new GatewayNode(nodeId, connector, List.of(TestGateways.newsSite()), List.of(), Duration.ofHours(1), NODE_TIMEOUT,
                options);
    }

    int port() {
        return gateway.port();
    }

    /** Stops as a killed process would look from Redis: no cleanup, heartbeats just stop. */
    void crash() {
        registry.abandonForTests();
        router.stop();
        connector.close(); // whatever the stopping gateway still sends to Redis now fails
        gateway.stop(Duration.ofSeconds(1));
    }

    @Override
    public void close() {
        if (gateway.isRunning()) {
            gateway.stop();
            registry.close();
            connector.close();
        }
    }
}
