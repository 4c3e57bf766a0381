package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session has one WebSocket. netty-socketio would bind a second {@code transport=websocket&sid=...}
 * to the session and leave the first open, out of its tables, so that broadcasts and the session's
 * own packets went out through different connections, and were lost once the first closed. The
 * gateway refuses the second one, and the first goes on receiving. It also refuses a WebSocket
 * upgrade of another version than RFC 6455's, whose frames it would not read as written.
 */
class SecondWebSocketIntegrationTests {

    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.startNews(TestGateways.memoryStore());
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private void send(String arg) throws Exception {
        gateway.pushTemplate().site("news").to("staleroom").event("hello").args(arg)
                .send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void aSecondWebSocketForASessionIsRefusedAndTheFirstGoesOn() throws Exception {
        try (RawClient first = RawClient.connect(gateway.port())) {
            first.join("/news", "{\"token\":\"rooms:staleroom\"}");
            send("one");
            assertThat(first.nextText(t -> t.contains("hello"), RawClient.WAIT)).contains("one");
            long before = gateway.stats().get("refused.http.second_websocket");

            // the upgrade request of a second WebSocket with the same session id
            HttpResponse<String> second = RawClient.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + gateway.port() + "/socket.io/?EIO=4&transport=websocket&sid=" + first.sid()))
                    .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").header("Sec-WebSocket-Version", "13")
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(second.statusCode()).isEqualTo(400);
            assertThat(second.body()).contains("\"code\":3");
            assertThat(gateway.stats().get("refused.http.second_websocket")).isEqualTo(before + 1);

            send("two");
            assertThat(first.nextText(t -> t.contains("hello"), RawClient.WAIT)).contains("two");
        }
    }

    /** The WebSocket upgrade's response to a raw request with these version headers (none: no header). */
    private String upgrade(String versionHeader) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(5000);
            String request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + versionHeader + "\r\n";
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            byte[] buffer = new byte[4096];
            int n = socket.getInputStream().read(buffer);
            return new String(buffer, 0, Math.max(n, 0), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /**
     * The gateway writes RFC 6455 frames only: an upgrade of another version (Netty would answer one
     * without a version with the 2010 draft Hixie-76, framed otherwise) is refused with 426.
     */
    @Test
    void aWebSocketUpgradeOfAnotherVersionThanRfc6455IsRefused() throws Exception {
        long before = gateway.stats().get("refused.http.websocket_version");
        for (String header : new String[] {"", "Sec-WebSocket-Version: 0\r\n", "Sec-WebSocket-Version: 12\r\n"}) {
            String response = upgrade(header);
            assertThat(response).startsWith("HTTP/1.1 426").containsIgnoringCase("Sec-WebSocket-Version: 13")
                    .contains("\"message\":\"Unsupported WebSocket version\"");
        }
        assertThat(gateway.stats().get("refused.http.websocket_version")).isEqualTo(before + 3);
        assertThat(upgrade("Sec-WebSocket-Version: 13\r\n")).startsWith("HTTP/1.1 101");
    }
}
