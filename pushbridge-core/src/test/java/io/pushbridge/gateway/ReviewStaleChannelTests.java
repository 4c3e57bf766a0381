package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review: SiteSocket caches the session's WebSocket channel on its first fan-out emit. When netty-socketio
 * binds another WebSocket to the session (a second transport=websocket&sid=..., which HttpRoutes allows),
 * fan-out keeps writing to the first channel while everything else uses the new one; once the first is
 * closed, fan-out messages are drained from the session's queue into a closed channel and lost.
 */
class ReviewStaleChannelTests {

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
    void fanOutFollowsTheSessionsCurrentWebSocket() throws Exception {
        try (RawClient first = RawClient.connect(gateway.port())) {
            first.join("/news", "{\"token\":\"rooms:staleroom\"}");
            send("one");
            assertThat(first.nextText(t -> t.contains("hello"), RawClient.WAIT)).contains("one");

            // a second WebSocket for the same session: netty-socketio binds it as the session's transport
            BlockingQueue<String> texts = new LinkedBlockingQueue<>();
            WebSocket second = RawClient.HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                    .buildAsync(URI.create("ws://127.0.0.1:" + gateway.port() + "/socket.io/?EIO=4&transport=websocket&sid="
                            + first.sid()), new WebSocket.Listener() {
                                StringBuilder sb = new StringBuilder();
                                @Override
                                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                                    sb.append(data);
                                    if (last) {
                                        texts.add(sb.toString());
                                        if (sb.toString().equals("2")) {
                                            ws.sendText("3", true);
                                        }
                                        sb = new StringBuilder();
                                    }
                                    ws.request(1);
                                    return null;
                                }
                            }).get(10, TimeUnit.SECONDS);
            Thread.sleep(300);
            first.close(); // the old connection goes away; the session lives on the second one
            Thread.sleep(500);

            send("two");
            String got = null;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (got == null && System.nanoTime() < end) {
                String t = texts.poll(100, TimeUnit.MILLISECONDS);
                if (t != null && t.contains("hello")) {
                    got = t;
                }
            }
            second.abort();
            assertThat(got).as("the fan-out message reaches the session's current WebSocket").contains("two");
        }
    }
}
