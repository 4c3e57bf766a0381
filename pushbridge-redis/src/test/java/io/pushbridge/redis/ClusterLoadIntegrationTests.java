package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.UserQueue;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.redis.testing.RedisExtension;
import io.socket.client.Ack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded load: 10,000 user-room messages through two nodes, to clients split across them that
 * ack each one. Every message must arrive exactly once (no fault is injected, so no ack is lost),
 * and every queue must be empty at the end. The time taken is logged, never asserted.
 */
class ClusterLoadIntegrationTests {

    private static final Logger log = LoggerFactory.getLogger(ClusterLoadIntegrationTests.class);
    private static final int USERS = 50;
    private static final int MESSAGES = 10_000;

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    @Test
    void tenThousandUserRoomMessagesAcrossTwoNodesArriveExactlyOnce() throws Exception {
        try (GatewayNode a = GatewayNode.start("load-a", redis.uri()); GatewayNode b = GatewayNode.start("load-b", redis.uri())) {
            List<TestClient> clients = new ArrayList<>();
            ConcurrentHashMap<Integer, AtomicInteger> copies = new ConcurrentHashMap<>();
            AtomicInteger total = new AtomicInteger();
            try {
                for (int u = 0; u < USERS; u++) {
                    GatewayNode node = u % 2 == 0 ? a : b;
                    TestClient client = TestClient.connect(node.port(), "/news", "rooms:user_load" + u);
                    client.socket.on("m", args -> {
                        copies.computeIfAbsent((Integer) args[0], k -> new AtomicInteger()).incrementAndGet();
                        total.incrementAndGet();
                        ((Ack) args[args.length - 1]).call();
                    });
                    client.awaitConnected();
                    clients.add(client);
                }

                long started = System.nanoTime();
                Semaphore inFlight = new Semaphore(200);
                List<CompletableFuture<?>> sends = new ArrayList<>(MESSAGES);
                for (int i = 0; i < MESSAGES; i++) {
                    inFlight.acquire();
                    GatewayNode via = i % 2 == 0 ? a : b;
                    sends.add(via.gateway.pushTemplate().site("news").to("user_load" + (i % USERS)).event("m").args(i).send()
                            .toCompletableFuture().whenComplete((r, f) -> inFlight.release()));
                }
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (copies.size() < MESSAGES) {
                    assertThat(System.nanoTime()).as("all delivered (%d of %d so far)", copies.size(), MESSAGES).isLessThan(deadline);
                    Thread.sleep(20);
                }
                long elapsed = System.nanoTime() - started;
                log.info("{} user-room messages sent through 2 nodes and received by {} clients in {} ms ({} msg/s)",
                        MESSAGES, USERS, elapsed / 1_000_000, MESSAGES * 1_000_000_000L / elapsed);

                assertThat(copies.values()).allMatch(n -> n.get() == 1);
                assertThat(total.get()).isEqualTo(MESSAGES);
                for (int u = 0; u < USERS; u++) {
                    UserQueue q = new UserQueue("news", "user_load" + u);
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (a.store.info(q).toCompletableFuture().get(5, TimeUnit.SECONDS).depth() != 0) {
                        assertThat(System.nanoTime()).as("queue of %s drained by the acks", q.room()).isLessThan(until);
                        Thread.sleep(20);
                    }
                }
            } finally {
                clients.forEach(TestClient::close);
            }
        }
    }
}
