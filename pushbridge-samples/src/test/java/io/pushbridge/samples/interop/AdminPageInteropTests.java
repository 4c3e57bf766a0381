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
 * Headless Chromium (Debian's {@code chromium}, driven by playwright-core: {@code src/test/node/admin-page.mjs})
 * on the gateway's admin page, served by the sample gateway with {@code pushbridge.admin.key} and the
 * queue inspector on. Bob is connected and one message waits for alice; the page refuses a wrong
 * key, shows the dashboard for the right one, refreshes it live (a second message, a second client),
 * reads and purges alice's queue with its inspector, refuses a room that is not a user room, and
 * forgets the key on sign-out; the key never travels in a URL, and the browser reports no CSP
 * violation and no error but the two refusals the test provokes. The screenshot lands in
 * {@code target/interop/admin-page.png}. Run with {@code -Pinterop}.
 */
class AdminPageInteropTests {

    private static final String ADMIN_KEY = "interop-admin-key-0123456789";
    private static final String WRONG_KEY = "not-the-admin-key-9876543210";
    private static final String PAGE_PATH = "/pushbridge/admin";
    private static final UserQueue ALICE = new UserQueue("demo", "user_alice");

    private static ConfigurableApplicationContext context;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        context = new SpringApplicationBuilder(SampleGatewayApplication.class)
                .run("--pushbridge.port=0", "--pushbridge.host=127.0.0.1", "--spring.main.keep-alive=false",
                        "--pushbridge.admin.key=" + ADMIN_KEY, "--pushbridge.admin.queue-inspector=true");
        gateway = context.getBean(PushBridgeGateway.class);
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }


    private static int depth() throws Exception {
        return Queues.depth(context.getBean(MessageStore.class), ALICE);
    }

    @Test
    void signInWatchInspectPurgeAndSignOutOnTheAdminPage() throws Exception {
        Path screenshot = NodeScript.outputDirectory().resolve("admin-page.png");
        Files.deleteIfExists(screenshot);
        Map<String, Object> settings = Map.of("url", "http://127.0.0.1:" + gateway.port(), "site", "demo",
                "apiKey", "demo-key", "adminKey", ADMIN_KEY, "wrongKey", WRONG_KEY, "pagePath", PAGE_PATH,
                "chromium", NodeScript.chromium().toString(), "screenshot", screenshot.toString(), "timeoutMs", 90000);
        JsonNode result;
        try (NodeScript script = NodeScript.start("admin-page.mjs", "page", settings)) {
            script.awaitStep("signed in");
            assertThat(depth()).as("the page only reads").isEqualTo(1);
            script.answer();
            script.awaitStep("purged");
            assertThat(depth()).as("the purge emptied alice's queue in the store").isZero();
            script.answer();
            result = script.result();
        }
        ObjectMapper json = new ObjectMapper();
        assertThat(result.get("title").asText()).isEqualTo("PushBridge admin");

        // 1. a wrong key
        assertThat(result.at("/start/login").asBoolean()).isTrue();
        assertThat(result.at("/start/dashboard").asBoolean()).isFalse();
        assertThat(result.at("/start/signOut").asBoolean()).isFalse();
        assertThat(result.at("/refused/error").asText()).isEqualTo("The admin key was refused.");
        assertThat(result.at("/refused/login").asBoolean()).isTrue();
        assertThat(result.at("/refused/dashboard").asBoolean()).isFalse();
        assertThat(result.at("/refused/storedKeys").asInt()).as("a refused key is not kept").isZero();

        // 2. the dashboard
        JsonNode dashboard = result.get("dashboard");
        assertThat(dashboard.get("login").asBoolean()).isFalse();
        assertThat(dashboard.get("signOut").asBoolean()).isTrue();
        assertThat(dashboard.get("keyInputValue").asText()).as("the key leaves the form once submitted").isEmpty();
        assertThat(dashboard.get("storedKey").asText()).isEqualTo(ADMIN_KEY);
        assertThat(dashboard.get("nodeId").asText()).isEqualTo(gateway.options().nodeId());
        assertThat(dashboard.get("port").asText()).isEqualTo(String.valueOf(gateway.port()));
        assertThat(dashboard.get("running").asText()).isEqualTo("yes");
        assertThat(dashboard.get("nodeConnections").asText()).isEqualTo("1");
        assertThat(dashboard.get("updated").asText()).isNotBlank();
        // site, namespace, authorizer, connections, queues, pending messages, oldest pending
        JsonNode site = dashboard.get("site");
        assertThat(site).hasSize(7);
        assertThat(site.get(0).asText()).isEqualTo("demo");
        assertThat(site.get(1).asText()).isEqualTo("/demo");
        assertThat(site.get(2).asText()).isNotBlank();
        assertThat(site.get(3).asText()).as("bob").isEqualTo("1");
        assertThat(site.get(4).asText()).as("queues").isEqualTo("1");
        assertThat(site.get(5).asText()).as("pending messages").isEqualTo("1");
        assertThat(dashboard.get("nodes")).hasSize(1);
        assertThat(dashboard.get("nodes").get(0).asText()).isEqualTo(gateway.options().nodeId() + " (this node)");
        assertThat(dashboard.get("nodesError").asText()).isEmpty();
        assertThat(dashboard.get("connectionsSummary").asText()).isEqualTo("1 connection(s).");
        assertThat(dashboard.get("connectionRows").asInt()).isEqualTo(1);
        assertThat(dashboard.get("inspectorOff").asBoolean()).isFalse();
        assertThat(dashboard.get("queueSites")).isEqualTo(json.readTree("[\"demo\"]"));

        // 3. refreshed without a reload
        JsonNode live = result.get("live");
        assertThat(live.at("/site/3").asText()).as("bob and carol").isEqualTo("2");
        assertThat(live.at("/site/4").asText()).isEqualTo("1");
        assertThat(live.at("/site/5").asText()).isEqualTo("2");
        assertThat(live.get("nodeConnections").asText()).isEqualTo("2");
        assertThat(live.get("connectionsSummary").asText()).isEqualTo("2 connection(s).");
        assertThat(live.get("connectionRooms")).containsExactlyInAnyOrderElementsOf(
                List.of(json.getNodeFactory().textNode("staff, user_bob"), json.getNodeFactory().textNode("user_carol")));
        assertThat(live.get("sameDocument").asBoolean()).isTrue();
        assertThat(live.get("navigations").asInt()).isZero();

        // 4. the inspector reads alice's queue
        assertThat(result.at("/read/resultClass").asText()).isEmpty();
        JsonNode fields = result.at("/read/fields");
        assertThat(fields.get("Site").asText()).isEqualTo("demo");
        assertThat(fields.get("Room").asText()).isEqualTo("user_alice");
        assertThat(fields.get("Pending messages").asText()).isEqualTo("2");
        assertThat(fields.get("Oldest pending").asText()).endsWith(" ago");
        assertThat(fields.get("Open connections").asText()).isEqualTo("0");
        assertThat(fields.get("Marked for resync").asText()).isEqualTo("no");

        // 5. and purges it, after the confirmation
        assertThat(result.at("/purge/dialogs")).hasSize(1);
        assertThat(result.at("/purge/dialogs/0/type").asText()).isEqualTo("confirm");
        assertThat(result.at("/purge/dialogs/0/message").asText()).contains("user_alice", "demo");
        assertThat(result.at("/purge/purged").asText()).isEqualTo("Purged: 2 message(s) dropped.");
        assertThat(result.at("/purge/fields/Pending messages").asText()).isEqualTo("0");
        assertThat(result.at("/purge/site/4").asText()).as("queues, right after the purge").isEqualTo("0");
        assertThat(result.at("/purge/site/5").asText()).as("pending messages, right after the purge").isEqualTo("0");
        assertThat(result.at("/purge/inspectorAfter/status").asInt()).isEqualTo(200);
        assertThat(result.at("/purge/inspectorAfter/body/depth").asInt()).isZero();

        // 6. not a user room
        assertThat(result.at("/notUserRoom/text").asText()).contains("not_a_user_room");
        assertThat(result.at("/notUserRoom/details").asInt()).isZero();

        // 8. signed out
        assertThat(result.at("/signedOut/login").asBoolean()).isTrue();
        assertThat(result.at("/signedOut/dashboard").asBoolean()).isFalse();
        assertThat(result.at("/signedOut/signOut").asBoolean()).isFalse();
        assertThat(result.at("/signedOut/loginError").asText()).isEmpty();
        assertThat(result.at("/signedOut/storedKeys").asInt()).as("sessionStorage after sign-out").isZero();

        // 7. the wire and the browser
        assertThat(result.get("requestPaths")).isNotEmpty();
        assertThat(result.get("urlsWithAKey")).as("a key in a URL").isEmpty();
        assertThat(result.get("jsonRequestsWithoutKeyHeader")).as("JSON requests without the key header").isEmpty();
        assertThat(result.get("foreignRequests")).as("the page loads nothing from elsewhere").isEmpty();
        assertThat(result.get("cspViolations")).as("Content-Security-Policy violations").isEmpty();
        assertThat(result.get("pageErrors")).as("uncaught errors on the page").isEmpty();
        assertThat(result.get("failedRequests")).isEmpty();
        // the only errors: the two refusals the test asked for (Chromium logs every 4xx as an error)
        assertThat(result.get("errorResponses")).isEqualTo(json.readTree("[{\"status\": 401, \"path\": \"" + PAGE_PATH
                + "/overview\"}, {\"status\": 400, \"path\": \"" + PAGE_PATH + "/queue\"}]"));
        assertThat(result.get("requestPaths").toString()).as("the page's own icon, no /favicon.ico")
                .contains("GET " + PAGE_PATH + "/favicon.svg").doesNotContain("favicon.ico");
        List<String> consoleErrors = new ArrayList<>();
        result.get("consoleErrors").forEach(e -> consoleErrors.add(e.get("text").asText() + " " + e.get("url").asText()));
        assertThat(consoleErrors).as("errors in the browser's console").hasSize(2);
        assertThat(consoleErrors.get(0)).contains("401").endsWith(PAGE_PATH + "/overview");
        assertThat(consoleErrors.get(1)).contains("400").endsWith(PAGE_PATH + "/queue");

        assertThat(screenshot).isRegularFile();
        assertThat(Files.size(screenshot)).isPositive();
    }
}
