package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.pushbridge.ConnectRequest;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.UserQueue;
import io.pushbridge.auth.WebhookAuthorizer;
import io.pushbridge.memory.InMemoryMessageStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.SoftAssertions;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The measured gaps of netty-socketio (W1..W13 in the team notes), checked end to end against a
 * running gateway: mostly with {@link RawClient} and hand-written frames, the webhook outcomes with
 * the real Java client.
 */
class ProtocolGapsIntegrationTests {

    static {
        // the JDK HTTP server stalls keep-alive requests on Nagle's algorithm without this
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ALLOWED_ORIGIN = "http://allowed.example";

    /** Threads the recording authorizers ran on. */
    private static final Set<String> authorizerThreads = ConcurrentHashMap.newKeySet();
    /** The last connect request the recording authorizers saw, by token. */
    private static final Map<String, ConnectRequest> requestsByToken = new ConcurrentHashMap<>();

    /** Calls of the webhook's /auth, and their headers by token. */
    private static final AtomicInteger hookCalls = new AtomicInteger();
    private static final Map<String, Map<String, String>> hookHeaders = new ConcurrentHashMap<>();
    /** The 3-second webhook of the slow site: requests started and finished. */
    private static final AtomicInteger slowStarted = new AtomicInteger();
    private static final AtomicInteger slowFinished = new AtomicInteger();

    private static InMemoryMessageStore store;
    private static ExecutorService hookExecutor;
    private static HttpServer hook;
    private static PushBridgeGateway gateway;
    /** A second gateway with the normal test connect timeout (5 s), for the 3-second authorizer. */
    private static PushBridgeGateway slowGateway;

    @BeforeAll
    static void start() throws Exception {
        hookExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "test-webhook");
            t.setDaemon(true);
            return t;
        });
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        hook.setExecutor(hookExecutor);
        hook.createContext("/auth", ProtocolGapsIntegrationTests::auth);
        hook.createContext("/sleep", exchange -> {
            sleep(2_000);
            respond(exchange, 200, "[\"late\"]");
        });
        hook.createContext("/slow", exchange -> {
            slowStarted.incrementAndGet();
            sleep(3_000);
            slowFinished.incrementAndGet();
            respond(exchange, 200, "[\"w13slow\"]");
        });
        hook.start();
        String hookBase = "http://127.0.0.1:" + hook.getAddress().getPort();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        store = TestGateways.memoryStore();
        SiteOptions news = SiteOptions.builder("news").authorizer(recording(TestGateways.ROOMS_FROM_TOKEN))
                .apiKey(TestGateways.API_KEY).build();
        SiteOptions other = SiteOptions.builder("other").authorizer(recording(TestGateways.ROOMS_FROM_TOKEN)).build();
        SiteOptions hooked = SiteOptions.builder("hook")
                .authorizer(WebhookAuthorizer.builder(URI.create(hookBase + "/auth")).build()).build();
        SiteOptions hookTimeout = SiteOptions.builder("hooktimeout")
                .authorizer(WebhookAuthorizer.builder(URI.create(hookBase + "/sleep")).timeout(Duration.ofMillis(500)).build())
                .build();
        SiteOptions hookDown = SiteOptions.builder("hookdown")
                .authorizer(WebhookAuthorizer.builder(URI.create("http://127.0.0.1:" + closedPort + "/auth")).build())
                .build();
        GatewayOptions options = TestGateways.options().connectTimeout(Duration.ofSeconds(2))
                .allowedOrigins(List.of(ALLOWED_ORIGIN)).build();
        gateway = TestGateways.start(options,
                b -> b.site(news).site(other).site(hooked).site(hookTimeout).site(hookDown).store(store));

        SiteOptions slow = SiteOptions.builder("slow")
                .authorizer(WebhookAuthorizer.builder(URI.create(hookBase + "/slow")).timeout(Duration.ofSeconds(10)).build())
                .build();
        SiteOptions fast = SiteOptions.builder("fast").authorizer(recording(TestGateways.ROOMS_FROM_TOKEN)).build();
        slowGateway = TestGateways.start(TestGateways.options().build(), b -> b.site(slow).site(fast));
    }

    @AfterAll
    static void stop() throws Exception {
        // stopping a gateway takes seconds: both at once
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> {
            if (gateway != null) {
                gateway.stop();
            }
        });
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> {
            if (slowGateway != null) {
                slowGateway.stop();
            }
        });
        if (hook != null) {
            hook.stop(0);
        }
        if (hookExecutor != null) {
            hookExecutor.shutdownNow();
        }
        CompletableFuture.allOf(a, b).get(60, TimeUnit.SECONDS);
    }

    // ---- W1: a refused CONNECT lets nothing through ------------------------------------------

    @Test
    void w1RefusedConnectGetsConnectErrorAndNothingGoesThroughAfterwards() throws Exception {
        int news = settledCount("news");
        try (RawClient member = RawClient.connect(gateway.port());
                RawClient denied = RawClient.connect(gateway.port());
                RawClient deniedWithRoom = RawClient.connect(gateway.port());
                RawClient noToken = RawClient.connect(gateway.port())) {
            member.join("/news", "{\"token\":\"rooms:w1room\"}");
            awaitCount("news", news + 1);
            // the refused one is admitted elsewhere, so the connect timeout cannot close it meanwhile
            denied.join("/other", "{\"token\":\"rooms:w1other\"}");

            String refused = denied.connectNamespace("/news", "{\"token\":\"deny\"}");
            assertThat(refused).startsWith("44/news,");
            JsonNode error = RawClient.JSON.readTree(refused.substring("44/news,".length()));
            assertThat(error.path("message").asText()).isNotEmpty();
            assertThat(error.path("code").asText()).isEqualTo("unauthorized");

            String refusedRoom = deniedWithRoom.connectNamespace("/news", "{\"token\":\"deny:w1room\"}");
            assertThat(refusedRoom).startsWith("44/news,");
            assertThat(RawClient.JSON.readTree(refusedRoom.substring(8)).path("code").asText()).isEqualTo("unauthorized");

            String missing = noToken.connectNamespace("/news", "{}");
            assertThat(missing).startsWith("44/news,");
            JsonNode missingError = RawClient.JSON.readTree(missing.substring(8));
            assertThat(missingError.path("code").asText()).isEqualTo("token_missing");
            assertThat(missingError.path("message").asText()).isNotEmpty();

            // events and acks for the refused namespace are dropped by the gateway
            long dropped = gateway.stats().get("dropped.not_connected");
            denied.send("42/news,[\"x\"]");
            denied.send("43/news,1[]");
            denied.send("42/news,7[\"with-ack\"]");
            awaitStat("dropped.not_connected", dropped + 3);
            assertThat(denied.closed).isNotDone();

            // the refused sockets are not members of the site
            assertThat(gateway.connectionCount("news")).isEqualTo(news + 1);
            gateway.pushTemplate().site("news").toAll().event("w1all").args("all").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            gateway.pushTemplate().site("news").to("w1room").event("w1room").args("room").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(member.nextText(t -> t.startsWith("42/news,[\"w1all\""), WAIT)).isEqualTo("42/news,[\"w1all\",\"all\"]");
            assertThat(member.nextText(t -> t.startsWith("42/news,[\"w1room\""), WAIT)).isEqualTo("42/news,[\"w1room\",\"room\"]");
            for (RawClient refusedClient : List.of(denied, deniedWithRoom, noToken)) {
                assertThat(refusedClient.pollText(t -> t.startsWith("42"), Duration.ofMillis(300))).isNull();
            }

            // a later CONNECT with a good token on the same session is admitted
            denied.join("/news", "{\"token\":\"rooms:w1retry\"}");
            awaitCount("news", news + 2);
        }
    }

    // ---- CONNECT payloads with several keys -------------------------------------------------

    @Test
    void connectPayloadWithSeveralKeysConnects() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            String answer = raw.join("/news", "{\"token\":\"rooms:r1mk\",\"device\":\"ios\",\"v\":2}");
            assertThat(answer).startsWith("40/news,{");
            JsonNode ack = RawClient.JSON.readTree(answer.substring("40/news,".length()));
            assertThat(ack.path("sid").isTextual()).isTrue();
            assertThat(ack.path("sid").asText()).isNotEmpty();
            ConnectRequest seen = requestsByToken.get("rooms:r1mk");
            assertThat(seen.auth()).containsEntry("device", "ios").containsEntry("v", 2);
            gateway.pushTemplate().site("news").to("r1mk").event("mk").args("hi").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(raw.nextText(t -> t.startsWith("42/news,"), WAIT)).isEqualTo("42/news,[\"mk\",\"hi\"]");
        }
        try (TestClient client = TestClient.connect(gateway.port(), "/news",
                Map.of("token", "rooms:r2mk", "device", "android"), null, true, "mk")) {
            client.awaitConnected();
            assertThat(requestsByToken.get("rooms:r2mk").auth()).containsEntry("device", "android");
            gateway.pushTemplate().site("news").to("r2mk").event("mk").args("java").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(client.next().args()).containsExactly("java");
        }
    }

    // ---- W5: connect timeout ------------------------------------------------------------------

    @Test
    void w5SessionWithoutNamespaceConnectIsClosedAfterTheConnectTimeout() throws Exception {
        long timeouts = gateway.stats().get("sessions.connect_timeout");
        long start = System.nanoTime();
        try (RawClient idle = RawClient.connect(gateway.port())) {
            // the connect timeout is 2 s: bound the wait generously
            assertThat(idle.awaitClosed(Duration.ofSeconds(15))).as("closed after the connect timeout").isTrue();
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(elapsedMillis).as("not closed before the connect timeout").isGreaterThanOrEqualTo(1_500);
            assertThat(gateway.stats().get("sessions.connect_timeout")).isGreaterThan(timeouts);
        }
    }

    // ---- W6: no zombie sockets ------------------------------------------------------------------

    @Test
    void w6LeavingTheOnlySiteClosesTheConnection() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            raw.join("/news", "{\"token\":\"rooms:w6a\"}");
            raw.send("41/news,");
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void w6EngineIoCloseClosesTheConnection() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            raw.join("/news", "{\"token\":\"rooms:w6b\"}");
            raw.send("1");
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void w6LeavingOneOfTwoSitesKeepsTheConnection() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            raw.join("/news", "{\"token\":\"rooms:w6c\"}");
            raw.join("/other", "{\"token\":\"rooms:w6c\"}");
            raw.send("41/other,");
            assertThat(raw.awaitClosed(Duration.ofSeconds(1))).isFalse();
            gateway.pushTemplate().site("news").to("w6c").event("still").args(1).send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(raw.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42/news,[\"still\",1]");
            // the left site no longer delivers to it
            gateway.pushTemplate().site("other").to("w6c").event("gone").args(1).send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(raw.pollText(t -> t.startsWith("42"), Duration.ofMillis(300))).isNull();
            raw.send("41/news,");
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
    }

    // ---- W7: server-chosen session ids ------------------------------------------------------------

    @Test
    void w7SessionIdsAreChosenByTheServer() throws Exception {
        String chosen = UUID.randomUUID().toString();
        assertThat(RawClient.pollHandshake(gateway.port(), Map.of("io", chosen))).isNotEqualTo(chosen);
        assertThat(RawClient.pollHandshake(gateway.port(), Map.of("Cookie", "io=" + chosen))).isNotEqualTo(chosen);
        try (RawClient raw = RawClient.connect(gateway.port(), Map.of("io", chosen))) {
            assertThat(raw.sid()).isNotEqualTo(chosen);
        }
        try (RawClient raw = RawClient.connect(gateway.port(), Map.of("Cookie", "io=" + chosen))) {
            assertThat(raw.sid()).isNotEqualTo(chosen);
        }
    }

    // ---- W8: strict parser ----------------------------------------------------------------------

    @Test
    void w8MalformedPacketsCloseTheConnectionAndAreCounted() throws Exception {
        try (RawClient good = RawClient.connect(gateway.port())) {
            good.join("/news", "{\"token\":\"rooms:user_w8b\"}");
            List<String> malformed = List.of("4abc", "42/news,[", "42{}", "9", "42/news,[\"a\"]garbage", "43/news,[]");
            for (String packet : malformed) {
                long before = gateway.stats().get("dropped.malformed_packet");
                try (RawClient bad = RawClient.connect(gateway.port())) {
                    // joined to two sites: a misread DISCONNECT of one would leave the connection open
                    bad.join("/news", "{\"token\":\"rooms:w8bad\"}");
                    bad.join("/other", "{\"token\":\"rooms:w8bad\"}");
                    bad.send(packet);
                    assertThat(bad.awaitClosed(WAIT)).as("connection closed after %s; frames %s; stats %s", packet, bad.frames,
                            gateway.stats().snapshot()).isTrue();
                    awaitStat("dropped.malformed_packet", before + 1);
                }
            }

            // another connection is unaffected: its events and acks still work
            good.send("42/news,[\"hello\",{\"a\":1}]");
            gateway.pushTemplate().site("news").to("user_w8b").event("w8").args("x").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            String event = good.nextText(t -> t.startsWith("42/news,"), WAIT);
            String ackId = event.substring("42/news,".length(), event.indexOf('['));
            assertThat(ackId).as("a user-room message asks for an ack: %s", event).matches("\\d+");
            assertThat(event).endsWith("[\"w8\",\"x\"]");
            UserQueue queue = new UserQueue("news", "user_w8b");
            assertThat(store.depth(queue)).isEqualTo(1);
            good.send("43/news," + ackId + "[]");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (store.depth(queue) != 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(store.depth(queue)).isZero();
            assertThat(good.closed).isNotDone();
        }
    }

    @Test
    void w8MalformedPacketFromAnAdmittedClientUnregistersItsSockets() throws Exception {
        int news = settledCount("news");
        int other = settledCount("other");
        long disconnects = gateway.stats().get("disconnects");
        try (RawClient bad = RawClient.connect(gateway.port())) {
            bad.join("/news", "{\"token\":\"rooms:w8leak\"}");
            bad.join("/other", "{\"token\":\"rooms:w8leak\"}");
            awaitCount("news", news + 1);
            awaitCount("other", other + 1);
            bad.send("4abc");
            assertThat(bad.awaitClosed(WAIT)).isTrue();
            // the closed session's sockets must leave their sites, as after any other disconnect
            awaitCount("news", news, Duration.ofSeconds(3));
            awaitCount("other", other, Duration.ofSeconds(3));
            assertThat(gateway.stats().get("disconnects")).isEqualTo(disconnects + 2);
        }
    }

    // ---- W10: handshake checks ------------------------------------------------------------------

    @Test
    void w10HandshakeChecks() throws Exception {
        HttpResponse<byte[]> v3 = RawClient.get(gateway.port(), "EIO=3&transport=polling", Map.of());
        assertThat(v3.statusCode()).isEqualTo(400);
        assertThat(RawClient.JSON.readTree(v3.body()).path("code").asInt()).isEqualTo(5);

        HttpResponse<byte[]> post = RawClient.post(gateway.port(), "EIO=4&transport=polling", "40", Map.of());
        assertThat(post.statusCode()).isEqualTo(400);
        assertThat(RawClient.JSON.readTree(post.body()).has("code")).isTrue();

        // a malformed sid is answered (the request times out after 5 s otherwise)
        HttpResponse<byte[]> badSid = RawClient.get(gateway.port(), "EIO=4&transport=polling&sid=abc", Map.of());
        assertThat(badSid.statusCode()).isEqualTo(400);
        assertThat(RawClient.JSON.readTree(badSid.body()).path("code").asInt()).isEqualTo(1);
    }

    @Test
    void w10UnknownSessionIdIsABadRequest() throws Exception {
        String unknown = UUID.randomUUID().toString();
        SoftAssertions soft = new SoftAssertions();
        HttpResponse<byte[]> get = RawClient.get(gateway.port(), "EIO=4&transport=polling&sid=" + unknown, Map.of());
        soft.assertThat(get.statusCode()).as("GET with an unknown sid: %s", RawClient.text(get)).isEqualTo(400);
        soft.assertThat(RawClient.text(get)).as("GET with an unknown sid").contains("\"code\":1");
        HttpResponse<byte[]> post = RawClient.post(gateway.port(), "EIO=4&transport=polling&sid=" + unknown, "42[\"x\"]",
                Map.of());
        soft.assertThat(post.statusCode()).as("POST with an unknown sid: %s", RawClient.text(post)).isEqualTo(400);
        // the request must be answered, not left hanging (the client times out after 5 s)
        soft.assertThatCode(() -> {
            HttpResponse<byte[]> disconnect = RawClient.get(gateway.port(),
                    "EIO=4&transport=polling&sid=" + unknown + "&disconnect=1", Map.of());
            assertThat(disconnect.statusCode()).isEqualTo(400);
        }).as("polling disconnect with an unknown sid").doesNotThrowAnyException();
        soft.assertThat(upgradeStatus("/socket.io/?EIO=4&transport=websocket&sid=" + unknown, false))
                .as("WebSocket upgrade with an unknown sid").startsWith("HTTP/1.1 400");
        soft.assertAll();
    }

    @Test
    void w10DisallowedOriginIsForbidden() throws Exception {
        HttpResponse<byte[]> evil = RawClient.get(gateway.port(), "EIO=4&transport=polling",
                Map.of("Origin", "http://evil.example"));
        assertThat(evil.statusCode()).isEqualTo(403);
        assertThat(RawClient.pollHandshake(gateway.port(), Map.of("Origin", ALLOWED_ORIGIN))).isNotEmpty();
        assertThatThrownBy(() -> RawClient.connect(gateway.port(), Map.of("Origin", "http://evil.example")))
                .satisfies(e -> {
                    Throwable cause = e;
                    while (cause != null && !(cause instanceof WebSocketHandshakeException)) {
                        cause = cause.getCause();
                    }
                    assertThat(cause).as("a refused WebSocket handshake: %s", e).isNotNull();
                    assertThat(((WebSocketHandshakeException) cause).getResponse().statusCode()).isEqualTo(403);
                });
        try (RawClient allowed = RawClient.connect(gateway.port(), Map.of("Origin", ALLOWED_ORIGIN))) {
            allowed.join("/news", "{\"token\":\"rooms:w10o\"}");
        }
    }

    // ---- W12: no permessage-deflate by default --------------------------------------------------

    @Test
    void w12WebSocketCompressionIsNotNegotiatedByDefault() throws Exception {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        String status = upgrade("/socket.io/?EIO=4&transport=websocket", true, headers);
        assertThat(status).startsWith("HTTP/1.1 101");
        assertThat(headers.get("Upgrade")).isEqualToIgnoringCase("websocket");
        assertThat(headers).doesNotContainKey("Sec-WebSocket-Extensions");
    }

    /** The status line of a raw WebSocket upgrade request. */
    private static String upgradeStatus(String pathAndQuery, boolean offerDeflate) throws IOException {
        return upgrade(pathAndQuery, offerDeflate, new TreeMap<>(String.CASE_INSENSITIVE_ORDER));
    }

    /** Sends a raw WebSocket upgrade request; returns the status line and fills in the response headers. */
    private static String upgrade(String pathAndQuery, boolean offerDeflate, Map<String, String> headers) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(5_000);
            String request = "GET " + pathAndQuery + " HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + gateway.port() + "\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n"
                    + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "")
                    + "\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String status = in.readLine();
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                }
            }
            return String.valueOf(status);
        }
    }

    // ---- W13: a slow authorizer delays no one else ----------------------------------------------

    @Test
    void w13SlowAuthorizerDoesNotDelayOtherClientsAndNeverRunsOnAnIoThread() throws Exception {
        List<TestClient> slow = new ArrayList<>();
        List<TestClient> fast = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                slow.add(TestClient.connect(slowGateway.port(), "/slow", "slow-" + i, "w13"));
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (slowStarted.get() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(slowStarted.get()).as("the 4 slow authorizations are under way").isEqualTo(4);

            for (int i = 0; i < 8; i++) {
                fast.add(TestClient.connect(slowGateway.port(), "/fast", "rooms:w13fast", "w13"));
            }
            for (TestClient client : fast) {
                client.awaitConnected();
            }
            slowGateway.pushTemplate().site("fast").to("w13fast").event("w13").args("quick").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            for (TestClient client : fast) {
                assertThat(client.next().args()).containsExactly("quick");
            }
            // all of that happened while the slow authorizations were still pending
            assertThat(slowFinished.get()).isZero();
            for (TestClient client : slow) {
                assertThat(client.connected).isNotDone();
                assertThat(client.connectError).isNotDone();
            }

            // the slow ones get in eventually
            for (TestClient client : slow) {
                client.awaitConnected();
            }
            assertThat(slowFinished.get()).isEqualTo(4);
        } finally {
            slow.forEach(TestClient::close);
            fast.forEach(TestClient::close);
        }
        assertThat(authorizerThreads).isNotEmpty();
        assertThat(authorizerThreads).allSatisfy(name -> {
            assertThat(name).doesNotContain("(netty)");
            assertThat(name.toLowerCase(Locale.ROOT)).doesNotContain("eventloop");
        });
    }

    // ---- webhook outcomes, with the Java client -------------------------------------------------

    @Test
    void webhookArrayAnswerJoinsTheRoomsAndGetsTheHeaders() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/hook", "array:user_1,staff", "hooked")) {
            client.awaitConnected();
            gateway.pushTemplate().site("hook").to("staff").event("hooked").args("group").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            TestClient.Received group = client.next();
            assertThat(group.args()).containsExactly("group");
            gateway.pushTemplate().site("hook").to("user_1").event("hooked").args("user").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            TestClient.Received user = client.next();
            assertThat(user.args()).containsExactly("user");
            assertThat(user.hasAck()).isTrue();
            user.ackNow();
        }
        Map<String, String> headers = hookHeaders.get("array:user_1,staff");
        assertThat(headers).containsEntry("Authorization", "Bearer array:user_1,staff")
                .containsEntry("X-Forwarded-For", "127.0.0.1")
                .containsEntry("X-Real-IP", "127.0.0.1");
    }

    @Test
    void webhookGetsTheForwardedForChainOfTheHandshake() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port(), Map.of("X-Forwarded-For", "203.0.113.7"))) {
            raw.join("/hook", "{\"token\":\"array:hookxff\"}");
        }
        assertThat(hookHeaders.get("array:hookxff")).containsEntry("X-Forwarded-For", "203.0.113.7, 127.0.0.1")
                .containsEntry("X-Real-IP", "127.0.0.1")
                .containsEntry("Authorization", "Bearer array:hookxff");
    }

    @Test
    void webhookObjectAnswerJoinsTheRooms() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/hook", "object:hookobj1,hookobj2", "hooked")) {
            client.awaitConnected();
            gateway.pushTemplate().site("hook").to("hookobj2").event("hooked").args("obj").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(client.next().args()).containsExactly("obj");
        }
    }

    @Test
    void webhookRefusalsGiveTheirCodes() throws Exception {
        assertThat(connectErrorCode("/hook", "status:401")).isEqualTo("unauthorized");
        assertThat(connectErrorCode("/hook", "status:403")).isEqualTo("unauthorized");
        assertThat(connectErrorCode("/hook", "status:500")).isEqualTo("auth_rejected");
        assertThat(connectErrorCode("/hook", "malformed")).isEqualTo("auth_invalid_response");
        assertThat(connectErrorCode("/hooktimeout", "sleepy")).isEqualTo("auth_timeout");
        assertThat(connectErrorCode("/hookdown", "nobody-home")).isEqualTo("auth_unavailable");
        int calls = hookCalls.get();
        assertThat(connectErrorCode("/hook", null)).isEqualTo("token_missing");
        assertThat(hookCalls.get()).as("no call without a token").isEqualTo(calls);
    }

    @Test
    void webhookTokenFromTheQueryWorks() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/hook", null, "token=array:hookq", true, "hq")) {
            client.awaitConnected();
            gateway.pushTemplate().site("hook").to("hookq").event("hq").args("q").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(client.next().args()).containsExactly("q");
        }
        assertThat(hookHeaders.get("array:hookq")).containsEntry("Authorization", "Bearer array:hookq");
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static String connectErrorCode(String namespace, String token) throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), namespace, token, "never")) {
            JSONObject error = client.awaitConnectError();
            assertThat(client.connected).isNotDone();
            assertThat(error.optString("message")).as("message of %s", error).isNotEmpty();
            return error.optString("code");
        }
    }

    private static RoomAuthorizer recording(RoomAuthorizer inner) {
        return request -> {
            Thread thread = Thread.currentThread();
            authorizerThreads.add(thread.getName() + (thread instanceof FastThreadLocalThread ? " (netty)" : ""));
            if (request.token() != null) {
                requestsByToken.put(request.token(), request);
            }
            return inner.authorize(request);
        };
    }

    /** The connection count of a site once sockets of earlier tests stopped leaving (stable for 200 ms). */
    private static int settledCount(String site) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int count = gateway.connectionCount(site);
        while (System.nanoTime() < deadline) {
            Thread.sleep(200);
            int now = gateway.connectionCount(site);
            if (now == count) {
                break;
            }
            count = now;
        }
        return count;
    }

    private static void awaitCount(String site, int expected) throws InterruptedException {
        awaitCount(site, expected, WAIT);
    }

    private static void awaitCount(String site, int expected, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (gateway.connectionCount(site) != expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gateway.connectionCount(site)).as("connections of %s", site).isEqualTo(expected);
    }

    private static void awaitStat(String name, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (gateway.stats().get(name) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gateway.stats().get(name)).as(name).isGreaterThanOrEqualTo(atLeast);
    }

    /** The webhook: the token says what to answer. */
    private static void auth(HttpExchange exchange) throws IOException {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        String token = authorization != null && authorization.startsWith("Bearer ")
                ? authorization.substring("Bearer ".length()) : String.valueOf(authorization);
        hookCalls.incrementAndGet();
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, String.join(",", values)));
        hookHeaders.put(token, headers);
        if (token.startsWith("array:")) {
            respond(exchange, 200, jsonArray(token.substring("array:".length())));
        } else if (token.startsWith("object:")) {
            respond(exchange, 200, "{\"rooms\":" + jsonArray(token.substring("object:".length())) + "}");
        } else if (token.startsWith("status:")) {
            respond(exchange, Integer.parseInt(token.substring("status:".length())), "{\"error\":\"no\"}");
        } else if (token.equals("malformed")) {
            respond(exchange, 200, "this is not json");
        } else {
            respond(exchange, 403, "{}");
        }
    }

    private static String jsonArray(String commaSeparated) {
        StringBuilder out = new StringBuilder("[");
        for (String room : commaSeparated.split(",")) {
            out.append(out.length() > 1 ? "," : "").append('"').append(room).append('"');
        }
        return out.append(']').toString();
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        try {
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            // the caller gave up (timeout tests)
        } finally {
            exchange.close();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
