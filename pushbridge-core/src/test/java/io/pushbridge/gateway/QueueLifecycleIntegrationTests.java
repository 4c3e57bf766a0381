package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStoreContractTests.MutableClock;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Queue lifetime (client ttl, moved with an injected clock) and the per-user bound, through the gateway. */
class QueueLifecycleIntegrationTests {

    private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = InMemoryMessageStore.builder().clock(CLOCK).clientTtl(Duration.ofSeconds(60)).maxPendingPerUser(3).build();
        gateway = TestGateways.start(TestGateways.options().clock(CLOCK).build(),
                b -> b.site(TestGateways.newsSite()).store(store));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private void send(String room, String event) throws Exception {
        gateway.pushTemplate().site("news").to(room).event(event).args(event).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void queueOfAnOfflineUserExpiresTtlAfterTheLastConnectionCloses() throws Exception {
        UserQueue queue = new UserQueue("news", "user_ttl1");
        TestClient first = TestClient.connect(gateway.port(), "/news", "rooms:user_ttl1", "m1");
        first.awaitConnected();
        first.close();
        awaitConnections(0);
        send("user_ttl1", "m1");
        CLOCK.advance(Duration.ofSeconds(59));
        assertThat(store.depth(queue)).isEqualTo(1);
        // reconnecting before the ttl keeps the queue, and it arrives as a batch
        try (TestClient second = TestClient.connect(gateway.port(), "/news", "rooms:user_ttl1", "m1")) {
            second.awaitConnected();
            TestClient.Received batch = second.next();
            assertThat(batch.event()).isEqualTo("batch");
            CLOCK.advance(Duration.ofSeconds(600));
            assertThat(store.depth(queue)).as("kept while connected").isEqualTo(1);
        }
        awaitConnections(0);
        CLOCK.advance(Duration.ofSeconds(61));
        assertThat(store.depth(queue)).as("expired ttl after the last close").isZero();
        try (TestClient third = TestClient.connect(gateway.port(), "/news", "rooms:user_ttl1", "m1")) {
            third.awaitConnected();
            assertThat(third.poll(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void overflowClearsTheQueueAndTheUserIsToldToResync() throws Exception {
        UserQueue queue = new UserQueue("news", "user_ovf");
        for (int i = 1; i <= 4; i++) {
            send("user_ovf", "m" + i);
        }
        assertThat(store.depth(queue)).isEqualTo(1);
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_ovf", "m4")) {
            client.awaitConnected();
            TestClient.Received resync = client.next();
            assertThat(resync.event()).isEqualTo("resync");
            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            JSONArray events = (JSONArray) batch.args().get(0);
            assertThat(events.length()).isEqualTo(1);
            assertThat(events.getJSONArray(0).getString(0)).isEqualTo("m4");
        }
    }

    @Test
    void overflowWhileOnlineEmitsResyncLive() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_ovf2", "n1", "n2", "n3", "n4")) {
            client.awaitConnected();
            for (int i = 1; i <= 4; i++) {
                send("user_ovf2", "n" + i);
            }
            assertThat(client.next().event()).isEqualTo("n1");
            assertThat(client.next().event()).isEqualTo("n2");
            assertThat(client.next().event()).isEqualTo("n3");
            assertThat(client.next().event()).isEqualTo("resync");
            assertThat(client.next().event()).isEqualTo("n4");
        }
    }

    private static void awaitConnections(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (gateway.connectionCount("news") != n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(gateway.connectionCount("news")).isEqualTo(n);
    }
}
