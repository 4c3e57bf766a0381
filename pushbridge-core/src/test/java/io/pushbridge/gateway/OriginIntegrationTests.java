package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Allowed origins per site with real Java Socket.IO clients sending an {@code Origin} header, on
 * WebSocket and on long-polling: the handshake admits the origins of every site (others get HTTP
 * 403), each site's CONNECT admits its own ({@code connect_error} {@code origin_not_allowed}
 * otherwise), a site may require an Origin, and a session keeps the origin it started with.
 */
class OriginIntegrationTests {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().allowedOrigins(List.of("https://app.example")).build(),
                b -> b.site(SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                                .allowedOrigins(List.of("https://news.example", "https://*.news.example")).build())
                        .site(SiteOptions.builder("shop").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                                .requireOrigin(true).build()));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    /** Connects and returns "connected", or the connect_error data (a JSONObject or a message). */
    private static Object connect(String namespace, String origin, String transport) throws Exception {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setTimeout(10_000)
                .setAuth(Map.of("token", "rooms:origin-tests")).setTransports(new String[] {transport})
                .setExtraHeaders(origin == null ? Map.of() : Map.of("Origin", List.of(origin))).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + gateway.port() + namespace), options);
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, a -> outcome.complete("connected"));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> outcome.complete(a.length > 0 ? a[0] : "?"));
        socket.connect();
        try {
            return outcome.get(15, TimeUnit.SECONDS);
        } finally {
            socket.off();
            socket.close();
        }
    }

    private static String code(Object outcome) throws Exception {
        assertThat(outcome).as("a connect_error with data").isInstanceOf(JSONObject.class);
        return ((JSONObject) outcome).getJSONObject("data").getString("code");
    }

    @Test
    void aSiteAdmitsItsOwnOriginsOnBothTransports() throws Exception {
        for (String transport : List.of("websocket", "polling")) {
            assertThat(connect("/news", "https://news.example", transport)).as(transport).isEqualTo("connected");
            assertThat(connect("/news", "https://live.news.example", transport)).as(transport).isEqualTo("connected");
            assertThat(connect("/shop", "https://app.example", transport)).as("the gateway's list, " + transport)
                    .isEqualTo("connected");
        }
    }

    @Test
    void anOriginOfAnotherSiteIsRefusedAtTheConnect() throws Exception {
        long before = gateway.stats().get("refused.origin_not_allowed");
        for (String transport : List.of("websocket", "polling")) {
            Object refused = connect("/shop", "https://news.example", transport);
            assertThat(code(refused)).as(transport).isEqualTo("origin_not_allowed");
            assertThat(((JSONObject) refused).getString("message"))
                    .isEqualTo("Origin https://news.example is not allowed for this site");
            assertThat(code(connect("/news", "https://app.example", transport))).as(transport).isEqualTo("origin_not_allowed");
        }
        assertThat(gateway.stats().get("refused.origin_not_allowed")).isEqualTo(before + 4);
    }

    @Test
    void anOriginOfNoSiteIsRefusedAtTheHandshake() throws Exception {
        for (String transport : List.of("websocket", "polling")) {
            Object refused = connect("/news", "https://evil.example", transport);
            assertThat(refused).as(transport).isNotEqualTo("connected").isNotInstanceOf(JSONObject.class);
        }
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/socket.io/?EIO=4&transport=polling")).header("Origin", "https://evil.example").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(403);
        JSONObject body = new JSONObject(response.body());
        assertThat(body.getInt("code")).isEqualTo(4);
        assertThat(body.getString("message")).isEqualTo("Origin not allowed");
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void withoutAnOriginOnlyTheSiteThatRequiresOneRefuses() throws Exception {
        for (String transport : List.of("websocket", "polling")) {
            assertThat(connect("/news", null, transport)).as(transport).isEqualTo("connected");
            Object refused = connect("/shop", null, transport);
            assertThat(code(refused)).as(transport).isEqualTo("origin_not_allowed");
            assertThat(((JSONObject) refused).getString("message")).isEqualTo("This site requires an Origin header (a browser's)");
        }
    }

    @Test
    void anAllowedOriginGetsCorsHeadersAndASessionKeepsItsOrigin() throws Exception {
        HttpResponse<String> handshake = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/socket.io/?EIO=4&transport=polling")).header("Origin", "https://news.example").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(handshake.statusCode()).isEqualTo(200);
        assertThat(handshake.headers().firstValue("Access-Control-Allow-Origin")).contains("https://news.example");
        String sid = new JSONObject(handshake.body().substring(1)).getString("sid");
        // another allowed origin may not use that session
        HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/socket.io/?EIO=4&transport=polling&sid=" + sid)).header("Origin", "https://app.example")
                .POST(HttpRequest.BodyPublishers.ofString("40/news,{\"token\":\"rooms:x\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(gateway.stats().get("refused.http.origin_changed")).isPositive();
        // its own may
        HttpResponse<String> same = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/socket.io/?EIO=4&transport=polling&sid=" + sid)).header("Origin", "https://news.example")
                .POST(HttpRequest.BodyPublishers.ofString("40/news,{\"token\":\"rooms:x\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(same.statusCode()).isEqualTo(200);
        HttpResponse<String> poll = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/socket.io/?EIO=4&transport=polling&sid=" + sid)).header("Origin", "https://news.example").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(poll.body()).startsWith("40/news,");
    }
}
