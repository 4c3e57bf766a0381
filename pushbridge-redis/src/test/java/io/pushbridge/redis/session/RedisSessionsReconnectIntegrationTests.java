package io.pushbridge.redis.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Redis restart loses the keyspace notification settings and the session keys: once the
 * subscriptions are back, the settings are applied again and every local session is read again.
 * A session change whose read fails (Redis paused past the command timeout) is read again.
 */
class RedisSessionsReconnectIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static final String SITE = "yunity";
    static final ContextCapture capture = new ContextCapture();
    static RedisConnector connector;
    static RedisSessions sessions;
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        connector = RedisConnector.builder().uri(redis.uri()).commandTimeout(Duration.ofMillis(500)).build();
        sessions = RedisSessions.builder(SITE).redis(connector).configureKeyspaceEvents(true).build();
        gateway = TestGateways.start(TestGateways.options().path("/socket/").build(), b -> b
                .site(sessions.applyTo(SiteOptions.builder(SITE).namespace("/")).build())
                .extension(sessions)
                .extension(capture));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
        connector.close();
    }

    static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void afterARestartTheSettingsAreAppliedAgainAndSessionsReadAgain() throws Exception {
        redis.server().command("SET", "session-store-survivor", "ivy");
        try (SessionClient client = SessionClient.connect(gateway.port(), "/socket/")) {
            client.authenticate("survivor");
            assertThat(capture.rooms(SITE, client.id())).containsExactly("user_ivy");

            redis.server().restart(); // no persistence: the key and the CONFIG SET are gone

            await("reads the session again and leaves", () -> capture.rooms(SITE, client.id()).isEmpty());
            assertThat(sessions.stats().get("resumes")).isPositive();
            assertThat(RedisSessions.missingFlags(redis.server().command("CONFIG", "GET", "notify-keyspace-events").split("\n")[1]))
                    .isEmpty();

            redis.server().command("SET", "session-store-survivor", "jack");

            await("follows the key again", () -> capture.rooms(SITE, client.id()).equals(Set.of("user_jack")));
            assertThat(client.socket.connected()).isTrue();
        }
    }

    @Test
    void aSessionChangeWhoseReadFailsIsReadAgainUntilRedisAnswers() throws Exception {
        redis.server().command("SET", "session-store-slow", "kim");
        try (SessionClient client = SessionClient.connect(gateway.port(), "/socket/")) {
            client.authenticate("slow");
            assertThat(capture.rooms(SITE, client.id())).containsExactly("user_kim");

            // the user logs out, and Redis stops answering right after: in one write, so that the
            // gateway's read of the session comes in while Redis is paused (longer than the 500 ms
            // command timeout: the first reads fail)
            RedisClient lettuce = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> backend = lettuce.connect()) {
                backend.setAutoFlushCommands(false);
                RedisFuture<Long> del = backend.async().del("session-store-slow");
                RedisFuture<String> pause = backend.async().clientPause(1500);
                backend.flushCommands();
                assertThat(del.get(5, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(pause.get(5, TimeUnit.SECONDS)).isEqualTo("OK");
            } finally {
                lettuce.shutdown(0, 1, TimeUnit.SECONDS);
            }

            await("leaves the user's room once Redis answers again", () -> capture.rooms(SITE, client.id()).isEmpty());
            assertThat(client.socket.connected()).isTrue();
        }
    }
}
