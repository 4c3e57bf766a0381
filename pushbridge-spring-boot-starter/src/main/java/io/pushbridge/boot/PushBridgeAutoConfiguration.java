package io.pushbridge.boot;

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
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

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
 * The gateway binds its port in {@link PushBridgeGatewayLifecycle}, a {@code SmartLifecycle} in a late
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
            BeanFactory beanFactory) {
        PushBridgeGateway.Builder builder = PushBridgeGateway.builder()
                .options(PushBridgeOptionsMapper.gatewayOptions(properties))
                .sites(PushBridgeOptionsMapper.sites(properties, (name, property) -> authorizerBean(beanFactory, name, property)))
                .store(store)
                .router(router);
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            // what remains to check is across sites, such as two sites on one namespace
            throw PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX + ".sites", Map.of(), e);
        }
    }

    @Bean
    PushBridgeGatewayLifecycle pushBridgeGatewayLifecycle(PushBridgeGateway gateway, PushBridgeProperties properties) {
        return new PushBridgeGatewayLifecycle(gateway, properties.isAutoStartup());
    }

    @Bean
    @ConditionalOnMissingBean
    PushTemplate pushTemplate(PushBridgeGateway gateway) {
        return gateway.pushTemplate();
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
