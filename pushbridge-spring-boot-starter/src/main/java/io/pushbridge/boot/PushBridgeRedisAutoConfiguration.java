package io.pushbridge.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.MessageStore;
import io.pushbridge.Router;
import io.pushbridge.UpstreamListener;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of PushBridge on Redis ({@code pushbridge-redis}), active when
 * {@code pushbridge.redis.url} or {@code pushbridge.redis.cluster.nodes} is set. It runs before
 * {@link PushBridgeAutoConfiguration}, whose in-memory store and single-node router then step aside.
 *
 * <p>Beans, each replaced by one of the application's own of the same type:
 * <ul>
 *   <li>{@link RedisConnector}: the connections, from {@code pushbridge.redis.*}; start-up fails
 *       when Redis cannot be reached ("Could not connect to Redis at ... (pushbridge.redis.url)");</li>
 *   <li>{@link RedisNodeRegistry}: this node's heartbeat and the cleanup after dead nodes;</li>
 *   <li>{@link MessageStore}: a {@link RedisMessageStore} (ack queues shared by every node) from
 *       {@code pushbridge.max-pending-per-user} and {@code pushbridge.client-ttl};</li>
 *   <li>{@link Router}: a {@link RedisRouter} over the sites of {@code pushbridge.sites}.</li>
 * </ul>
 * and one that is not replaceable, {@link PushBridgeNodeIdentity}: making it registers the node (hands
 * the registry the Redis stores to clean up, starts the heartbeat) and leases a flake id slot unless
 * {@code pushbridge.flake-id.*} is set; the gateway's options take its node id and flake ids.
 * The node id is {@code pushbridge.node-id} or, unset, generated once per application context as
 * {@code <host name>-<8 random hex digits>}.
 *
 * <p>Order at shutdown: the gateway stops first (its {@code SmartLifecycle}, which also stops the
 * router), then beans are destroyed, dependents first: the registry leaves Redis (releasing the
 * node's connections, sockets and flake id slot), then the connector closes.
 *
 * <p>With Spring Boot's health support on the classpath, the {@code pushbridge} health indicator
 * also checks Redis ({@link PushBridgeRedisHealthCheck}). With a {@code MeterRegistry} bean, the
 * registry's meters ({@code pushbridge.redis.*}) are registered there; the router's and the upstream
 * parts' come with the gateway's registry.
 */
@AutoConfiguration(before = PushBridgeAutoConfiguration.class)
@ConditionalOnClass(RedisConnector.class)
@ConditionalOnProperty(prefix = PushBridgeProperties.PREFIX, name = "enabled", matchIfMissing = true)
@Conditional(OnRedisConfiguredCondition.class)
@EnableConfigurationProperties(PushBridgeProperties.class)
public final class PushBridgeRedisAutoConfiguration {

    private @Nullable String generatedNodeId;

    /** {@code pushbridge.node-id}, or the id generated for this application context. */
    private synchronized String nodeId(PushBridgeProperties properties) {
        return PushBridgeRedisSupport.nodeId(properties.getNodeId(), () -> {
            if (generatedNodeId == null) {
                generatedNodeId = PushBridgeRedisSupport.generateNodeId();
            }
            return generatedNodeId;
        });
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    RedisConnector pushBridgeRedisConnector(PushBridgeProperties properties) {
        return PushBridgeRedisSupport.connector(properties.getRedis(), nodeId(properties));
    }

    /** Built, not started: {@link #pushBridgeNodeIdentity} starts it once the stores are known. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    RedisNodeRegistry pushBridgeRedisNodeRegistry(RedisConnector connector, PushBridgeProperties properties) {
        return PushBridgeRedisSupport.registry(connector, nodeId(properties), properties);
    }

    @Bean
    @ConditionalOnMissingBean(MessageStore.class)
    RedisMessageStore pushBridgeRedisMessageStore(RedisConnector connector, RedisNodeRegistry registry,
            PushBridgeProperties properties) {
        return PushBridgeRedisSupport.store(connector, registry, properties);
    }

    @Bean
    @ConditionalOnMissingBean(Router.class)
    RedisRouter pushBridgeRedisRouter(RedisConnector connector, RedisNodeRegistry registry, PushBridgeProperties properties) {
        PushBridgeOptionsMapper.requireSites(properties);
        return new RedisRouter(connector, registry, properties.getSites().keySet());
    }

    /**
     * Registers this node in Redis before anything can serve: the registry gets every
     * {@link RedisMessageStore} to clean up after dead nodes (and after an earlier life of a fixed
     * node id) before it starts beating. Not replaceable (the registration happens here): choose the
     * node id and flake ids with {@code pushbridge.node-id} and {@code pushbridge.flake-id.*}. A
     * {@link RedisNodeRegistry} bean of the application's own is started here too; the application
     * should not start it itself.
     */
    @Bean
    PushBridgeNodeIdentity pushBridgeNodeIdentity(RedisConnector connector, RedisNodeRegistry registry,
            ObjectProvider<MessageStore> stores, PushBridgeProperties properties, ObjectProvider<MeterRegistry> meters) {
        MeterRegistry meterRegistry = meters.getIfUnique();
        if (meterRegistry != null) {
            registry.bindTo(meterRegistry);
        }
        List<RedisMessageStore> redisStores = stores.orderedStream()
                .filter(RedisMessageStore.class::isInstance)
                .map(RedisMessageStore.class::cast)
                .toList();
        return PushBridgeRedisSupport.register(registry, redisStores, properties, connector.description());
    }

    /**
     * An application node's consumer of upstream records: defined when the application has an
     * {@link UpstreamListener} bean; it reads the sites whose {@code upstream.enabled} is set.
     */
    @Bean
    @ConditionalOnBean(UpstreamListener.class)
    @ConditionalOnMissingBean
    RedisUpstreamConsumer pushBridgeUpstreamConsumer(RedisConnector connector, PushBridgeProperties properties,
            ObjectProvider<UpstreamListener> listener, org.springframework.beans.factory.ListableBeanFactory beans) {
        String[] names = beans.getBeanNamesForType(UpstreamListener.class, true, false);
        if (names.length > 1) {
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".sites",
                    "an application node takes one UpstreamListener bean, found " + names.length + ": "
                            + String.join(", ", names));
        }
        // the listener usually needs the PushTemplate, which needs the gateway, which runs this consumer:
        // it is looked up when the first record comes, once the context is complete, and kept
        return PushBridgeRedisSupport.upstreamConsumer(connector, properties, new UpstreamListener() {
            private volatile @Nullable UpstreamListener delegate;

            private UpstreamListener delegate() {
                UpstreamListener d = delegate;
                if (d == null) {
                    d = listener.getObject();
                    delegate = d;
                }
                return d;
            }

            @Override
            public java.util.concurrent.CompletionStage<Void> connected(io.pushbridge.UpstreamRecord record) {
                return delegate().connected(record);
            }

            @Override
            public java.util.concurrent.CompletionStage<java.util.List<Object>> event(io.pushbridge.UpstreamRecord record) {
                return delegate().event(record);
            }

            @Override
            public java.util.concurrent.CompletionStage<Void> disconnected(io.pushbridge.UpstreamRecord record) {
                return delegate().disconnected(record);
            }
        });
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class RedisHealthConfiguration {

        @Bean
        @ConditionalOnMissingBean
        PushBridgeRedisHealthCheck pushBridgeRedisHealthCheck(RedisConnector connector, RedisNodeRegistry registry,
                ObjectProvider<Router> router, PushBridgeProperties properties) {
            Router r = router.getIfUnique();
            return new PushBridgeRedisHealthCheck(connector, registry, r instanceof RedisRouter redis ? redis : null,
                    properties.getRedis().getCommandTimeout());
        }
    }
}
