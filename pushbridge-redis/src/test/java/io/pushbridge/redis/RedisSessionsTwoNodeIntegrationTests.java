package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.redis.session.RedisSessions;
import io.pushbridge.redis.session.SessionClient;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two gateway nodes in redis-session mode on one Redis (routing and sessions alike), with one
 * client of the same session on each: every node follows the session for its own sockets, and
 * each delivers the notifications to its own sockets only. {@link GatewayNode} serves the default
 * Engine.IO path.
 */
class RedisSessionsTwoNodeIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone("--notify-keyspace-events", "KA");

    static RedisClient lettuce;
    static StatefulRedisConnection<String, String> connection;
    static RedisCommands<String, String> cli;
    static RedisConnector sessionsRedisA;
    static RedisConnector sessionsRedisB;
    static RedisSessions sessionsA;
    static RedisSessions sessionsB;
    static final ContextCapture captureA = new ContextCapture();
    static final ContextCapture captureB = new ContextCapture();
    static GatewayNode a;
    static GatewayNode b;

    @BeforeAll
    static void start() {
        lettuce = RedisClient.create(redis.uri());
        connection = lettuce.connect();
        cli = connection.sync();
        sessionsRedisA = RedisConnector.builder().uri(redis.uri()).build();
        sessionsRedisB = RedisConnector.builder().uri(redis.uri()).build();
        sessionsA = RedisSessions.builder("yunity").redis(sessionsRedisA).build();
        sessionsB = RedisSessions.builder("yunity").redis(sessionsRedisB).build();
        a = GatewayNode.start("node-a", redis.uri(), List.of(site(sessionsA)), List.of(sessionsA, captureA));
        b = GatewayNode.start("node-b", redis.uri(), List.of(site(sessionsB)), List.of(sessionsB, captureB));
    }

    static SiteOptions site(RedisSessions sessions) {
        return sessions.applyTo(SiteOptions.builder("yunity").namespace("/")).build();
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        sessionsRedisA.close();
        sessionsRedisB.close();
        connection.close();
        lettuce.shutdown();
    }

    static void awaitRooms(ContextCapture node, SessionClient client, Set<String> expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!node.rooms("yunity", client.id()).equals(expected)) {
            assertThat(System.nanoTime()).as(node.context().nodeId() + " has rooms " + expected).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void bothNodesFollowTheSessionAndDeliverOneCopyEach() throws Exception {
        try (SessionClient onA = SessionClient.connect(a.port(), GatewayOptions.DEFAULT_PATH);
                SessionClient onB = SessionClient.connect(b.port(), GatewayOptions.DEFAULT_PATH)) {
            JSONObject answerA = onA.authenticate("shared");
            JSONObject answerB = onB.authenticate("shared");
            assertThat(answerA.isNull("userId")).isTrue();
            assertThat(answerB.isNull("userId")).isTrue();

            cli.set("session-store-shared", "user5");

            awaitRooms(captureA, onA, Set.of("user_user5"));
            awaitRooms(captureB, onB, Set.of("user_user5"));

            cli.publish("notifications", "{\"users\":[\"user5\"],\"data\":{\"a\":\"b\"}}");
            assertThat(((JSONObject) onA.nextMessage()).getString("a")).isEqualTo("b");
            assertThat(((JSONObject) onB.nextMessage()).getString("a")).isEqualTo("b");
            cli.publish("notifications", "{\"users\":[\"user5\", \"user6\"],\"data\":2}");
            assertThat(onA.nextMessage()).isEqualTo(2);
            assertThat(onB.nextMessage()).isEqualTo(2);
            assertThat(onA.poll(Duration.ofMillis(300))).as("one copy on node a").isNull();
            assertThat(onB.poll(Duration.ofMillis(10))).as("one copy on node b").isNull();

            cli.del("session-store-shared");

            awaitRooms(captureA, onA, Set.of());
            awaitRooms(captureB, onB, Set.of());
            cli.publish("notifications", "{\"users\":[\"user5\"],\"data\":3}");
            assertThat(onA.poll(Duration.ofMillis(300))).isNull();
            assertThat(onB.poll(Duration.ofMillis(10))).isNull();
        }
    }
}
