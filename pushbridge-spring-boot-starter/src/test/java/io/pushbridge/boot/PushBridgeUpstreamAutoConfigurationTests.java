package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.GatewayCommand;
import io.pushbridge.UpstreamListener;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Upstream routing by configuration: a gateway site with {@code upstream.enabled}, an application
 * node ({@code pushbridge.serve=false} and an {@link UpstreamListener} bean), command handler beans,
 * and the start-up failures of settings that cannot work. The whole path runs in the chat sample's
 * test (pushbridge-samples).
 */
class PushBridgeUpstreamAutoConfigurationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1",
                    "pushbridge.sites.chat.authorizer=allow_all", "pushbridge.sites.chat.upstream.enabled=true");

    @Test
    void anApplicationNodeBindsNoPortAndConsumesTheUpstreamSites() {
        runner.withPropertyValues("pushbridge.serve=false", "pushbridge.redis.url=" + redis.uri(),
                        "pushbridge.redis.prefix=app-node:",
                        "pushbridge.upstream.partitions=4", "pushbridge.upstream.idle-timeout=2s")
                .withBean(UpstreamListener.class, () -> new UpstreamListener() { })
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                    assertThat(gateway.isRunning()).isTrue();
                    assertThat(gateway.port()).isEqualTo(-1);
                    RedisUpstreamConsumer consumer = context.getBean(RedisUpstreamConsumer.class);
                    assertThat(consumer.streams().partitions()).isEqualTo(4);
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertThat(meters.get("pushbridge.upstream.records").tag("outcome", "handled").functionCounter().count())
                            .isZero();
                    assertThat(meters.get("pushbridge.upstream.partitions.owned").gauge().value()).isBetween(0.0, 4.0);
                });
    }

    @Test
    void aGatewaySiteWithUpstreamAndCommandHandlers() {
        List<GatewayCommand> commands = new CopyOnWriteArrayList<>();
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.redis.prefix=gateway-node:")
                .withBean(PushBridgeCommandHandler.class, () -> new PushBridgeCommandHandler("chat", "setNickname", commands::add))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(MeterRegistry.class).get("pushbridge.upstream.appended").tag("site", "chat")
                            .functionCounter().count()).isZero();
                    assertThat(context.getBean(MeterRegistry.class).get("pushbridge.upstream.pending").tag("site", "chat")
                            .gauge().value()).isZero();
                    PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                    assertThat(gateway.sites().get("chat").commandHandlers()).containsKey("setNickname");
                    assertThat(gateway.sites().get("chat").anyEventHandler()).isNotNull();
                    assertThat(gateway.sites().get("chat").listeners()).hasSize(1);
                    assertThat(context).doesNotHaveBean(RedisUpstreamConsumer.class);
                });
    }

    @Test
    void nodesThatDisagreeOnThePartitionCountRefuseToStart() {
        ApplicationContextRunner shared = runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(),
                "pushbridge.redis.prefix=mismatch:");
        shared.withPropertyValues("pushbridge.upstream.partitions=4").run(first -> {
            assertThat(first).hasNotFailed();
            shared.withPropertyValues("pushbridge.upstream.partitions=8").run(second -> {
                assertThat(second).hasFailed();
                assertThat(second.getStartupFailure()).rootCause()
                        .hasMessageContaining("uses 4 upstream partitions in Redis, this node 8")
                        .hasMessageContaining("pushbridge.upstream.partitions");
            });
        });
    }

    @Test
    void settingsThatCannotWorkFailStartUpNamingTheProperty() {
        // upstream without the cluster's Redis
        runner.run(context -> assertThat(failedProperty(context.getStartupFailure()))
                .isEqualTo("pushbridge.sites.chat.upstream.enabled"));
        // upstream without pushbridge-redis
        runner.withClassLoader(new FilteredClassLoader(RedisConnector.class)).run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.chat.upstream.enabled"));
        // a listener, but no site sends upstream
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.sites.chat.upstream.enabled=false")
                .withBean(UpstreamListener.class, () -> new UpstreamListener() { })
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites"));
        // a command handler for a site that does not exist
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri())
                .withBean(PushBridgeCommandHandler.class, () -> new PushBridgeCommandHandler("nope", "x", c -> { }))
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites"));
        // bad upstream numbers
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.upstream.partitions=0")
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.upstream.partitions"));
        // an application node without the cluster's Redis would read nothing
        runner.withPropertyValues("pushbridge.serve=false", "pushbridge.sites.chat.upstream.enabled=false")
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.serve"));
        runner.withPropertyValues("pushbridge.sites.chat.upstream.enabled=false")
                .withBean(UpstreamListener.class, () -> new UpstreamListener() { })
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.redis.url"));
        // two listeners: which one?
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.serve=false")
                .withBean("first", UpstreamListener.class, () -> new UpstreamListener() { })
                .withBean("second", UpstreamListener.class, () -> new UpstreamListener() { })
                .run(context -> {
                    assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites");
                    assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("first").hasMessageContaining("second");
                });
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.upstream.max-deliveries=0", "pushbridge.serve=false")
                .withBean(UpstreamListener.class, () -> new UpstreamListener() { })
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.upstream.max-deliveries"));
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.upstream.handle-timeout=0s", "pushbridge.serve=false")
                .withBean(UpstreamListener.class, () -> new UpstreamListener() { })
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.upstream.handle-timeout"));
        // a public URL on a node without a port
        runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.serve=false",
                        "pushbridge.public-url=http://x:1", "pushbridge.sites.chat.upstream.enabled=false")
                .run(context -> assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.public-url"));
    }

    private static String failedProperty(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InvalidPushBridgePropertyException invalid) {
                return invalid.property();
            }
        }
        throw new AssertionError("no InvalidPushBridgePropertyException in " + failure, failure);
    }
}
