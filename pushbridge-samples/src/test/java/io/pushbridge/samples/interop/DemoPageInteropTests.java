package io.pushbridge.samples.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.samples.gateway.SampleGatewayApplication;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Headless Chromium (Debian's {@code chromium}, driven by playwright-core: {@code src/test/node/demo-page.mjs})
 * on the sample gateway's demo page, the gateway as it ships: a refused token, then alice connects,
 * receives a message sent over HTTP, acks it, sends from the page's form, and gets what was sent
 * while she was away as a batch. The screenshot lands in {@code target/interop/demo-page.png}. Run
 * with {@code -Pinterop}.
 */
class DemoPageInteropTests {

    private static ConfigurableApplicationContext context;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        context = new SpringApplicationBuilder(SampleGatewayApplication.class)
                .run("--pushbridge.port=0", "--pushbridge.host=127.0.0.1", "--spring.main.keep-alive=false");
        gateway = context.getBean(PushBridgeGateway.class);
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }


    private static final UserQueue ALICE = new UserQueue("demo", "user_alice");

    private static int depth() throws Exception {
        return Queues.depth(context.getBean(MessageStore.class), ALICE);
    }

    private static void awaitDepth(int expected) throws Exception {
        Queues.awaitDepth(context.getBean(MessageStore.class), ALICE, expected);
    }

    @Test
    void connectReceiveAckAndSendOnTheDemoPage() throws Exception {
        Path screenshot = NodeScript.outputDirectory().resolve("demo-page.png");
        Files.deleteIfExists(screenshot);
        Map<String, Object> settings = Map.of("url", "http://127.0.0.1:" + gateway.port(), "site", "demo",
                "apiKey", "demo-key", "chromium", NodeScript.chromium().toString(), "screenshot", screenshot.toString(),
                "timeoutMs", 60000);
        JsonNode result;
        try (NodeScript script = NodeScript.start("demo-page.mjs", "page", settings)) {
            script.awaitStep("received");
            assertThat(depth()).as("the message waits for the page's ack").isEqualTo(1);
            script.answer();
            script.awaitStep("acked");
            awaitDepth(0);
            script.answer();
            script.awaitStep("batch acked");
            awaitDepth(0);
            script.answer();
            result = script.result();
        }
        ObjectMapper json = new ObjectMapper();
        assertThat(result.get("title").asText()).isEqualTo("PushBridge demo");
        assertThat(result.get("userOptions")).isEqualTo(json.readTree("[\"alice\", \"bob\", \"carol\", \"mallory\"]"));

        assertThat(result.at("/refused/code").asText()).isEqualTo("unauthorized");
        assertThat(result.at("/refused/message").asText()).isEqualTo("Unknown token");
        assertThat(result.at("/refused/state").asText()).isEqualTo("refused");

        assertThat(result.get("socketId").asText()).isNotBlank().isNotEqualTo("-");
        assertThat(result.get("myRooms").asText()).isEqualTo("user_alice, staff");
        assertThat(result.at("/sent/queued").asInt()).isEqualTo(1);
        assertThat(result.at("/received/badge").asText()).isEqualTo("with ack callback");
        assertThat(result.at("/received/args")).isEqualTo(json.readTree("[\"user\", {\"id\": 1, \"age\": 5}]"));

        assertThat(result.at("/formAnswer/status").asText()).isEqualTo("200 OK");
        assertThat(result.at("/formAnswer/body/rooms")).isEqualTo(json.readTree("[\"staff\"]"));
        assertThat(result.at("/formAnswer/body/queued").asInt()).as("staff is not a user room").isZero();
        assertThat(result.at("/formAnswer/curl").asText()).contains("/send?site=demo").contains("hello from the page");
        assertThat(result.at("/noteReceived/badge").asText()).isEqualTo("no ack callback");
        assertThat(result.at("/noteReceived/args")).isEqualTo(json.readTree("[\"hello from the page\", {\"n\": 2}]"));

        assertThat(result.at("/offlineAnswer/status").asText()).isEqualTo("200 OK");
        assertThat(result.at("/offlineAnswer/body/queued").asInt()).isEqualTo(1);
        assertThat(result.at("/batch/text").asText()).startsWith("A batch of 1 queued message(s)");
        assertThat(result.at("/batch/events")).isEqualTo(json.readTree("[\"update_store\"]"));
        assertThat(result.get("events")).as("newest first")
                .isEqualTo(json.readTree("[\"batch\", \"note\", \"update_store\"]"));

        assertThat(result.get("pageErrors")).as("uncaught errors on the page").isEmpty();
        assertThat(result.get("foreignRequests")).as("the page loads nothing from elsewhere (no CDN)").isEmpty();
        assertThat(result.get("failedRequests")).isEmpty();
        // A poll that reaches the gateway for a session it no longer (or not yet) knows is answered
        // "Session ID unknown" and the client reconnects; seen once in CI under heavy load, without a
        // failed step. Such polls are printed with their timing; any other console error fails.
        JsonNode errorResponses = result.get("errorResponses");
        if (!errorResponses.isEmpty()) {
            System.out.println("[demo-page] answers of 400 or more: " + errorResponses);
        }
        List<String> unexplained = new ArrayList<>();
        for (JsonNode error : result.get("consoleErrors")) {
            if (!unknownSessionPoll(error.asText(), errorResponses)) {
                unexplained.add(error.asText());
            }
        }
        assertThat(unexplained).as("errors in the browser's console").isEmpty();
        assertThat(screenshot).isRegularFile();
        assertThat(Files.size(screenshot)).isPositive();
    }

    /** Whether a console error is a long-poll the gateway answered 400 "Session ID unknown". */
    private static boolean unknownSessionPoll(String consoleError, JsonNode errorResponses) {
        if (!consoleError.startsWith("Failed to load resource: the server responded with a status of 400")) {
            return false;
        }
        for (JsonNode response : errorResponses) {
            String url = response.get("url").asText();
            if (consoleError.contains(url) && url.contains("transport=polling")
                    && response.get("body").asText().contains("Session ID unknown")) {
                return true;
            }
        }
        return false;
    }
}
