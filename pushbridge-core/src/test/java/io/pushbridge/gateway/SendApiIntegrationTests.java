package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.UserQueue;
import io.pushbridge.auth.AllowAllAuthorizer;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code POST /send} over real HTTP: every answer, JSON and form bodies, and site isolation. */
class SendApiIntegrationTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = TestGateways.memoryStore();
        gateway = TestGateways.start(TestGateways.options().maxMessageSize(10_000).maxRoomsPerSend(3).build(),
                b -> b.site(TestGateways.newsSite())
                        .site(SiteOptions.builder("sports").authorizer(new AllowAllAuthorizer(Set.of("fans", "user_sam")))
                                .apiKey("sports-key").build())
                        .store(store));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static HttpResponse<String> post(String query, String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/send" + query))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        return JSON.readTree(response.body());
    }

    @Test
    void jsonSendIsDeliveredAndAnswersIdRoomsAndQueued() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_j1,group_j1", "update_store")) {
            client.awaitConnected();
            HttpResponse<String> response = post("?site=news&apiKey=" + TestGateways.API_KEY + "&resync=false", "application/json",
                    "{\"rooms\": [\"user_j1\", \"group_j1\"], \"event\": \"update_store\", \"args\": [\"user\", {\"id\":1,\"age\":5}]}");
            assertThat(response.statusCode()).isEqualTo(200);
            JsonNode body = json(response);
            assertThat(body.get("id").isTextual()).isTrue();
            assertThat(Long.parseUnsignedLong(body.get("id").asText())).isPositive();
            assertThat(body.get("rooms")).hasSize(2);
            assertThat(body.get("queued").asInt()).isEqualTo(1);
            TestClient.Received got = client.next();
            assertThat(got.event()).isEqualTo("update_store");
            assertThat(((JSONObject) got.args().get(1)).getInt("id")).isEqualTo(1);
            assertThat(got.hasAck()).isTrue();
        }
    }

    @Test
    void formSendWithRepeatedRoomsAndJsonArgs() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_f1,group_f1", "ping_form")) {
            client.awaitConnected();
            String form = "rooms=group_f1&rooms=user_f1&event=ping_form&args="
                    + URLEncoder.encode("[\"a\", 2, true, null]", StandardCharsets.UTF_8);
            HttpResponse<String> response = post("?site=news", "application/x-www-form-urlencoded", form,
                    "X-Api-Key", TestGateways.API_KEY_2);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(json(response).get("queued").asInt()).isEqualTo(1);
            TestClient.Received got = client.next();
            assertThat(got.args()).hasSize(4);
            assertThat(got.args().get(0)).isEqualTo("a");
            assertThat(got.args().get(1)).isEqualTo(2);
        }
    }

    @Test
    void bearerKeyIsAccepted() throws Exception {
        HttpResponse<String> response = post("?site=news", "application/json", "{\"rooms\":[\"x\"],\"event\":\"e\"}",
                "Authorization", "Bearer " + TestGateways.API_KEY);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(json(response).get("queued").asInt()).isZero();
    }

    @Test
    void missingOrWrongKeyIs401AndStoresNothing() throws Exception {
        HttpResponse<String> missing = post("?site=news", "application/json", "{\"rooms\":[\"user_k1\"],\"event\":\"e\"}");
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(json(missing).get("error").asText()).isEqualTo("unauthorized");
        HttpResponse<String> wrong = post("?site=news&apiKey=nope", "application/json", "{\"rooms\":[\"user_k1\"],\"event\":\"e\"}");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).doesNotContain("nope");
        assertThat(store.depth(new UserQueue("news", "user_k1"))).isZero();
    }

    @Test
    void sitesCannotUseEachOthersKeysNorSeeEachOthersMessages() throws Exception {
        HttpResponse<String> crossKey = post("?site=sports&apiKey=" + TestGateways.API_KEY, "application/json",
                "{\"rooms\":[\"fans\"],\"event\":\"e\"}");
        assertThat(crossKey.statusCode()).isEqualTo(401);
        try (TestClient news = TestClient.connect(gateway.port(), "/news", "rooms:fans", "goal");
                TestClient sports = TestClient.connect(gateway.port(), "/sports", null, "goal")) {
            news.awaitConnected();
            sports.awaitConnected();
            HttpResponse<String> ok = post("?site=sports&apiKey=sports-key", "application/json",
                    "{\"rooms\":[\"fans\"],\"event\":\"goal\",\"args\":[1]}");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(sports.next().event()).isEqualTo("goal");
            assertThat(news.poll(Duration.ofMillis(500))).isNull();
        }
    }

    @Test
    void unknownSiteIs404() throws Exception {
        HttpResponse<String> response = post("?site=nope&apiKey=x", "application/json", "{\"rooms\":[\"a\"],\"event\":\"e\"}");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(json(response).get("error").asText()).isEqualTo("unknown_site");
        HttpResponse<String> noSite = post("?apiKey=x", "application/json", "{\"rooms\":[\"a\"],\"event\":\"e\"}");
        assertThat(noSite.statusCode()).isEqualTo(400);
    }

    @Test
    void wrongMethodIs405() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/send?site=news&apiKey=" + TestGateways.API_KEY)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).contains("POST");
        assertThat(json(response).get("error").asText()).isEqualTo("method_not_allowed");
    }

    @Test
    void otherContentTypesAre415() throws Exception {
        HttpResponse<String> response = post("?site=news&apiKey=" + TestGateways.API_KEY, "text/plain", "hello");
        assertThat(response.statusCode()).isEqualTo(415);
        HttpResponse<String> none = post("?site=news&apiKey=" + TestGateways.API_KEY, null, "{}");
        assertThat(none.statusCode()).isEqualTo(415);
    }

    @Test
    void oversizedBodyIs413AndStoresNothing() throws Exception {
        String big = "x".repeat(20_000);
        HttpResponse<String> response = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json",
                "{\"rooms\":[\"user_big\"],\"event\":\"e\",\"args\":[\"" + big + "\"]}");
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(json(response).get("error").asText()).isEqualTo("too_large");
        assertThat(store.depth(new UserQueue("news", "user_big"))).isZero();
        HttpResponse<String> huge = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json",
                "{\"rooms\":[\"user_big\"],\"event\":\"e\",\"args\":[\"" + "y".repeat(200_000) + "\"]}");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(store.depth(new UserQueue("news", "user_big"))).isZero();
    }

    @Test
    void invalidBodiesAre400WithEveryProblemListedAndStoreNothing() throws Exception {
        String[][] cases = {
            {"{\"rooms\":[\"user_bad\"]}", "event is required"},
            {"{\"rooms\":[],\"event\":\"e\"}", "rooms must be a non-empty list of strings"},
            {"{\"rooms\":\"user_bad\",\"event\":\"e\"}", "rooms must be a non-empty list of strings"},
            {"{\"rooms\":[\"user_bad\", 3],\"event\":\"e\"}", "rooms must contain only non-empty strings"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"args\":{\"a\":1}}", "args must be an array"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"batch\"}", "event 'batch' is reserved"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"resync\"}", "event 'resync' is reserved"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"connect\"}", "event 'connect' is reserved"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"disconnect\"}", "event 'disconnect' is reserved"},
            {"{\"rooms\":[\"user_bad\",\"a\",\"b\",\"c\"],\"event\":\"e\"}", "more than the limit of 3"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"" + "e".repeat(101) + "\"}", "event is longer than 100"},
            {"{\"rooms\":[\"user_bad\",\"" + "r".repeat(201) + "\"],\"event\":\"e\"}", "longer than 200"},
            {"not json", "body is not valid JSON"},
            {"[1,2]", "body must be a JSON object"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"resync\":\"maybe\"}", "resync must be true or false"},
            // a field given twice counts as its last value, as when the body was read as a tree
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"event\":null}", "event is required"},
            {"{\"rooms\":[\"user_bad\"],\"rooms\":[[\"user_bad\"]],\"event\":\"e\"}", "rooms must contain only non-empty strings"},
            {"{\"rooms\":[\"user_bad\", \"\"],\"event\":\"e\"}", "rooms must contain only non-empty strings"},
            {"{\"rooms\":[\"user_bad\"],\"event\":{\"e\":1}}", "event must be a string"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"except\":null}", "except must be a list of strings"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"args\":[1,{\"a\":[2", "body is not valid JSON"},
            {"{\"rooms\":[\"user_bad\"],\"event\":\"e\",\"args\":[1]", "body is not valid JSON"},
            {"", "body must be a JSON object"},
            {"null", "body must be a JSON object"},
        };
        for (String[] c : cases) {
            HttpResponse<String> response = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json", c[0]);
            assertThat(response.statusCode()).as(c[0]).isEqualTo(400);
            JsonNode body = json(response);
            assertThat(body.get("error").asText()).isEqualTo("invalid_request");
            assertThat(body.get("errors").toString()).as(c[0]).contains(c[1]);
        }
        HttpResponse<String> both = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json", "{\"rooms\":[],\"args\":3}");
        assertThat(json(both).get("errors")).hasSize(3);
        // every problem of the body, in the order of its fields in the answer, and only those of a valid JSON body
        HttpResponse<String> all = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json",
                "{\"resync\":1,\"args\":{},\"event\":2,\"except\":[3],\"rooms\":\"r\",\"other\":[{\"x\":[]}]}");
        assertThat(json(all).get("errors").toString()).isEqualTo("[\"rooms must be a non-empty list of strings\","
                + "\"except must contain only non-empty strings\",\"event must be a string\",\"args must be an array\","
                + "\"resync must be true or false\"]");
        HttpResponse<String> badResync = post("?site=news&apiKey=" + TestGateways.API_KEY + "&resync=perhaps", "application/json",
                "{\"rooms\":[\"user_bad\"],\"event\":\"e\"}");
        assertThat(badResync.statusCode()).isEqualTo(400);
        HttpResponse<String> badForm = post("?site=news&apiKey=" + TestGateways.API_KEY, "application/x-www-form-urlencoded",
                "event=e&args=%7Bnot");
        assertThat(badForm.statusCode()).isEqualTo(400);
        assertThat(json(badForm).get("errors").toString()).contains("rooms").contains("args must be a JSON array");
        assertThat(store.depth(new UserQueue("news", "user_bad"))).isZero();
    }

    @Test
    void unknownPathIsJson404() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/nothing-here")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(json(response).get("error").asText()).isEqualTo("not_found");
    }

    @Test
    void keepAliveConnectionServesManyRequests() throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(post("?site=news&apiKey=" + TestGateways.API_KEY, "application/json", "{\"rooms\":[\"k\"],\"event\":\"e\"}")
                    .statusCode()).isEqualTo(200);
        }
    }

    /**
     * A keep-alive connection of the send API stays open past netty-socketio's first-data timeout
     * (5 s): it closed every such connection 5 s after it opened, a request in flight or not.
     */
    @Test
    void aKeepAliveConnectionOutlivesTheFirstDataTimeout() throws Exception {
        String body = "{\"rooms\": [\"group_ka\"], \"event\": \"update_store\", \"args\": []}";
        String request = "POST /send?site=news HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + TestGateways.API_KEY
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(10_000);
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            for (int i = 0; i < 2; i++) {
                if (i == 1) {
                    Thread.sleep(6_000); // past the 5 s first-data timeout, on the same connection
                }
                socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                assertThat(in.readLine()).as("status line of request " + (i + 1)).isEqualTo("HTTP/1.1 200 OK");
                int length = -1;
                String line;
                while (!(line = in.readLine()).isEmpty()) {
                    assertThat(line.toLowerCase(java.util.Locale.ROOT)).isNotEqualTo("connection: close");
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                assertThat(length).isPositive();
                char[] answer = new char[length];
                int read = 0;
                while (read < length) {
                    read += in.read(answer, read, length - read);
                }
                assertThat(new String(answer)).contains("\"queued\"");
            }
        }
    }
}
