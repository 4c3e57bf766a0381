package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.PushUnavailableException;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.redis.testing.RedisExtension;
import io.socket.client.Ack;
import java.net.URI;
import java.time.Duration;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis killed and restarted while messages flow between two nodes: senders are told at once,
 * nothing accepted for a user room is lost, and routing resumes without restarting the nodes.
 * Redis runs with an fsync'd append-only file, as a deployment that must not lose queues does.
 */
class RedisOutageIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone("--appendonly", "yes", "--appendfsync", "always");

    static GatewayNode a;
    static GatewayNode b;

    @BeforeAll
    static void start() {
        // Redis is away for well under a minute: the nodes keep their connections meanwhile
        a = GatewayNode.start("node-a", redis.uri(), Duration.ofHours(1), Duration.ofMinutes(1));
        b = GatewayNode.start("node-b", redis.uri(), Duration.ofHours(1), Duration.ofMinutes(1));
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
    }

    @Test
    void noAcceptedUserRoomMessageIsLostWhenRedisRestartsMidStream() throws Exception {
        Set<Integer> accepted = ConcurrentHashMap.newKeySet();
        Set<Integer> received = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        try (TestClient client = TestClient.connect(b.port(), "/news", "rooms:user_outage")) {
            client.awaitConnected();
            // acknowledge everything as it arrives, live or in a batch
            client.socket.on("update", args -> {
                if (!received.add((Integer) args[0])) {
                    duplicates.incrementAndGet();
                }
                ((Ack) args[args.length - 1]).call();
            });
            client.socket.on("batch", args -> {
                JSONArray events = (JSONArray) args[0];
                try {
                    for (int i = 0; i < events.length(); i++) {
                        if (!received.add(events.getJSONArray(i).getInt(1))) {
                            duplicates.incrementAndGet();
                        }
                    }
                } catch (org.json.JSONException e) {
                    throw new IllegalStateException(e);
                }
                ((Ack) args[args.length - 1]).call();
            });

            int sent = 0;
            for (int i = 1; i <= 300; i++) {
                if (i == 100) {
                    redis.server().kill();
                }
                if (i == 150) {
                    assertThat(httpSend(a.port(), i).statusCode()).as("the send API answers 503 while Redis is down").isEqualTo(503);
                    redis.server().restart();
                }
                try {
                    a.gateway.pushTemplate().site("news").to("user_outage").event("update").args(i).send()
                            .toCompletableFuture().get(5, TimeUnit.SECONDS);
                    accepted.add(i);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(PushUnavailableException.class);
                    refused.incrementAndGet();
                }
                sent++;
                Thread.sleep(5);
            }
            assertThat(sent).isEqualTo(300);
            assertThat(refused.get()).as("sends were refused while Redis was down").isPositive();
            assertThat(accepted).as("sends were accepted before and after").contains(1, 99, 300);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!received.containsAll(accepted)) {
                assertThat(System.nanoTime()).as("every accepted message arrives").isLessThan(deadline);
                Thread.sleep(50);
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (a.store.info(new UserQueue("news", "user_outage")).toCompletableFuture().get(5, TimeUnit.SECONDS).depth() != 0) {
                assertThat(System.nanoTime()).as("every message is acked in the end").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(b.router.stats().get("resumes")).as("the client's node re-read its queues after the reconnect").isPositive();
            // routing resumed without restarting the nodes: a fresh message arrives live
            a.gateway.pushTemplate().site("news").to("user_outage").event("update").args(1000).send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!received.contains(1000)) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(20);
            }
        }
    }

    private static HttpResponse<String> httpSend(int port, int i) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/send?site=news"))
                .header("X-Api-Key", "key-1").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"rooms\":[\"user_outage\"],\"event\":\"update\",\"args\":[" + i + "]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
