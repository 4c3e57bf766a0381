package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.MessageStoreContractTests.MutableClock;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.ResyncReason;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Queue lifetime (client ttl and resync memory, moved with an injected clock) and the per-user bound,
 * through the gateway, with real Socket.IO clients.
 */
class QueueLifecycleIntegrationTests {

    private static final MutableClock CLOCK = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private static final Duration RESYNC_MEMORY = Duration.ofHours(2);
    private static InMemoryMessageStore store;
    private static SimpleMeterRegistry registry;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = InMemoryMessageStore.builder().clock(CLOCK).clientTtl(Duration.ofSeconds(60)).resyncMemory(RESYNC_MEMORY)
                .maxPendingPerUser(3).build();
        registry = new SimpleMeterRegistry();
        gateway = TestGateways.start(TestGateways.options().clock(CLOCK).build(),
                b -> b.site(TestGateways.newsSite()).store(store).meterRegistry(registry));
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
            // the batch was never acked: its message was lost with the queue
            assertThat(third.next().event()).isEqualTo("resync");
            assertThat(third.poll(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void aUserWhoseQueueExpiredHoldingMessagesIsToldToResyncOnceAndItIsCounted() throws Exception {
        double expiries = resyncs(ResyncReason.EXPIRY);
        double overflows = resyncs(ResyncReason.OVERFLOW);
        long counted = gateway.stats().get("resyncs.expiry");
        send("user_exp1", "e1");
        send("user_exp1", "e2");
        CLOCK.advance(Duration.ofSeconds(61));

        try (TestClient back = TestClient.connect(gateway.port(), "/news", "rooms:user_exp1", "e1", "e2")) {
            back.awaitConnected();
            assertThat(back.next().event()).isEqualTo("resync");
            assertThat(back.poll(Duration.ofMillis(300))).as("no batch: the queue is gone").isNull();
        }
        assertThat(resyncs(ResyncReason.EXPIRY)).isEqualTo(expiries + 1);
        assertThat(resyncs(ResyncReason.OVERFLOW)).isEqualTo(overflows);
        assertThat(gateway.stats().get("resyncs.expiry")).isEqualTo(counted + 1);
        awaitConnections(0);

        // told once: the next connection, and a message sent meanwhile, come without resync
        send("user_exp1", "e3");
        try (TestClient again = TestClient.connect(gateway.port(), "/news", "rooms:user_exp1", "e3")) {
            again.awaitConnected();
            TestClient.Received batch = again.next();
            assertThat(batch.event()).isEqualTo("batch");
            assertThat(((JSONArray) batch.args().get(0)).getJSONArray(0).getString(0)).isEqualTo("e3");
            batch.ackNow();
            assertThat(again.poll(Duration.ofMillis(300))).isNull();
        }
        assertThat(resyncs(ResyncReason.EXPIRY)).isEqualTo(expiries + 1);
    }

    @Test
    void aUserWhoAckedEverythingOrCameBackInTimeGetsNoResync() throws Exception {
        double expiries = resyncs(ResyncReason.EXPIRY);
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_exp2", "a1")) {
            client.awaitConnected();
            send("user_exp2", "a1");
            TestClient.Received live = client.next();
            assertThat(live.event()).isEqualTo("a1");
            live.ackNow();
            awaitDepth(new UserQueue("news", "user_exp2"), 0);
        }
        send("user_exp3", "b1");
        CLOCK.advance(Duration.ofSeconds(59));
        try (TestClient inTime = TestClient.connect(gateway.port(), "/news", "rooms:user_exp3", "b1")) {
            inTime.awaitConnected();
            TestClient.Received batch = inTime.next();
            assertThat(batch.event()).isEqualTo("batch");
            batch.ackNow();
            awaitDepth(new UserQueue("news", "user_exp3"), 0);
        }
        awaitConnections(0);
        CLOCK.advance(Duration.ofSeconds(61));

        for (String user : new String[] {"user_exp2", "user_exp3"}) {
            try (TestClient back = TestClient.connect(gateway.port(), "/news", "rooms:" + user)) {
                back.awaitConnected();
                assertThat(back.poll(Duration.ofMillis(300))).as(user).isNull();
            }
        }
        assertThat(resyncs(ResyncReason.EXPIRY)).isEqualTo(expiries);
    }

    @Test
    void aUserWhoReturnsAfterTheResyncMemoryIsNoLongerTold() throws Exception {
        double expiries = resyncs(ResyncReason.EXPIRY);
        send("user_exp4", "c1");
        CLOCK.advance(Duration.ofSeconds(60).plus(RESYNC_MEMORY).plusSeconds(1));
        store.purgeExpired(); // as the gateway's purge does every minute

        try (TestClient late = TestClient.connect(gateway.port(), "/news", "rooms:user_exp4", "c1")) {
            late.awaitConnected();
            assertThat(late.poll(Duration.ofMillis(300))).isNull();
        }
        assertThat(resyncs(ResyncReason.EXPIRY)).isEqualTo(expiries);
    }

    private static double resyncs(ResyncReason reason) {
        Counter counter = registry.find(PushBridgeMeter.RESYNCS.meterName()).tag("site", "news").tag("reason", reason.tag()).counter();
        assertThat(counter).as("resyncs{reason=%s}", reason.tag()).isNotNull();
        return counter.count();
    }

    private static void awaitDepth(UserQueue queue, int depth) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (store.depth(queue) != depth && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(store.depth(queue)).isEqualTo(depth);
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
