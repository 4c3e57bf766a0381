package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.MessageStore;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.SendResult;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The drain of {@link PushBridgeGateway#stop(Duration)}, on one node with real clients: new work is
 * refused with clear answers, what is in flight finishes first, every client is closed in a way
 * that makes it reconnect, queues are kept, and the timeout bounds it all. Each test stops its own
 * gateway (a stopped gateway cannot start again).
 */
class DrainIntegrationTests {

    private static final String[] WEBSOCKET = {"websocket"};
    private static final String[] POLLING = {"polling"};

    /**
     * The in-memory store with two faults to inject: appends to {@code user_slow} wait for
     * {@link #release}, and acks (single and batch) of {@code user_stuck} never complete.
     */
    static final class GatedStore extends DelegatingStore {
        final InMemoryMessageStore delegate;
        final CompletableFuture<Void> release = new CompletableFuture<>();

        GatedStore() {
            this(InMemoryMessageStore.builder().build());
        }

        private GatedStore(InMemoryMessageStore delegate) {
            super(delegate);
            this.delegate = delegate;
        }

        @Override
        public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
            if (queue.room().equals("user_slow")) {
                return release.thenCompose(v -> delegate.append(queue, message));
            }
            return delegate.append(queue, message);
        }

        @Override
        public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
            return queue.room().equals("user_stuck") ? new CompletableFuture<>() : delegate.ack(queue, messageId);
        }

        @Override
        public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
            return queue.room().equals("user_stuck") ? new CompletableFuture<>() : delegate.remove(queue, messageIds);
        }

        int depth(String room) {
            return delegate.depth(new UserQueue("news", room));
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what).isNegative();
            Thread.sleep(10);
        }
    }

    private static HttpResponse<String> post(int port, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/send?site=news"))
                        .header("X-Api-Key", TestGateways.API_KEY).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Thread stopInBackground(PushBridgeGateway gateway, Duration timeout) {
        Thread stopper = new Thread(() -> gateway.stop(timeout), "test-stopper");
        stopper.start();
        return stopper;
    }

    @Test
    void aDrainRefusesNewWorkFinishesWhatIsInFlightThenClosesEveryTransportSoThatClientsReconnect() throws Exception {
        GatedStore store = new GatedStore();
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(TestGateways.newsSite())
                .store(store));
        int port = gateway.port();
        ReconnectingClient ws = ReconnectingClient.connect(port, "/news", "rooms:user_slow", WEBSOCKET, "update", false);
        ReconnectingClient polling = ReconnectingClient.connect(port, "/news", "rooms:user_poll", POLLING, "update", false);
        RawClient handshaken = null;
        Thread stopper = null;
        try {
            await("both connected", () -> ws.connects.size() == 1 && polling.connects.size() == 1);
            handshaken = RawClient.connect(port); // an Engine.IO session that has not joined a site yet

            // a send in flight: its append waits
            CompletableFuture<SendResult> slow = gateway.pushTemplate().site("news").to("user_slow").event("update")
                    .args("held").send().toCompletableFuture();
            stopper = stopInBackground(gateway, Duration.ofSeconds(30));
            await("draining", gateway::isDraining);

            // new work that a balancer can send elsewhere is refused, clearly, and nothing is stored
            HttpResponse<String> refused = post(port, "{\"rooms\":[\"user_http\"],\"event\":\"update\",\"args\":[1]}");
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(refused.headers().firstValue("Connection")).hasValue("close");
            assertThat(refused.body()).contains("\"draining\"");
            assertThat(store.depth("user_http")).isZero();
            HttpResponse<String> handshake = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/socket.io/?EIO=4&transport=polling")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(handshake.statusCode()).isEqualTo(503);
            assertThat(handshake.headers().firstValue("Retry-After")).hasValue("1");
            // a CONNECT on a session opened before: its session is closed (no connect_error, after
            // which a Socket.IO client would not reconnect by itself)
            handshaken.send("40/news,{\"token\":\"rooms:user_late\"}");
            assertThat(handshaken.nextText(t -> t.equals("1") || t.startsWith("4"), RawClient.WAIT)).isEqualTo("1");
            assertThat(handshaken.awaitClosed(RawClient.WAIT)).isTrue();

            // the connections stay while a send is in flight; sends from the application still work
            assertThat(ws.disconnects).isEmpty();
            assertThat(polling.disconnects).isEmpty();
            gateway.pushTemplate().site("news").to("user_poll").event("update").args("during").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(polling.received.poll(10, TimeUnit.SECONDS)).isNotNull()
                    .satisfies(r -> assertThat(r.args()).containsExactly("during"));

            // the send completes and is delivered before the connections close
            store.release.complete(null);
            assertThat(slow.get(10, TimeUnit.SECONDS).queued()).isEqualTo(1);
            assertThat(ws.received.poll(10, TimeUnit.SECONDS)).isNotNull()
                    .satisfies(r -> assertThat(r.args()).containsExactly("held"));

            // then every client is closed as a dropped transport, after which it reconnects by itself
            // (the Java client names a WebSocket closed by the server a "transport error"; browsers and
            // Node's client a "transport close")
            await("both closed", () -> !ws.disconnects.isEmpty() && !polling.disconnects.isEmpty());
            assertThat(ws.disconnects).singleElement().isIn("transport close", "transport error");
            assertThat(polling.disconnects).containsExactly("transport close");
            await("both try to reconnect", () -> ws.reconnectAttempts.get() > 0 && polling.reconnectAttempts.get() > 0);
            stopper.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(stopper.isAlive()).isFalse();
            assertThat(gateway.isRunning()).isFalse();
            assertThat(gateway.isDraining()).isFalse();
            assertThat(gateway.stats().get("drain.timed_out")).isZero();
            assertThat(gateway.stats().get("refused.http.draining")).isEqualTo(1);
            assertThat(gateway.stats().get("refused.shutting_down")).isEqualTo(1);
            assertThat(gateway.stats().get("sessions.closed_for_reconnect")).isGreaterThanOrEqualTo(3);

            // the queues are kept: nothing was acked, so both messages wait for the next connect
            assertThat(store.depth("user_slow")).isEqualTo(1);
            assertThat(store.depth("user_poll")).isEqualTo(1);
            // a stopped gateway refuses sends before storing anything
            assertThatThrownBy(() -> gateway.pushTemplate().site("news").to("user_poll").event("update").args("after").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(PushUnavailableException.class);
            assertThat(store.depth("user_poll")).isEqualTo(1);
        } finally {
            store.release.complete(null);
            ws.close();
            polling.close();
            if (handshaken != null) {
                handshaken.close();
            }
            if (stopper != null) {
                stopper.join(TimeUnit.SECONDS.toMillis(30));
            }
            gateway.stop();
        }
    }

    @Test
    void aDrainRespectsItsTimeoutWhenAnAckNeverCompletes() throws Exception {
        GatedStore store = new GatedStore();
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(TestGateways.newsSite())
                .store(store));
        ReconnectingClient client = ReconnectingClient.connect(gateway.port(), "/news", "rooms:user_stuck", WEBSOCKET, "update",
                true);
        try {
            await("connected", () -> client.connects.size() == 1);
            gateway.pushTemplate().site("news").to("user_stuck").event("update").args("never removed").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(client.received.poll(10, TimeUnit.SECONDS)).isNotNull(); // acked at once; its removal never ends
            await("ack under way", () -> gateway.stats().get("acks") == 1);

            Thread stopper = stopInBackground(gateway, Duration.ofMillis(800));
            stopper.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(stopper.isAlive()).as("the drain ended at its timeout").isFalse();
            assertThat(gateway.isRunning()).isFalse();
            assertThat(gateway.stats().get("drain.timed_out")).isEqualTo(1);
            // the client was closed all the same, and the message is still queued (its ack never
            // reached the store: it comes again at the next connect, as the contract allows)
            await("closed", () -> !client.disconnects.isEmpty());
            assertThat(client.disconnects).singleElement().isIn("transport close", "transport error");
            assertThat(store.depth("user_stuck")).isEqualTo(1);
        } finally {
            client.close();
            gateway.stop();
        }
    }

    /** The in-memory store whose acks and batch removals take {@code delayMillis} each, as a remote store's do. */
    static final class SlowAckStore extends DelegatingStore {
        final InMemoryMessageStore memory;
        private final java.util.concurrent.Executor later;

        SlowAckStore(InMemoryMessageStore memory, long delayMillis) {
            super(memory);
            this.memory = memory;
            this.later = CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
            return CompletableFuture.runAsync(() -> { }, later).thenCompose(v -> super.ack(queue, messageId));
        }

        @Override
        public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
            return CompletableFuture.runAsync(() -> { }, later).thenCompose(v -> super.remove(queue, messageIds));
        }
    }

    /** Sends to {@code room} through the application's template every 2 ms until told to stop. */
    private static Thread sendContinuously(PushBridgeGateway gateway, String room, java.util.concurrent.atomic.AtomicBoolean stop) {
        Thread sender = new Thread(() -> {
            int i = 0;
            while (!stop.get()) {
                gateway.pushTemplate().site("news").to(room).event("update").args(i++).send();
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }, "test-sender");
        sender.start();
        return sender;
    }

    @Test
    void aDrainUnderContinuousAckAndSendTrafficWaitsOnlyForWhatWasInFlightWhenItBegan() throws Exception {
        // connected clients keep acking and messages keep arriving until the connections close, so
        // the work in flight never ends all at once: the drain must not wait for that moment
        SlowAckStore store = new SlowAckStore(InMemoryMessageStore.builder().build(), 200);
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(TestGateways.newsSite())
                .store(store));
        ReconnectingClient client = ReconnectingClient.connect(gateway.port(), "/news", "rooms:user_busy", WEBSOCKET, "update",
                true);
        java.util.concurrent.atomic.AtomicBoolean stopSending = new java.util.concurrent.atomic.AtomicBoolean();
        Thread sender = null;
        try (LogCapture logs = LogCapture.start(java.util.Map.of())) {
            await("connected", () -> client.connects.size() == 1);
            sender = sendContinuously(gateway, "user_busy", stopSending);
            await("acks flowing", () -> gateway.stats().get("acks") >= 50);

            Thread stopper = stopInBackground(gateway, Duration.ofSeconds(6));
            stopper.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(stopper.isAlive()).isFalse();
            assertThat(gateway.isRunning()).isFalse();
            await("closed", () -> !client.disconnects.isEmpty());
            assertThat(gateway.stats().get("drain.timed_out")).isZero();
            assertThat(logs.text()).doesNotContain("Still in flight").contains("PushBridge gateway stopped")
                    .doesNotContain("(timed out)");
        } finally {
            stopSending.set(true);
            if (sender != null) {
                sender.join(TimeUnit.SECONDS.toMillis(10));
            }
            client.close();
            gateway.stop();
        }
    }

    @Test
    void noSendIsStoredThenRefusedWhileTheRouterStops() throws Exception {
        // every append takes 50 ms: under continuous sends from the application some are always
        // between their append and their publish, also when the drain stops routing
        InMemoryMessageStore memory = InMemoryMessageStore.builder().build();
        java.util.concurrent.Executor later = CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS);
        MessageStore store = new DelegatingStore(memory) {
            @Override
            public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
                return CompletableFuture.runAsync(() -> { }, later).thenCompose(v -> super.append(queue, message));
            }
        };
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(TestGateways.newsSite())
                .store(store));
        java.util.Queue<CompletableFuture<SendResult>> sends = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicBoolean stopSending = new java.util.concurrent.atomic.AtomicBoolean();
        Thread sender = new Thread(() -> {
            while (!stopSending.get()) {
                sends.add(gateway.pushTemplate().site("news").to("user_gated").event("update").args("m").send()
                        .toCompletableFuture());
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }, "test-sender");
        try {
            sender.start();
            await("sends flowing", () -> gateway.stats().get("sends.accepted") >= 20);
            Thread stopper = stopInBackground(gateway, Duration.ofSeconds(2));
            stopper.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(stopper.isAlive()).isFalse();
            await("sends refused once stopped", () -> gateway.stats().get("sends.refused.stopped") > 0);
            stopSending.set(true);
            sender.join(TimeUnit.SECONDS.toMillis(10));

            int succeeded = 0;
            for (CompletableFuture<SendResult> send : sends) {
                try {
                    send.get(10, TimeUnit.SECONDS);
                    succeeded++;
                } catch (ExecutionException e) {
                    // refused before anything was stored, with the answer that sends it elsewhere
                    assertThat(e.getCause()).isInstanceOf(PushUnavailableException.class).hasMessageContaining("stopped");
                }
            }
            // every message stored was answered as sent: a refused one retried elsewhere is no duplicate
            assertThat(memory.depth(new UserQueue("news", "user_gated"))).isEqualTo(succeeded);
            assertThat(gateway.stats().get("sends.failed")).isZero();
            assertThat(gateway.stats().get("drain.timed_out")).isZero();
        } finally {
            stopSending.set(true);
            sender.join(TimeUnit.SECONDS.toMillis(10));
            gateway.stop();
        }
    }
}
