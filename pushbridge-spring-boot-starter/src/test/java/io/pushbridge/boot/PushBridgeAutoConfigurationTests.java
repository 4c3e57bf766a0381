package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.PushTemplate;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.Router;
import io.pushbridge.SendRequest;
import io.pushbridge.SendResult;
import io.pushbridge.auth.AllowAllAuthorizer;
import io.pushbridge.auth.StaticAuthorizer;
import io.pushbridge.auth.WebhookAuthorizer;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.io.ClassPathResource;
import org.springframework.util.unit.DataSize;

/**
 * The auto-configuration's beans, their replacement by the application's, and the failures of bad
 * properties. No test here binds a port: {@code pushbridge.auto-startup=false} keeps the gateway
 * stopped (see {@link PushBridgeAutoConfigurationIntegrationTests} for a started one).
 */
class PushBridgeAutoConfigurationTests {

    private static final String[] DEMO_SITE = {
            "pushbridge.auto-startup=false",
            "pushbridge.sites.demo.authorizer=static",
            "pushbridge.sites.demo.tokens.alice=user_alice,staff",
            "pushbridge.sites.demo.api-key=demo-key"};

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class));

    @Test
    void defaultsProduceAllBeans() {
        runner.withPropertyValues(DEMO_SITE).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(PushBridgeProperties.class);
            assertThat(context).getBean(MessageStore.class).isInstanceOf(InMemoryMessageStore.class);
            assertThat(context).getBean(Router.class).isInstanceOf(LocalRouter.class);
            assertThat(context).hasSingleBean(PushBridgeGateway.class);
            assertThat(context).hasSingleBean(PushTemplate.class);
            assertThat(context).hasSingleBean(PushBridgeGatewayLifecycle.class);

            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            assertThat(context.getBean(PushTemplate.class)).isSameAs(gateway.pushTemplate());
            assertThat(gateway.isRunning()).isFalse();
            GatewayOptions options = gateway.options();
            assertThat(options.port()).isEqualTo(1337);
            assertThat(options.host()).isEqualTo("0.0.0.0");
            assertThat(options.path()).isEqualTo("/socket.io");
            assertThat(options.staticResources()).isNull();

            SiteOptions demo = gateway.sites().get("demo");
            assertThat(demo.namespace()).isEqualTo("/demo");
            assertThat(demo.userRoomPrefix()).isEqualTo("user_");
            assertThat(demo.authorizer()).isInstanceOf(StaticAuthorizer.class);
            assertThat(demo.acceptsApiKey("demo-key")).isTrue();
            assertThat(demo.acceptsApiKey("other")).isFalse();

            InMemoryMessageStore store = context.getBean(InMemoryMessageStore.class);
            assertThat(store.clientTtl()).isEqualTo(Duration.ofHours(1));
            assertThat(store.maxPendingPerUser()).isEqualTo(10_000);

            SmartLifecycle lifecycle = context.getBean(PushBridgeGatewayLifecycle.class);
            assertThat(lifecycle.getPhase()).isEqualTo(Integer.MAX_VALUE - 1024);
            assertThat(lifecycle.isAutoStartup()).isFalse();
        });
    }

    @Test
    void defaultsMatchCore() {
        PushBridgeProperties p = new PushBridgeProperties();
        assertThat(p.getHost()).isEqualTo(GatewayOptions.DEFAULT_HOST);
        assertThat(p.getPort()).isEqualTo(GatewayOptions.DEFAULT_PORT);
        assertThat(p.getPath()).isEqualTo(GatewayOptions.DEFAULT_PATH);
        assertThat(p.getPingInterval()).isEqualTo(GatewayOptions.DEFAULT_PING_INTERVAL);
        assertThat(p.getPingTimeout()).isEqualTo(GatewayOptions.DEFAULT_PING_TIMEOUT);
        assertThat(p.getConnectTimeout()).isEqualTo(GatewayOptions.DEFAULT_CONNECT_TIMEOUT);
        assertThat(p.getMaxPayload()).isEqualTo(DataSize.ofBytes(GatewayOptions.DEFAULT_MAX_PAYLOAD));
        assertThat(p.getMaxMessageSize()).isEqualTo(DataSize.ofBytes(GatewayOptions.DEFAULT_MAX_MESSAGE_SIZE));
        assertThat(p.getMaxRoomsPerSend()).isEqualTo(GatewayOptions.DEFAULT_MAX_ROOMS_PER_SEND);
        assertThat(p.getMaxRoomNameLength()).isEqualTo(GatewayOptions.DEFAULT_MAX_ROOM_NAME_LENGTH);
        assertThat(p.getMaxEventNameLength()).isEqualTo(GatewayOptions.DEFAULT_MAX_EVENT_NAME_LENGTH);
        assertThat(p.getShutdownTimeout()).isEqualTo(GatewayOptions.DEFAULT_SHUTDOWN_TIMEOUT);
        assertThat(p.getReconnectSpread()).isEqualTo(GatewayOptions.DEFAULT_RECONNECT_SPREAD);
        assertThat(p.getMaxEventsPerSecond()).isEqualTo(GatewayOptions.DEFAULT_MAX_EVENTS_PER_SECOND);
        assertThat(p.getMaxSendsPerSecond()).isEqualTo(GatewayOptions.DEFAULT_MAX_SENDS_PER_SECOND);
        assertThat(p.getMaxConnectionsPerSite()).isEqualTo(GatewayOptions.DEFAULT_MAX_CONNECTIONS_PER_SITE);
        assertThat(p.getMaxBufferedBytes()).isEqualTo(DataSize.ofBytes(GatewayOptions.DEFAULT_MAX_BUFFERED_BYTES));
        GatewayOptions core = GatewayOptions.builder().build();
        assertThat(p.getWorkerThreads()).isEqualTo(core.workerThreads());
        assertThat(p.isWebsocketCompression()).isEqualTo(core.websocketCompression());
        assertThat(p.isNativeTransport()).isEqualTo(core.nativeTransport()).isTrue();
        assertThat(p.getFlakeId().getDatacenter()).isEqualTo(core.datacenterId());
        assertThat(p.getFlakeId().getWorker()).isEqualTo(core.workerId());
        assertThat(p.getClientTtl()).isEqualTo(InMemoryMessageStore.DEFAULT_CLIENT_TTL);
        assertThat(p.getMaxPendingPerUser()).isEqualTo(InMemoryMessageStore.DEFAULT_MAX_PENDING_PER_USER);
        assertThat(p.getMetrics().getQueueRefresh()).isEqualTo(GatewayOptions.DEFAULT_QUEUE_METRICS_REFRESH);
        PushBridgeProperties.Site site = new PushBridgeProperties.Site();
        assertThat(site.getUserRoomPrefix()).isEqualTo(SiteOptions.DEFAULT_USER_ROOM_PREFIX);
        assertThat(site.getAuthScheme()).isEqualTo(WebhookAuthorizer.DEFAULT_SCHEME);
        assertThat(site.getAuthTimeout()).isEqualTo(WebhookAuthorizer.DEFAULT_TIMEOUT);
        assertThat(site.getAuthMaxResponseSize()).isEqualTo(DataSize.ofBytes(WebhookAuthorizer.DEFAULT_MAX_RESPONSE_BYTES));
        assertThat(site.getAuthCacheTtl()).isEqualTo(WebhookAuthorizer.DEFAULT_CACHE_TTL);
        assertThat(site.getAuthCacheMaxEntries()).isEqualTo(WebhookAuthorizer.DEFAULT_CACHE_MAX_ENTRIES);
        assertThat(site.getAuthBreakerFailures()).isEqualTo(WebhookAuthorizer.DEFAULT_BREAKER_FAILURES);
        assertThat(site.getAuthBreakerCoolDown()).isEqualTo(WebhookAuthorizer.DEFAULT_BREAKER_COOL_DOWN);
        assertThat(site.isAuthCoalesce()).isTrue();
        assertThat(site.getAuthRedirects().name()).isEqualTo(WebhookAuthorizer.Redirects.NEVER.name());
        assertThat(p.getTls().getProtocols()).isEqualTo(io.pushbridge.gateway.TlsOptions.DEFAULT_PROTOCOLS);
        assertThat(p.getTls().getKeyStoreType()).isEqualTo(io.pushbridge.gateway.TlsOptions.DEFAULT_KEY_STORE_TYPE);
    }

    @Test
    void propertiesReachTheGatewayOptions() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues(
                "pushbridge.host=127.0.0.1", "pushbridge.port=4000", "pushbridge.path=/io",
                "pushbridge.ping-interval=10s", "pushbridge.ping-timeout=60000", "pushbridge.connect-timeout=5s",
                "pushbridge.max-payload=2MB", "pushbridge.max-message-size=64KB", "pushbridge.max-rooms-per-send=7",
                "pushbridge.max-room-name-length=50", "pushbridge.max-event-name-length=20",
                "pushbridge.allowed-origins=https://a.example,http://localhost:8080",
                "pushbridge.websocket-compression=true", "pushbridge.native-transport=false", "pushbridge.worker-threads=3", "pushbridge.node-id=edge-1",
                "pushbridge.static-resources=public", "pushbridge.flake-id.datacenter=2",
                "pushbridge.flake-id.worker=31", "pushbridge.max-pending-per-user=5", "pushbridge.shutdown-timeout=12s",
                "pushbridge.reconnect-spread=500ms").run(context -> {
                    GatewayOptions o = context.getBean(PushBridgeGateway.class).options();
                    assertThat(o.host()).isEqualTo("127.0.0.1");
                    assertThat(o.port()).isEqualTo(4000);
                    assertThat(o.path()).isEqualTo("/io");
                    assertThat(o.pingInterval()).isEqualTo(Duration.ofSeconds(10));
                    assertThat(o.pingTimeout()).isEqualTo(Duration.ofSeconds(60));
                    assertThat(o.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(o.maxPayload()).isEqualTo(2 * 1024 * 1024);
                    assertThat(o.maxMessageSize()).isEqualTo(64 * 1024);
                    assertThat(o.maxRoomsPerSend()).isEqualTo(7);
                    assertThat(o.maxRoomNameLength()).isEqualTo(50);
                    assertThat(o.maxEventNameLength()).isEqualTo(20);
                    assertThat(o.allowedOrigins()).containsExactly("https://a.example", "http://localhost:8080");
                    assertThat(o.websocketCompression()).isTrue();
                    assertThat(o.nativeTransport()).isFalse();
                    assertThat(o.workerThreads()).isEqualTo(3);
                    assertThat(o.nodeId()).isEqualTo("edge-1");
                    assertThat(o.staticResources()).isEqualTo("public");
                    assertThat(o.datacenterId()).isEqualTo(2);
                    assertThat(o.workerId()).isEqualTo(31);
                    assertThat(o.shutdownTimeout()).isEqualTo(Duration.ofSeconds(12));
                    assertThat(o.reconnectSpread()).isEqualTo(Duration.ofMillis(500));
                    assertThat(context.getBean(InMemoryMessageStore.class).maxPendingPerUser()).isEqualTo(5);
                });
    }

    @Test
    void siteLimitsOverrideTheGatewaysAndTheRestFollowIt() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues(
                "pushbridge.max-sends-per-second=500", "pushbridge.max-connections-per-site=10000",
                "pushbridge.max-buffered-bytes=4MB", "pushbridge.max-events-per-second=50",
                "pushbridge.sites.demo.limits.max-message-size=2KB", "pushbridge.sites.demo.limits.max-rooms-per-send=3",
                "pushbridge.sites.demo.limits.max-room-name-length=40", "pushbridge.sites.demo.limits.max-event-name-length=30",
                "pushbridge.sites.demo.limits.max-sends-per-second=0", "pushbridge.sites.demo.limits.max-connections=20",
                "pushbridge.sites.demo.limits.max-events-per-second=5", "pushbridge.sites.demo.limits.max-buffered-bytes=256KB",
                "pushbridge.sites.other.authorizer=allow-all", "pushbridge.sites.other.limits.max-connections=7")
                .run(context -> {
                    PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                    GatewayOptions o = gateway.options();
                    assertThat(o.maxSendsPerSecond()).isEqualTo(500);
                    assertThat(o.maxConnectionsPerSite()).isEqualTo(10_000);
                    assertThat(o.maxBufferedBytes()).isEqualTo(4 * 1024 * 1024);
                    assertThat(gateway.sites().get("demo").limits().resolve(o)).isEqualTo(new io.pushbridge.gateway.Limits(
                            2048, 3, 40, 30, 0, 20, 5, 256 * 1024));
                    assertThat(gateway.sites().get("other").limits().resolve(o)).isEqualTo(new io.pushbridge.gateway.Limits(
                            GatewayOptions.DEFAULT_MAX_MESSAGE_SIZE, GatewayOptions.DEFAULT_MAX_ROOMS_PER_SEND,
                            GatewayOptions.DEFAULT_MAX_ROOM_NAME_LENGTH, GatewayOptions.DEFAULT_MAX_EVENT_NAME_LENGTH,
                            500, 7, 50, 4 * 1024 * 1024));
                });
    }

    @Test
    void badLimitsFailNamingTheProperty() {
        String site = "pushbridge.sites.demo.limits.";
        assertFailure(site + "max-message-size: must be at least 64 bytes, was 10", site + "max-message-size=10B");
        assertFailure(site + "max-message-size: must be at most", site + "max-message-size=3GB");
        assertFailure(site + "max-rooms-per-send: must be >= 1, was 0", site + "max-rooms-per-send=0");
        assertFailure(site + "max-room-name-length: must be >= 1", site + "max-room-name-length=0");
        assertFailure(site + "max-event-name-length: must be >= 1", site + "max-event-name-length=-3");
        assertFailure(site + "max-sends-per-second: must be >= 0", site + "max-sends-per-second=-1");
        assertFailure(site + "max-connections: must be >= 0", site + "max-connections=-1");
        assertFailure(site + "max-events-per-second: must be >= 0", site + "max-events-per-second=-1");
        assertFailure(site + "max-buffered-bytes: must be 0 (no limit) or at least 1024 bytes, was 100",
                site + "max-buffered-bytes=100B");
        assertFailure("pushbridge.max-sends-per-second: must be >= 0", "pushbridge.max-sends-per-second=-1");
        assertFailure("pushbridge.max-connections-per-site: must be >= 0", "pushbridge.max-connections-per-site=-1");
        assertFailure("pushbridge.max-buffered-bytes: must be 0 (no limit) or at least 1024 bytes",
                "pushbridge.max-buffered-bytes=1B");
        assertFailure("pushbridge.max-buffered-bytes: must be at most", "pushbridge.max-buffered-bytes=3GB");
        // the user room prefix must fit the site's own room name limit, which the message names
        runner.withPropertyValues(DEMO_SITE).withPropertyValues(site + "max-room-name-length=5",
                "pushbridge.sites.demo.user-room-prefix=member_").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.demo.user-room-prefix: must be shorter than "
                                + site + "max-room-name-length (5)"));
    }

    @Test
    void userMessageStoreReplacesDefault() {
        MessageStore mine = InMemoryMessageStore.builder().maxPendingPerUser(3).build();
        runner.withPropertyValues(DEMO_SITE).withBean("myStore", MessageStore.class, () -> mine).run(context -> {
            assertThat(context).hasSingleBean(MessageStore.class);
            assertThat(context.getBean(MessageStore.class)).isSameAs(mine);
            assertThat(context).hasSingleBean(PushBridgeGateway.class);
        });
    }

    @Test
    void userRouterReplacesDefault() {
        Router mine = new LocalRouter();
        runner.withPropertyValues(DEMO_SITE).withBean("myRouter", Router.class, () -> mine).run(context -> {
            assertThat(context).hasSingleBean(Router.class);
            assertThat(context.getBean(Router.class)).isSameAs(mine);
        });
    }

    @Test
    void userPushTemplateReplacesDefault() {
        PushTemplate mine = new RecordingTemplate();
        runner.withPropertyValues(DEMO_SITE).withBean("myTemplate", PushTemplate.class, () -> mine).run(context -> {
            assertThat(context).hasSingleBean(PushTemplate.class);
            assertThat(context.getBean(PushTemplate.class)).isSameAs(mine);
            assertThat(context).hasSingleBean(PushBridgeGateway.class);
        });
    }

    @Test
    void userGatewayReplacesDefault() {
        PushBridgeGateway mine = PushBridgeGateway.builder()
                .site(SiteOptions.builder("mine").authorizer(new AllowAllAuthorizer(Set.of())).build())
                .build();
        runner.withBean("myGateway", PushBridgeGateway.class, () -> mine)
                .withPropertyValues("pushbridge.auto-startup=false").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PushBridgeGateway.class)).isSameAs(mine);
                    assertThat(context.getBean(PushTemplate.class)).isSameAs(mine.pushTemplate());
                });
    }

    @Test
    void disabledGivesNoBeans() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(PushBridgeProperties.class);
            assertThat(context).doesNotHaveBean(MessageStore.class);
            assertThat(context).doesNotHaveBean(Router.class);
            assertThat(context).doesNotHaveBean(PushBridgeGateway.class);
            assertThat(context).doesNotHaveBean(PushTemplate.class);
            assertThat(context).doesNotHaveBean(PushBridgeGatewayLifecycle.class);
        });
    }

    @Test
    void missingSitesFailsNamingPushbridgeSites() {
        runner.withPropertyValues("pushbridge.auto-startup=false").run(context ->
                assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites: at least one site is required"));
    }

    @Test
    void siteWithoutAuthorizerOrAuthUrlFailsNamingAuthUrl() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.newsite.api-key=k").run(context ->
                assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.newsite.auth-url: is required"));
    }

    @Test
    void badAuthUrlFailsNamingTheProperty() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.newsite.auth-url=foo").run(context ->
                assertThat(failure(context)).hasMessage(
                        "pushbridge.sites.newsite.auth-url: must be an absolute http(s) URL, was 'foo'"));
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.newsite.auth-url=http://bad host/")
                .run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.newsite.auth-url: must be an absolute http(s) URL"));
    }

    @Test
    void badAuthSchemeAndTimeoutFailNamingTheProperty() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.newsite.auth-url=https://n.example/r",
                "pushbridge.sites.newsite.auth-scheme=Two words").run(context ->
                        assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.newsite.auth-scheme: "));
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.newsite.auth-url=https://n.example/r",
                "pushbridge.sites.newsite.auth-timeout=0s").run(context ->
                        assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.newsite.auth-timeout: "));
    }

    @Test
    void badPortFailsNamingTheProperty() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.port=70000").run(context ->
                assertThat(failure(context)).hasMessage("pushbridge.port: must be 0..65535, was 70000"));
    }

    @Test
    void badGatewaySettingsFailNamingTheProperty() {
        assertFailure("pushbridge.path: ", "pushbridge.path=socket.io");
        assertFailure("pushbridge.ping-timeout: ", "pushbridge.ping-timeout=0");
        assertFailure("pushbridge.max-payload: ", "pushbridge.max-payload=10B");
        assertFailure("pushbridge.max-payload: must be at most", "pushbridge.max-payload=3GB");
        assertFailure("pushbridge.max-message-size: ", "pushbridge.max-message-size=1B");
        assertFailure("pushbridge.allowed-origins: ", "pushbridge.allowed-origins=example.com");
        assertFailure("pushbridge.flake-id.datacenter: ", "pushbridge.flake-id.datacenter=32");
        assertFailure("pushbridge.flake-id.worker: ", "pushbridge.flake-id.worker=-1");
        assertFailure("pushbridge.worker-threads: ", "pushbridge.worker-threads=-1");
        assertFailure("pushbridge.max-pending-per-user: ", "pushbridge.max-pending-per-user=0");
        assertFailure("pushbridge.client-ttl: ", "pushbridge.client-ttl=-5");
        assertFailure("pushbridge.resync-memory: must be >= 0 (0 remembers no expired queue), was PT-1S",
                "pushbridge.resync-memory=-1s");
        assertFailure("pushbridge.node-id: ", "pushbridge.node-id= ");
        assertFailure("pushbridge.static-resources: ", "pushbridge.static-resources=/");
        assertFailure("pushbridge.metrics.queue-refresh: must be 0 (off) or at least 100 ms", "pushbridge.metrics.queue-refresh=10ms");
        assertFailure("pushbridge.metrics.queue-refresh: ", "pushbridge.metrics.queue-refresh=-1s");
    }

    @Test
    void theGatewayRecordsItsMetersInTheApplicationsRegistry() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.metrics.queue-refresh=5s")
                .withBean(io.micrometer.core.instrument.MeterRegistry.class,
                        io.micrometer.core.instrument.simple.SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PushBridgeGateway.class).options().queueMetricsRefresh())
                            .isEqualTo(Duration.ofSeconds(5));
                    io.micrometer.core.instrument.MeterRegistry meters = context.getBean(
                            io.micrometer.core.instrument.MeterRegistry.class);
                    assertThat(meters.get("pushbridge.connections").tag("site", "demo").gauge().value()).isZero();
                    assertThat(meters.get("pushbridge.queue.depth").tag("site", "demo").gauge().value()).isNaN();
                    assertThat(meters.find("pushbridge.bad.inputs").counters()).isNotEmpty();
                    assertThat(meters.get("pushbridge.events").tag("outcome", "handled").functionCounter().count()).isZero();
                });
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.metrics.queue-refresh=0")
                .withBean(io.micrometer.core.instrument.MeterRegistry.class,
                        io.micrometer.core.instrument.simple.SimpleMeterRegistry::new)
                .run(context -> assertThat(context.getBean(io.micrometer.core.instrument.MeterRegistry.class)
                        .find("pushbridge.queue.depth").meters()).isEmpty());
    }

    @Test
    void shutdownSettingsAreCheckedAtStartUp() {
        assertFailure("pushbridge.shutdown-timeout: must be positive", "pushbridge.shutdown-timeout=0s");
        assertFailure("pushbridge.reconnect-spread: must be zero or positive", "pushbridge.reconnect-spread=-1s");
        // the drain must fit in the shutdown phase that Spring waits for (30 s unless configured)
        assertFailure("pushbridge.shutdown-timeout: must leave 5s of spring.lifecycle.timeout-per-shutdown-phase (30000ms)",
                "pushbridge.shutdown-timeout=26s");
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.shutdown-timeout=26s",
                "spring.lifecycle.timeout-per-shutdown-phase=1m").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(PushBridgeGateway.class).options().shutdownTimeout())
                            .isEqualTo(Duration.ofSeconds(26));
                });
        assertFailure("pushbridge.shutdown-timeout: must leave 5s of spring.lifecycle.timeout-per-shutdown-phase (10000ms)",
                "spring.lifecycle.timeout-per-shutdown-phase=10s");
    }

    private void assertFailure(String messageStart, String property) {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues(property)
                .run(context -> assertThat(failure(context)).hasMessageStartingWith(messageStart));
    }

    @Test
    void badUserRoomPrefixFailsNamingTheProperty() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.user-room-prefix=us\u0001er_")
                .run(context -> assertThat(failure(context)).hasMessageStartingWith(
                        "pushbridge.sites.demo.user-room-prefix: must not contain control characters"));
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.max-room-name-length=5",
                "pushbridge.sites.demo.user-room-prefix=member_").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.demo.user-room-prefix: must be shorter than"));
    }

    @Test
    void emptyUserRoomPrefixTurnsUserRoomsOff() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.user-room-prefix=").run(context -> {
            SiteOptions demo = context.getBean(PushBridgeGateway.class).sites().get("demo");
            assertThat(demo.userRoomPrefix()).isEmpty();
            assertThat(demo.isUserRoom("user_alice")).isFalse();
        });
    }

    @Test
    void badNamespaceAndSiteNameFailNamingTheSite() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.namespace=no-slash")
                .run(context -> assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.demo.namespace: "));
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.other.authorizer=allow-all",
                "pushbridge.sites.other.namespace=/same", "pushbridge.sites.demo.authorizer=allow-all",
                "pushbridge.sites.demo.namespace=/same").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites: ").hasMessageContaining("/same"));
    }

    @Test
    void blankApiKeyFailsNamingTheProperty() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.api-key=")
                .run(context -> assertThat(failure(context)).hasMessage("pushbridge.sites.demo.api-key: must not be blank"));
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.api-keys[0]=a",
                "pushbridge.sites.demo.api-keys[1]= ").run(context -> assertThat(failure(context))
                        .hasMessage("pushbridge.sites.demo.api-keys[1]: must not be blank"));
    }

    @Test
    void apiKeyAndApiKeysMerge() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.api-keys=old-key,new-key")
                .run(context -> {
                    SiteOptions demo = context.getBean(PushBridgeGateway.class).sites().get("demo");
                    assertThat(demo.acceptsApiKey("demo-key")).isTrue();
                    assertThat(demo.acceptsApiKey("old-key")).isTrue();
                    assertThat(demo.acceptsApiKey("new-key")).isTrue();
                    assertThat(demo.acceptsApiKey("nope")).isFalse();
                });
    }

    @Test
    void settingsOfAnotherAuthorizerConflict() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.sites.demo.auth-url=https://demo.example/r")
                .run(context -> assertThat(failure(context)).hasMessage("pushbridge.sites.demo.auth-url: is only read by "
                        + "the WEBHOOK authorizer, but pushbridge.sites.demo.authorizer is STATIC; remove one of them"));
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.demo.auth-url=https://demo.example/r",
                "pushbridge.sites.demo.rooms=lobby").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.demo.rooms: is only read by the ALLOW_ALL authorizer"));
    }

    @Test
    void staticAuthorizerNeedsTokens() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.demo.authorizer=static")
                .run(context -> assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.demo.tokens: "));
    }

    @Test
    void allowAllAuthorizerJoinsTheConfiguredRooms() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.lobby.authorizer=ALLOW_ALL",
                "pushbridge.sites.lobby.rooms=lobby,news", "pushbridge.sites.lobby.namespace=/").run(context -> {
                    SiteOptions lobby = context.getBean(PushBridgeGateway.class).sites().get("lobby");
                    assertThat(lobby.namespace()).isEqualTo("/");
                    assertThat(lobby.authorizer()).isInstanceOf(AllowAllAuthorizer.class);
                    assertThat(lobby.authorizer().authorize(null).toCompletableFuture().join())
                            .containsExactlyInAnyOrder("lobby", "news");
                });
    }

    @Test
    void beanAuthorizerIsLookedUpByName() {
        RoomAuthorizer mine = request -> CompletableFuture.completedFuture(Set.of("vip"));
        runner.withBean("vipAuthorizer", RoomAuthorizer.class, () -> mine)
                .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.vip.authorizer=bean",
                        "pushbridge.sites.vip.authorizer-bean=vipAuthorizer").run(context ->
                        assertThat(context.getBean(PushBridgeGateway.class).sites().get("vip").authorizer()).isSameAs(mine));
    }

    @Test
    void unknownAuthorizerBeanFailsNamingTheProperty() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.vip.authorizer=BEAN",
                "pushbridge.sites.vip.authorizer-bean=missing").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.vip.authorizer-bean: no bean named 'missing'"));
        runner.withBean("notAnAuthorizer", String.class, () -> "hello")
                .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.vip.authorizer=BEAN",
                        "pushbridge.sites.vip.authorizer-bean=notAnAuthorizer").run(context -> assertThat(failure(context))
                        .hasMessageStartingWith("pushbridge.sites.vip.authorizer-bean: bean 'notAnAuthorizer' is a java.lang.String"));
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.vip.authorizer=BEAN").run(context ->
                assertThat(failure(context)).hasMessageStartingWith("pushbridge.sites.vip.authorizer-bean: is required"));
    }

    @Test
    void unknownAuthorizerKindFailsInBinding() {
        runner.withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.demo.authorizer=ldap").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("pushbridge.sites.demo.authorizer");
        });
    }

    @Test
    void seedStyleCamelCaseSiteKeysBind() {
        runner.withPropertyValues("pushbridge.auto-startup=false",
                "pushbridge.sites.newsite.authUrl=http://newsite.com/socketrooms",
                "pushbridge.sites.newsite.authScheme=Token",
                "pushbridge.sites.newsite.apiKey=54321",
                "pushbridge.sites.newsite.userRoomPrefix=member_").run(context -> {
                    SiteOptions site = context.getBean(PushBridgeGateway.class).sites().get("newsite");
                    assertThat(site.namespace()).isEqualTo("/newsite");
                    assertThat(site.userRoomPrefix()).isEqualTo("member_");
                    assertThat(site.acceptsApiKey("54321")).isTrue();
                    assertThat(site.authorizer()).isInstanceOf(WebhookAuthorizer.class);
                    assertThat(((WebhookAuthorizer) site.authorizer()).authUrl())
                            .isEqualTo(URI.create("http://newsite.com/socketrooms"));
                    assertThat(site.authorizer().toString()).contains("scheme=Token");
                });
    }

    @Test
    void seedShapedYamlBinds() {
        runner.withInitializer(context -> {
            try {
                new YamlPropertySourceLoader().load("seed", new ClassPathResource("seed-sites.yml"))
                        .forEach(context.getEnvironment().getPropertySources()::addFirst);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).run(context -> {
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            assertThat(gateway.options().port()).isEqualTo(80);
            assertThat(gateway.options().datacenterId()).isEqualTo(3);
            assertThat(gateway.options().workerId()).isEqualTo(7);
            assertThat(context.getBean(InMemoryMessageStore.class).clientTtl()).isEqualTo(Duration.ofSeconds(3600));
            SiteOptions site = gateway.sites().get("newsite");
            assertThat(site.acceptsApiKey("54321")).isTrue();
            assertThat(site.userRoomPrefix()).isEqualTo("user_");
            assertThat(((WebhookAuthorizer) site.authorizer()).authUrl())
                    .isEqualTo(URI.create("http://newsite.com/socketrooms"));
        });
    }

    @Test
    void clientTtlNumberMeansSeconds() {
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.client-ttl=3600").run(context -> {
            assertThat(context.getBean(PushBridgeProperties.class).getClientTtl()).isEqualTo(Duration.ofSeconds(3600));
            assertThat(context.getBean(InMemoryMessageStore.class).clientTtl()).isEqualTo(Duration.ofHours(1));
        });
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.client-ttl=90m").run(context ->
                assertThat(context.getBean(InMemoryMessageStore.class).clientTtl()).isEqualTo(Duration.ofMinutes(90)));
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.client-ttl=0").run(context ->
                assertThat(context.getBean(InMemoryMessageStore.class).clientTtl()).isZero());
    }

    @Test
    void resyncMemoryReachesTheStore() {
        runner.withPropertyValues(DEMO_SITE).run(context ->
                assertThat(context.getBean(InMemoryMessageStore.class).resyncMemory()).isEqualTo(Duration.ofDays(7)));
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.resync-memory=2d").run(context ->
                assertThat(context.getBean(InMemoryMessageStore.class).resyncMemory()).isEqualTo(Duration.ofDays(2)));
        runner.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.resync-memory=0").run(context ->
                assertThat(context.getBean(InMemoryMessageStore.class).resyncMemory()).isZero());
    }

    /** The exception that failed the context, which must be ours, naming the property. */
    private static Throwable failure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        Throwable t = context.getStartupFailure();
        while (t != null && !(t instanceof InvalidPushBridgePropertyException)) {
            t = t.getCause();
        }
        assertThat(t).as("an InvalidPushBridgePropertyException in %s", context.getStartupFailure()).isNotNull();
        return t;
    }

    private static final class RecordingTemplate implements PushTemplate {
        @Override
        public CompletionStage<SendResult> send(SendRequest request) {
            return CompletableFuture.completedFuture(new SendResult(1, java.util.List.of(), 0));
        }

        @Override
        public CompletionStage<Void> join(String site, String socketId, Set<String> rooms) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> leave(String site, String socketId, Set<String> rooms) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> disconnect(String site, String socketId) {
            return CompletableFuture.completedFuture(null);
        }
    }
}
