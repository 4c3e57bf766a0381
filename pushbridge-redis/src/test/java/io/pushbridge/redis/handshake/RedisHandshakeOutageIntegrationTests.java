package io.pushbridge.redis.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.PushBridgeException;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisServer;
import java.time.Duration;
import java.util.List;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;

/** redis-handshake when its Redis server is down: at start-up, and while running. */
class RedisHandshakeOutageIntegrationTests {

    @Test
    void startFailsNamingTheServerWhenItCannotSubscribe() {
        try (RedisServer server = RedisServer.start();
                RedisConnector connector = RedisConnector.builder().uri(server.uri()).connectTimeout(Duration.ofMillis(500)).build()) {
            server.kill();
            RedisHandshake handshake = RedisHandshake.builder("legacy").servers(List.of(connector)).build();
            SiteOptions site = handshake.applyTo(SiteOptions.builder("legacy").namespace("/").userRoomPrefix("")).build();
            assertThatThrownBy(() -> TestGateways.start(TestGateways.options().build(), b -> b.site(site).extension(handshake)))
                    .isInstanceOf(PushBridgeException.class)
                    .hasMessageContaining(connector.description())
                    .hasMessageContaining("socket.io");
        }
    }

    @Test
    void requestsFailWhileTheServerIsDownAndTheSubscriptionComesBackWithIt() throws Exception {
        try (RedisServer server = RedisServer.start();
                RedisConnector connector = RedisConnector.builder().uri(server.uri()).build()) {
            RedisHandshake handshake = RedisHandshake.builder("legacy").servers(List.of(connector)).build();
            SiteOptions site = handshake.applyTo(SiteOptions.builder("legacy").namespace("/").userRoomPrefix("")).build();
            PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(),
                    b -> b.site(site).extension(handshake));
            try (TestClient client = TestClient.connect(gateway.port(), "/", null, "myevent")) {
                String socketId = client.awaitConnected();
                server.kill();

                Object[] answer = RedisHandshakeIntegrationTests.subscribe(client, new JSONObject().put("room", "down"));
                assertThat(((JSONObject) answer[0]).getJSONObject("error").getString("code")).isEqualTo("error");
                assertThat(handshake.stats().get("auth_request_failures")).isEqualTo(1);

                server.restart();
                try (RedisChannels backend = RedisChannels.open(server.uri(), RedisHandshake.DEFAULT_AUTH_CHANNEL)) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (backend.publish(RedisHandshake.DEFAULT_CHANNEL, RedisHandshakeIntegrationTests.authorize(socketId, "back")) == 0
                            && System.nanoTime() < deadline) {
                        Thread.sleep(50); // until Lettuce re-subscribed
                    }
                    RedisChannels.awaitCount("joins after the restart", () -> handshake.stats().get("authorized"), 1);
                    backend.publish(RedisHandshake.DEFAULT_CHANNEL, "{\"room\":\"back\",\"type\":\"myevent\"}");
                    assertThat(client.next().event()).isEqualTo("myevent");

                    // the command connection reconnects on its own schedule, maybe after the subscription
                    deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    answer = RedisHandshakeIntegrationTests.subscribe(client, new JSONObject().put("room", "up"));
                    while (!((JSONObject) answer[0]).has("ok") && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                        answer = RedisHandshakeIntegrationTests.subscribe(client, new JSONObject().put("room", "up"));
                    }
                    assertThat(((JSONObject) answer[0]).getBoolean("ok")).isTrue();
                    assertThat(backend.next()).contains("\"room\":\"up\"");
                }
            } finally {
                gateway.stop();
            }
        }
    }
}
