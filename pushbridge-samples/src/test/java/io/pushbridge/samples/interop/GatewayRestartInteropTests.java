package io.pushbridge.samples.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.samples.gateway.SampleGatewayApplication;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Reconnection with the official Node {@code socket.io-client} v4: the sample gateway, its queues in
 * a real Redis ({@code pushbridge.redis.url}), stops while a client holds an unacked message and
 * starts again on the same port, as in a rolling restart. The client reconnects by itself and gets
 * the message as a batch. Run with {@code -Pinterop}.
 */
class GatewayRestartInteropTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private ConfigurableApplicationContext context;

    @AfterEach
    void stop() {
        if (context != null) {
            context.close();
        }
    }

    private ConfigurableApplicationContext start(int port) {
        return new SpringApplicationBuilder(SampleGatewayApplication.class).run("--pushbridge.port=" + port,
                "--pushbridge.host=127.0.0.1", "--spring.main.keep-alive=false", "--pushbridge.redis.url=" + redis.uri());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void theClientReconnectsToTheRestartedGatewayAndGetsWhatItHadNotAcked() throws Exception {
        int port = freePort();
        context = start(port);
        Map<String, Object> settings = Map.of("url", "http://127.0.0.1:" + port, "site", "demo", "apiKey", "demo-key",
                "token", "alice", "userRoom", "user_alice", "timeoutMs", 40000);
        JsonNode result;
        try (NodeScript script = NodeScript.start("socketio-client.mjs", "restart", settings)) {
            script.awaitStep("received");
            context.close();
            context = null;
            JsonNode disconnected = script.awaitStep("disconnected");
            assertThat(disconnected.get("reason").asText()).as("a reason the client reconnects after")
                    .isIn("transport close", "transport error");
            context = start(port);
            script.awaitStep("acked");
            Queues.awaitDepth(context.getBean(MessageStore.class), new UserQueue("demo", "user_alice"), 0);
            script.answer();
            result = script.result();
        }
        assertThat(context.getBean(PushBridgeGateway.class).port()).isEqualTo(port);
        assertThat(result.get("events")).isEqualTo(new ObjectMapper().readTree("[[\"update_store\", \"before restart\"]]"));
        assertThat(result.get("secondId").asText()).isNotEqualTo(result.get("firstId").asText());
        assertThat(result.get("reconnectAttempts").asInt()).isPositive();
        assertThat(result.get("untaken")).isEmpty();
    }
}
