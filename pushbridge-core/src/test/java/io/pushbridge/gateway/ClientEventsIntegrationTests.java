package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayContext;
import io.pushbridge.PushRefusedException;
import io.pushbridge.SendRequest;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.socket.client.Ack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client events reach the site's handlers: off the I/O threads, in order per socket, bounded, and
 * answered (a result, a refusal, a failure, a timeout, no handler). Also the {@link GatewayContext}
 * an extension gets: local emits, local commands, identities and lookups.
 */
class ClientEventsIntegrationTests {

    static final List<String> threads = new CopyOnWriteArrayList<>();
    static final Map<String, List<Object>> sequences = new java.util.concurrent.ConcurrentHashMap<>();
    static final List<CompletableFuture<List<Object>>> held = new CopyOnWriteArrayList<>();
    static final ContextCapture capture = new ContextCapture();
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        SiteOptions site = SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(TestGateways.API_KEY)
                .onEvent("echo", event -> {
                    threads.add(Thread.currentThread().getName());
                    return CompletableFuture.completedFuture(event.args());
                })
                .onEvent("whoami", event -> CompletableFuture.completedFuture(List.of(Map.of(
                        "socketId", event.socketId(), "site", event.site(), "token", String.valueOf(event.client().token()),
                        "ack", event.ackRequested()))))
                .onEvent("seq", event -> {
                    // completes later, on another thread, after a random pause: order must still hold
                    CompletableFuture<List<Object>> done = new CompletableFuture<>();
                    CompletableFuture.delayedExecutor((long) (Math.random() * 5), TimeUnit.MILLISECONDS).execute(() -> {
                        sequences.computeIfAbsent(event.socketId(), k -> Collections.synchronizedList(new ArrayList<>()))
                                .add(event.firstArg());
                        done.complete(null);
                    });
                    return done;
                })
                .onEvent("hold", event -> {
                    CompletableFuture<List<Object>> f = new CompletableFuture<>();
                    held.add(f);
                    return f;
                })
                .onEvent("never", event -> new CompletableFuture<>())
                .onEvent("refuse", event -> CompletableFuture.failedFuture(
                        new PushRefusedException(PushRefusedException.Reason.INVALID, List.of("room is required"))))
                .onEvent("boom", event -> {
                    throw new IllegalStateException("secret internals");
                })
                .onEvent("fatal", event -> {
                    throw new AssertionError("an Error, not an exception");
                })
                .build();
        gateway = TestGateways.start(TestGateways.options().eventTimeout(Duration.ofMillis(500)).maxPendingEvents(3).build(),
                b -> b.site(site).extension(capture));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static Object[] emit(TestClient client, String event, Object... args) throws Exception {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        client.socket.emit(event, args, (Ack) answer::complete);
        return answer.get(10, TimeUnit.SECONDS);
    }

    private static JSONObject error(Object[] answer) throws Exception {
        assertThat(answer).hasSize(1);
        return ((JSONObject) answer[0]).getJSONObject("error");
    }

    @Test
    void anEventIsHandledOnAWorkerAndItsAnswerReachesTheCallback() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            client.awaitConnected();
            Object[] answer = emit(client, "echo", new JSONObject(Map.of("a", 1)), "two", 3);
            assertThat(answer).hasSize(3);
            assertThat(((JSONObject) answer[0]).getInt("a")).isEqualTo(1);
            assertThat(answer[1]).isEqualTo("two");
            assertThat(answer[2]).isEqualTo(3);
            assertThat(threads).allMatch(name -> name.startsWith("pushbridge-worker"));

