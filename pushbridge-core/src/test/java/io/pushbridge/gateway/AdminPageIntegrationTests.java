package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The admin page (HTML, script, style) and its JSON (overview, queue inspector) on the gateway's
 * port and the admin port: headers, the key, every bad input, and what the inspector logs.
 */
class AdminPageIntegrationTests {

    static final String KEY = "admin-key-0123456789";
    static final String PAGE = GatewayOptions.DEFAULT_ADMIN_PAGE_PATH;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    static final InMemoryMessageStore store = InMemoryMessageStore.builder().build();
    static PushBridgeGateway gateway;
    /** With the admin key and the inspector off. */
    static PushBridgeGateway off;
    /** Without the admin key, with the inspector on. */
    static PushBridgeGateway plain;
    /** With a store that cannot inspect the queues of site "legacy" and fails for site "down". */
    static PushBridgeGateway faulty;

    final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().adminKey(KEY).adminPort(0).queueInspector(true).nodeId("admin-node").build(),
                b -> b.site(TestGateways.newsSite())
                        .site(SiteOptions.builder("chat").namespace("/chat").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                                .userRoomPrefix("").build())
                        .store(store));
        off = TestGateways.start(TestGateways.options().adminKey(KEY).build(), b -> b.site(TestGateways.newsSite()));
        plain = TestGateways.start(TestGateways.options().queueInspector(true).build(), b -> b.site(TestGateways.newsSite()));
        faulty = TestGateways.start(TestGateways.options().adminKey(KEY).queueInspector(true).build(), b -> b
                .site(SiteOptions.builder("legacy").authorizer(TestGateways.ROOMS_FROM_TOKEN).build())
                .site(SiteOptions.builder("down").authorizer(TestGateways.ROOMS_FROM_TOKEN).build())
                .store(new FaultyStore(InMemoryMessageStore.builder().build())));
    }

    @AfterAll
    static void stop() {
        // each stop waits for Netty's quiet periods: stop them side by side
        List<Thread> stops = List.of(gateway, off, plain, faulty).stream().map(g -> new Thread(g::stop)).toList();
        stops.forEach(Thread::start);
        for (Thread stop : stops) {
            try {
                stop.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        ((Logger) LoggerFactory.getLogger(QueueInspector.class)).addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        ((Logger) LoggerFactory.getLogger(QueueInspector.class)).detachAppender(logs);
    }

    // ---------------------------------------------------------------- the page

    @Test
    void thePageIsServedWithAStrictPolicyAndNoCaching() throws Exception {
        for (int port : List.of(gateway.port(), gateway.adminPort())) {
            HttpResponse<String> page = get(port, PAGE + "/", Map.of());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            String csp = page.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertThat(csp).contains("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                    "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'").doesNotContain("unsafe");
            assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            assertThat(page.body()).contains("<script src=\"admin.js\" defer></script>", "href=\"admin.css\"",
                    "<link rel=\"icon\" href=\"favicon.svg\"", "id=\"login-form\"", "id=\"admin-key\"", "id=\"queue-form\"",
                    "id=\"sites\"", "id=\"nodes\"", "id=\"connections\"");
        }
    }

    @Test
    void thePageHasNothingInlineThatThePolicyWouldBlock() throws Exception {
        String page = get(gateway.port(), PAGE + "/", Map.of()).body();
        Matcher scripts = Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(page);
        int count = 0;
        while (scripts.find()) {
            count++;
            assertThat(scripts.group(1)).contains("src=");
            assertThat(scripts.group(2)).isBlank();
        }
        assertThat(count).isEqualTo(1);
        assertThat(page).doesNotContainPattern("(?i)\\son[a-z]+\\s*=").doesNotContainPattern("(?i)\\sstyle\\s*=")
                .doesNotContain("<style").doesNotContain("http://").doesNotContain("https://");
        String script = get(gateway.port(), PAGE + "/admin.js", Map.of()).body();
        assertThat(script).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage")
                .contains("sessionStorage", "X-PushBridge-Admin-Key");
    }

    @Test
    void theScriptAndStyleAreServedWithTheirTypes() throws Exception {
        HttpResponse<String> script = get(gateway.port(), PAGE + "/admin.js", Map.of());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(script.headers().firstValue("Cache-Control")).hasValue("no-store");
        HttpResponse<String> style = get(gateway.port(), PAGE + "/admin.css", Map.of());
        assertThat(style.statusCode()).isEqualTo(200);
        assertThat(style.headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
        HttpResponse<String> icon = get(gateway.port(), PAGE + "/favicon.svg", Map.of());
        assertThat(icon.statusCode()).as("the page's own icon: no request for /favicon.ico").isEqualTo(200);
        assertThat(icon.headers().firstValue("Content-Type")).hasValue("image/svg+xml");
        assertThat(icon.body()).startsWith("<svg");
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(uri(gateway.port(), PAGE + "/"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void thePagePathWithoutItsSlashRedirectsAndOtherMethodsAreRefused() throws Exception {
        HttpResponse<String> redirect = get(gateway.port(), PAGE, Map.of());
        assertThat(redirect.statusCode()).isEqualTo(308);
        assertThat(redirect.headers().firstValue("Location")).hasValue(PAGE + "/");
        HttpResponse<String> post = send("POST", gateway.port(), PAGE + "/", Map.of(), "x");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(error(post)).isEqualTo("method_not_allowed");
        assertThat(get(gateway.port(), PAGE + "/other.js", Map.of()).statusCode()).isEqualTo(404);
        assertThat(get(gateway.port(), PAGE + "/../admin.js", Map.of()).statusCode()).isEqualTo(404);
    }

    @Test
    void thePageIsNotServedWhileTheAdminViewIsOff() throws Exception {
        for (String path : List.of(PAGE + "/", PAGE + "/admin.js", PAGE + "/overview", PAGE + "/queue")) {
            assertThat(get(plain.port(), path, Map.of(AdminView.KEY_HEADER, KEY)).statusCode()).as(path).isEqualTo(404);
        }
    }

    // ---------------------------------------------------------------- the key

    @Test
    void everyJsonPathNeedsTheKeyInAHeader() throws Exception {
        long refused = gateway.stats().get("admin.refused");
        List<HttpResponse<String>> answers = new ArrayList<>();
        for (Map<String, String> headers : List.of(Map.<String, String>of(), Map.of(AdminView.KEY_HEADER, "wrong-key-0123456789"),
                Map.of("Authorization", "Basic " + KEY))) {
            answers.add(get(gateway.port(), PAGE + "/overview", headers));
            answers.add(get(gateway.port(), PAGE + "/queue?site=news&room=user_1", headers));
            answers.add(post(gateway.port(), PAGE + "/queue", headers, "{\"site\":\"news\",\"room\":\"user_1\"}"));
            answers.add(post(gateway.adminPort(), PAGE + "/queue/purge", headers, "{\"site\":\"news\",\"room\":\"user_1\"}"));
        }
        // a key in the URL is no key
        answers.add(get(gateway.port(), PAGE + "/overview?key=" + KEY, Map.of()));
        for (HttpResponse<String> answer : answers) {
            assertThat(answer.statusCode()).as(answer.uri().toString()).isEqualTo(401);
            assertThat(error(answer)).isEqualTo("unauthorized");
            assertThat(answer.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(answer.body()).doesNotContain(KEY);
        }
        assertThat(gateway.stats().get("admin.refused")).isEqualTo(refused + answers.size());
        assertThat(logs.list).isEmpty();
    }

    // ---------------------------------------------------------------- overview

    @Test
    void theOverviewShowsTheNodeItsSitesConnectionsNodesAndQueueTotals() throws Exception {
        send("news", "user_ov1", "first");
        send("news", "user_ov1", "second");
        send("news", "user_ov2", "third");
        try (TestClient client = TestClient.connect(gateway.port(), "/news", Map.of("token", "rooms:user_ov3"), null, true)) {
            client.awaitConnected();
            HttpResponse<String> answer = get(gateway.port(), PAGE + "/overview", Map.of("Authorization", "Bearer " + KEY));
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
            JsonNode o = JSON.readTree(answer.body());
            assertThat(o.get("nodeId").asText()).isEqualTo("admin-node");
            assertThat(o.get("running").asBoolean()).isTrue();
            assertThat(o.get("port").asInt()).isEqualTo(gateway.port());
            assertThat(o.get("connections").asInt()).isEqualTo(1);
            assertThat(o.get("queueInspector").asBoolean()).isTrue();
            assertThat(o.get("connectionsPath").asText()).isEqualTo(GatewayOptions.DEFAULT_ADMIN_PATH);
            assertThat(o.get("nodesError").isNull()).isTrue();
            assertThat(o.get("nodes")).hasSize(1);
            assertThat(o.get("nodes").get(0).get("nodeId").asText()).isEqualTo("admin-node");
            JsonNode news = o.get("sites").get(0);
            assertThat(news.get("name").asText()).isEqualTo("news");
            assertThat(news.get("namespace").asText()).isEqualTo("/news");
            assertThat(news.get("authorizer").asText()).isEqualTo("TestGateways (lambda)");
            assertThat(news.get("userRoomPrefix").asText()).isEqualTo("user_");
            assertThat(news.get("connections").asInt()).isEqualTo(1);
            assertThat(news.get("queues").get("queues").asLong()).isGreaterThanOrEqualTo(2);
            assertThat(news.get("queues").get("messages").asLong()).isGreaterThanOrEqualTo(3);
            assertThat(news.get("queues").get("oldestCreatedAtMillis").asLong()).isPositive();
            assertThat(news.get("queues").get("oldestAgeMillis").asLong()).isNotNegative();
            assertThat(news.get("queuesError").isNull()).isTrue();
            JsonNode chat = o.get("sites").get(1);
            assertThat(chat.get("name").asText()).isEqualTo("chat");
            assertThat(chat.get("connections").asInt()).isZero();
            assertThat(chat.get("queues").get("messages").asLong()).isZero();
            // the gateway's own API says the same
            GatewayOverview direct = gateway.overview(false).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(direct.sites().get(0).queues()).isNull();
            assertThat(direct.connections()).isEqualTo(1);
        }
    }

    @Test
    void theOverviewAnswersOnlyGet() throws Exception {
        HttpResponse<String> answer = post(gateway.port(), PAGE + "/overview", Map.of(AdminView.KEY_HEADER, KEY), "{}");
        assertThat(answer.statusCode()).isEqualTo(405);
        assertThat(answer.headers().firstValue("Allow")).hasValue("GET");
    }

    // ---------------------------------------------------------------- the queue inspector

    @Test
    void readsAQueueByQueryOrBodyAndPurgesIt() throws Exception {
        send("news", "user_7", "secret-content-1");
        send("news", "user_7", "secret-content-2");
        Map<String, String> key = Map.of(AdminView.KEY_HEADER, KEY);

        HttpResponse<String> read = get(gateway.port(), PAGE + "/queue?site=news&room=user_7", key);
        assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
        JsonNode q = JSON.readTree(read.body());
        assertThat(q.get("site").asText()).isEqualTo("news");
        assertThat(q.get("room").asText()).isEqualTo("user_7");
        assertThat(q.get("depth").asInt()).isEqualTo(2);
        assertThat(q.get("oldestCreatedAt").asLong()).isPositive();
        assertThat(q.get("oldestAgeMillis").asLong()).isNotNegative();
        assertThat(q.get("connections").asInt()).isZero();
        assertThat(q.get("resyncRequired").asBoolean()).isFalse();
        assertThat(read.body()).doesNotContain("secret-content");

        HttpResponse<String> byBody = post(gateway.adminPort(), PAGE + "/queue", key, "{\"site\":\"news\",\"room\":\"user_7\"}");
        assertThat(JSON.readTree(byBody.body()).get("depth").asInt()).isEqualTo(2);

        HttpResponse<String> purge = post(gateway.port(), PAGE + "/queue/purge", key, "{\"site\":\"news\",\"room\":\"user_7\"}");
        assertThat(purge.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(purge.body()).get("purged").asInt()).isEqualTo(2);
        assertThat(store.depth(new UserQueue("news", "user_7"))).isZero();
        assertThat(JSON.readTree(get(gateway.port(), PAGE + "/queue?site=news&room=user_7", key).body()).get("depth").asInt()).isZero();

        String fingerprint = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest("user_7".getBytes(StandardCharsets.UTF_8))).substring(0, 12);
        assertThat(QueueInspector.fingerprint("user_7")).isEqualTo(fingerprint);
        List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).hasSize(4);
        assertThat(lines).allSatisfy(line -> assertThat(line).contains("site 'news'", "room #" + fingerprint)
                .doesNotContain("user_7").doesNotContain("secret-content").doesNotContain(KEY));
        assertThat(lines.get(2)).contains("purged", "2 message(s) dropped", "admin key from 127.0.0.1");
        assertThat(logs.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.INFO));
        assertThat(gateway.stats().get("admin.queue.purged")).isPositive();
    }

    @Test
    void showsTheConnectionsAndResyncMarkOfAQueue() throws Exception {
        UserQueue queue = new UserQueue("news", "user_8");
        store.connectionOpened(queue);
        for (long id = 1; id <= 3; id++) {
            store.append(queue, new QueuedMessage(id, "news", List.of(), false, 1_000 + id));
        }
        try {
            JsonNode q = JSON.readTree(get(gateway.port(), PAGE + "/queue?site=news&room=user_8", Map.of(AdminView.KEY_HEADER, KEY)).body());
            assertThat(q.get("depth").asInt()).isEqualTo(3);
            assertThat(q.get("connections").asInt()).isEqualTo(1);
            assertThat(q.get("oldestCreatedAt").asLong()).isEqualTo(1_001);
        } finally {
            store.connectionClosed(queue);
            store.clear(queue);
        }
    }

    @Test
    void badRequestsAreRefusedWithAClearErrorAndChangeNothing() throws Exception {
        send("news", "user_9", "keep-me");
        Map<String, String> key = Map.of(AdminView.KEY_HEADER, KEY);
        String longRoom = "user_" + "x".repeat(GatewayOptions.DEFAULT_MAX_ROOM_NAME_LENGTH);
        record Case(String method, String path, String contentType, String body, int status, String code) {
        }
        List<Case> cases = List.of(
                new Case("GET", "/queue?site=nope&room=user_9", null, null, 404, "unknown_site"),
                new Case("GET", "/queue?room=user_9", null, null, 400, "invalid_request"),
                new Case("GET", "/queue?site=news", null, null, 400, "invalid_request"),
                new Case("GET", "/queue?site=%20&room=user_9", null, null, 400, "invalid_request"),
                new Case("GET", "/queue?site=news&room=other_9", null, null, 400, "not_a_user_room"),
                new Case("GET", "/queue?site=news&room=user_", null, null, 400, "not_a_user_room"),
                new Case("GET", "/queue?site=chat&room=user_9", null, null, 400, "not_a_user_room"),
                new Case("GET", "/queue?site=news&room=" + enc(longRoom), null, null, 400, "invalid_request"),
                new Case("GET", "/queue?site=news&room=" + enc("user_9\n"), null, null, 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"nope\",\"room\":\"user_9\"}", 404, "unknown_site"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":\"other_9\"}", 400, "not_a_user_room"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\"}", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":\"\"}", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":9}", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":[\"news\"],\"room\":\"user_9\"}", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "[\"news\",\"user_9\"]", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":\"user_9\"", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "application/json", "", 400, "invalid_request"),
                new Case("POST", "/queue/purge", "text/plain", "{\"site\":\"news\",\"room\":\"user_9\"}", 415, "unsupported_media_type"),
                new Case("POST", "/queue/purge", null, "{\"site\":\"news\",\"room\":\"user_9\"}", 415, "unsupported_media_type"),
                new Case("POST", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":\"user_9\",\"pad\":\"" + "p".repeat(5000) + "\"}",
                        413, "too_large"),
                new Case("POST", "/queue", "application/json", "{\"site\":\"news\",\"room\":\"other_9\"}", 400, "not_a_user_room"),
                new Case("GET", "/queue/purge?site=news&room=user_9", null, null, 405, "method_not_allowed"),
                new Case("DELETE", "/queue?site=news&room=user_9", null, null, 405, "method_not_allowed"),
                new Case("PUT", "/queue/purge", "application/json", "{\"site\":\"news\",\"room\":\"user_9\"}", 405, "method_not_allowed"));
        for (Case c : cases) {
            Map<String, String> headers = new LinkedHashMap<>(key);
            if (c.contentType() != null) {
                headers.put("Content-Type", c.contentType());
            }
            HttpResponse<String> answer = send(c.method(), gateway.port(), PAGE + c.path(), headers, c.body());
            assertThat(answer.statusCode()).as(c.toString()).isEqualTo(c.status());
            assertThat(error(answer)).as(c.toString()).isEqualTo(c.code());
            assertThat(JSON.readTree(answer.body()).get("message").asText()).as(c.toString()).isNotBlank();
        }
        assertThat(store.depth(new UserQueue("news", "user_9"))).isEqualTo(1);
        assertThat(logs.list.stream().map(ILoggingEvent::getFormattedMessage))
                .allSatisfy(line -> assertThat(line).doesNotContain("user_9").doesNotContain("other_9").doesNotContain("nope"));
    }

    @Test
    void theInspectorIsRefusedWhileOffAndSaysHowToTurnItOn() throws Exception {
        off.pushTemplate().site("news").to("user_1").event("e").args("kept").send().toCompletableFuture().get(5, TimeUnit.SECONDS);
        Map<String, String> key = Map.of(AdminView.KEY_HEADER, KEY);
        for (HttpResponse<String> answer : List.of(get(off.port(), PAGE + "/queue?site=news&room=user_1", key),
                get(off.port(), PAGE + "/queue?site=nope", key),
                post(off.port(), PAGE + "/queue", key, "{\"site\":\"news\",\"room\":\"user_1\"}"),
                post(off.port(), PAGE + "/queue/purge", key, "{\"site\":\"news\",\"room\":\"user_1\"}"))) {
            assertThat(answer.statusCode()).isEqualTo(403);
            assertThat(error(answer)).isEqualTo("queue_inspector_off");
            assertThat(JSON.readTree(answer.body()).get("message").asText()).contains("pushbridge.admin.queue-inspector=true");
        }
        JsonNode overview = JSON.readTree(get(off.port(), PAGE + "/overview", key).body());
        assertThat(overview.get("queueInspector").asBoolean()).isFalse();
        assertThat(overview.get("sites").get(0).get("queues").get("messages").asLong()).isEqualTo(1);
        assertThat(off.queueInspector().enabled()).isFalse();
        assertThat(off.stats().get("admin.queue.refused")).isEqualTo(4);
    }

    @Test
    void aStoreWithoutInspectionAnswersUnsupportedAndAFailingOneUnavailable() throws Exception {
        Map<String, String> key = Map.of(AdminView.KEY_HEADER, KEY);
        HttpResponse<String> read = get(faulty.port(), PAGE + "/queue?site=legacy&room=user_1", key);
        assertThat(read.statusCode()).isEqualTo(501);
        assertThat(error(read)).isEqualTo("unsupported");
        HttpResponse<String> purge = post(faulty.port(), PAGE + "/queue/purge", key, "{\"site\":\"legacy\",\"room\":\"user_1\"}");
        assertThat(purge.statusCode()).isEqualTo(501);

        HttpResponse<String> down = get(faulty.port(), PAGE + "/queue?site=down&room=user_1", key);
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(error(down)).isEqualTo("unavailable");
        assertThat(down.body()).doesNotContain("injected");
        assertThat(post(faulty.port(), PAGE + "/queue/purge", key, "{\"site\":\"down\",\"room\":\"user_1\"}").statusCode())
                .isEqualTo(503);
        assertThat(faulty.stats().get("admin.queue.failed")).isEqualTo(2);

        JsonNode overview = JSON.readTree(get(faulty.port(), PAGE + "/overview", key).body());
        assertThat(overview.get("sites").get(0).get("queues").isNull()).isTrue();
        assertThat(overview.get("sites").get(0).get("queuesError").asText()).isEqualTo("unsupported");
        assertThat(overview.get("sites").get(1).get("queuesError").asText()).isEqualTo("unavailable");
    }

    // ---------------------------------------------------------------- helpers

    private static void send(String site, String room, String content) throws Exception {
        gateway.pushTemplate().site(site).to(room).event("note").args(content).send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static URI uri(int port, String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static HttpResponse<String> get(int port, String path, Map<String, String> headers) throws Exception {
        return send("GET", port, path, headers, null);
    }

    private static HttpResponse<String> post(int port, String path, Map<String, String> headers, String body) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(headers);
        all.putIfAbsent("Content-Type", "application/json");
        return send("POST", port, path, all, body);
    }

    private static HttpResponse<String> send(String method, int port, String path, Map<String, String> headers, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(port, path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> answer) throws Exception {
        return JSON.readTree(answer.body()).get("error").asText();
    }

    /**
     * For site "legacy" a store written before {@link MessageStore#inspect} and
     * {@link MessageStore#siteQueues} existed; for site "down" one whose backend is down (an
     * injected failure).
     */
    static final class FaultyStore extends DelegatingStore {

        FaultyStore(MessageStore delegate) {
            super(delegate);
        }

        @Override
        public CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
            if (queue.site().equals("down")) {
                return CompletableFuture.failedFuture(new io.pushbridge.PushUnavailableException("injected",
                        new IllegalStateException("injected")));
            }
            return super.inspect(queue);
        }

        @Override
        public CompletionStage<SiteQueues> siteQueues(String site) {
            if (site.equals("down")) {
                return CompletableFuture.failedFuture(new IllegalStateException("injected"));
            }
            return super.siteQueues(site);
        }
    }
}
