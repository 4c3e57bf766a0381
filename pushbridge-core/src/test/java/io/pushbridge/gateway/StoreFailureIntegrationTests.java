package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A store that fails (the injected fault): senders get clear errors, and nothing accepted is lost. */
class StoreFailureIntegrationTests {

    /** The in-memory store, with a switch that makes every operation fail as a dead Redis would. */
    static final class FaultyStore implements MessageStore {
        final InMemoryMessageStore delegate = InMemoryMessageStore.builder().build();
        volatile boolean down;

        private <T> CompletionStage<T> call(Supplier<CompletionStage<T>> op) {
            return down ? CompletableFuture.failedFuture(new IllegalStateException("store is down")) : op.get();
        }

        @Override
        public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
            return call(() -> delegate.append(queue, message));
        }

        @Override
        public CompletionStage<Pending> takePending(UserQueue queue) {
            return call(() -> delegate.takePending(queue));
        }

        @Override
        public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
            return call(() -> delegate.ack(queue, messageId));
        }

        @Override
        public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
            return call(() -> delegate.remove(queue, messageIds));
        }

        @Override
        public CompletionStage<Void> clear(UserQueue queue) {
            return call(() -> delegate.clear(queue));
        }

        @Override
        public CompletionStage<Void> connectionOpened(UserQueue queue) {
            return call(() -> delegate.connectionOpened(queue));
        }

        @Override
        public CompletionStage<Void> connectionClosed(UserQueue queue) {
            return call(() -> delegate.connectionClosed(queue));
        }
    }

    private static final FaultyStore STORE = new FaultyStore();
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.startNews(STORE);
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @AfterEach
    void storeBack() {
        STORE.down = false;
    }

    @Test
    void sendsFailWith503AndUnavailableWhileTheStoreIsDown() throws Exception {
        STORE.down = true;
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.port() + "/send?site=news"))
                .header("X-Api-Key", TestGateways.API_KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"rooms\":[\"user_down1\"],\"event\":\"e\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("\"error\":\"unavailable\"");
        CompletableFuture<?> template = gateway.pushTemplate().site("news").to("user_down1").event("e").send()
                .toCompletableFuture();
        assertThat(template).failsWithin(5, TimeUnit.SECONDS).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(PushUnavailableException.class);
        // a send to group rooms only needs no store
        assertThat(gateway.pushTemplate().site("news").to("group_down1").event("e").send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS).queued()).isZero();
    }

    @Test
    void connectIsRefusedWhileTheStoreIsDownAndGetsEverythingOnceItIsBack() throws Exception {
        gateway.pushTemplate().site("news").to("user_down2").event("kept").args(1).send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        STORE.down = true;
        try (TestClient refused = TestClient.connect(gateway.port(), "/news", "rooms:user_down2", "kept")) {
            assertThat(refused.awaitConnectError().getString("code")).isEqualTo("store_unavailable");
        }
        assertThat(gateway.connectionCount("news")).isZero();
        STORE.down = false;
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_down2", "kept")) {
            client.awaitConnected();
            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            assertThat(((JSONArray) batch.args().get(0)).getJSONArray(0).getString(0)).isEqualTo("kept");
        }
    }

    @Test
    void anAckThatCannotBeRecordedAtOnceIsTriedAgainUntilTheStoreIsBack() throws Exception {
        UserQueue queue = new UserQueue("news", "user_down3");
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_down3", "m")) {
            client.awaitConnected();
            gateway.pushTemplate().site("news").to("user_down3").event("m").args(1).send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            TestClient.Received got = client.next();
            STORE.down = true;
            long retried = gateway.stats().get("acks.retried");
            long failed = gateway.stats().get("acks.failed");
            got.ackNow();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (gateway.stats().get("acks.retried") < retried + 2) {
                assertThat(System.nanoTime()).as("the removal is tried again").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(STORE.delegate.depth(queue)).as("still queued while the store is down").isEqualTo(1);

            STORE.down = false;
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (STORE.delegate.depth(queue) != 0) {
                assertThat(System.nanoTime()).as("removed once the store is back").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(gateway.stats().get("acks.failed")).as("not given up").isEqualTo(failed);
        }
        try (TestClient again = TestClient.connect(gateway.port(), "/news", "rooms:user_down3", "m")) {
            again.awaitConnected();
            assertThat(again.poll(java.time.Duration.ofMillis(300))).as("nothing comes again").isNull();
        }
    }
}
