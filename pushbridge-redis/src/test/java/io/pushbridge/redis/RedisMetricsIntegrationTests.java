package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.Message;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.MeterGuard;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.upstream.RedisUpstream;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import io.pushbridge.redis.upstream.UpstreamStreams;
import io.socket.client.Ack;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Redis parts' meters on a real Redis: a gateway node routing site "chat" upstream, and an
 * application node handling its records, each with its own {@link SimpleMeterRegistry}. Router
 * publishes, receipts and receive lag (messages without a publish time, from older nodes, are
 * still delivered), upstream round trips and lag, malformed routed messages, records and answers,
 * and the node registry's counters; every meter is removed when its node stops.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisMetricsIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static final String SITE = "chat";
    private static final RedisKeys KEYS = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
    private static final UpstreamStreams STREAMS = new UpstreamStreams(KEYS, 2);

    private static final SimpleMeterRegistry gatewayMeters = new SimpleMeterRegistry();
    private static final SimpleMeterRegistry appMeters = new SimpleMeterRegistry();
    private static RedisConnector outside;
    private static GatewayNode gateway;
    private static GatewayNode app;

    @BeforeAll
    static void start() {
        outside = RedisConnector.builder().uri(redis.uri()).build();
        RedisConnector gatewayRedis = RedisConnector.builder().uri(redis.uri()).build();
        RedisUpstream upstream = RedisUpstream.builder(SITE, gatewayRedis, KEYS).partitions(2).build();
        SiteOptions site = upstream.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
        gateway = GatewayNode.start("gw-metrics", gatewayRedis, List.of(site), List.of(upstream),
                b -> b.queueMetricsRefresh(Duration.ofMillis(200)), gatewayMeters);

        RedisConnector appRedis = RedisConnector.builder().uri(redis.uri()).build();
        RedisUpstreamConsumer consumer = RedisUpstreamConsumer.builder(appRedis, KEYS, new UpstreamListener() {
            @Override
            public CompletionStage<List<Object>> event(UpstreamRecord record) {
                return CompletableFuture.completedFuture(List.of("ok"));
            }
        }).sites(List.of(SITE)).partitions(2).idleTimeout(Duration.ofSeconds(1)).build();
        app = GatewayNode.start("app-metrics", appRedis, List.of(SiteOptions.builder(SITE)
                .authorizer(TestGateways.ROOMS_FROM_TOKEN).build()), List.of(consumer), b -> b.serve(false), appMeters);
    }

    @AfterAll
    static void stop() {
        app.close();
        gateway.close();
        outside.close();
        assertThat(gatewayMeters.getMeters()).as("the gateway node's meters after it stopped").isEmpty();
        assertThat(appMeters.getMeters()).as("the application node's meters after it stopped").isEmpty();
    }

    @Test
    void theRouterCountsPublishesReceiptsAndTheReceiveLag() throws Exception {
        FunctionCounter published = gatewayMeters.get(PushBridgeMeter.ROUTER_PUBLISHED.meterName()).functionCounter();
        FunctionCounter received = gatewayMeters.get(PushBridgeMeter.ROUTER_RECEIVED.meterName()).functionCounter();
        io.micrometer.core.instrument.Timer lag = gatewayMeters.get(PushBridgeMeter.ROUTER_RECEIVE_LAG.meterName()).timer();
        double publishedBefore = published.count();
        double receivedBefore = received.count();
        long lagBefore = lag.count();
        io.micrometer.core.instrument.Timer appLag = appMeters.get(PushBridgeMeter.ROUTER_RECEIVE_LAG.meterName()).timer();
        long appLagBefore = appLag.count();

        gateway.gateway.pushTemplate().site(SITE).to("lobby").event("news").send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(published.count()).isEqualTo(publishedBefore + 1);
        await(() -> received.count(), receivedBefore + 1);
        await(() -> (double) lag.count(), lagBefore + 1);
        // the application node serves the site too: it got the message, with its own lag sample
        await(() -> (double) appLag.count(), appLagBefore + 1);

        // a message of a node that writes no publish time is delivered as before, without a sample
        Message old = new Message(42, SITE, Target.rooms(Set.of("lobby")), "news", List.of(), Set.of(), false,
                System.currentTimeMillis());
        outside.commands().publish(bytes(KEYS.siteChannel(SITE)), Wire.encode(old)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        await(() -> received.count(), receivedBefore + 2);
        assertThat(lag.count()).isEqualTo(lagBefore + 1);

        // one that cannot be decoded is a bad input of the router
        Counter malformed = badInput(gatewayMeters, BadInput.ROUTER_MALFORMED);
        double malformedBefore = malformed.count();
        outside.commands().publish(bytes(KEYS.siteChannel(SITE)), bytes("not cbor")).toCompletableFuture().get(5, TimeUnit.SECONDS);
        await(malformed::count, malformedBefore + 1);
        assertThat(gateway.gateway.stats().get("router.dropped.malformed")).isEqualTo((long) malformed.count());
        assertThat(received.count()).isEqualTo(receivedBefore + 2);
    }

    @Test
    void aRouterThatCannotPublishCountsTheError() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RedisConnector connector = RedisConnector.builder().uri(redis.uri()).build();
        RedisNodeRegistry registry = RedisNodeRegistry.builder(connector.commands(), "gw-closed").build();
        RedisRouter router = new RedisRouter(connector, registry, List.of(SITE));
        router.start(new Router.Receiver() {
            @Override
            public void deliver(Message message) {
            }

            @Override
            public void execute(SocketCommand command) {
            }

            @Override
            public MeterRegistry meterRegistry() {
                return meters;
            }
        });
        try {
            connector.close();
            Message message = new Message(7, SITE, Target.rooms(Set.of("lobby")), "news", List.of(), Set.of(), false, 0);
            assertThatThrownBy(() -> router.publish(message).toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class);
            assertThat(meters.get(PushBridgeMeter.ROUTER_PUBLISH_ERRORS.meterName()).functionCounter().count()).isEqualTo(1);
            assertThat(meters.get(PushBridgeMeter.ROUTER_PUBLISHED.meterName()).functionCounter().count()).isZero();
        } finally {
            router.stop();
            registry.close();
        }
        assertThat(meters.getMeters()).as("a stopped router's meters").isEmpty();
    }

    @Test
    void upstreamRoundTripsLagAndOutcomesAreMeasuredOnBothSides() throws Exception {
        io.micrometer.core.instrument.Timer roundTrip = gatewayMeters.get(PushBridgeMeter.UPSTREAM_ROUND_TRIP.meterName())
                .tag("site", SITE).timer();
        io.micrometer.core.instrument.Timer lag = appMeters.get(PushBridgeMeter.UPSTREAM_LAG.meterName()).tag("site", SITE).timer();
        long roundTrips = roundTrip.count();
        long lags = lag.count();
        try (TestClient client = TestClient.connect(gateway.port(), "/" + SITE, "rooms:lobby")) {
            client.awaitConnected();
            CompletableFuture<Object[]> answer = new CompletableFuture<>();
            client.socket.emit("ask", new Object[] {"?"}, (Ack) answer::complete);
            assertThat(answer.get(10, TimeUnit.SECONDS)[0]).isEqualTo("ok");
        }
        await(() -> (double) roundTrip.count(), roundTrips + 1);
        assertThat(roundTrip.totalTime(TimeUnit.NANOSECONDS)).isPositive();
        assertThat(gatewayMeters.get(PushBridgeMeter.UPSTREAM_REPLIES.meterName()).tag("site", SITE).functionCounter().count())
                .isGreaterThanOrEqualTo(1);
        assertThat(gatewayMeters.get(PushBridgeMeter.UPSTREAM_APPENDED.meterName()).tag("site", SITE).functionCounter().count())
                .isGreaterThanOrEqualTo(2);
        assertThat(gatewayMeters.get(PushBridgeMeter.UPSTREAM_PENDING.meterName()).tag("site", SITE).gauge().value()).isZero();
        // the application node: the connect and the event records, at least (the disconnect may follow)
        await(() -> (double) Math.min(lag.count(), lags + 2), lags + 2);
        await(() -> Math.min(appMeters.get(PushBridgeMeter.UPSTREAM_RECORDS.meterName()).tag("outcome", "handled")
                .functionCounter().count(), 2.0), 2.0);
        await(() -> appMeters.get(PushBridgeMeter.UPSTREAM_PARTITIONS_OWNED.meterName()).gauge().value(), 2);
    }

    @Test
    void theQueueGaugesShowTheClusterWideTotalsOfTheRedisStore() throws Exception {
        long before = System.currentTimeMillis();
        gateway.gateway.pushTemplate().site(SITE).to("user_q1").event("e").args(1).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        gateway.gateway.pushTemplate().site(SITE).to("user_q1").event("e").args(2).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        gateway.gateway.pushTemplate().site(SITE).to("user_q2").event("e").args(3).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        await(() -> gatewayMeters.get(PushBridgeMeter.QUEUE_DEPTH.meterName()).tag("site", SITE).gauge().value(), 3);
        assertThat(gatewayMeters.get(PushBridgeMeter.QUEUE_USERS.meterName()).tag("site", SITE).gauge().value()).isEqualTo(2);
        double age = gatewayMeters.get(PushBridgeMeter.QUEUE_OLDEST_AGE.meterName()).tag("site", SITE).gauge().value();
        assertThat(age).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo((System.currentTimeMillis() - before) / 1000.0 + 1);
        // the Redis store cannot tell when its queues expire: no such meter with it
        assertThat(gatewayMeters.find(PushBridgeMeter.QUEUES_EXPIRED.meterName()).meters()).isEmpty();
        // the application node serves no port: it reports no queue gauges
        assertThat(appMeters.find(PushBridgeMeter.QUEUE_DEPTH.meterName()).meters()).isEmpty();
    }

    @Test
    void malformedUpstreamRecordsAndAnswersAreBadInputs() throws Exception {
        Counter records = badInput(appMeters, BadInput.UPSTREAM_MALFORMED_RECORD);
        Counter replies = badInput(gatewayMeters, BadInput.UPSTREAM_MALFORMED_REPLY);
        double recordsBefore = records.count();
        double repliesBefore = replies.count();
        outside.commands().xadd(bytes(STREAMS.stream(SITE, 0)), Map.of(bytes(UpstreamStreams.FIELD), bytes("garbage")))
                .toCompletableFuture().get(5, TimeUnit.SECONDS);
        outside.commands().publish(bytes(STREAMS.replyChannel("gw-metrics")), bytes("garbage"))
                .toCompletableFuture().get(5, TimeUnit.SECONDS);
        await(records::count, recordsBefore + 1);
        await(replies::count, repliesBefore + 1);
        assertThat(appMeters.get(PushBridgeMeter.UPSTREAM_RECORDS.meterName()).tag("outcome", "malformed")
                .functionCounter().count()).isEqualTo(1);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void everyMeterOfBothNodesIsDeclaredWithTagsFromFixedSets() {
        assertThat(gatewayMeters.find(PushBridgeMeter.HEARTBEAT_FAILURES.meterName()).functionCounter()).isNotNull();
        assertThat(gatewayMeters.find(PushBridgeMeter.REAPED_NODES.meterName()).functionCounter()).isNotNull();
        assertThat(MeterGuard.assertDeclaredWithFixedTags(gatewayMeters, Set.of(SITE))).isGreaterThan(40);
        assertThat(MeterGuard.assertDeclaredWithFixedTags(appMeters, Set.of(SITE))).isGreaterThan(40);
    }

    private static Counter badInput(MeterRegistry meters, BadInput input) {
        return meters.get(PushBridgeMeter.BAD_INPUTS.meterName()).tag("entry_point", input.entryPoint().tag())
                .tag("reason", input.reason()).counter();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void await(Supplier<Double> value, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.get() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(value.get()).isEqualTo(expected);
    }
}
