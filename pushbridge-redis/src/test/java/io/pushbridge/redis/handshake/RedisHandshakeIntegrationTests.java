package io.pushbridge.redis.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The old service's README replayed against one gateway node on two Redis servers, with real
 * Socket.IO clients on the default namespace and plain PUBLISH/SUBSCRIBE backends.
 */
class RedisHandshakeIntegrationTests {

    private static final String AUTH = "socket.io:auth";
    private static final String INGEST = "socket.io";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration NOTHING = Duration.ofMillis(300);

    @RegisterExtension
    static final RedisExtension redisA = RedisExtension.standalone();

    @RegisterExtension
    static final RedisExtension redisB = RedisExtension.standalone();

    private static RedisConnector serverA;
    private static RedisConnector serverB;
    private static RedisHandshake handshake;
    private static PushBridgeGateway gateway;
    private static RedisChannels backendA;
    private static RedisChannels backendB;

    @BeforeAll
    static void start() throws Exception {
        serverA = RedisConnector.builder().uri(redisA.uri()).build();
        serverB = RedisConnector.builder().uri(redisB.uri()).build();
        handshake = RedisHandshake.builder("legacy")
                .servers(List.of(serverA, serverB))
                .event("subscribe")
                .authChannel(AUTH)
                .channel(INGEST)
                .authorizeType("authorize")
                .maxMessageSize(4096)
                .build();
        // room names up to 300 characters: above the gateway's default of 200
        SiteOptions site = handshake.applyTo(SiteOptions.builder("legacy").namespace("/").userRoomPrefix("")
                .limits(io.pushbridge.gateway.SiteLimits.builder().maxRoomNameLength(300).build())).build();
        gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(site).extension(handshake));
        backendA = RedisChannels.open(redisA.uri(), AUTH);
        backendB = RedisChannels.open(redisB.uri(), AUTH);
    }

    @AfterAll
    static void stop() {
        backendA.close();
        backendB.close();
        gateway.stop();
        serverA.close();
        serverB.close();
    }

    @BeforeEach
    void forgetEarlierRequests() {
        backendA.recorded.clear();
        backendB.recorded.clear();
    }

    @Test
    void theReadmeFlowAsksJoinsAndForwardsOnBothServers() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/", null, "myevent");
                TestClient bystander = TestClient.connect(gateway.port(), "/", null, "myevent")) {
            String socketId = client.awaitConnected();
            bystander.awaitConnected();

            Object[] answer = subscribe(client, new JSONObject(Map.of("room", "myroom", "uid", "someuid", "sid", "somesid")));
            assertThat(((JSONObject) answer[0]).getBoolean("ok")).isTrue();
            String request = "{\"room\":\"myroom\",\"uid\":\"someuid\",\"sid\":\"somesid\",\"socketId\":\"" + socketId
                    + "\",\"ip\":\"127.0.0.1\"}";
            assertThat(backendA.next()).isEqualTo(request);
            assertThat(backendB.next()).isEqualTo(request);
            assertThat(backendA.poll(NOTHING)).as("published once per server").isNull();

            assertThat(backendA.publish(INGEST, authorize(socketId, "myroom"))).as("the gateway subscribes on A").isEqualTo(1);
            backendA.publish(INGEST, "{\"room\":\"myroom\",\"type\":\"myevent\",\"k\":\"v\"}");
            TestClient.Received received = client.next();
            assertThat(received.event()).isEqualTo("myevent");
            assertThat(received.args()).hasSize(1);
            assertThat(json(received.args().get(0))).isEqualTo(json("{\"room\":\"myroom\",\"type\":\"myevent\",\"k\":\"v\"}"));

            assertThat(backendB.publish(INGEST, "{\"room\":\"myroom\",\"type\":\"myevent\",\"via\":\"b\"}"))
                    .as("the gateway subscribes on B").isEqualTo(1);
            assertThat(((JSONObject) client.next().args().get(0)).getString("via")).isEqualTo("b");
            assertThat(client.poll(NOTHING)).isNull();
            assertThat(bystander.poll(NOTHING)).as("not authorized for myroom").isNull();
        }
    }

    @Test
    void uidAndSidPassThroughAsGivenAndAbsentOnesAreLeftOut() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/", null)) {
            String socketId = client.awaitConnected();
            JSONObject ask = new JSONObject().put("room", "numbers").put("uid", 42).put("sid", JSONObject.NULL).put("extra", "x");
            subscribe(client, ask);
            assertThat(backendA.next()).isEqualTo("{\"room\":\"numbers\",\"uid\":42,\"socketId\":\"" + socketId
                    + "\",\"ip\":\"127.0.0.1\"}");

            subscribe(client, new JSONObject().put("room", "strings").put("sid", "s-1"));
            assertThat(backendA.next()).isEqualTo("{\"room\":\"strings\",\"sid\":\"s-1\",\"socketId\":\"" + socketId
                    + "\",\"ip\":\"127.0.0.1\"}");
        }
    }

    @Test
    void badSubscribeRequestsAreRefusedThroughTheCallbackAndPublishNothing() throws Exception {
        List<Object[]> bad = List.of(
                new Object[] {"myroom"},
                new Object[] {},
                new Object[] {new JSONObject()},
                new Object[] {new JSONObject().put("room", "")},
                new Object[] {new JSONObject().put("room", 5)},
                new Object[] {new JSONObject().put("room", "r".repeat(301))},
                new Object[] {new JSONObject().put("room", "a\u0001b")},
                new Object[] {new JSONObject().put("room", " padded")},
                new Object[] {new JSONObject().put("room", "a\u2028b")},
                new Object[] {new JSONObject().put("room", "r").put("uid", true)},
                new Object[] {new JSONObject().put("room", "r").put("sid", new JSONObject().put("a", 1))});
        long refused = gateway.stats().get("events.refused.invalid");
        long roomNames = gateway.stats().get("limits.legacy.room_name");
        try (TestClient client = TestClient.connect(gateway.port(), "/", null)) {
            String socketId = client.awaitConnected();
            for (Object[] args : bad) {
                Object[] answer = subscribe(client, args);
                JSONObject error = ((JSONObject) answer[0]).getJSONObject("error");
                assertThat(error.getString("code")).as("answer to %s", List.of(args)).isEqualTo("invalid");
                assertThat(error.getString("message")).isNotEmpty();
            }
            assertThat(gateway.stats().get("events.refused.invalid")).isEqualTo(refused + bad.size());
            // too long, control character, padded, line separator: the site's limits on room names
            assertThat(gateway.stats().get("limits.legacy.room_name")).isEqualTo(roomNames + 4);

            subscribe(client, new JSONObject().put("room", "good"));
            assertThat(backendA.next()).as("the first request published is the good one")
                    .isEqualTo("{\"room\":\"good\",\"socketId\":\"" + socketId + "\",\"ip\":\"127.0.0.1\"}");
            // longer than the default but within the site's limit: asked for
            String longRoom = "r".repeat(250);
            Object[] answer = subscribe(client, new JSONObject().put("room", longRoom));
            assertThat(((JSONObject) answer[0]).getBoolean("ok")).isTrue();
            assertThat(backendA.next()).isEqualTo("{\"room\":\"" + longRoom + "\",\"socketId\":\"" + socketId
                    + "\",\"ip\":\"127.0.0.1\"}");
        }
    }

    @Test
    void badIngestedMessagesAreDroppedAndCountedAndTheSubscriptionGoesOn() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/", null, "news")) {
            String socketId = client.awaitConnected();
            backendA.publish(INGEST, authorize(socketId, "tabled"));
            String good = "{\"room\":\"tabled\",\"type\":\"news\"}";
            backendA.publish(INGEST, good);
            assertThat(client.next().event()).isEqualTo("news");

            List<String[]> table = new ArrayList<>(List.of(
                    new String[] {"not json", "malformed_json"},
                    new String[] {"", "malformed_json"},
                    new String[] {"{\"room\":\"tabled\",\"type\":\"news\"} trailing", "malformed_json"},
                    new String[] {"[1,2]", "not_an_object"},
                    new String[] {"\"text\"", "not_an_object"},
                    new String[] {"{\"type\":\"news\"}", "missing_field"},
                    new String[] {"{\"room\":\"tabled\"}", "missing_field"},
                    new String[] {"{\"room\":5,\"type\":\"news\"}", "missing_field"},
                    new String[] {"{\"room\":\"tabled\",\"type\":[\"news\"]}", "missing_field"},
                    new String[] {"{\"type\":\"authorize\",\"room\":\"tabled\"}", "missing_field"},
                    new String[] {"{\"socketId\":7,\"type\":\"authorize\",\"room\":\"tabled\"}", "missing_field"},
                    new String[] {"{\"room\":\"tabled\",\"type\":\"disconnect\"}", "invalid"},
                    new String[] {"{\"room\":\"\",\"type\":\"news\"}", "invalid"},
                    new String[] {"{\"room\":\"tabled\",\"type\":\"a\\u0001b\"}", "invalid"},
                    new String[] {"{\"socketId\":\"" + socketId + "\",\"type\":\"authorize\",\"room\":\"\"}", "invalid"},
                    new String[] {"{\"socketId\":\"\",\"type\":\"authorize\",\"room\":\"tabled\"}", "invalid"},
                    new String[] {"{\"socketId\":\"nobody\",\"type\":\"authorize\",\"room\":\"tabled\"}", "unknown_socket"},
                    new String[] {"{\"room\":\"tabled\",\"type\":\"news\",\"pad\":\"" + "x".repeat(5000) + "\"}", "too_large"}));
            for (String[] row : table) {
                String reason = row[1];
                long before = handshake.stats().get("dropped." + reason);
                long counted = gateway.stats().get("ingestion.dropped." + reason);
                backendA.publish(INGEST, row[0]);
                backendA.publish(INGEST, good);
                TestClient.Received next = client.next();
                assertThat(next.event()).as("the good message after %s", excerpt(row[0])).isEqualTo("news");
                assertThat(json(next.args().get(0))).isEqualTo(json(good));
                assertThat(handshake.stats().get("dropped." + reason)).as("%s counted as %s", excerpt(row[0]), reason)
                        .isEqualTo(before + 1);
                assertThat(gateway.stats().get("ingestion.dropped." + reason)).isEqualTo(counted + 1);
            }
            assertThat(client.poll(NOTHING)).as("nothing of the bad messages reached the client").isNull();
        }
    }

    static String authorize(String socketId, String room) {
        return "{\"socketId\":\"" + socketId + "\",\"type\":\"authorize\",\"room\":\"" + room + "\"}";
    }

    /** Emits {@code subscribe} with a callback and returns the callback's arguments. */
    static Object[] subscribe(TestClient client, Object... args) throws Exception {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        client.socket.emit("subscribe", args, answer::complete);
        return answer.get(10, TimeUnit.SECONDS);
    }

    /** A JSON value (a client's JSONObject, or JSON text) as a Jackson tree, to compare. */
    static JsonNode json(Object value) throws Exception {
        return JSON.readTree(value.toString());
    }

    private static String excerpt(String payload) {
        return payload.length() > 60 ? payload.substring(0, 60) + "..." : payload;
    }

    @Test
    void theBuilderRefusesSettingsThatCannotWork() {
        assertThatThrownBy(() -> RedisHandshake.builder("legacy").servers(List.of(serverA)).authChannel("socket.io").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("authChannel must differ from channel");
        assertThatThrownBy(() -> RedisHandshake.builder("legacy").servers(List.of()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one Redis server");
        assertThatThrownBy(() -> RedisHandshake.builder("legacy").servers(List.of(serverA)).event("").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event");
    }
}