            JSONObject who = (JSONObject) emit(client, "whoami")[0];
            assertThat(who.getString("socketId")).isEqualTo(client.socket.id());
            assertThat(who.getString("site")).isEqualTo("news");
            assertThat(who.getString("token")).isEqualTo("rooms:");
            assertThat(who.getBoolean("ack")).isTrue();
        }
    }

    @Test
    void eventsOfOneSocketAreHandledInTheOrderSent() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            String id = client.awaitConnected();
            List<Object> expected = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                client.socket.emit("seq", i);
                expected.add(i);
                if (i % 2 == 1) {
                    // stay within maxPendingEvents (3): two events and the echo may all be waiting at once
                    emit(client, "echo");
                }
            }
            emit(client, "echo");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sequences.getOrDefault(id, List.of()).size() < 200 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(sequences.get(id)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void refusalsFailuresTimeoutsAndUnknownEventsAnswerWithAnError() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            client.awaitConnected();
            long refusedBefore = gateway.stats().get("events.refused.invalid");
            JSONObject refused = error(emit(client, "refuse"));
            assertThat(refused.getString("code")).isEqualTo("invalid");
            assertThat(refused.getString("message")).isEqualTo("room is required");
            assertThat(gateway.stats().get("events.refused.invalid")).isEqualTo(refusedBefore + 1);

            JSONObject failed = error(emit(client, "boom"));
            assertThat(failed.getString("code")).isEqualTo("error");
            assertThat(failed.getString("message")).doesNotContain("secret");

            // an Error too is answered, and does not stop the socket's later events
            assertThat(error(emit(client, "fatal")).getString("code")).isEqualTo("error");

            JSONObject timedOut = error(emit(client, "never"));
            assertThat(timedOut.getString("code")).isEqualTo("timeout");

            long unhandled = gateway.stats().get("events.unhandled");
            JSONObject unknown = error(emit(client, "nobody-listens"));
            assertThat(unknown.getString("code")).isEqualTo("unknown_event");
            assertThat(gateway.stats().get("events.unhandled")).isEqualTo(unhandled + 1);

            // names no Socket.IO client sends: refused before any handler
            assertThat(error(emit(client, "batch")).getString("code")).isEqualTo("invalid");
            assertThat(error(emit(client, "x".repeat(101))).getString("code")).isEqualTo("invalid");

            // the socket still works
            assertThat(emit(client, "echo", "after")).containsExactly("after");
        }
    }

    @Test
    void aSocketWithTooManyEventsInFlightGetsTheRestRefused() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:")) {
            client.awaitConnected();
            held.clear();
            List<CompletableFuture<Object[]>> answers = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                CompletableFuture<Object[]> answer = new CompletableFuture<>();
                client.socket.emit("hold", new Object[] {i}, (Ack) answer::complete);
                answers.add(answer);
            }
            // 3 queued (maxPendingEvents), 2 refused at once
            assertThat(error(answers.get(3).get(10, TimeUnit.SECONDS)).getString("code")).isEqualTo("too_many_pending");
            assertThat(error(answers.get(4).get(10, TimeUnit.SECONDS)).getString("code")).isEqualTo("too_many_pending");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (held.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            held.get(0).complete(List.of("released"));
            assertThat(answers.get(0).get(10, TimeUnit.SECONDS)).containsExactly("released");
        }
    }

    @Test
    void theContextEmitsLocallyRunsLocalCommandsAndKeepsIdentities() throws Exception {
        GatewayContext c = capture.context();
        assertThat(c.sites()).containsExactly("news");
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:ctx-a", "ctx-event")) {
            String id = client.awaitConnected();
            assertThat(c.locate("news", id).toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo(c.nodeId());
            assertThat(c.locate("news", "no-such-socket").toCompletableFuture().get(5, TimeUnit.SECONDS)).isNull();

            int reached = c.emitLocally(new SendRequest("news", Target.rooms(Set.of("ctx-a")), "ctx-event",
                    List.of(Map.of("k", "v")), false));
            assertThat(reached).isEqualTo(1);
            TestClient.Received got = client.next();
            assertThat(got.event()).isEqualTo("ctx-event");
            assertThat(got.hasAck()).isFalse();
            assertThatThrownBy(() -> c.emitLocally(new SendRequest("news", Target.rooms(Set.of("ctx-a")), "connect",
                    List.of(), false))).isInstanceOf(PushRefusedException.class);
            assertThatThrownBy(() -> c.emitLocally(new SendRequest("nope", Target.rooms(Set.of("ctx-a")), "x",
                    List.of(), false))).isInstanceOf(PushRefusedException.class);

            assertThat(c.executeLocally(SocketCommand.join("news", id, Set.of("ctx-b")))).isTrue();
            assertThat(c.executeLocally(SocketCommand.join("news", "elsewhere", Set.of("ctx-b")))).isFalse();
            assertThatThrownBy(() -> c.executeLocally(SocketCommand.join("news", id, Set.of("bad\nroom"))))
                    .isInstanceOf(PushRefusedException.class);
            assertThat(c.socket("news", id).rooms()).containsExactlyInAnyOrder("ctx-a", "ctx-b");

            assertThat(c.identify("news", id, "session-1", "u1")).isTrue();
            assertThat(c.socketsOfSession("news", "session-1")).extracting(ConnectionInfo::socketId).containsExactly(id);
            ConnectionInfo info = c.socket("news", id);
            assertThat(info.sessionId()).isEqualTo("session-1");
            assertThat(info.userId()).isEqualTo("u1");
            assertThat(info.handshake().address()).isEqualTo("127.0.0.1");
            c.identify("news", id, "session-2", null);
            assertThat(c.socketsOfSession("news", "session-1")).isEmpty();
            assertThat(c.socketsOfSession("news", "session-2")).hasSize(1);

            client.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (c.socket("news", id) != null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(c.socketsOfSession("news", "session-2")).isEmpty();
            assertThat(c.identify("news", id, "session-3", null)).isFalse();
        }
    }

    @Test
    void eventHandlerNamesAreChecked() {
        assertThatThrownBy(() -> SiteOptions.builder("x").onEvent("disconnect", e -> null))
                .hasMessageContaining("reserved");
        assertThatThrownBy(() -> SiteOptions.builder("x").onEvent("", e -> null)).hasMessageContaining("invalid");
        assertThatThrownBy(() -> SiteOptions.builder("x").onEvent("a", e -> null).onEvent("a", e -> null))
                .hasMessageContaining("two handlers");
    }
}
