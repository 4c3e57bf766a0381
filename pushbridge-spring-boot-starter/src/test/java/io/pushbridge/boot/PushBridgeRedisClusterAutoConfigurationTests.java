package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.testing.RedisExtension;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code pushbridge.redis.cluster.nodes} against a real 3-master Redis Cluster. */
class PushBridgeRedisClusterAutoConfigurationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.cluster(3);

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.demo.authorizer=allow_all");

    @Test
    void clusterSeedNodesSwitchToRedisCluster() {
        runner.withPropertyValues("pushbridge.redis.cluster.nodes=" + redis.uri()).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(RedisConnector.class).mode()).isEqualTo(RedisConnector.Mode.CLUSTER);
            assertThat(context.getBean(MessageStore.class)).isInstanceOf(RedisMessageStore.class);
            PushBridgeNodeIdentity identity = context.getBean(PushBridgeNodeIdentity.class);
            assertThat(identity.leased()).isTrue();
            assertThat(context.getBean(RedisNodeRegistry.class).isHealthy()).isTrue();
            assertThat(context.getBean(PushBridgeGateway.class).options().nodeId()).isEqualTo(identity.nodeId());

            Health health = context.getBean("pushbridge", HealthIndicator.class).health();
            @SuppressWarnings("unchecked")
            Map<String, Object> details = (Map<String, Object>) health.getDetails().get("redis");
            assertThat(details).containsEntry("mode", "cluster").containsEntry("ping", "PONG").containsEntry("heartbeat", "ok");
        });
    }

    @Test
    void clusterSeedNodesBindAsAnIndexedList() {
        String[] seeds = redis.uri().split(",");
        runner.withPropertyValues("pushbridge.redis.cluster.nodes[0]=" + seeds[0]).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(RedisConnector.class).mode()).isEqualTo(RedisConnector.Mode.CLUSTER);
        });
    }
}
