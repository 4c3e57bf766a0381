package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.Message;
import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.Target;
import io.pushbridge.UserQueue;
import io.pushbridge.redis.RedisRouterIntegrationTests.Recorder;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Redis behind Sentinel: the store and the router follow a failover to the new master by themselves. */
class RedisSentinelIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.sentinel();

    @Test
    void storeAndRoutingFollowAFailover() throws Exception {
        try (RedisConnector ca = RedisConnector.builder().uri(redis.uri()).build();
                RedisConnector cb = RedisConnector.builder().uri(redis.uri()).build();
                RedisNodeRegistry ra = RedisNodeRegistry.builder(ca.commands(), "a").build();
                RedisNodeRegistry rb = RedisNodeRegistry.builder(cb.commands(), "b").build()) {
            assertThat(ca.mode()).isEqualTo(RedisConnector.Mode.SENTINEL);
            ra.start();
            rb.start();
            MessageStore store = RedisMessageStore.builder(ca.commands(), "a").build();
            RedisRouter a = new RedisRouter(ca, ra, List.of("news"));
            RedisRouter b = new RedisRouter(cb, rb, List.of("news"));
            Recorder tb = new Recorder();
            a.start(new Recorder());
            b.start(tb);
            try {
                UserQueue q = new UserQueue("news", "user_sentinel");
                store.append(q, new QueuedMessage(1, "update", List.of("before"), false, 1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
                int oldMaster = redis.sentinels().currentMaster().port();

                redis.sentinels().failover();
                assertThat(redis.sentinels().currentMaster().port()).isNotEqualTo(oldMaster);

                // writes reach the new master once the clients have followed it
                eventually(() -> store.append(q, new QueuedMessage(2, "update", List.of("after"), false, 2)));
                assertThat(store.takePending(q).toCompletableFuture().get(5, TimeUnit.SECONDS).messages())
                        .extracting(QueuedMessage::id).containsExactly(1L, 2L);
                eventually(() -> a.publish(new Message(3, "news", Target.rooms(Set.of("r")), "ev", List.of(), Set.of(), false, 3)));
                Message got;
                do {
                    got = (Message) tb.next();
                } while (got.id() != 3);
            } finally {
                a.stop();
                b.stop();
            }
        }
    }

    private static void eventually(Supplier<CompletionStage<?>> op) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                op.get().toCompletableFuture().get(5, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
