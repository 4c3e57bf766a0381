package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.SendResult;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.redis.testing.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two gateway nodes sharing one Redis, with real Socket.IO clients split across them. */
class ClusterGatewayIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static GatewayNode a;
    static GatewayNode b;

    @BeforeAll
    static void start() {
        a = GatewayNode.start("node-a", redis.uri());
        b = GatewayNode.start("node-b", redis.uri());
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
    }

    private static SendResult send(GatewayNode via, String room, String event, Object... args) throws Exception {
        return via.gateway.pushTemplate().site("news").to(room).event(event).args(args).send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    private static int depth(String room) throws Exception {
        return a.store.info(new UserQueue("news", room)).toCompletableFuture().get(5, TimeUnit.SECONDS).depth();
    }

    private static void awaitDepth(String room, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (depth(room) != expected) {
            assertThat(System.nanoTime()).as("queue of " + room + " reaches depth " + expected).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void aMessageSentToNodeAReachesClientsOnBothNodes() throws Exception {
        try (TestClient onA = TestClient.connect(a.port(), "/news", "rooms:group1", "hello");
                TestClient onB = TestClient.connect(b.port(), "/news", "rooms:group1", "hello")) {
            onA.awaitConnected();
            onB.awaitConnected();

            send(a, "group1", "hello", "world");

            assertThat(onB.next().args()).containsExactly("world");
            assertThat(onA.next().args()).containsExactly("world");
            assertThat(onB.poll(Duration.ofMillis(300))).as("exactly one copy").isNull();
        }
    }

    @Test
    void theHttpApiOfEitherNodeReachesClientsOnTheOther() throws Exception {
        try (TestClient onB = TestClient.connect(b.port(), "/news", "rooms:group2", "hello")) {
            onB.awaitConnected();
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + a.port() + "/send?site=news&apiKey=key-1"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"rooms\":[\"group2\"],\"event\":\"hello\",\"args\":[1]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(onB.next().args()).containsExactly(1);
        }
    }

    @Test
    void anAckOnNodeBRemovesTheMessageQueuedThroughNodeA() throws Exception {
        try (TestClient onB = TestClient.connect(b.port(), "/news", "rooms:user_ack1", "update")) {
            onB.awaitConnected();
            SendResult result = send(a, "user_ack1", "update", "v1");
            assertThat(result.queued()).isEqualTo(1);
            assertThat(depth("user_ack1")).isEqualTo(1);

            TestClient.Received update = onB.next();
            assertThat(update.hasAck()).isTrue();
            update.ackNow();

            awaitDepth("user_ack1", 0);
        }
    }

    @Test
    void aUserConnectedToBothNodesGetsOneCopyPerSocket() throws Exception {
        try (TestClient onA = TestClient.connect(a.port(), "/news", "rooms:user_two", "update");
                TestClient onB = TestClient.connect(b.port(), "/news", "rooms:user_two", "update")) {
            onA.awaitConnected();
            onB.awaitConnected();

            send(b, "user_two", "update", "x");

            assertThat(onA.next().args()).containsExactly("x");
            assertThat(onB.next().args()).containsExactly("x");
            assertThat(onA.poll(Duration.ofMillis(300))).isNull();
            assertThat(onB.poll(Duration.ofMillis(100))).isNull();
            assertThat(a.store.info(new UserQueue("news", "user_two")).toCompletableFuture().get(5, TimeUnit.SECONDS).connections())
                    .as("presence counts both nodes").isEqualTo(2);
        }
    }

    @Test
    void socketTargetsAndCommandsReachTheSocketOnTheOtherNode() throws Exception {
        try (TestClient onB = TestClient.connect(b.port(), "/news", "rooms:group3", "direct", "hello")) {
            String socketId = onB.awaitConnected();

            a.gateway.pushTemplate().site("news").toSocket(socketId).event("direct").args("only you").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(onB.next().args()).containsExactly("only you");

            a.gateway.pushTemplate().join("news", socketId, Set.of("group4")).toCompletableFuture().get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            TestClient.Received got = null;
            while (got == null && System.nanoTime() < deadline) {
                send(a, "group4", "hello", "joined");
                got = onB.poll(Duration.ofMillis(200));
            }
            assertThat(got).isNotNull();
            assertThat(got.args()).containsExactly("joined");

            a.gateway.pushTemplate().disconnect("news", socketId).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(onB.disconnected.get(5, TimeUnit.SECONDS)).isEqualTo("io server disconnect");
        }
    }

    @Test
    void eitherNodeListsTheConnectionsOfBothAndLocatesTheirSockets() throws Exception {
        try (TestClient onA = TestClient.connect(a.port(), "/news", "rooms:listing", "hello");
                TestClient onB = TestClient.connect(b.port(), "/news", "rooms:listing", "hello")) {
            String idA = onA.awaitConnected();
            String idB = onB.awaitConnected();
            io.pushbridge.ConnectionListing listing = a.router.listConnections("news", 1000).toCompletableFuture()
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(listing.nodes()).contains("node-a", "node-b");
            assertThat(listing.missingNodes()).isEmpty();
            assertThat(listing.truncated()).isFalse();
            assertThat(listing.connections()).filteredOn(c -> c.socketId().equals(idA))
                    .singleElement().satisfies(c -> assertThat(c.nodeId()).isEqualTo("node-a"));
            assertThat(listing.connections()).filteredOn(c -> c.socketId().equals(idB))
                    .singleElement().satisfies(c -> {
                        assertThat(c.nodeId()).isEqualTo("node-b");
                        assertThat(c.rooms()).containsExactly("listing");
                        assertThat(c.handshake().address()).isEqualTo("127.0.0.1");
                    });
            io.pushbridge.ConnectionListing one = b.router.listConnections("news", 1).toCompletableFuture()
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(one.connections()).hasSize(1);
            assertThat(one.truncated()).isTrue();

            assertThat(a.router.locate("news", idB).toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS))
                    .isEqualTo("node-b");
            assertThat(a.router.locate("news", "no-such-socket").toCompletableFuture()
                    .get(5, java.util.concurrent.TimeUnit.SECONDS)).isNull();
        }
    }

    @Test
    void clientsOfANodeThatCrashedReconnectToTheOtherAndGetWhatIsPendingAsBatch() throws Exception {
        GatewayNode c = GatewayNode.start("node-c", redis.uri());
        try {
            TestClient onC = TestClient.connect(c.port(), "/news", "rooms:user_crash", "update");
            onC.awaitConnected();
            send(a, "user_crash", "update", "1");
            assertThat(onC.next().args()).containsExactly("1"); // received, never acked
            assertThat(a.store.info(new UserQueue("news", "user_crash")).toCompletableFuture().get(5, TimeUnit.SECONDS).connections())
                    .isEqualTo(1);

            c.crash();
            onC.disconnected.get(10, TimeUnit.SECONDS);
            onC.close();
            send(a, "user_crash", "update", "2");

            try (TestClient onA = TestClient.connect(a.port(), "/news", "rooms:user_crash", "update")) {
                onA.awaitConnected();
                TestClient.Received batch = onA.next();
                assertThat(batch.event()).isEqualTo("batch");
                JSONArray events = (JSONArray) batch.args().get(0);
                assertThat(events.length()).isEqualTo(2);
                assertThat(events.getJSONArray(0).get(1)).isEqualTo("1");
                assertThat(events.getJSONArray(1).get(1)).isEqualTo("2");
                batch.ackNow();
                awaitDepth("user_crash", 0);
            }
            // the crashed node's connection is released by the survivors within a bounded time
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.store.info(new UserQueue("news", "user_crash")).toCompletableFuture().get(5, TimeUnit.SECONDS).connections() != 0) {
                assertThat(System.nanoTime()).as("node-c's connection released").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(a.registry.liveNodes().toCompletableFuture().get(5, TimeUnit.SECONDS)).doesNotContain("node-c");
        } finally {
            c.close();
        }
    }

    @Test
    void aNodeReapedWhileAliveClosesItsConnectionsSoThatClientsReconnectAndRegisterAgain() throws Exception {
        GatewayNode c = GatewayNode.start("node-late", redis.uri());
        try (TestClient onC = TestClient.connect(c.port(), "/news", "rooms:user_late", "update")) {
            String socketId = onC.awaitConnected();
            assertThat(a.registry.nodeOf(socketId).toCompletableFuture().get(5, TimeUnit.SECONDS)).isEqualTo("node-late");

            c.registry.pauseHeartbeatsForTests(Duration.ofSeconds(5));

            // the others reap it: its socket entry and its presence in the user's queue are gone
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.registry.nodeOf(socketId).toCompletableFuture().get(5, TimeUnit.SECONDS) != null) {
                assertThat(System.nanoTime()).as("reaped").isLessThan(deadline);
                Thread.sleep(50);
            }
            // when it beats again it learns it was reaped and closes its connections, without a
            // Socket.IO disconnect (after which clients would not reconnect by themselves)
            assertThat(onC.disconnected.get(10, TimeUnit.SECONDS)).isIn("transport close", "transport error");
            assertThat(a.registry.liveNodes().toCompletableFuture().get(5, TimeUnit.SECONDS)).contains("node-late");
        } finally {
            c.close();
        }
    }
}
