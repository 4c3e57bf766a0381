package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.MessageStore;
import io.pushbridge.MessageStore.SiteQueues;
import io.pushbridge.MessageStoreContractTests.MutableClock;
import io.pushbridge.SendRequest;
import io.pushbridge.Target;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.ConnectRefusal;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.metrics.MeterGuard;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.ResyncReason;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The gateway's meters on a real gateway with a {@link SimpleMeterRegistry}: real Socket.IO clients
 * (WebSocket and long-polling), real HTTP sends, acks, and bad inputs of every entry point of the
 * gateway itself. The last test checks that every meter registered is one of
 * {@link PushBridgeMeter}'s, with its declared tag keys and values from the allowed sets.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIntegrationTests {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-03-01T00:00:00Z"));

    private static SimpleMeterRegistry registry;
    private static TotalsStore store;
    private static ContextCapture capture;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        registry = new SimpleMeterRegistry();
        store = new TotalsStore(InMemoryMessageStore.builder().clock(CLOCK).maxPendingPerUser(3).build());
        capture = new ContextCapture();
        // time stands still for the send budgets: a site's second send within its budget is always refused
        gateway = TestGateways.start(TestGateways.options().clock(CLOCK).ticker(() -> 0).queueMetricsRefresh(Duration.ofMillis(100))
                        .allowedOrigins(List.of("http://good.example")).build(),
                b -> b.site(TestGateways.newsSite())
                        .site(SiteOptions.builder("sports").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey("sports-key").build())
                        .site(SiteOptions.builder("limited").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey("limited-key")
                                .limits(SiteLimits.builder().maxSendsPerSecond(1).maxConnections(1).build()).build())
                        .store(store).extension(capture).meterRegistry(registry));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
        // a stopped gateway leaves nothing behind in the registry
        assertThat(registry.getMeters()).as("meters after stop").isEmpty();
    }

    // ---- connections ------------------------------------------------------------------------------

    @Test
    void connectsAndRefusalsAreCountedBySiteTransportAndReason() throws Exception {
        double websocket = counter(PushBridgeMeter.CONNECTS, "site", "news", "transport", "websocket");
        double polling = counter(PushBridgeMeter.CONNECTS, "site", "news", "transport", "polling");
        long admitted = timer(PushBridgeMeter.AUTHORIZER, "site", "news", "outcome", "admitted").count();
        try (TestClient ws = TestClient.connect(gateway.port(), "/news", "rooms:c1");
                TestClient poll = TestClient.connectPolling(gateway.port(), "/news", "rooms:c2")) {
            ws.awaitConnected();
            poll.awaitConnected();
            awaitValue(() -> counter(PushBridgeMeter.CONNECTS, "site", "news", "transport", "websocket"), websocket + 1);
            awaitValue(() -> counter(PushBridgeMeter.CONNECTS, "site", "news", "transport", "polling"), polling + 1);
            assertThat(timer(PushBridgeMeter.AUTHORIZER, "site", "news", "outcome", "admitted").count()).isEqualTo(admitted + 2);
            assertThat(registry.get(PushBridgeMeter.CONNECTIONS.meterName()).tag("site", "news").gauge().value())
                    .isGreaterThanOrEqualTo(2);
        }

        try (TestClient denied = TestClient.connect(gateway.port(), "/news", "deny");
                TestClient missing = TestClient.connectPolling(gateway.port(), "/news", null)) {
            assertThat(denied.awaitConnectError().getString("code")).isEqualTo("unauthorized");
            assertThat(missing.awaitConnectError().getString("code")).isEqualTo("token_missing");
        }
        awaitValue(() -> counter(PushBridgeMeter.CONNECT_REFUSALS, "site", "news", "transport", "websocket",
                "reason", ConnectRefusal.UNAUTHORIZED.code()), 1);
        awaitValue(() -> counter(PushBridgeMeter.CONNECT_REFUSALS, "site", "news", "transport", "polling",
                "reason", ConnectRefusal.TOKEN_MISSING.code()), 1);
        assertThat(timer(PushBridgeMeter.AUTHORIZER, "site", "news", "outcome", "unauthorized").count()).isEqualTo(1);
        assertThat(timer(PushBridgeMeter.AUTHORIZER, "site", "news", "outcome", "token_missing").count()).isEqualTo(1);
        // the statistics count the same
        assertThat(gateway.stats().get("refused.unauthorized")).isEqualTo(1);
    }

    // ---- messages ---------------------------------------------------------------------------------

    @Test
    void messagesAreCountedBySource() throws Exception {
        double template = accepted("sports", MessageSource.TEMPLATE);
        double http = accepted("sports", MessageSource.HTTP);
        double redis = accepted("sports", MessageSource.REDIS);
        gateway.pushTemplate().site("sports").to("fans").event("goal").send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(post("?site=sports&apiKey=sports-key", "application/json",
                "{\"rooms\": [\"fans\"], \"event\": \"goal\"}").statusCode()).isEqualTo(200);
        // an extension's local emit is not a message accepted: the extension counts what it took in, once
        capture.context().emitLocally(new SendRequest("sports", Target.rooms(Set.of("fans")), "goal", List.of(), false));
        capture.context().emitLocally(new SendRequest("sports", Target.rooms(Set.of("fans")), "goal", List.of(), false));
        capture.context().countAccepted("sports", MessageSource.REDIS);
        capture.context().countAccepted("no-such-site", MessageSource.REDIS);
        awaitValue(() -> accepted("sports", MessageSource.HTTP), http + 1);
        assertThat(accepted("sports", MessageSource.TEMPLATE)).isEqualTo(template + 1);
        assertThat(accepted("sports", MessageSource.REDIS)).isEqualTo(redis + 1);
        // a refused send is not accepted
        assertThat(post("?site=sports&apiKey=sports-key", "application/json",
                "{\"rooms\": [\"fans\"], \"event\": \"connect\"}").statusCode()).isEqualTo(400);
        assertThat(accepted("sports", MessageSource.HTTP)).isEqualTo(http + 1);
    }

    @Test
    void emitsAcksAndTheTimeFromPublishToAck() throws Exception {
        double emits = counter(PushBridgeMeter.EMITS, "site", "news");
        double acks = counter(PushBridgeMeter.ACKS, "site", "news");
        Timer latency = timer(PushBridgeMeter.PUBLISH_TO_ACK, "site", "news");
        long samples = latency.count();
        double seconds = latency.totalTime(TimeUnit.SECONDS);
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_m1,lobby_m1", "live");
                TestClient bob = TestClient.connect(gateway.port(), "/news", "rooms:lobby_m1", "live")) {
            alice.awaitConnected();
            bob.awaitConnected();
            gateway.pushTemplate().site("news").to("user_m1", "lobby_m1").event("live").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            TestClient.Received got = alice.next();
            assertThat(bob.next().hasAck()).isFalse();
            awaitValue(() -> counter(PushBridgeMeter.EMITS, "site", "news"), emits + 2);
            CLOCK.advance(Duration.ofSeconds(3));
            got.ackNow();
            awaitValue(() -> (double) latency.count(), samples + 1);
            assertThat(counter(PushBridgeMeter.ACKS, "site", "news")).isEqualTo(acks + 1);
            assertThat(latency.totalTime(TimeUnit.SECONDS) - seconds).isCloseTo(3.0, org.assertj.core.data.Offset.offset(1e-6));
        }

        // a batch: two messages wait 10 s for their user, whose batch ack removes both
        gateway.pushTemplate().site("news").to("user_m2").event("queued").args(1).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        gateway.pushTemplate().site("news").to("user_m2").event("queued").args(2).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        CLOCK.advance(Duration.ofSeconds(10));
        try (TestClient carol = TestClient.connect(gateway.port(), "/news", "rooms:user_m2")) {
            carol.awaitConnected();
            TestClient.Received batch = carol.next();
            assertThat(batch.event()).isEqualTo("batch");
            assertThat(((JSONArray) batch.args().get(0)).length()).isEqualTo(2);
            batch.ackNow();
            awaitValue(() -> (double) latency.count(), samples + 3);
            assertThat(counter(PushBridgeMeter.ACKS, "site", "news")).isEqualTo(acks + 3);
            assertThat(latency.totalTime(TimeUnit.SECONDS) - seconds).isCloseTo(23.0, org.assertj.core.data.Offset.offset(1e-6));
        }
        // the histogram has its fixed buckets: 3 s lies in the 5 s bucket, 10 s in the 10 s one
        Map<Double, Double> buckets = Arrays.stream(latency.takeSnapshot().histogramCounts())
                .collect(Collectors.toMap(b -> b.bucket(TimeUnit.SECONDS), CountAtBucket::count));
        assertThat(buckets.keySet()).containsAll(PushBridgeMeter.PUBLISH_TO_ACK.buckets().stream()
                .map(d -> d.toNanos() / 1e9).toList());
        assertThat(buckets.get(10.0) - buckets.get(2.5)).isGreaterThanOrEqualTo(3);
    }

    @Test
    void resyncsAreCountedByReason() throws Exception {
        double outOfOrder = counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.OUT_OF_ORDER.tag());
        double overflow = counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.OVERFLOW.tag());
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_r1", "update")) {
            alice.awaitConnected();
            for (int i = 1; i <= 2; i++) {
                gateway.pushTemplate().site("news").to("user_r1").event("update").args(i).resync(true).send()
                        .toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
            alice.next();
            alice.next().ackNow();
            assertThat(alice.next().event()).isEqualTo("resync");
            awaitValue(() -> counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.OUT_OF_ORDER.tag()),
                    outOfOrder + 1);
        }
        // the store holds 3 per user: the fourth send overflows
        for (int i = 1; i <= 4; i++) {
            gateway.pushTemplate().site("news").to("user_r2").event("update").args(i).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
        assertThat(counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.OVERFLOW.tag())).isEqualTo(overflow + 1);

        // a queue that expired holding messages: counted when its user comes back and is told
        double expiry = counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.EXPIRY.tag());
        gateway.pushTemplate().site("news").to("user_r3").event("update").args(1).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        CLOCK.advance(Duration.ofHours(1).plusSeconds(1));
        try (TestClient back = TestClient.connect(gateway.port(), "/news", "rooms:user_r3", "update")) {
            back.awaitConnected();
            assertThat(back.next().event()).isEqualTo("resync");
        }
        assertThat(counter(PushBridgeMeter.RESYNCS, "site", "news", "reason", ResyncReason.EXPIRY.tag())).isEqualTo(expiry + 1);
    }

    // ---- queues -----------------------------------------------------------------------------------

    @Test
    void queueGaugesShowTheStoresTotalsRefreshedOffTheIoThreads() throws Exception {
        long oldest = CLOCK.millis() - 4_000;
        store.totals = () -> CompletableFuture.completedFuture(new SiteQueues(2, 5, oldest));
        awaitValue(() -> gauge(PushBridgeMeter.QUEUE_DEPTH, "news"), 5);
        assertThat(gauge(PushBridgeMeter.QUEUE_USERS, "news")).isEqualTo(2);
        assertThat(gauge(PushBridgeMeter.QUEUE_OLDEST_AGE, "news")).isEqualTo((CLOCK.millis() - oldest) / 1000.0);
        assertThat(store.askedOn).isNotEmpty().allSatisfy(thread -> assertThat(thread).startsWith("pushbridge-worker"));

        // a failed read keeps the last totals, counted; the next good one replaces them
        long failures = gateway.stats().get("queues.refresh_failed");
        store.totals = () -> CompletableFuture.failedFuture(new io.pushbridge.PushUnavailableException("down", null));
        // one failure per site and round: wait for a whole round
        int sites = gateway.sites().size();
        awaitValue(() -> (double) Math.min(gateway.stats().get("queues.refresh_failed"), failures + sites), failures + sites);
        assertThat(gauge(PushBridgeMeter.QUEUE_DEPTH, "news")).isEqualTo(5);
        store.totals = () -> CompletableFuture.completedFuture(SiteQueues.EMPTY);
        awaitValue(() -> gauge(PushBridgeMeter.QUEUE_DEPTH, "news"), 0);
        assertThat(gauge(PushBridgeMeter.QUEUE_OLDEST_AGE, "news")).isZero();
    }

    // ---- limits ---------------------------------------------------------------------------------

    @Test
    void limitHitsAreCountedPerSiteAndLimit() throws Exception {
        String send = "{\"rooms\": [\"all\"], \"event\": \"e\"}";
        assertThat(post("?site=limited&apiKey=limited-key", "application/json", send).statusCode()).isEqualTo(200);
        HttpResponse<String> refused = post("?site=limited&apiKey=limited-key", "application/json", send);
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(counter(PushBridgeMeter.LIMIT_HITS, "site", "limited", "reason", Limit.SENDS_PER_SECOND.key())).isEqualTo(1);
        assertThat(badInputs().get(BadInput.HTTP_RATE_LIMITED)).isEqualTo(1);

        try (TestClient first = TestClient.connect(gateway.port(), "/limited", "rooms:all")) {
            first.awaitConnected();
            try (TestClient second = TestClient.connect(gateway.port(), "/limited", "rooms:all")) {
                assertThat(second.awaitConnectError().getString("code")).isEqualTo("too_many_connections");
            }
        }
        assertThat(counter(PushBridgeMeter.LIMIT_HITS, "site", "limited", "reason", Limit.CONNECTIONS.key())).isEqualTo(1);
        assertThat(counter(PushBridgeMeter.CONNECT_REFUSALS, "site", "limited", "transport", "websocket",
                "reason", ConnectRefusal.TOO_MANY_CONNECTIONS.code())).isEqualTo(1);
        // every limit of every site has its series from the start
        assertThat(registry.find(PushBridgeMeter.LIMIT_HITS.meterName()).counters())
                .hasSize(Limit.values().length * gateway.sites().size());
    }

    // ---- bad inputs -------------------------------------------------------------------------------

    @Test
    void badHttpInputsAreCountedByReason() throws Exception {
        Map<BadInput, Double> before = badInputs();
        assertThat(post("?site=news&apiKey=wrong", "application/json", "{}").statusCode()).isEqualTo(401);
        assertThat(post("?site=nope&apiKey=x", "application/json", "{}").statusCode()).isEqualTo(404);
        assertThat(post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json", "{not json").statusCode()).isEqualTo(400);
        assertThat(post("?site=news&apiKey=" + TestGateways.API_KEY, "text/plain", "hi").statusCode()).isEqualTo(415);
        assertThat(HTTP.send(HttpRequest.newBuilder(uri("/send?site=news")).GET().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(405);
        assertThat(HTTP.send(HttpRequest.newBuilder(uri("/socket.io/?EIO=3&transport=polling")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
        assertThat(HTTP.send(HttpRequest.newBuilder(uri("/socket.io/?EIO=4&transport=polling"))
                .header("Origin", "http://evil.example").GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(403);
        assertThat(HTTP.send(HttpRequest.newBuilder(uri("/socket.io/?EIO=4&transport=polling&sid=not-a-uuid")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);

        Map<BadInput, Double> after = badInputs();
        for (BadInput input : List.of(BadInput.HTTP_UNAUTHORIZED, BadInput.HTTP_UNKNOWN_SITE, BadInput.HTTP_INVALID_REQUEST,
                BadInput.HTTP_UNSUPPORTED_MEDIA_TYPE, BadInput.HTTP_METHOD_NOT_ALLOWED, BadInput.HTTP_PROTOCOL_VERSION,
                BadInput.HTTP_ORIGIN, BadInput.HTTP_SESSION_ID)) {
            assertThat(after.get(input) - before.get(input)).as(input.name()).isEqualTo(1);
        }
    }

    @Test
    void badSocketInputsAreCountedByReason() throws Exception {
        Map<BadInput, Double> before = badInputs();
        try (TestClient nowhere = TestClient.connect(gateway.port(), "/nowhere", "rooms:x")) {
            assertThat(nowhere.awaitConnectError()).isNotNull();
        }
        try (RawClient raw = RawClient.connect(gateway.port())) {
            // an event for a namespace the session never joined, then an event with a reserved name
            raw.send("42/news,[\"hello\"]");
            raw.join("/news", "{\"token\":\"rooms:b1\"}");
            raw.send("42/news,[\"batch\"]");
            raw.send("42/news,[\"\\u0001x\"]");
            // then a packet that does not parse: the session is closed
            raw.send("4abc");
            assertThat(raw.awaitClosed(Duration.ofSeconds(10))).isTrue();
        }
        awaitValue(() -> badInputs().get(BadInput.SOCKET_MALFORMED_PACKET), before.get(BadInput.SOCKET_MALFORMED_PACKET) + 1);
        Map<BadInput, Double> after = badInputs();
        assertThat(after.get(BadInput.SOCKET_UNKNOWN_NAMESPACE) - before.get(BadInput.SOCKET_UNKNOWN_NAMESPACE)).isEqualTo(1);
        assertThat(after.get(BadInput.SOCKET_NOT_CONNECTED) - before.get(BadInput.SOCKET_NOT_CONNECTED)).isEqualTo(1);
        assertThat(after.get(BadInput.SOCKET_INVALID_EVENT) - before.get(BadInput.SOCKET_INVALID_EVENT)).isEqualTo(2);
        // meters and statistics move together
        for (BadInput input : BadInput.values()) {
            long stats = input.statsKeys().stream().mapToLong(gateway.stats()::get).sum();
            assertThat(after.get(input)).as(input.name()).isEqualTo((double) stats);
        }
    }

    // ---- the cardinality guard -----------------------------------------------------------------------

    @Test
    @Order(Integer.MAX_VALUE)
    void everyMeterIsDeclaredAndItsTagsComeFromFixedSets() {
        Set<String> sites = gateway.sites().keySet();
        assertThat(MeterGuard.assertDeclaredWithFixedTags(registry, sites)).isGreaterThan(50);
        // the gateway's meters are there for every site, from the start
        for (String site : sites) {
            for (PushBridgeMeter m : List.of(PushBridgeMeter.CONNECTIONS, PushBridgeMeter.EMITS, PushBridgeMeter.ACKS,
                    PushBridgeMeter.PUBLISH_TO_ACK, PushBridgeMeter.QUEUE_DEPTH, PushBridgeMeter.QUEUE_OLDEST_AGE)) {
                assertThat(registry.find(m.meterName()).tag("site", site).meters()).as("%s of %s", m, site).isNotEmpty();
            }
        }
        assertThat(registry.find(PushBridgeMeter.BAD_INPUTS.meterName()).meters()).hasSize(BadInput.values().length);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + gateway.port() + pathAndQuery);
    }

    private static HttpResponse<String> post(String query, String contentType, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri("/send" + query)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double counter(PushBridgeMeter meter, String... tags) {
        Counter counter = registry.find(meter.meterName()).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }

    private static Timer timer(PushBridgeMeter meter, String... tags) {
        return registry.get(meter.meterName()).tags(tags).timer();
    }

    private static double gauge(PushBridgeMeter meter, String site) {
        return registry.get(meter.meterName()).tag("site", site).gauge().value();
    }

    private static double accepted(String site, MessageSource source) {
        return counter(PushBridgeMeter.MESSAGES_ACCEPTED, "site", site, "source", source.tag());
    }

    private static Map<BadInput, Double> badInputs() {
        Map<BadInput, Double> out = new java.util.EnumMap<>(BadInput.class);
        for (BadInput input : BadInput.values()) {
            out.put(input, counter(PushBridgeMeter.BAD_INPUTS, "entry_point", input.entryPoint().tag(), "reason", input.reason()));
        }
        return out;
    }

    private static void awaitValue(Supplier<Double> value, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.get() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(value.get()).isEqualTo(expected);
    }

    /** An in-memory store whose {@code siteQueues} answers what a test sets, noting the threads that ask. */
    static final class TotalsStore extends DelegatingStore {

        volatile Supplier<CompletionStage<SiteQueues>> totals = () -> CompletableFuture.completedFuture(SiteQueues.EMPTY);
        final java.util.Set<String> askedOn = java.util.concurrent.ConcurrentHashMap.newKeySet();

        TotalsStore(InMemoryMessageStore delegate) {
            super(delegate);
        }

        @Override
        public CompletionStage<SiteQueues> siteQueues(String site) {
            askedOn.add(Thread.currentThread().getName());
            return totals.get();
        }
    }
}
