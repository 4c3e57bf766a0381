package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin view on the gateway's port and on its own: the key, the JSON shape of the replaced
 * service, sessions and users once identified, and no secrets.
 */
class AdminViewIntegrationTests {

    static final String KEY = "admin-key-0123456789";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    static final ContextCapture capture = new ContextCapture();
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().adminKey(KEY).adminPort(0).build(),
                b -> b.site(TestGateways.newsSite()).extension(capture));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static HttpResponse<String> get(int port, String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listsEveryConnectionWithItsHandshakeAndNoSecrets() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", Map.of("token", "rooms:room-of-secret-token"),
                "token=query-secret-token&mode=admin-test", true)) {
            String id = client.awaitConnected();
            HttpResponse<String> response = get(gateway.port(), GatewayOptions.DEFAULT_ADMIN_PATH,
                    Map.of("Authorization", "Bearer " + KEY));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).doesNotContain("query-secret-token").doesNotContain("rooms:").doesNotContain(KEY);
            JsonNode body = JSON.readTree(response.body());
            assertThat(body.get("truncated").asBoolean()).isFalse();
            assertThat(body.get("missingNodes")).isEmpty();
            JsonNode connection = null;
            for (JsonNode c : body.get("connections")) {
                if (c.get("connectionId").asText().equals(id)) {
                    connection = c;
                }
            }
            assertThat(connection).as(response.body()).isNotNull();
            assertThat(connection.get("sessionId").asText()).isEqualTo("__nosession__");
            assertThat(connection.get("userId").asText()).isEqualTo("__nouser__");
            assertThat(connection.get("site").asText()).isEqualTo("news");
            // the room's name came from the token in this test; rooms are shown as they are
            assertThat(connection.get("rooms")).hasSize(1);
            JsonNode handshake = connection.get("handshake");
            assertThat(handshake.get("address").asText()).isEqualTo("127.0.0.1");
            assertThat(handshake.get("query").get("mode").asText()).isEqualTo("admin-test");
            assertThat(handshake.get("query").get("EIO").asText()).isEqualTo("4");
            assertThat(handshake.get("query").has("token")).isFalse();
            assertThat(handshake.get("url").asText()).startsWith("/socket.io/").contains("mode=admin-test").doesNotContain("token");
            assertThat(handshake.get("headers").has("host")).isTrue();
            assertThat(handshake.get("headers").has("authorization")).isFalse();
            assertThat(handshake.get("time").asText()).matches("\\w{3} \\w{3} \\d{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\\+0000 .*");
            assertThat(handshake.get("issued").asLong()).isPositive();
            assertThat(handshake.get("secure").asBoolean()).isFalse();

            capture.context().identify("news", id, "mysessionid", "user5");
            JsonNode again = JSON.readTree(get(gateway.adminPort(), "/", Map.of(AdminView.KEY_HEADER, KEY)).body());
            JsonNode mine = null;
            for (JsonNode c : again.get("connections")) {
                if (c.get("connectionId").asText().equals(id)) {
                    mine = c;
                }
            }
            assertThat(mine.get("sessionId").asText()).isEqualTo("mysessionid");
            assertThat(mine.get("userId").asText()).isEqualTo("user5");
        }
    }

    @Test
    void refusesRequestsWithoutTheKeyAndOtherMethods() throws Exception {
        long refused = gateway.stats().get("admin.refused");
        assertThat(get(gateway.port(), GatewayOptions.DEFAULT_ADMIN_PATH, Map.of()).statusCode()).isEqualTo(401);
        assertThat(get(gateway.adminPort(), "/", Map.of("Authorization", "Bearer wrong-key-0123456789")).statusCode())
                .isEqualTo(401);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + "/"))
                .header(AdminView.KEY_HEADER, KEY).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(gateway.stats().get("admin.refused")).isEqualTo(refused + 3);
        assertThat(get(gateway.adminPort(), "/other", Map.of(AdminView.KEY_HEADER, KEY)).statusCode()).isEqualTo(404);
        HttpResponse<String> unknownSite = get(gateway.port(), GatewayOptions.DEFAULT_ADMIN_PATH + "?site=nope",
                Map.of(AdminView.KEY_HEADER, KEY));
        assertThat(unknownSite.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknownSite.body()).get("error").asText()).isEqualTo("unknown_site");
    }

    @Test
    void isOffWithoutAKey() throws Exception {
        assertThat(GatewayOptions.builder().build().adminEnabled()).isFalse();
        PushBridgeGateway plain = TestGateways.start(TestGateways.options().build(), b -> b.site(TestGateways.newsSite()));
        try {
            assertThat(plain.adminPort()).isEqualTo(-1);
            assertThat(get(plain.port(), GatewayOptions.DEFAULT_ADMIN_PATH, Map.of(AdminView.KEY_HEADER, KEY)).statusCode())
                    .isEqualTo(404);
        } finally {
            plain.stop();
        }
    }
}
