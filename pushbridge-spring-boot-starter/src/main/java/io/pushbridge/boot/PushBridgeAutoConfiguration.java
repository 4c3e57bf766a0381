package io.pushbridge.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.GatewayExtension;
import io.pushbridge.MessageStore;
import io.pushbridge.PushTemplate;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.Router;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.memory.LocalRouter;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanNotOfRequiredTypeException;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of a PushBridge gateway from {@code pushbridge.*} ({@link PushBridgeProperties}).
 *
 * <p>Beans, each replaced by one of the application's own of the same type:
 * <ul>
 *   <li>{@link MessageStore}: an {@code InMemoryMessageStore} (one node, no Redis) from
 *       {@code pushbridge.client-ttl} and {@code pushbridge.max-pending-per-user};</li>
 *   <li>{@link Router}: a {@link LocalRouter};</li>
 *   <li>{@link PushBridgeGateway}: the gateway with every {@code pushbridge.sites.*} entry;</li>
 *   <li>{@link PushTemplate}: the gateway's, to send from the application.</li>
 * </ul>
 * With {@code pushbridge.redis.url} or {@code pushbridge.redis.cluster.nodes} set,
 * {@link PushBridgeRedisAutoConfiguration} runs first and defines the Redis store and router (and a
 * {@link PushBridgeNodeIdentity}, whose node id and flake ids the gateway's options take), so that
 * the two in-memory beans above are not defined.
 *
 * <p>With Spring Boot's health support ({@code spring-boot-health}) on the classpath, a
 * {@code HealthIndicator} named {@code pushbridge} ({@link PushBridgeHealthIndicator}); with the
 * actuator, the {@code pushbridge} endpoint ({@link PushBridgeEndpoint}) where it is exposed. With a
 * {@code MeterRegistry} bean (the unique or primary one; actuator defines it), the gateway, its
 * router and its extensions record their meters there (every one is named in
 * {@code io.pushbridge.metrics.PushBridgeMeter}; docs/operations.md lists them); without one,
 * nothing is recorded.
 *
 * <p>The gateway binds its port in {@link PushBridgeGatewayLifecycle}, a {@code SmartLifecycle} in a late
 * phase (after connection factories such as Redis' have started, stopped before them), and stops
 * gracefully when the context closes ({@code pushbridge.auto-startup=false} leaves starting to the
 * application). Disabled as a whole by {@code pushbridge.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = PushBridgeProperties.PREFIX, name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(PushBridgeProperties.class)
public final class PushBridgeAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    MessageStore pushBridgeMessageStore(PushBridgeProperties properties) {
        return PushBridgeOptionsMapper.messageStore(properties);
    }

    @Bean
    @ConditionalOnMissingBean
    Router pushBridgeRouter() {
        return new LocalRouter();
    }

    @Bean
    @ConditionalOnMissingBean
    PushBridgeGateway pushBridgeGateway(PushBridgeProperties properties, MessageStore store, Router router,
            ObjectProvider<PushBridgeNodeIdentity> identity, BeanFactory beanFactory,
            ObjectProvider<PushBridgeOptionsMapper.RedisDrivenSites> redisDriven,
            ObjectProvider<PushBridgeCommandHandler> commands, ObjectProvider<GatewayExtension> extensions,
            ObjectProvider<MeterRegistry> meters) {
        PushBridgeOptionsMapper.RedisDrivenSites redis = redisDriven.getIfAvailable();
        if (beanFactory instanceof org.springframework.beans.factory.ListableBeanFactory beans
                && beans.getBeanNamesForType(io.pushbridge.UpstreamListener.class, true, false).length > 0
                && (redis == null || !PushBridgeOptionsMapper.redisConfigured(properties))) {
            // without them no consumer reads the records: fail rather than drop them silently
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".redis.url",
                    "an UpstreamListener bean needs io.pushbridge:pushbridge-redis and the cluster's Redis "
                            + "(pushbridge.redis.url or pushbridge.redis.cluster.nodes)");
        }
        PushBridgeGateway.Builder builder = PushBridgeGateway.builder()
                .options(PushBridgeOptionsMapper.gatewayOptions(properties, identity.getIfAvailable()))
                .sites(PushBridgeOptionsMapper.sites(properties, (name, property) -> authorizerBean(beanFactory, name, property),
                        redis, commands.orderedStream().toList()))
                .store(store)
                .router(router)
                .redisMode(PushBridgeOptionsMapper.redisMode(properties))
                .meterRegistry(meters.getIfUnique());
        if (redis != null) {
            redis.extensions().forEach(builder::extension);
        }
        // the application's own extensions (and the upstream consumer of an application node)
        extensions.orderedStream().forEach(builder::extension);
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            // what remains to check is across sites, such as two sites on one namespace
            throw PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX + ".sites", Map.of(), e);
        }
    }

    @Bean
    PushBridgeGatewayLifecycle pushBridgeGatewayLifecycle(PushBridgeGateway gateway, PushBridgeProperties properties,
            ObjectProvider<PushBridgeNodeIdentity> identity, org.springframework.core.env.Environment environment) {
        // with Redis, the node registers while its identity is made: before the gateway can start,
        // also for a gateway bean of the application's own or with lazy initialization
        identity.getIfAvailable();
        checkShutdownPhase(gateway.options().shutdownTimeout(), environment);
        return new PushBridgeGatewayLifecycle(gateway, properties.isAutoStartup());
    }

    /** What the rest of a gateway's stop may take beyond its drain (Netty's shutdown, the last log line). */
    static final java.time.Duration STOP_MARGIN = java.time.Duration.ofSeconds(5);

    /**
     * Spring waits for the beans of a shutdown phase up to {@code spring.lifecycle.timeout-per-shutdown-phase}
     * (30 s by default), then goes on destroying beans, Redis connections included, under a drain
     * still running: the drain must fit in it.
     */
    static void checkShutdownPhase(java.time.Duration shutdownTimeout, org.springframework.core.env.Environment environment) {
        java.time.Duration phase = org.springframework.boot.context.properties.bind.Binder.get(environment)
                .bind("spring.lifecycle.timeout-per-shutdown-phase", java.time.Duration.class)
                .orElse(java.time.Duration.ofSeconds(30));
        if (shutdownTimeout.plus(STOP_MARGIN).compareTo(phase) > 0) {
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".shutdown-timeout",
                    "must leave " + STOP_MARGIN.toSeconds() + "s of spring.lifecycle.timeout-per-shutdown-phase ("
                            + phase.toMillis() + "ms), which bounds the whole shutdown phase the gateway drains in, so at "
                            + "most " + phase.minus(STOP_MARGIN).toMillis() + "ms, was " + shutdownTimeout.toMillis()
                            + "ms; lower it or raise spring.lifecycle.timeout-per-shutdown-phase");
        }
    }

    @Bean
    @ConditionalOnMissingBean
    PushTemplate pushTemplate(PushBridgeGateway gateway) {
        return gateway.pushTemplate();
    }

    /**
     * With {@code pushbridge-redis} on the classpath: the REDIS_HANDSHAKE and REDIS_SESSION
     * authorizers ({@link PushBridgeRedisDrivenSites}), whose Redis servers are their own and need no
     * {@code pushbridge.redis.url}. Without it, a site asking for one fails start-up.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.pushbridge.redis.RedisConnector")
    static class RedisDrivenSitesConfiguration {

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        PushBridgeRedisDrivenSites pushBridgeRedisDrivenSites(PushBridgeProperties properties,
                ObjectProvider<io.pushbridge.redis.RedisConnector> clusterConnector) {
            return new PushBridgeRedisDrivenSites(properties, clusterConnector);
        }
    }

    /** The {@code pushbridge} health indicator, with Spring Boot's health support on the classpath. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("pushbridge")
    static class HealthConfiguration {

        @Bean(name = "pushbridge")
        @ConditionalOnMissingBean(name = "pushbridge")
        HealthIndicator pushBridgeHealthIndicator(PushBridgeGateway gateway, ObjectProvider<PushBridgeHealthCheck> checks) {
            return new PushBridgeHealthIndicator(gateway, checks.orderedStream().toList());
        }
    }

    /**
     * The {@code pushbridge} actuator endpoint ({@link PushBridgeEndpoint}), with Spring Boot's actuator
     * on the classpath, when the endpoint is available (exposed, and its access not none).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.boot.actuate.endpoint.annotation.Endpoint",
            "org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint"})
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        @org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint
        PushBridgeEndpoint pushBridgeEndpoint(PushBridgeGateway gateway) {
            return new PushBridgeEndpoint(gateway);
        }
    }

    private static RoomAuthorizer authorizerBean(BeanFactory beanFactory, String name, String property) {
        try {
            return beanFactory.getBean(name, RoomAuthorizer.class);
        } catch (BeanNotOfRequiredTypeException e) {
            throw new InvalidPushBridgePropertyException(property, "bean '" + name + "' is a "
                    + e.getActualType().getName() + ", not a " + RoomAuthorizer.class.getName(), e);
        } catch (NoSuchBeanDefinitionException e) {
            throw new InvalidPushBridgePropertyException(property, "no bean named '" + name + "' (a "
                    + RoomAuthorizer.class.getName() + ") is defined", e);
        }
    }
}
