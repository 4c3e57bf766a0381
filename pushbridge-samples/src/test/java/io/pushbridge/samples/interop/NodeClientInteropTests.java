package io.pushbridge.samples.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.ConnectRequest;
import io.pushbridge.MessageStore;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.samples.gateway.SampleGatewayApplication;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The official Node {@code socket.io-client} v4 ({@code src/test/node/socketio-client.mjs}) against
 * the sample gateway as it ships, on a free port, with a test user per scenario added to the demo
 * site's token table and a second site whose authorizer (a test bean) records the auth payload.
 * Run with {@code -Pinterop}.
 */
class NodeClientInteropTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCRIPT = "socketio-client.mjs";
    /** pushbridge.max-pending-per-user for this gateway: small, so that one scenario overflows it. */
    private static final int MAX_PENDING = 5;
    private static final List<String> USERS = List.of("websocket", "polling", "upgrade", "callbacks", "batch",
            "outoforder", "overflow", "binaryws", "binarypolling", "binarybatch", "binaryclient");
    private static final String DEVICE_TOKEN = "device-token";
    /** What the devices site's authorizer was asked, in order. */
    private static final List<ConnectRequest> DEVICE_REQUESTS = new CopyOnWriteArrayList<>();
    /** Binary with the byte Engine.IO 3 framing puts first (0x04) and every other value. */
    private static final byte[] BYTES = new byte[260];

    static {
        for (int i = 0; i < BYTES.length; i++) {
            BYTES[i] = (byte) (i + 4);
        }
    }

    private static ConfigurableApplicationContext context;
    private static PushBridgeGateway gateway;
    private static MessageStore store;
    private static String url;

    @BeforeAll
    static void start() {
        List<String> args = new ArrayList<>(List.of("--pushbridge.port=0", "--pushbridge.host=127.0.0.1",
                "--spring.main.keep-alive=false", "--pushbridge.max-pending-per-user=" + MAX_PENDING,
                "--pushbridge.sites.devices.authorizer=bean",
                "--pushbridge.sites.devices.authorizer-bean=devicesAuthorizer",
                "--pushbridge.sites.devices.api-key=devices-key"));
        for (String user : USERS) {
            args.add("--pushbridge.sites.demo.tokens." + token(user) + "=" + room(user)
                    + (user.equals("callbacks") ? ",team_interop" : ""));
        }
        context = new SpringApplicationBuilder(SampleGatewayApplication.class, DevicesSite.class).run(args.toArray(String[]::new));
        gateway = context.getBean(PushBridgeGateway.class);
        store = context.getBean(MessageStore.class);
        url = "http://127.0.0.1:" + gateway.port();
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    /** A site next to the sample's demo: its authorizer records each request and needs auth.device. */
    @Configuration(proxyBeanMethods = false)
    static class DevicesSite {
        @Bean
        RoomAuthorizer devicesAuthorizer() {
            return request -> {
                DEVICE_REQUESTS.add(request);
                if (!DEVICE_TOKEN.equals(request.token())) {
                    return CompletableFuture.failedFuture(new AuthorizationDeniedException(
                            AuthorizationDeniedException.UNAUTHORIZED, "Unknown token"));
                }
                if (!(request.auth().get("device") instanceof String device) || device.isBlank()) {
                    return CompletableFuture.failedFuture(new AuthorizationDeniedException("device_required",
                            "auth.device is required"));
                }
                return CompletableFuture.completedFuture(Set.of("device_" + device));
            };
        }
    }

    private static String token(String user) {
        return "it" + user;
    }

    private static String room(String user) {
        return "user_it" + user;
    }

    private static Map<String, Object> settings(String user) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("url", url);
        settings.put("site", "demo");
        settings.put("apiKey", "demo-key");
        settings.put("token", token(user));
        settings.put("userRoom", room(user));
        return settings;
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    /** Waits until the user's queue holds that many messages. */
    private static void awaitDepth(String user, int depth) throws Exception {
        Queues.awaitDepth(store, new UserQueue("demo", room(user)), depth);
    }

    /** Runs a scenario whose only step is "acked": the queue must be empty before the script goes on. */
    private static JsonNode runAcked(String scenario, String user, Map<String, Object> settings) throws Exception {
        try (NodeScript script = NodeScript.start(SCRIPT, scenario, settings)) {
            script.awaitStep("acked");
            awaitDepth(user, 0);
            script.answer();
            return script.result();
        }
    }

    @Test
    void webSocketOnly() throws Exception {
        JsonNode result = runAcked("websocket", "websocket", settings("websocket"));
        assertThat(result.get("openedWith").asText()).isEqualTo("websocket");
        assertThat(result.get("transportAtConnect").asText()).isEqualTo("websocket");
        assertThat(result.get("transportAtReceipt").asText()).isEqualTo("websocket");
        assertThat(result.get("transportAtEnd").asText()).isEqualTo("websocket");
        assertThat(result.get("args")).isEqualTo(json("[\"user\", {\"id\": 1, \"age\": 5}]"));
        assertThat(result.at("/send/queued").asInt()).isEqualTo(1);
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void longPollingOnly() throws Exception {
        JsonNode result = runAcked("polling", "polling", settings("polling"));
        assertThat(result.get("received")).isEqualTo(json("""
                [{"args": [1, "x"], "transport": "polling"},
                 {"args": [2, "xx"], "transport": "polling"},
                 {"args": [3, "xxx"], "transport": "polling"}]"""));
        assertThat(result.get("transportAtEnd").asText()).isEqualTo("polling");
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void longPollingUpgradesToWebSocket() throws Exception {
        JsonNode result = runAcked("upgrade", "upgrade", settings("upgrade"));
        assertThat(result.get("openedWith").asText()).isEqualTo("polling");
        assertThat(result.get("upgradedTo").asText()).isEqualTo("websocket");
        assertThat(result.get("transportAtReceipt").asText()).isEqualTo("websocket");
        assertThat(result.get("args")).isEqualTo(json("[\"after upgrade\"]"));
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void anAuthPayloadOfSeveralKeysReachesTheAuthorizerWhole() throws Exception {
        Map<String, Object> auth = new LinkedHashMap<>();
        auth.put("token", DEVICE_TOKEN);
        auth.put("device", "phone-7");
        auth.put("app", Map.of("name", "interop", "version", "2.1.0"));
        auth.put("features", List.of("batch", "resync"));
        auth.put("retries", 3);
        auth.put("beta", true);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("url", url);
        settings.put("site", "devices");
        settings.put("apiKey", "devices-key");
        settings.put("auth", auth);
        settings.put("query", Map.of("lang", "de"));
        settings.put("deviceRoom", "device_phone-7");
        JsonNode result;
        String socketId;
        try (NodeScript script = NodeScript.start(SCRIPT, "authPayload", settings)) {
            socketId = script.awaitStep("connected").get("socketId").asText();
            result = script.result();
        }
        assertThat(result.get("args")).as("a message to the room the authorizer chose from auth.device")
                .isEqualTo(json("[\"phone-7\"]"));
        assertThat(result.get("ack").asBoolean()).as("device_ is not a user room").isFalse();
        ConnectRequest request = DEVICE_REQUESTS.stream()
                .filter(r -> "phone-7".equals(r.auth().get("device")))
                .findFirst().orElseThrow();
        assertThat(request.site()).isEqualTo("devices");
        assertThat(request.token()).isEqualTo(DEVICE_TOKEN);
        assertThat(request.auth()).isEqualTo(auth);
        assertThat(request.queryParam("lang")).isEqualTo("de");
        assertThat(request.queryParam("EIO")).as("the client's Engine.IO version").isEqualTo("4");
        assertThat(socketId).isNotBlank();
    }

    @Test
    void refusedConnectsGetConnectErrorWithMessageAndCode() throws Exception {
        Map<String, Object> settings = settings("none");
        settings.put("cases", List.of(
                Map.of("name", "unknown token", "namespace", "/demo", "auth", Map.of("token", "mallory"),
                        "transports", List.of("websocket")),
                Map.of("name", "unknown token, polling", "namespace", "/demo", "auth", Map.of("token", "mallory"),
                        "transports", List.of("polling")),
                Map.of("name", "no token", "namespace", "/demo", "auth", Map.of("device", "phone-7")),
                Map.of("name", "refused by the site's own authorizer", "namespace", "/devices",
                        "auth", Map.of("token", DEVICE_TOKEN, "device", "")),
                Map.of("name", "no such site", "namespace", "/nosuchsite", "auth", Map.of("token", "alice"))));
        JsonNode result;
        try (NodeScript script = NodeScript.start(SCRIPT, "connectError", settings)) {
            result = script.result();
        }
        Map<String, JsonNode> cases = new LinkedHashMap<>();
        result.get("cases").forEach(c -> cases.put(c.get("name").asText(), c));
        assertThat(cases.get("unknown token").get("data")).isEqualTo(json("{\"message\": \"Unknown token\", \"code\": \"unauthorized\"}"));
        assertThat(cases.get("unknown token").get("message").asText()).isEqualTo("Unknown token");
        assertThat(cases.get("unknown token, polling").get("data")).isEqualTo(cases.get("unknown token").get("data"));
        assertThat(cases.get("no token").get("data").get("code").asText()).isEqualTo(AuthorizationDeniedException.TOKEN_MISSING);
        assertThat(cases.get("refused by the site's own authorizer").get("data"))
                .isEqualTo(json("{\"message\": \"auth.device is required\", \"code\": \"device_required\"}"));
        assertThat(cases.get("no such site").get("data").get("code").asText()).isEqualTo("unknown_namespace");
        result.get("cases").forEach(c -> {
            assertThat(c.get("active").asBoolean()).as("%s: the client does not retry a refusal", c.get("name")).isFalse();
            assertThat(c.get("connected").asBoolean()).as("%s: not connected", c.get("name")).isFalse();
        });
    }

    @Test
    void callbacksBothWays() throws Exception {
        Map<String, Object> settings = settings("callbacks");
        settings.put("groupRoom", "team_interop");
        JsonNode result = runAcked("callbacks", "callbacks", settings);
        assertThat(result.get("groupHasCallback").asBoolean()).as("a group room's message has no callback").isFalse();
        assertThat(result.get("userHasCallback").asBoolean()).isTrue();
        assertThat(result.at("/emitWithAck/error/code").asText()).as("no handler on the demo site").isEqualTo("unknown_event");
        assertThat(result.at("/classicCallback/0/error/code").asText()).isEqualTo("unknown_event");
        assertThat(result.at("/reservedName/error/code").asText()).as("an event named batch").isEqualTo("invalid");
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void messagesSentWhileOfflineArriveAsOneBatch() throws Exception {
        JsonNode result = runAcked("batch", "batch", settings("batch"));
        assertThat(result.get("events")).isEqualTo(json("""
                [["created", {"id": 1}], ["updated", {"id": 1, "name": "b"}], ["deleted", 1, "gone"]]"""));
        assertThat(result.get("secondId").asText()).isNotEqualTo(result.get("firstId").asText());
        result.get("answers").forEach(answer -> assertThat(answer.get("queued").asInt()).isEqualTo(1));
        assertThat(result.get("untaken")).as("nothing sent on its own besides the batch").isEmpty();
    }

    @Test
    void anAckOutOfOrderOfResyncMessagesClearsTheQueueAndSendsResync() throws Exception {
        JsonNode result;
        try (NodeScript script = NodeScript.start(SCRIPT, "resyncOutOfOrder", settings("outoforder"))) {
            script.awaitStep("resynced");
            awaitDepth("outoforder", 0);
            script.answer();
            result = script.result();
        }
        assertThat(result.get("first")).isEqualTo(json("[1]"));
        assertThat(result.get("second")).isEqualTo(json("[2]"));
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void anOverflowingQueueSendsResyncNowAndBeforeTheNextBatch() throws Exception {
        Map<String, Object> settings = settings("overflow");
        settings.put("maxPending", MAX_PENDING);
        JsonNode result = runAcked("resyncOverflow", "overflow", settings);
        assertThat(result.get("overflowArgs")).isEqualTo(json("[" + (MAX_PENDING + 1) + "]"));
        assertThat(result.get("afterReconnect")).as("resync comes before the batch").isEqualTo(json("[\"resync\", \"batch\"]"));
        assertThat(result.get("batch")).as("only the message that overflowed is kept")
                .isEqualTo(json("[[\"overflow\", " + (MAX_PENDING + 1) + "]]"));
        assertThat(result.get("untaken")).isEmpty();
    }

    private static JsonNode binary(String user, List<String> transports, boolean offline) throws Exception {
        Map<String, Object> settings = settings(user);
        settings.put("transports", transports);
        settings.put("offline", offline);
        try (NodeScript script = NodeScript.start(SCRIPT, "binary", settings)) {
            script.awaitStep(offline ? "offline" : "ready");
            gateway.pushTemplate().site("demo").to(room(user)).event("blob")
                    .args("file.bin", BYTES, Map.of("size", BYTES.length))
                    .send().toCompletableFuture().get(10, TimeUnit.SECONDS);
            script.answer();
            script.awaitStep("acked");
            awaitDepth(user, 0);
            script.answer();
            return script.result();
        }
    }

    private static void assertBinaryArgs(JsonNode result) throws Exception {
        assertThat(result.get("event").asText()).isEqualTo("blob");
        assertThat(result.get("args")).isEqualTo(json("[\"file.bin\", {\"$binary\": \"" + Base64.getEncoder().encodeToString(BYTES)
                + "\", \"type\": \"Buffer\"}, {\"size\": " + BYTES.length + "}]"));
        assertThat(result.get("untaken")).isEmpty();
    }

    @Test
    void binaryArgsOverWebSocket() throws Exception {
        JsonNode result = binary("binaryws", List.of("websocket"), false);
        assertBinaryArgs(result);
        assertThat(result.get("transport").asText()).isEqualTo("websocket");
    }

    @Test
    void binaryArgsOverLongPolling() throws Exception {
        JsonNode result = binary("binarypolling", List.of("polling"), false);
        assertBinaryArgs(result);
        assertThat(result.get("transport").asText()).isEqualTo("polling");
    }

    @Test
    void binaryArgsInABatch() throws Exception {
        JsonNode result = binary("binarybatch", List.of("websocket"), true);
        assertBinaryArgs(result);
        assertThat(result.get("batchSize").asInt()).isEqualTo(1);
    }

    @Test
    void aBinaryEventFromTheClientIsDroppedAndTheConnectionStays() throws Exception {
        JsonNode result = runAcked("binaryFromClient", "binaryclient", settings("binaryclient"));
        assertThat(result.get("connected").asBoolean()).isTrue();
        assertThat(result.at("/answerAfter/error/code").asText()).as("the next plain event is answered")
                .isEqualTo("unknown_event");
        assertThat(result.get("args")).isEqualTo(json("[\"still here\"]"));
        assertThat(result.get("untaken")).isEmpty();
    }
}
