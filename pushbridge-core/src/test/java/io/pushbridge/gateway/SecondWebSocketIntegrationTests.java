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
 * gateway refuses the second one, and the first goes on receiving.
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
}
