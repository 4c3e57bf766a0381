package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Engine.IO long-polling details that netty-socketio gets wrong and the gateway fixes; found with
 * the official socket.io protocol test suite.
 */
class PollingIntegrationTests {

    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().maxPayload(123_456).build(), b -> b.site(TestGateways.newsSite()));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @Test
    void handshakeTellsTheClientTheMaxPayload() throws Exception {
        String body = RawClient.text(RawClient.get(gateway.port(), "EIO=4&transport=polling", Map.of()));
        assertThat(RawClient.JSON.readTree(body.substring(1)).get("maxPayload").asInt()).isEqualTo(123_456);
        try (RawClient ws = RawClient.connect(gateway.port())) {
            assertThat(ws.handshake().get("maxPayload").asInt()).isEqualTo(123_456);
            assertThat(ws.handshake().get("pingInterval").asInt()).isEqualTo(5000);
        }
    }

    @Test
    void pollingResponsesSayTheConnectionCloses() throws Exception {
        HttpResponse<byte[]> handshake = RawClient.get(gateway.port(), "EIO=4&transport=polling", Map.of());
        assertThat(handshake.headers().firstValue("connection")).hasValueSatisfying(v -> assertThat(v).isEqualToIgnoringCase("close"));
        HttpResponse<byte[]> badTransport = RawClient.get(gateway.port(), "EIO=4&transport=carrier-pigeon", Map.of());
        assertThat(badTransport.statusCode()).isEqualTo(400);
        assertThat(badTransport.headers().firstValue("connection")).hasValueSatisfying(v -> assertThat(v).isEqualToIgnoringCase("close"));
    }

    @Test
    void aPendingPollIsAnsweredWhenTheClientCloses() throws Exception {
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), sid, "40/news,{\"token\":\"rooms:p1\"}");
        assertThat(RawClient.text(RawClient.pollGet(gateway.port(), sid))).startsWith("40/news,");
        CompletableFuture<HttpResponse<byte[]>> pending = CompletableFuture.supplyAsync(() -> {
            try {
                return RawClient.pollGet(gateway.port(), sid);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        RawClient.pollPost(gateway.port(), sid, "1");
        assertThat(pending).succeedsWithin(Duration.ofSeconds(4));
        assertThat(RawClient.pollGet(gateway.port(), sid).statusCode()).isEqualTo(400);
    }

    @Test
    void pollingAfterAnUpgradeIsRefused() throws Exception {
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(
                URI.create("ws://127.0.0.1:" + gateway.port() + "/socket.io/?EIO=4&transport=websocket&sid=" + sid),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        frames.add(data.toString());
                        webSocket.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        try {
            ws.sendText("2probe", true).get(5, TimeUnit.SECONDS);
            assertThat(frames.poll(5, TimeUnit.SECONDS)).isEqualTo("3probe");
            // between the probe and the upgrade the client may still poll: it is answered (the probe's noop)
            HttpResponse<byte[]> during = RawClient.get(gateway.port(), "EIO=4&transport=polling&sid=" + sid, Map.of());
            assertThat(during.statusCode()).isEqualTo(200);
            assertThat(RawClient.text(during)).isEqualTo("6");
            ws.sendText("5", true).get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            HttpResponse<byte[]> poll;
            do {
                Thread.sleep(50);
                poll = RawClient.get(gateway.port(), "EIO=4&transport=polling&sid=" + sid, Map.of());
            } while (poll.statusCode() != 400 && System.nanoTime() < deadline);
            assertThat(poll.statusCode()).isEqualTo(400);
            assertThat(RawClient.text(poll)).contains("\"code\":3");
        } finally {
            ws.abort();
        }
    }

    @Test
    void clientsThatStartPollingAndUpgradeAlwaysConnect() throws Exception {
        // the Java client's default: long-polling first, then the WebSocket upgrade, its first poll
        // racing the probe; every one of these connects must succeed
        for (int i = 0; i < 20; i++) {
            try (TestClient client = TestClient.connect(gateway.port(), "/news", Map.of("token", "rooms:"), null, false)) {
                client.awaitConnected();
            }
        }
    }

    @Test
    void corsPreflightOfTheHandshakeIsAnswered() throws Exception {
        HttpResponse<byte[]> preflight = RawClient.http().send(java.net.http.HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.port() + "/socket.io/?EIO=4&transport=polling"))
                .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                .header("Origin", "http://app.example")
                .header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", "x-custom")
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(preflight.statusCode()).isEqualTo(200);
        assertThat(preflight.headers().firstValue("access-control-allow-origin")).contains("http://app.example");
        HttpResponse<byte[]> post = RawClient.post(gateway.port(), "EIO=4&transport=polling", "", Map.of());
        assertThat(post.statusCode()).isEqualTo(400);
    }
}
