package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.UserQueue;
import io.pushbridge.gateway.ReconnectingClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.testing.RedisExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rolling deploy, as a load balancer with health checks sees it: two gateway nodes on one Redis,
 * real Socket.IO clients in their user rooms behind the balancer (acking every message), and a
 * sender posting a steady stream over HTTP alternately to both nodes. Node A is drained mid-stream:
 * its clients reconnect, through the balancer, to node B, and every message accepted with 200
 * reaches its client and is acked; a send refused during the drain gets a clear 503 and is sent
 * again to the other node, as a client honouring {@code Retry-After} would.
 */
class RollingDrainIntegrationTests {

    private static final Logger log = LoggerFactory.getLogger(RollingDrainIntegrationTests.class);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static final int USERS = 12;
    private static final int MESSAGES = 600;
    private static final int DRAIN_AT = 200;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private static void await(String what, Duration wait, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what).isNegative();
            Thread.sleep(20);
        }
    }

    /** POSTs message {@code seq} for {@code user_rollN}: the status, or -1 when the node refused the connection. */
    private static int post(GatewayNode node, int seq) throws InterruptedException {
        String body = "{\"rooms\":[\"user_roll" + seq % USERS + "\"],\"event\":\"update\",\"args\":[" + seq + "]}";
        try {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port() + "/send?site=news"))
                    .header("X-Api-Key", TestGateways.API_KEY).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 503) {
                assertThat(response.body()).contains("\"draining\"");
                assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
            }
            return response.statusCode();
        } catch (IOException e) {
            System.out.println("message " + seq + " to port " + node.port() + ": " + e);
            return -1;
        }
    }

    @Test
    void aNodeDrainedWhileMessagesFlowLosesNoneOfThem() throws Exception {
        GatewayNode a = GatewayNode.start("roll-a", redis.uri());
        GatewayNode b = GatewayNode.start("roll-b", redis.uri());
        TcpBalancer balancer = new TcpBalancer(List.of(
                new TcpBalancer.Backend(a.port(), () -> a.gateway.isRunning() && !a.gateway.isDraining()),
                new TcpBalancer.Backend(b.port(), () -> b.gateway.isRunning() && !b.gateway.isDraining())));
        List<ReconnectingClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < USERS; i++) {
                clients.add(ReconnectingClient.connect(balancer.port(), "/news", "rooms:user_roll" + i,
                        new String[] {"websocket"}, "update", true));
            }
            await("all connected", Duration.ofSeconds(15), () -> clients.stream().allMatch(c -> c.connects.size() == 1));
            List<ReconnectingClient> onA = new ArrayList<>();
            for (ReconnectingClient client : clients) {
                if ("roll-a".equals(a.registry.nodeOf(client.connects.get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS))) {
                    onA.add(client);
                }
            }
            assertThat(onA).as("the balancer spread the clients over both nodes").hasSizeBetween(1, USERS - 1);

            // the steady stream, alternately to both nodes; a refused send goes to the other node
            Set<Integer> accepted = ConcurrentHashMap.newKeySet();
            Map<Integer, Integer> refusedBy503 = new ConcurrentHashMap<>();
            AtomicInteger refusedConnections = new AtomicInteger();
            CountDownLatch drainNow = new CountDownLatch(1);
            Thread drainer = new Thread(() -> {
                try {
                    drainNow.await();
                    a.close(); // the gateway drains and stops, then the node leaves the registry
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "test-drainer");
            drainer.start();
            for (int seq = 0; seq < MESSAGES; seq++) {
                if (seq == DRAIN_AT) {
                    drainNow.countDown();
                }
                GatewayNode first = seq % 2 == 0 ? a : b;
                int status = post(first, seq);
                if (status != 200 && first == a) {
                    if (status == 503) {
                        refusedBy503.merge(503, 1, Integer::sum);
                    } else {
                        assertThat(status).as("message %d: the draining node answers 503 or no longer listens", seq)
                                .isEqualTo(-1);
                        refusedConnections.incrementAndGet();
                    }
                    status = post(b, seq);
                }
                assertThat(status).as("message %d", seq).isEqualTo(200);
                accepted.add(seq);
                Thread.sleep(2);
            }
            drainer.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(a.gateway.isRunning()).isFalse();
            assertThat(a.gateway.stats().get("drain.timed_out")).isZero();

            // every accepted message reached its user, and was acked: nothing lost
            Map<Integer, AtomicInteger> copies = new ConcurrentHashMap<>();
            await("every accepted message received", Duration.ofSeconds(30), () -> {
                for (ReconnectingClient client : clients) {
                    ReconnectingClient.Received r;
                    while ((r = client.received.poll()) != null) {
                        copies.computeIfAbsent((Integer) r.args().get(0), k -> new AtomicInteger()).incrementAndGet();
                    }
                }
                return copies.keySet().containsAll(accepted);
            });
            assertThat(accepted).hasSize(MESSAGES);
            assertThat(copies.keySet()).as("nothing that was not sent").isSubsetOf(accepted);
            for (int i = 0; i < USERS; i++) {
                UserQueue queue = new UserQueue("news", "user_roll" + i);
                await("queue of user_roll" + i + " emptied by acks", Duration.ofSeconds(15), () ->
                        b.store.info(queue).toCompletableFuture().join().depth() == 0);
            }
            // clients of the drained node were closed without a Socket.IO disconnect, reconnected, to B
            for (ReconnectingClient client : onA) {
                assertThat(client.disconnects).as("closed so that it reconnects")
                        .allSatisfy(reason -> assertThat(reason).isIn("transport close", "transport error"));
                assertThat(client.connects).hasSizeGreaterThanOrEqualTo(2);
            }
            await("every client on B", Duration.ofSeconds(15), () -> b.gateway.connectionCount("news") == USERS);
            for (ReconnectingClient client : clients) {
                assertThat(client.disconnects).doesNotContain("io server disconnect");
            }
            // a message acked on A whose ack had not reached the store when the connection closed comes
            // again from the queue on B (at least once, as the ack-queue contract says): counted, not lost
            Map<String, Integer> duplicates = new HashMap<>();
            copies.forEach((seq, n) -> {
                if (n.get() > 1) {
                    duplicates.merge("messages", 1, Integer::sum);
                }
            });
            log.info("Rolling drain: {} accepted, {} answered 503 during the drain, {} refused connections after it, "
                    + "{} clients moved from A to B, {} messages delivered twice", accepted.size(),
                    refusedBy503.getOrDefault(503, 0), refusedConnections.get(), onA.size(), duplicates.getOrDefault("messages", 0));
        } finally {
            clients.forEach(ReconnectingClient::close);
            balancer.close();
            a.close();
            b.close();
        }
    }
}
