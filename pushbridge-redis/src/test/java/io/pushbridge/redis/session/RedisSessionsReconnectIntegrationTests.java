package io.pushbridge.redis.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Redis restart loses the keyspace notification settings and the session keys: once the
 * subscriptions are back, the settings are applied again and every local session is read again.
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
        connector = RedisConnector.builder().uri(redis.uri()).build();
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
}
