package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.MessageStore;
import io.pushbridge.PushBridgeException;
import io.pushbridge.Router;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import io.pushbridge.redis.testing.RedisExtension;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * {@code pushbridge.redis.*}: which beans the Redis auto-configuration defines, against a real Redis
 * (the harness of pushbridge-redis), and how bad values fail. No test here binds the gateway's port
 * ({@code pushbridge.auto-startup=false}); see {@link PushBridgeRedisAutoConfigurationIntegrationTests}.
 * Each test uses its own key prefix, so that the tests sharing the one server see only their keys.
 */
class PushBridgeRedisAutoConfigurationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private static final String[] DEMO_SITE = {
            "pushbridge.auto-startup=false",
            "pushbridge.sites.demo.authorizer=static",
            "pushbridge.sites.demo.tokens.alice=user_alice",
            "pushbridge.sites.demo.api-key=demo-key"};

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues(DEMO_SITE);

    /** A runner on the harness' Redis, with a key prefix of its own. */
    private ApplicationContextRunner onRedis(String prefix) {
        return runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(), "pushbridge.redis.prefix=" + prefix);
    }

    private static String prefix() {
        return "t" + PREFIXES.incrementAndGet() + ":";
    }

    @Test
    void withoutRedisPropertiesTheInMemoryAdaptersStay() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MessageStore.class)).isInstanceOf(InMemoryMessageStore.class);
            assertThat(context.getBean(Router.class)).isInstanceOf(LocalRouter.class);
            assertThat(context).doesNotHaveBean(RedisConnector.class);
            assertThat(context).doesNotHaveBean(RedisNodeRegistry.class);
            assertThat(context).doesNotHaveBean(PushBridgeNodeIdentity.class);
            assertThat(context).doesNotHaveBean(PushBridgeRedisHealthCheck.class);
            GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
            assertThat(options.nodeId()).isEqualTo("node-0-0");
            assertThat(options.datacenterId()).isZero();
            assertThat(options.workerId()).isZero();

            Health health = context.getBean("pushbridge", HealthIndicator.class).health();
            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat(health.getDetails()).containsEntry("reason", "the gateway is not running")
                    .containsEntry("nodeId", "node-0-0").containsEntry("sites", Map.of("demo", 0))
                    .doesNotContainKey("redis");
        });
    }

    @Test
    void blankRedisUrlMeansInMemory() {
        runner.withPropertyValues("pushbridge.redis.url=", "pushbridge.redis.cluster.nodes=").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MessageStore.class)).isInstanceOf(InMemoryMessageStore.class);
            assertThat(context).doesNotHaveBean(RedisConnector.class);
        });
    }

    @Test
    void redisUrlSwitchesEveryAdapterToRedis() {
        String prefix = prefix();
        onRedis(prefix).withPropertyValues("pushbridge.max-pending-per-user=42", "pushbridge.client-ttl=90",
                "pushbridge.resync-memory=3h", "pushbridge.redis.queue-totals-max-age=3s").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(RedisConnector.class);
            assertThat(context).hasSingleBean(RedisNodeRegistry.class);
            assertThat(context).hasSingleBean(MessageStore.class);
            assertThat(context).hasSingleBean(Router.class);
            RedisMessageStore store = context.getBean(RedisMessageStore.class);
            assertThat(context.getBean(MessageStore.class)).isSameAs(store);
            assertThat(store.maxPendingPerUser()).isEqualTo(42);
            assertThat(store.clientTtl()).isEqualTo(Duration.ofSeconds(90));
            assertThat(store.resyncMemory()).isEqualTo(Duration.ofHours(3));
            assertThat(store.siteQueuesMaxAge()).isEqualTo(Duration.ofSeconds(3));
            assertThat(context.getBean(Router.class)).isInstanceOf(RedisRouter.class);
            assertThat(context.getBean(RedisConnector.class).mode()).isEqualTo(RedisConnector.Mode.STANDALONE);

            RedisNodeRegistry registry = context.getBean(RedisNodeRegistry.class);
            PushBridgeNodeIdentity identity = context.getBean(PushBridgeNodeIdentity.class);
            assertThat(identity.nodeId()).matches("[A-Za-z0-9._-]+-[0-9a-f]{8}").isEqualTo(registry.nodeId());
            assertThat(registry.keys().prefix()).isEqualTo(prefix);
            assertThat(registry.isHealthy()).as("registered and beating").isTrue();
            assertThat(redis.server().command("SISMEMBER", prefix + "nodes", identity.nodeId())).isEqualTo("1");

            // a leased flake id slot, as the gateway's options use it
            assertThat(identity.leased()).isTrue();
            int slot = identity.datacenterId() * 32 + identity.workerId();
            assertThat(redis.server().command("GET", prefix + "worker:" + slot)).isEqualTo(identity.nodeId());
            GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
            assertThat(options.nodeId()).isEqualTo(identity.nodeId());
            assertThat(options.datacenterId()).isEqualTo(identity.datacenterId());
            assertThat(options.workerId()).isEqualTo(identity.workerId());

            assertThat(redis.server().command("CLIENT", "LIST")).contains("name=pushbridge-" + identity.nodeId() + " ");
        });
    }

    @Test
    void eachApplicationGetsItsOwnNodeIdAndFlakeSlot() {
        String prefix = prefix();
        onRedis(prefix).run(first -> onRedis(prefix).run(second -> {
            PushBridgeNodeIdentity a = first.getBean(PushBridgeNodeIdentity.class);
            PushBridgeNodeIdentity b = second.getBean(PushBridgeNodeIdentity.class);
            assertThat(a.nodeId()).isNotEqualTo(b.nodeId());
            assertThat(a.nodeId().substring(0, a.nodeId().length() - 9))
                    .as("the same host name").isEqualTo(b.nodeId().substring(0, b.nodeId().length() - 9));
            assertThat(a.datacenterId() * 32 + a.workerId()).isNotEqualTo(b.datacenterId() * 32 + b.workerId());
        }));
    }

    @Test
    void closingTheContextLeavesTheRegistry() {
        String prefix = prefix();
        String[] node = new String[1];
        int[] slot = new int[1];
        onRedis(prefix).run(context -> {
            PushBridgeNodeIdentity identity = context.getBean(PushBridgeNodeIdentity.class);
            node[0] = identity.nodeId();
            slot[0] = identity.datacenterId() * 32 + identity.workerId();
            assertThat(redis.server().command("EXISTS", prefix + "node:{" + node[0] + "}")).isEqualTo("1");
        });
        assertThat(redis.server().command("SISMEMBER", prefix + "nodes", node[0])).isEqualTo("0");
        assertThat(redis.server().command("EXISTS", prefix + "node:{" + node[0] + "}")).isEqualTo("0");
        assertThat(redis.server().command("EXISTS", prefix + "worker:" + slot[0])).as("slot released").isEqualTo("0");
    }

    @Test
    void explicitFlakeIdsAndNodeIdAreRespected() {
        String prefix = prefix();
        onRedis(prefix).withPropertyValues("pushbridge.flake-id.datacenter=3", "pushbridge.flake-id.worker=7",
                "pushbridge.node-id=edge-1").run(context -> {
                    assertThat(context).hasNotFailed();
                    PushBridgeNodeIdentity identity = context.getBean(PushBridgeNodeIdentity.class);
                    assertThat(identity).isEqualTo(new PushBridgeNodeIdentity("edge-1", 3, 7, false));
                    GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
                    assertThat(options.nodeId()).isEqualTo("edge-1");
                    assertThat(options.datacenterId()).isEqualTo(3);
                    assertThat(options.workerId()).isEqualTo(7);
                    assertThat(context.getBean(RedisNodeRegistry.class).nodeId()).isEqualTo("edge-1");
                    assertThat(redis.server().command("GET", prefix + "worker:" + (3 * 32 + 7)))
                            .as("the configured pair is reserved, no other slot leased").isEqualTo("edge-1");
                    assertThat(redis.server().command("KEYS", prefix + "worker:*")).isEqualTo(prefix + "worker:" + (3 * 32 + 7));
                    assertThat(redis.server().command("EXISTS", prefix + "node:{edge-1}")).isEqualTo("1");
                    assertThat(redis.server().command("CLIENT", "LIST")).contains("name=pushbridge-edge-1 ");
                });
    }

    @Test
    void aFlakeIdPairAnotherNodeUsesFailsStartupNamingTheProperty() {
        String prefix = prefix();
        onRedis(prefix).withPropertyValues("pushbridge.flake-id.datacenter=1", "pushbridge.flake-id.worker=2",
                "pushbridge.node-id=first").run(first -> {
                    assertThat(first).hasNotFailed();
                    onRedis(prefix).withPropertyValues("pushbridge.flake-id.datacenter=1", "pushbridge.flake-id.worker=2",
                            "pushbridge.node-id=second").run(second -> assertThat(failure(second))
                                    .hasMessageStartingWith("pushbridge.flake-id.worker: flake id datacenter 1, worker 2 is already used by node first"));
                });
    }

    @Test
    void oneFlakeIdWithoutTheOtherFailsNamingTheOther() {
        onRedis(prefix()).withPropertyValues("pushbridge.flake-id.datacenter=3").run(context ->
                assertThat(failure(context)).hasMessageStartingWith("pushbridge.flake-id.worker: must be set too when "
                        + "pushbridge.flake-id.datacenter is set"));
        onRedis(prefix()).withPropertyValues("pushbridge.flake-id.worker=0").run(context ->
                assertThat(failure(context)).hasMessageStartingWith("pushbridge.flake-id.datacenter: must be set too"));
    }

    @Test
    void withoutRedisUnsetFlakeIdsAreZeroAndSetOnesAreUsed() {
        runner.withPropertyValues("pushbridge.flake-id.worker=5").run(context -> {
            GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
            assertThat(options.datacenterId()).isZero();
            assertThat(options.workerId()).isEqualTo(5);
        });
    }

    @Test
    void propertiesReachTheConnectorAndRegistry() {
        String prefix = prefix();
        onRedis(prefix).withPropertyValues("pushbridge.redis.client-name=my-gateway", "pushbridge.redis.command-timeout=1500ms",
                "pushbridge.redis.heartbeat-interval=100ms", "pushbridge.redis.node-timeout=5000").run(context -> {
                    assertThat(context).hasNotFailed();
                    PushBridgeProperties.Redis r = context.getBean(PushBridgeProperties.class).getRedis();
                    assertThat(r.getCommandTimeout()).isEqualTo(Duration.ofMillis(1500));
                    assertThat(r.getNodeTimeout()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(redis.server().command("CLIENT", "LIST")).contains("name=my-gateway ");
                    String nodeKey = prefix + "node:{" + context.getBean(PushBridgeNodeIdentity.class).nodeId() + "}";
                    long ttl = Long.parseLong(redis.server().command("PTTL", nodeKey));
                    assertThat(ttl).as("the heartbeat expires after the node timeout, not the default 15s")
                            .isBetween(1L, 5000L);
                });
    }

    @Test
    void badRedisValuesFailNamingTheProperty() {
        assertRedisFailure("pushbridge.redis.url: must be a redis://, rediss:// or redis-sentinel:// URI",
                "pushbridge.redis.url=localhost:6379");
        assertRedisFailure("pushbridge.redis.url: must be a redis://, rediss:// or redis-sentinel:// URI",
                "pushbridge.redis.url=http://localhost:6379");
        assertRedisFailure("pushbridge.redis.url: has an invalid port 'notaport'", "pushbridge.redis.url=redis://localhost:notaport");
        assertRedisFailure("pushbridge.redis.url: has an invalid port '99999'", "pushbridge.redis.url=redis://localhost:99999");
        assertRedisFailure("pushbridge.redis.url: has no host", "pushbridge.redis.url=redis://");
        assertRedisFailure("pushbridge.redis.url: has an invalid host 'bad host'", "pushbridge.redis.url=redis://bad host:6379");
        assertRedisFailure("pushbridge.redis.url: must name the Sentinel master",
                "pushbridge.redis.url=redis-sentinel://127.0.0.1:26379");
        assertRedisFailure("pushbridge.redis.url: set either pushbridge.redis.url (standalone Redis or Sentinel) or "
                + "pushbridge.redis.cluster.nodes (Redis Cluster), not both",
                "pushbridge.redis.url=redis://127.0.0.1:6379", "pushbridge.redis.cluster.nodes=redis://127.0.0.1:7000");
        assertRedisFailure("pushbridge.redis.cluster.nodes[1]: must be a redis:// or rediss:// URI",
                "pushbridge.redis.cluster.nodes=redis://127.0.0.1:7000,redis-sentinel://127.0.0.1:26379#m");
        assertRedisFailure("pushbridge.redis.prefix: must not contain '{' or '}'", redisUrl(), "pushbridge.redis.prefix=pb{1}:");
        assertRedisFailure("pushbridge.redis.prefix: must not contain spaces", redisUrl(), "pushbridge.redis.prefix=p b:");
        assertRedisFailure("pushbridge.redis.command-timeout: must be positive, was 0s", redisUrl(),
                "pushbridge.redis.command-timeout=0");
        assertRedisFailure("pushbridge.redis.connect-timeout: must be positive, was -1s", redisUrl(),
                "pushbridge.redis.connect-timeout=-1s");
        assertRedisFailure("pushbridge.redis.heartbeat-interval: must be positive", redisUrl(),
                "pushbridge.redis.heartbeat-interval=0s");
        assertRedisFailure("pushbridge.redis.node-timeout: must be positive", redisUrl(), "pushbridge.redis.node-timeout=0s");
        assertRedisFailure("pushbridge.redis.node-timeout: must be at least twice pushbridge.redis.heartbeat-interval (5s)",
                redisUrl(), "pushbridge.redis.node-timeout=8s");
        assertRedisFailure("pushbridge.redis.client-name: must be printable ASCII without spaces", redisUrl(),
                "pushbridge.redis.client-name=my gateway");
        assertRedisFailure("pushbridge.redis.queue-totals-max-age: must be >= 0, was PT-1S", redisUrl(),
                "pushbridge.redis.queue-totals-max-age=-1s");
        assertRedisFailure("pushbridge.node-id: must not contain '{', '}'", redisUrl(), "pushbridge.node-id=edge{1}");
        assertRedisFailure("pushbridge.resync-memory: must be >= 0 (0 remembers no expired queue), was PT-1S", redisUrl(),
                "pushbridge.resync-memory=-1s");
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
                .withPropertyValues("pushbridge.auto-startup=false", redisUrl(), "pushbridge.redis.prefix=" + prefix())
                .run(context -> assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites: at least one site is required"));
    }

    @Test
    void malformedUriIsShownWithoutItsPassword() {
        runner.withPropertyValues("pushbridge.redis.url=redis://:hunter22@bad host:6379").run(context -> {
            assertThat(failure(context)).hasMessageStartingWith("pushbridge.redis.url: has an invalid host")
                    .hasMessageContaining("redis://***@bad host:6379").hasMessageNotContaining("hunter22");
            assertThat(stackTrace(context.getStartupFailure())).doesNotContain("hunter22");
        });
    }

    @Test
    void unreachableRedisFailsNamingTheUrlWithoutThePassword() throws IOException {
        int port = freePort();
        runner.withPropertyValues("pushbridge.redis.url=redis://:s3cret-pw@127.0.0.1:" + port,
                "pushbridge.redis.connect-timeout=1s").run(context -> {
                    assertThat(context).hasFailed();
                    PushBridgeException e = find(context.getStartupFailure(), PushBridgeException.class);
                    assertThat(e).hasMessageStartingWith("Could not connect to Redis at redis://***@127.0.0.1:" + port
                            + " (pushbridge.redis.url): ");
                    assertThat(stackTrace(context.getStartupFailure())).doesNotContain("s3cret-pw");
                    FailureAnalysis analysis = new PushBridgeStartFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis).isNotNull();
                    assertThat(analysis.getDescription()).contains("Could not connect to Redis at redis://***@127.0.0.1:" + port);
                    assertThat(analysis.getAction()).contains("pushbridge.redis.url");
                });
        runner.withPropertyValues("pushbridge.redis.cluster.nodes[0]=redis://127.0.0.1:" + port,
                "pushbridge.redis.connect-timeout=1s").run(context -> {
                    PushBridgeException e = find(context.getStartupFailure(), PushBridgeException.class);
                    assertThat(e).hasMessageStartingWith("Could not connect to Redis at redis://127.0.0.1:" + port
                            + " (pushbridge.redis.cluster.nodes): ");
                    assertThat(new PushBridgeStartFailureAnalyzer().analyze(context.getStartupFailure()).getAction())
                            .contains("pushbridge.redis.cluster.nodes");
                });
    }

    @Test
    void applicationBeansReplaceTheRedisOnes() {
        MessageStore mine = InMemoryMessageStore.builder().build();
        onRedis(prefix()).withBean("myStore", MessageStore.class, () -> mine).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(MessageStore.class);
            assertThat(context.getBean(MessageStore.class)).isSameAs(mine);
            assertThat(context).doesNotHaveBean(RedisMessageStore.class);
            assertThat(context.getBean(Router.class)).isInstanceOf(RedisRouter.class);
            assertThat(context.getBean(RedisNodeRegistry.class).isHealthy()).isTrue();
        });
        Router router = new LocalRouter();
        onRedis(prefix()).withBean("myRouter", Router.class, () -> router).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(Router.class)).isSameAs(router);
            assertThat(context.getBean(MessageStore.class)).isInstanceOf(RedisMessageStore.class);
        });
    }

    @Test
    void theNodeRegistersAlsoWithAGatewayOfTheApplication() {
        PushBridgeGateway mine = PushBridgeGateway.builder()
                .site(io.pushbridge.gateway.SiteOptions.builder("demo")
                        .authorizer(new io.pushbridge.auth.AllowAllAuthorizer(java.util.Set.of())).build())
                .build();
        onRedis(prefix()).withBean("myGateway", PushBridgeGateway.class, () -> mine).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PushBridgeGateway.class)).isSameAs(mine);
            assertThat(context.getBean(RedisNodeRegistry.class).isHealthy()).isTrue();
        });
    }

    @Test
    void disabledGivesNoRedisBeans() {
        onRedis(prefix()).withPropertyValues("pushbridge.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(RedisConnector.class);
            assertThat(context).doesNotHaveBean(PushBridgeGateway.class);
        });
    }

    @Test
    void withoutPushbridgeRedisOnTheClasspathTheRedisPropertiesAreIgnored() {
        onRedis(prefix()).withClassLoader(new FilteredClassLoader(RedisConnector.class)).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MessageStore.class)).isInstanceOf(InMemoryMessageStore.class);
            assertThat(context).doesNotHaveBean(RedisConnector.class);
        });
    }

    @Test
    void withoutHealthOnTheClasspathThereIsNoIndicator() {
        onRedis(prefix()).withClassLoader(new FilteredClassLoader(HealthIndicator.class)).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean("pushbridge");
            assertThat(context).doesNotHaveBean(PushBridgeRedisHealthCheck.class);
            assertThat(context).hasSingleBean(RedisMessageStore.class);
        });
    }

    @Test
    void healthIndicatorChecksRedisToo() {
        onRedis(prefix()).run(context -> {
            Health health = context.getBean("pushbridge", HealthIndicator.class).health();
            // the gateway is not started in these tests
            assertThat(health.getStatus()).isEqualTo(Status.DOWN);
            assertThat((String) health.getDetails().get("reason")).contains("the gateway is not running");
            @SuppressWarnings("unchecked")
            Map<String, Object> details = (Map<String, Object>) health.getDetails().get("redis");
            assertThat(details).containsEntry("mode", "standalone").containsEntry("ping", "PONG")
                    .containsEntry("heartbeat", "ok").containsKey("router");
        });
        runner.withPropertyValues("management.health.pushbridge.enabled=false").run(context ->
                assertThat(context).doesNotHaveBean("pushbridge"));
    }

    @Test
    void metricsAreRegisteredWithTheMeterRegistry() {
        onRedis(prefix()).withPropertyValues("pushbridge.host=127.0.0.1", "pushbridge.port=0")
                .withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            assertThat(context).hasNotFailed();
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            Gauge connections = meters.find("pushbridge.connections").tag("site", "demo").gauge();
            assertThat(connections).isNotNull();
            assertThat(connections.value()).isZero();
            for (String name : new String[] {"pushbridge.redis.heartbeat.failures", "pushbridge.redis.reaped.nodes"}) {
                FunctionCounter counter = meters.find(name).functionCounter();
                assertThat(counter).as(name).isNotNull();
                assertThat(counter.count()).as(name).isZero();
                assertThat(counter.getId().getTags()).as(name).isEmpty();
            }
            // the router registers its meters when the gateway starts it, and removes them when it stops
            assertThat(meters.find("pushbridge.router.published").meters()).isEmpty();
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            gateway.start();
            try {
                assertThat(meters.get("pushbridge.router.published").functionCounter().count()).isZero();
                assertThat(meters.get("pushbridge.router.receive.lag").timer().count()).isZero();
            } finally {
                gateway.stop();
            }
            assertThat(meters.find("pushbridge.router.published").meters()).isEmpty();
            assertThat(meters.find("pushbridge.connections").meters()).isEmpty();
        });
        runner.withBean(SimpleMeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(meters.find("pushbridge.connections").tag("site", "demo").gauge()).isNotNull();
            assertThat(meters.find("pushbridge.redis.heartbeat.failures").meters()).isEmpty();
        });
        // without a MeterRegistry nothing is recorded, and nothing is needed
        runner.run(context -> assertThat(context).hasNotFailed().hasSingleBean(PushBridgeGateway.class));
    }

    // ---------------------------------------------------------------------------------------------

    private static String redisUrl() {
        return "pushbridge.redis.url=" + redis.uri();
    }

    private void assertRedisFailure(String messageStart, String... properties) {
        runner.withPropertyValues(properties).run(context ->
                assertThat(failure(context)).as(String.join(", ", properties)).hasMessageStartingWith(messageStart));
    }

    /** The exception that failed the context, which must be ours, naming the property. */
    private static Throwable failure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        return find(context.getStartupFailure(), InvalidPushBridgePropertyException.class);
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        Throwable t = failure;
        while (t != null && !type.isInstance(t)) {
            t = t.getCause();
        }
        assertThat(t).as("a %s in %s", type.getSimpleName(), failure).isNotNull();
        return type.cast(t);
    }

    private static String stackTrace(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** A loopback port nothing listens on. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }
}
