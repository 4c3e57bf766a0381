package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.SendResult;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sends through the template reach real Java Socket.IO clients; user rooms are acked and queued. */
class DeliveryIntegrationTests {

    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = TestGateways.memoryStore();
        gateway = TestGateways.startNews(store);
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private SendResult send(String event, String... rooms) throws Exception {
        return gateway.pushTemplate().site("news").to(rooms).event(event).args("user", Map.of("id", 1, "age", 5))
                .send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void userRoomMessageArrivesWithAckAndAckRemovesIt() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u0a,staff0", "update_store")) {
            alice.awaitConnected();
            SendResult result = send("update_store", "user_u0a");
            assertThat(result.queued()).isEqualTo(1);
            TestClient.Received got = alice.next();
            assertThat(got.event()).isEqualTo("update_store");
            assertThat(got.args()).hasSize(2);
            assertThat(got.args().get(0)).isEqualTo("user");
            assertThat(((JSONObject) got.args().get(1)).getInt("age")).isEqualTo(5);
            assertThat(got.hasAck()).isTrue();
            UserQueue queue = new UserQueue("news", "user_u0a");
            assertThat(store.depth(queue)).isEqualTo(1);
            got.ackNow();
            awaitDepth(queue, 0);
        }
    }

    @Test
    void groupRoomMessageHasNoCallbackAndIsNotQueued() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u1a,staff1", "update_store")) {
            alice.awaitConnected();
            SendResult result = send("update_store", "staff1");
            assertThat(result.queued()).isZero();
            TestClient.Received got = alice.next();
            assertThat(got.hasAck()).isFalse();
        }
    }

    @Test
    void socketInSeveralTargetRoomsGetsOneCopyWithTheCallback() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u2a,staff2", "update_store")) {
            alice.awaitConnected();
            send("update_store", "staff2", "user_u2a");
            TestClient.Received got = alice.next();
            assertThat(got.hasAck()).isTrue();
            assertThat(alice.poll(Duration.ofMillis(500))).isNull();
        }
    }

    @Test
    void reconnectGetsPendingMessagesAsOneBatchInOrderAndItsAckRemovesExactlyThose() throws Exception {
        send("first", "user_u3a");
        send("second", "user_u3a");
        UserQueue queue = new UserQueue("news", "user_u3a");
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u3a,staff3", "first", "second", "third")) {
            alice.awaitConnected();
            TestClient.Received batch = alice.next();
            assertThat(batch.event()).isEqualTo("batch");
            org.json.JSONArray events = (org.json.JSONArray) batch.args().get(0);
            assertThat(events.length()).isEqualTo(2);
            assertThat(events.getJSONArray(0).getString(0)).isEqualTo("first");
            assertThat(events.getJSONArray(1).getString(0)).isEqualTo("second");
            assertThat(events.getJSONArray(0).getString(1)).isEqualTo("user");
            send("third", "user_u3a");
            TestClient.Received third = alice.next();
            assertThat(third.event()).isEqualTo("third");
            batch.ackNow();
            awaitDepth(queue, 1);
            third.ackNow();
            awaitDepth(queue, 0);
        }
    }

    @Test
    void twoSocketsOfOneUserEachGetACopyAndEitherAckRemovesIt() throws Exception {
        try (TestClient a = TestClient.connect(gateway.port(), "/news", "rooms:user_u4a,staff4", "e");
                TestClient b = TestClient.connect(gateway.port(), "/news", "rooms:user_u4a", "e")) {
            a.awaitConnected();
            b.awaitConnected();
            send("e", "user_u4a");
            TestClient.Received ra = a.next();
            TestClient.Received rb = b.next();
            assertThat(ra.hasAck()).isTrue();
            assertThat(rb.hasAck()).isTrue();
            rb.ackNow();
            awaitDepth(new UserQueue("news", "user_u4a"), 0);
        }
    }

    @Test
    void resyncAckOutOfOrderClearsTheQueueAndEmitsResync() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u5a,staff5", "update_store")) {
            alice.awaitConnected();
            gateway.pushTemplate().site("news").to("user_u5a").event("update_store").args(1).resync(true).send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            gateway.pushTemplate().site("news").to("user_u5a").event("update_store").args(2).resync(true).send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            alice.next();
            TestClient.Received second = alice.next();
            second.ackNow();
            TestClient.Received resync = alice.next();
            assertThat(resync.event()).isEqualTo("resync");
            awaitDepth(new UserQueue("news", "user_u5a"), 0);
        }
    }

    private void awaitDepth(UserQueue queue, int depth) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (store.depth(queue) != depth && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(store.depth(queue)).isEqualTo(depth);
    }

    @Test
    void wholeSiteAndSingleSocketTargets() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_u6a,staff6", "hello");
                TestClient bob = TestClient.connect(gateway.port(), "/news", "rooms:user_u6b,staff6", "hello")) {
            String aliceId = alice.awaitConnected();
            String bobId = bob.awaitConnected();
            gateway.pushTemplate().site("news").toAll().except(bobId).event("hello").args("all").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(alice.next().args()).isEqualTo(List.of("all"));
            assertThat(bob.poll(Duration.ofMillis(300))).isNull();
            gateway.pushTemplate().site("news").toSocket(bobId).event("hello").args("you").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(bob.next().args()).isEqualTo(List.of("you"));
            assertThat(alice.poll(Duration.ofMillis(300))).isNull();
            assertThat(aliceId).isNotEqualTo(bobId);
        }
    }

    @Test
    void sessionsAndSocketsDoNotOutliveTheirClients() throws Exception {
        for (int i = 0; i < 10; i++) {
            try (TestClient ok = TestClient.connect(gateway.port(), "/news", "rooms:user_leak" + i + ",group_leak", "e");
                    TestClient refused = TestClient.connect(gateway.port(), "/news", "deny", "e")) {
                ok.awaitConnected();
                refused.awaitConnectError();
                assertThat(gateway.sessionCount()).isGreaterThanOrEqualTo(1);
                assertThat(gateway.connectionCount("news")).isGreaterThanOrEqualTo(1);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((gateway.sessionCount() != 0 || gateway.connectionCount("news") != 0) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(gateway.connectionCount("news")).isZero();
        assertThat(gateway.sessionCount()).isZero();
    }
}
