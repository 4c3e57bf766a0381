package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.redis.handshake.RedisChannels;
import io.pushbridge.redis.handshake.RedisHandshake;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two gateway nodes in redis-handshake mode on one Redis: both receive every grant and message, the
 * node that holds the socket joins it, the other leaves it be, and each message reaches a client
 * once. (In this package for {@link GatewayNode}.)
 */
class RedisHandshakeNodesIntegrationTests {

    private static final Duration NOTHING = Duration.ofMillis(500);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static RedisConnector connectorA;
    private static RedisConnector connectorB;
    private static RedisHandshake handshakeA;
    private static RedisHandshake handshakeB;
    private static GatewayNode a;
    private static GatewayNode b;
    private static RedisChannels backend;

    @BeforeAll
    static void start() throws Exception {
        connectorA = RedisConnector.builder().uri(redis.uri()).build();
        connectorB = RedisConnector.builder().uri(redis.uri()).build();
        handshakeA = RedisHandshake.builder("legacy").servers(List.of(connectorA)).build();
        handshakeB = RedisHandshake.builder("legacy").servers(List.of(connectorB)).build();
        a = GatewayNode.start("node-a", redis.uri(), List.of(site(handshakeA)), List.of(handshakeA));
        b = GatewayNode.start("node-b", redis.uri(), List.of(site(handshakeB)), List.of(handshakeB));
        backend = RedisChannels.open(redis.uri(), RedisHandshake.DEFAULT_AUTH_CHANNEL);
    }

    @AfterAll
    static void stop() {
        backend.close();
        a.close();
        b.close();
        connectorA.close();
        connectorB.close();
    }

    private static SiteOptions site(RedisHandshake handshake) {
        return handshake.applyTo(SiteOptions.builder("legacy").namespace("/").userRoomPrefix("")).build();
    }

    @Test
    void oneGrantJoinsOnTheNodeThatHoldsTheSocketAndEachMessageArrivesOnce() throws Exception {
        try (TestClient client = TestClient.connect(b.port(), "/", null, "myevent")) {
            String socketId = client.awaitConnected();
            CompletableFuture<Object[]> answer = new CompletableFuture<>();
            client.socket.emit("subscribe", new Object[] {new JSONObject().put("room", "shared").put("uid", "u1")},
                    answer::complete);
            assertThat(((JSONObject) answer.get(10, TimeUnit.SECONDS)[0]).getBoolean("ok")).isTrue();
            assertThat(backend.next()).contains("\"socketId\":\"" + socketId + "\"");
            assertThat(backend.poll(NOTHING)).as("published once, by node B").isNull();

            long joinedA = handshakeA.stats().get("authorized");
            long elsewhereA = handshakeA.stats().get("authorized_elsewhere");
            long joinedB = handshakeB.stats().get("authorized");
            long unknownA = handshakeA.stats().get("dropped.unknown_socket");
            assertThat(backend.publish(RedisHandshake.DEFAULT_CHANNEL, "{\"socketId\":\"" + socketId
                    + "\",\"type\":\"authorize\",\"room\":\"shared\"}")).as("both nodes subscribe").isEqualTo(2);
            RedisChannels.awaitCount("joins on node B", () -> handshakeB.stats().get("authorized"), joinedB + 1);
            RedisChannels.awaitCount("grants left to node B by node A", () -> handshakeA.stats().get("authorized_elsewhere"),
                    elsewhereA + 1);
            assertThat(handshakeA.stats().get("authorized")).isEqualTo(joinedA);
            assertThat(handshakeA.stats().get("dropped.unknown_socket")).isEqualTo(unknownA);

            backend.publish(RedisHandshake.DEFAULT_CHANNEL, "{\"room\":\"shared\",\"type\":\"myevent\",\"n\":1}");
            TestClient.Received received = client.next();
            assertThat(received.event()).isEqualTo("myevent");
            assertThat(((JSONObject) received.args().get(0)).getInt("n")).isEqualTo(1);
            assertThat(client.poll(NOTHING)).as("exactly one copy").isNull();
        }
    }

    @Test
    void aGrantForASocketNoNodeHoldsIsCountedOncePerNode() throws Exception {
        long droppedA = a.gateway.stats().get("ingestion.dropped.unknown_socket");
        long droppedB = b.gateway.stats().get("ingestion.dropped.unknown_socket");
        backend.publish(RedisHandshake.DEFAULT_CHANNEL, "{\"socketId\":\"ghost\",\"type\":\"authorize\",\"room\":\"shared\"}");
        RedisChannels.awaitCount("unknown sockets on node A", () -> a.gateway.stats().get("ingestion.dropped.unknown_socket"),
                droppedA + 1);
        RedisChannels.awaitCount("unknown sockets on node B", () -> b.gateway.stats().get("ingestion.dropped.unknown_socket"),
                droppedB + 1);
        Thread.sleep(NOTHING.toMillis());
        assertThat(a.gateway.stats().get("ingestion.dropped.unknown_socket")).isEqualTo(droppedA + 1);
        assertThat(b.gateway.stats().get("ingestion.dropped.unknown_socket")).isEqualTo(droppedB + 1);
    }
}
