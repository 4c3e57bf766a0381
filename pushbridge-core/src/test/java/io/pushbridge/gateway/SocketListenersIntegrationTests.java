package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.SocketListener;
import io.socket.client.Ack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A site's {@link SocketListener}s and its handler of any event: one order per socket (connected,
 * the events, disconnected with its reason), also when listeners answer late; and the per-socket
 * event rate limit.
 */
class SocketListenersIntegrationTests {

    /** What happened to each socket, in the order the gateway told. */
    static final Map<String, List<String>> seen = new ConcurrentHashMap<>();

    static void record(String socketId, String what) {
        seen.computeIfAbsent(socketId, k -> Collections.synchronizedList(new ArrayList<>())).add(what);
    }

    /** Answers after a random pause, on another thread: the order must still hold. */
    static CompletableFuture<Void> later(Runnable r) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture.delayedExecutor((long) (Math.random() * 10), TimeUnit.MILLISECONDS).execute(() -> {
            r.run();
            done.complete(null);
        });
        return done;
    }

    static final SocketListener RECORDING = new SocketListener() {
        @Override
        public CompletionStage<Void> connected(ConnectionInfo socket) {
            return later(() -> record(socket.socketId(), "connected " + socket.rooms()));
        }

        @Override
        public CompletionStage<Void> disconnected(ConnectionInfo socket, String reason) {
            return later(() -> record(socket.socketId(), "disconnected: " + reason));
        }
    };

    static PushBridgeGateway gateway;

    static SiteOptions site() {
        return SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .onEvent("named", event -> later(() -> record(event.socketId(), "named " + event.firstArg()))
                        .thenApply(v -> List.of("named")))
                .onAnyEvent(event -> later(() -> record(event.socketId(), "any " + event.event() + " " + event.firstArg()))
                        .thenApply(v -> List.of("any")))
                .listener(RECORDING)
                .listener(new SocketListener() {
                    @Override
                    public CompletionStage<Void> connected(ConnectionInfo socket) {
                        throw new IllegalStateException("a failing listener stops nothing");
                    }
                })
                .build();
    }

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().maxEventsPerSecond(20).build(), b -> b.site(site()));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static List<String> seen(String id) {
        return new ArrayList<>(seen.getOrDefault(id, List.of()));
    }

    @Test
    void listenersAndHandlersHearASocketInOneOrder() throws Exception {
        TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:lobby");
        String id = client.awaitConnected();
        List<String> expected = new ArrayList<>();
        expected.add("connected [lobby]");
        for (int i = 0; i < 10; i++) {
            client.socket.emit(i % 2 == 0 ? "named" : "other", i);
            expected.add(i % 2 == 0 ? "named " + i : "any other " + i);
        }
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        client.socket.emit("last", new Object[] {"x"}, (Ack) answer::complete);
        expected.add("any last x");
        assertThat(answer.get(10, TimeUnit.SECONDS)).containsExactly("any");
        client.socket.disconnect();
        expected.add("disconnected: client namespace disconnect");

        await("disconnected heard", () -> seen(id).size() == expected.size());
        assertThat(seen(id)).containsExactlyElementsOf(expected);
        assertThat(gateway.stats().get("listeners.failed")).isPositive();
        client.close();
    }

    @Test
    void aServerDisconnectIsHeardWithItsReason() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            String id = client.awaitConnected();
            gateway.pushTemplate().disconnect("news", id).toCompletableFuture().get(5, TimeUnit.SECONDS);
            await("disconnected heard", () -> seen(id).contains("disconnected: server namespace disconnect"));
            assertThat(seen(id)).first().isEqualTo("connected []");
        }
    }

    @Test
    void aRefusedConnectIsNeverHeard() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "deny")) {
            JSONObject error = client.awaitConnectError();
            assertThat(error.toString()).contains("unauthorized");
        }
        // no listener call names a socket that was never admitted: every recorded socket starts connected
        seen.values().forEach(events -> {
            synchronized (events) {
                assertThat(events).first().asString().startsWith("connected");
            }
        });
    }

    @Test
    void aSocketSendingFasterThanTheLimitGetsTheRestRefused() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            client.awaitConnected();
            long before = gateway.stats().get("events.refused.rate_limited");
            List<CompletableFuture<Object[]>> answers = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                CompletableFuture<Object[]> answer = new CompletableFuture<>();
                client.socket.emit("flood", new Object[] {i}, (Ack) answer::complete);
                answers.add(answer);
            }
            int limited = 0;
            for (CompletableFuture<Object[]> answer : answers) {
                Object[] args = answer.get(10, TimeUnit.SECONDS);
                if (args[0] instanceof JSONObject o && o.has("error")) {
                    assertThat(o.getJSONObject("error").getString("code")).isEqualTo("rate_limited");
                    limited++;
                }
            }
            // a burst of 20 is allowed, and about 20 a second after it
            assertThat(limited).isBetween(20, 40);
            assertThat(gateway.stats().get("events.refused.rate_limited")).isEqualTo(before + limited);
        }
    }

    @Test
    void stoppingTheGatewayIsHeardAsShuttingDown() throws Exception {
        PushBridgeGateway own = TestGateways.start(TestGateways.options().build(), b -> b.site(site()));
        TestClient client = TestClient.connect(own.port(), "/news", "rooms:");
        String id = client.awaitConnected();
        own.stop(Duration.ofSeconds(5));
        await("disconnected heard", () -> seen(id).contains("disconnected: server shutting down"));
        client.close();
    }
}
