package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.PushRefusedException;
import io.pushbridge.PushTemplate;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.upstream.RedisUpstream;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import io.pushbridge.redis.upstream.UpstreamStreams;
import io.socket.client.Ack;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Upstream routing end to end, as the older socketio-cluster services worked: two gateway nodes and
 * two application nodes on one Redis, real Java Socket.IO clients on both gateways. Every client
 * event is handled exactly once across the application nodes, in order per client; answers reach
 * the right socket on whichever gateway holds it; an application node killed mid-stream loses
 * nothing; a listener that keeps failing leaves a dead letter and an error answer.
 */
class UpstreamClusterIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static final String SITE = "chat";
    static final int PARTITIONS = 4;
    static final Duration IDLE = Duration.ofSeconds(1);

    /** What the application nodes handled: node, socket, event, first argument. */
    record Handled(String node, String socketId, String event, Object arg) {
    }

    final List<Handled> handled = new CopyOnWriteArrayList<>();
    final Map<String, Long> slow = new ConcurrentHashMap<>();
    final List<AutoCloseable> nodes = new ArrayList<>();
    GatewayNode gatewayA;
    GatewayNode gatewayB;
    GatewayNode appA;
    GatewayNode appB;
    RedisUpstreamConsumer consumerA;
    RedisUpstreamConsumer consumerB;

    /** The chat logic of an application node: answers go through the cluster's PushTemplate. */
    UpstreamListener listener(String node, Supplier<PushTemplate> push) {
        return new UpstreamListener() {
            @Override
            public CompletionStage<List<Object>> event(UpstreamRecord record) {
                switch (record.event()) {
                    case "boom" -> throw new IllegalStateException("this listener always fails on boom");
                    case "refuse" -> {
                        return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                                List.of("no thanks")));
                    }
                    default -> {
                    }
                }
                handled.add(new Handled(node, record.socketId(), record.event(), record.firstArg()));
                long pause = slow.getOrDefault(node, 0L);
                CompletableFuture<Void> waited = pause == 0 ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(pause, TimeUnit.MILLISECONDS));
                if (record.event().equals("ask")) {
                    // to the client itself, on whichever gateway holds it, and as the callback's answer
                    return waited.thenCompose(v -> push.get().site(SITE).toSocket(record.socketId()).event("told")
                            .args("from " + node).send()).thenApply(result -> List.of("answered by " + node));
                }
                return waited.thenApply(v -> List.of());
            }
        };
    }

    GatewayNode gateway(String nodeId) {
        RedisConnector connector = RedisConnector.builder().uri(redis.uri()).build();
        RedisUpstream upstream = RedisUpstream.builder(SITE, connector, new RedisKeys(RedisKeys.DEFAULT_PREFIX))
                .partitions(PARTITIONS).build();
        SiteOptions site = upstream.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
        GatewayNode node = GatewayNode.start(nodeId, connector, List.of(site), List.of(upstream),
                b -> b.maxPendingEvents(200).maxEventsPerSecond(0));
        nodes.add(node);
        return node;
    }

    GatewayNode app(String nodeId, java.util.function.Consumer<RedisUpstreamConsumer> keep) {
        RedisConnector connector = RedisConnector.builder().uri(redis.uri()).build();
        GatewayNode[] self = new GatewayNode[1];
        RedisUpstreamConsumer consumer = RedisUpstreamConsumer.builder(connector, new RedisKeys(RedisKeys.DEFAULT_PREFIX),
                        listener(nodeId, () -> self[0].gateway.pushTemplate()))
                .sites(List.of(SITE)).partitions(PARTITIONS).idleTimeout(IDLE).maxDeliveries(2).build();
        keep.accept(consumer);
        SiteOptions site = SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN).build();
        self[0] = GatewayNode.start(nodeId, connector, List.of(site), List.of(consumer), b -> b.serve(false));
        nodes.add(self[0]);
        return self[0];
    }

    @BeforeEach
    void start() {
        gatewayA = gateway("gw-a");
        gatewayB = gateway("gw-b");
        appA = app("app-a", c -> consumerA = c);
        appB = app("app-b", c -> consumerB = c);
    }

    @AfterEach
    void stop() throws Exception {
        Collections.reverse(nodes);
        for (AutoCloseable node : nodes) {
            node.close();
        }
        redis.server().command("FLUSHALL");
    }

    static void await(String what, Duration within, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    List<TestClient> clients(int n) throws Exception {
        List<TestClient> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TestClient client = TestClient.connect((i % 2 == 0 ? gatewayA : gatewayB).port(), "/" + SITE, "rooms:lobby", "told");
            client.awaitConnected();
            clients.add(client);
        }
        return clients;
    }

    @Test
    void everyClientEventIsHandledOnceAcrossTheApplicationNodesInOrderPerClient() throws Exception {
        List<TestClient> clients = clients(20);
        try {
            for (int n = 0; n < 10; n++) {
                for (TestClient client : clients) {
                    client.socket.emit("say", n);
                }
            }
            await("200 events handled", Duration.ofSeconds(20), () -> handled.size() >= 200);
            Thread.sleep(300); // nothing more comes
            assertThat(handled).hasSize(200);
            for (TestClient client : clients) {
                List<Object> order = handled.stream().filter(h -> h.socketId().equals(client.socket.id()))
                        .map(Handled::arg).toList();
                assertThat(order).as("the events of one client, in order, once each").containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            }
            assertThat(handled.stream().map(Handled::node).distinct()).as("both application nodes took some")
                    .containsExactlyInAnyOrder("app-a", "app-b");
        } finally {
            clients.forEach(TestClient::close);
        }
    }

    @Test
    void answersReachTheClientOnWhicheverGatewayHoldsIt() throws Exception {
        List<TestClient> clients = clients(4);
        try {
            for (TestClient client : clients) {
                CompletableFuture<Object[]> answer = new CompletableFuture<>();
                client.socket.emit("ask", new Object[] {"?"}, (Ack) answer::complete);
                assertThat((String) answer.get(10, TimeUnit.SECONDS)[0]).startsWith("answered by app-");
                TestClient.Received told = client.next();
                assertThat(told.event()).isEqualTo("told");
                assertThat((String) told.args().get(0)).startsWith("from app-");
            }
            CompletableFuture<Object[]> refused = new CompletableFuture<>();
            clients.get(1).socket.emit("refuse", new Object[] {"?"}, (Ack) refused::complete);
            JSONObject error = ((JSONObject) refused.get(10, TimeUnit.SECONDS)[0]).getJSONObject("error");
            assertThat(error.getString("code")).isEqualTo("invalid");
            assertThat(error.getString("message")).isEqualTo("no thanks");
        } finally {
            clients.forEach(TestClient::close);
        }
    }

    @Test
    void aListenerThatKeepsFailingLeavesADeadLetterAndTheClientAnError() throws Exception {
        List<TestClient> clients = clients(1);
        TestClient client = clients.get(0);
        try {
            CompletableFuture<Object[]> answer = new CompletableFuture<>();
            client.socket.emit("boom", new Object[] {"!"}, (Ack) answer::complete);
            JSONObject error = ((JSONObject) answer.get(10, TimeUnit.SECONDS)[0]).getJSONObject("error");
            assertThat(error.getString("code")).isEqualTo("error");
            UpstreamStreams streams = new UpstreamStreams(new RedisKeys(RedisKeys.DEFAULT_PREFIX), PARTITIONS);
            var dead = appA.connector.commands().xrange(streams.deadLetters(SITE).getBytes(StandardCharsets.UTF_8),
                    io.lettuce.core.Range.create("-", "+")).get(5, TimeUnit.SECONDS);
            assertThat(dead).hasSize(1);
            Map<String, String> fields = new java.util.HashMap<>();
            dead.get(0).getBody().forEach((k, v) -> fields.put(new String(k, StandardCharsets.UTF_8), new String(v, StandardCharsets.UTF_8)));
            assertThat(fields.get("error")).contains("this listener always fails on boom");
            assertThat(fields.get("deliveries")).isEqualTo("2");

            // the client's later events go on
            client.socket.emit("say", "after");
            await("the next event handled", Duration.ofSeconds(10), () -> handled.stream().anyMatch(h -> "after".equals(h.arg())));
        } finally {
            clients.forEach(TestClient::close);
        }
    }

    @Test
    void anApplicationNodeKilledMidStreamLosesNothing() throws Exception {
        List<TestClient> clients = clients(8);
        try {
            slow.put("app-a", 20L);
            slow.put("app-b", 20L);
            for (int n = 0; n < 20; n++) {
                for (TestClient client : clients) {
                    client.socket.emit("say", n);
                }
            }
            await("some handled on app-a", Duration.ofSeconds(10), () -> handled.stream().anyMatch(h -> h.node().equals("app-a")));
            consumerA.abandonForTests();
            appA.crash();
            slow.remove("app-b");
            await("all 160 events handled", Duration.ofSeconds(30), () -> handled.stream()
                    .map(h -> h.socketId() + "/" + h.arg()).distinct().count() == 160);
            for (TestClient client : clients) {
                List<Object> seen = handled.stream().filter(h -> h.socketId().equals(client.socket.id())).map(Handled::arg)
                        .distinct().toList();
                assertThat(seen).as("every event of one client, in order").hasSize(20);
                assertThat(seen).isSortedAccordingTo((x, y) -> Integer.compare((Integer) x, (Integer) y));
            }
            assertThat(consumerB.stats().get("partitions_owned")).isEqualTo(PARTITIONS);
        } finally {
            clients.forEach(TestClient::close);
        }
    }

    @Test
    void theRecordsCarryWhatAnApplicationNodeNeeds() throws Exception {
        List<UpstreamRecord> records = new CopyOnWriteArrayList<>();
        // read the partition's stream itself: acknowledged records stay in it
        List<TestClient> clients = clients(1);
        TestClient client = clients.get(0);
        String id = client.socket.id();
        client.close();
        UpstreamStreams streams = new UpstreamStreams(new RedisKeys(RedisKeys.DEFAULT_PREFIX), PARTITIONS);
        await("connected and disconnected queued", Duration.ofSeconds(10), () -> {
            records.clear();
            try {
                for (var e : appA.connector.commands().xrange(streams.stream(SITE, streams.partition(id)).getBytes(StandardCharsets.UTF_8),
                        io.lettuce.core.Range.create("-", "+")).get(5, TimeUnit.SECONDS)) {
                    byte[] field = e.getBody().entrySet().stream()
                            .filter(f -> new String(f.getKey(), StandardCharsets.UTF_8).equals(UpstreamStreams.FIELD))
                            .map(Map.Entry::getValue).findFirst().orElseThrow();
                    UpstreamRecord r = UpstreamStreams.decode(field, e.getId()).record();
                    if (r.socketId().equals(id)) {
                        records.add(r);
                    }
                }
            } catch (Exception ex) {
                throw new IllegalStateException(ex);
            }
            return records.size() == 2;
        });
        assertThat(records.get(0).kind()).isEqualTo(UpstreamRecord.Kind.CONNECTED);
        assertThat(records.get(0).nodeId()).isEqualTo("gw-a");
        assertThat(records.get(0).rooms()).containsExactly("lobby");
        assertThat(records.get(0).address()).isEqualTo("127.0.0.1");
        assertThat(records.get(0).newToApp()).isTrue();
        assertThat(records.get(1).kind()).isEqualTo(UpstreamRecord.Kind.DISCONNECTED);
        assertThat(records.get(1).reason()).isEqualTo("client namespace disconnect");
        assertThat(records.get(1).newToApp()).isFalse();
    }
}
