package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.PushTemplate;
import io.pushbridge.SendResult;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.testing.RedisServer;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;

/**
 * Started gateways on Redis: two nodes (two application contexts) share one Redis, a Socket.IO
 * client on one receives what the other sends, and the health indicator follows Redis going away
 * and coming back.
 */
class PushBridgeRedisAutoConfigurationIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1",
                    "pushbridge.sites.demo.authorizer=STATIC",
                    "pushbridge.sites.demo.tokens.alice=user_alice,staff",
                    "pushbridge.sites.demo.api-key=demo-key");

    @Test
    void aClientOnOneNodeReceivesWhatAnotherNodeSends() {
        String prefix = "two-nodes:";
        ApplicationContextRunner node = runner.withPropertyValues("pushbridge.redis.url=" + redis.uri(),
                "pushbridge.redis.prefix=" + prefix);
        node.run(a -> node.run(b -> {
            assertThat(a).hasNotFailed();
            assertThat(b).hasNotFailed();
            PushBridgeGateway gatewayA = a.getBean(PushBridgeGateway.class);
            PushBridgeGateway gatewayB = b.getBean(PushBridgeGateway.class);
            assertThat(gatewayA.isRunning()).isTrue();
            assertThat(gatewayB.isRunning()).isTrue();
            PushBridgeNodeIdentity identityA = a.getBean(PushBridgeNodeIdentity.class);
            PushBridgeNodeIdentity identityB = b.getBean(PushBridgeNodeIdentity.class);
            assertThat(identityA.nodeId()).isNotEqualTo(identityB.nodeId());

            Health health = health(a);
            assertThat(health.getStatus()).as("%s", health).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("nodeId", identityA.nodeId())
                    .containsEntry("port", gatewayA.port());
            assertThat(redisDetails(health)).containsEntry("mode", "standalone").containsEntry("subscribed", true)
                    .containsEntry("heartbeat", "ok");
            assertThat(health(b).getStatus()).isEqualTo(Status.UP);

            CompletableFuture<Object[]> received = new CompletableFuture<>();
            Socket socket = PushBridgeAutoConfigurationIntegrationTests.connect(gatewayA.port(), received);
            try {
                await(() -> gatewayA.connectionCount("demo") == 1, Duration.ofSeconds(10), "the client counted on node A");
                assertThat(health(a).getDetails()).containsEntry("sites", Map.of("demo", 1));

                SendResult result = b.getBean(PushTemplate.class).site("demo").to("user_alice").event("greeting")
                        .args("hello from B").send().toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertThat(result.queued()).isEqualTo(1);
                // node B minted the id, with its leased flake id slot
                assertThat((result.id() >> 17) & 31).isEqualTo(identityB.datacenterId());
                assertThat((result.id() >> 12) & 31).isEqualTo(identityB.workerId());

                Object[] args = received.get(10, TimeUnit.SECONDS);
                assertThat(args[0]).isEqualTo("hello from B");
                RedisMessageStore store = a.getBean(RedisMessageStore.class);
                UserQueue queue = new UserQueue("demo", "user_alice");
                assertThat(store.info(queue).toCompletableFuture().get(5, TimeUnit.SECONDS).depth())
                        .as("queued in Redis until acked").isEqualTo(1);
                ((Ack) args[args.length - 1]).call();
                await(() -> store.info(queue).toCompletableFuture().join().depth() == 0, Duration.ofSeconds(10),
                        "the ack removes the message from the shared queue");

                @SuppressWarnings("unchecked")
                Map<String, Long> routerA = (Map<String, Long>) redisDetails(health(a)).get("router");
                assertThat(routerA.get("received")).isPositive();
            } finally {
                socket.close();
            }
        }));
    }

    @Test
    void healthGoesDownWhenRedisDiesAndUpWhenItIsBack() {
        try (RedisServer server = RedisServer.start()) {
            runner.withPropertyValues("pushbridge.redis.url=" + server.uri(), "pushbridge.redis.heartbeat-interval=100ms",
                    "pushbridge.redis.node-timeout=1s", "pushbridge.redis.command-timeout=500ms").run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(health(context).getStatus()).isEqualTo(Status.UP);

                        server.kill();
                        Health down = awaitHealth(context, h -> h.getStatus().equals(Status.DOWN), Duration.ofSeconds(10));
                        assertThat((String) down.getDetails().get("reason")).contains("Redis PING failed");

                        server.restart();
                        Health up = awaitHealth(context, h -> h.getStatus().equals(Status.UP), Duration.ofSeconds(30));
                        assertThat(redisDetails(up)).containsEntry("ping", "PONG").containsEntry("subscribed", true)
                                .containsEntry("heartbeat", "ok");
                    });
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static Health health(ApplicationContext context) {
        return context.getBean("pushbridge", HealthIndicator.class).health();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> redisDetails(Health health) {
        return (Map<String, Object>) health.getDetails().get("redis");
    }

    private static Health awaitHealth(ApplicationContext context, Predicate<Health> wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Health last = health(context);
        while (!wanted.test(last)) {
            assertThat(System.nanoTime()).as("health within %s, last %s", timeout, last).isLessThan(deadline);
            sleep(50);
            last = health(context);
        }
        return last;
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            sleep(20);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
