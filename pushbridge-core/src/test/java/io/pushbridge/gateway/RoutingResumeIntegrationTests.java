package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.Message;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A router that lost messages while its broker connection was down says so with
 * {@code Receiver.resumed()}: each socket then gets, from its user queues, exactly what it was
 * never sent. The lost deliveries are injected by a router that accepts publishes without
 * delivering them, as a node whose subscription is reconnecting does.
 */
class RoutingResumeIntegrationTests {

    /** Accepts every publish; delivers only while connected. */
    static final class InterruptibleRouter implements Router {
        final LocalRouter delegate = new LocalRouter();
        volatile Receiver receiver;
        volatile boolean down;

        @Override
        public void start(Receiver receiver) {
            this.receiver = receiver;
            delegate.start(receiver);
        }

        @Override
        public CompletionStage<Void> publish(Message message) {
            return down ? CompletableFuture.completedFuture(null) : delegate.publish(message);
        }

        @Override
        public CompletionStage<Void> command(SocketCommand command) {
            return delegate.command(command);
        }

        /** How long recording a new socket takes: keeps a connecting socket in its batching state. */
        volatile long connectDelayMillis;

        @Override
        public CompletionStage<Void> socketConnected(String site, String socketId) {
            long delay = connectDelayMillis;
            return delay == 0 ? CompletableFuture.completedFuture(null)
                    : CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS));
        }

        @Override
        public void stop() {
            delegate.stop();
        }

        void resume() {
            down = false;
            receiver.resumed();
        }
    }

    private static final InterruptibleRouter router = new InterruptibleRouter();
    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = InMemoryMessageStore.builder().build();
        gateway = TestGateways.start(TestGateways.options().build(),
                b -> b.site(TestGateways.newsSite()).store(store).router(router));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static void send(String room, String arg) throws Exception {
        gateway.pushTemplate().site("news").to(room).event("update").args(arg).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void afterAnInterruptionEachSocketGetsWhatItMissedOnceAsABatch() throws Exception {
        long resumedBefore = gateway.stats().get("routing.resumed");
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_resume,group_resume", "update")) {
            client.awaitConnected();
            send("user_resume", "seen-not-acked");
            TestClient.Received seen = client.next();
            assertThat(seen.args()).containsExactly("seen-not-acked");
            send("user_resume", "seen-and-acked");
            client.next().ackNow();

            router.down = true;
            send("user_resume", "missed-1");
            send("group_resume", "missed-group");
            send("user_resume", "missed-2");
            assertThat(client.poll(Duration.ofMillis(200))).isNull();

            router.resume();

            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            JSONArray events = (JSONArray) batch.args().get(0);
            assertThat(events.length()).as("only what it missed, not what it was sent and has not acked").isEqualTo(2);
            assertThat(events.getJSONArray(0).get(1)).isEqualTo("missed-1");
            assertThat(events.getJSONArray(1).get(1)).isEqualTo("missed-2");
            assertThat(client.poll(Duration.ofMillis(300))).as("group-room messages are not queued, so not re-sent").isNull();

            batch.ackNow();
            seen.ackNow();
            UserQueue queue = new UserQueue("news", "user_resume");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (store.depth(queue) != 0) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(20);
            }
            // a second resume finds nothing missed and sends nothing
            router.resume();
            assertThat(client.poll(Duration.ofMillis(300))).isNull();
            assertThat(gateway.stats().get("routing.resumed")).isEqualTo(resumedBefore + 2);
        }
    }

    @Test
    void reconnectAllClosesEveryConnectionSoThatClientsReconnectByThemselves() throws Exception {
        send("user_again", "queued");
        try (TestClient ws = TestClient.connect(gateway.port(), "/news", "rooms:user_again", "update");
                TestClient polling = TestClient.connectPolling(gateway.port(), "/news", "rooms:group_again", "update")) {
            ws.awaitConnected();
            polling.awaitConnected();
            assertThat(ws.next().event()).isEqualTo("batch"); // not acked: it must survive

            router.receiver.reconnectAll();

            // not "io server disconnect", after which Socket.IO clients would stay away
            assertThat(ws.disconnected.get(10, TimeUnit.SECONDS)).isIn("transport close", "transport error");
            assertThat(polling.disconnected.get(10, TimeUnit.SECONDS)).isIn("transport close", "transport error");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (gateway.connectionCount("news") != 0 || gateway.sessionCount() != 0) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(20);
            }
        }
        assertThat(store.depth(new UserQueue("news", "user_again"))).as("the queue keeps its messages").isEqualTo(1);
        try (TestClient again = TestClient.connect(gateway.port(), "/news", "rooms:user_again", "update")) {
            again.awaitConnected();
            assertThat(again.next().event()).isEqualTo("batch");
        }
    }

    @Test
    void aSocketStillAssemblingItsFirstBatchWhenRoutingResumesGetsWhatItMissedOnceItIsOpen() throws Exception {
        router.connectDelayMillis = 800;
        try {
            TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_early", "update");
            try {
                Thread.sleep(200); // its queue was read (empty); the socket waits for the router
                router.down = true;
                send("user_early", "missed-while-connecting");
                router.resume();
                client.awaitConnected();

                TestClient.Received batch = client.next();
                assertThat(batch.event()).isEqualTo("batch");
                JSONArray events = (JSONArray) batch.args().get(0);
                assertThat(events.length()).isEqualTo(1);
                assertThat(events.getJSONArray(0).get(1)).isEqualTo("missed-while-connecting");
                assertThat(client.poll(Duration.ofMillis(300))).isNull();
            } finally {
                client.close();
            }
        } finally {
            router.connectDelayMillis = 0;
        }
    }

    @Test
    void aMalformedRoutedCommandChangesNothingAndIsCounted() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:group_cmd", "update")) {
            String socketId = client.awaitConnected();
            long before = gateway.stats().get("commands.invalid");

            // as it could arrive from Redis: well-formed, but rooms no sender could name
            router.receiver.execute(io.pushbridge.SocketCommand.join("news", socketId, java.util.Set.of("bad\u0001room")));
            router.receiver.execute(io.pushbridge.SocketCommand.join("news", socketId, java.util.Set.of("x".repeat(500))));
            router.receiver.execute(io.pushbridge.SocketCommand.join("news", socketId, java.util.Set.of()));

            assertThat(gateway.stats().get("commands.invalid")).isEqualTo(before + 3);
        }
    }

    @Test
    void anInvalidRoutedCommandIsLoggedOnceAndWithoutItsRoomName() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:group_cmd2", "update");
                LogCapture logs = LogCapture.start(java.util.Map.of())) {
            String socketId = client.awaitConnected();
            long hits = gateway.stats().get("limits.news.room_name");
            // the log line is rate-limited (one a second): again until it is written
            for (int i = 0; i < 3 && !logs.text().contains("Ignored an invalid routed JOIN"); i++) {
                if (i > 0) {
                    Thread.sleep(1100);
                }
                router.receiver.execute(io.pushbridge.SocketCommand.join("news", socketId,
                        java.util.Set.of("user_secret" + "x".repeat(500))));
            }
            String text = logs.text();
            assertThat(text).contains("Ignored an invalid routed JOIN").contains("a room name is longer than")
                    .doesNotContain("user_secret").doesNotContain("refused a routed join");
            assertThat(gateway.stats().get("limits.news.room_name")).as("the hit is counted").isGreaterThan(hits);
        }
    }
}
