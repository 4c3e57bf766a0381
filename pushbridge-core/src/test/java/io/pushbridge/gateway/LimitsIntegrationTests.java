package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushTemplate;
import io.pushbridge.SendRequest;
import io.pushbridge.Target;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.socket.client.Ack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each per-site limit through real HTTP and real Socket.IO clients: the good case at the limit, the
 * bad case just beyond it, the error the caller sees, the counter, and that nothing was stored or
 * delivered. One gateway, one site per limit; the rate limits run on a ticker the tests move.
 */
class LimitsIntegrationTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicLong TICKER = new AtomicLong(1_000_000_000_000L);

    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = TestGateways.memoryStore();
        gateway = TestGateways.start(TestGateways.options().ticker(TICKER::get).build(), b -> b
                .site(TestGateways.newsSite())
                .site(site("sized", SiteLimits.builder().maxMessageSize(200).maxRoomsPerSend(2).maxRoomNameLength(10)
                        .maxEventNameLength(8)))
                .site(site("metered", SiteLimits.builder().maxSendsPerSecond(2)))
                .site(site("capped", SiteLimits.builder().maxConnections(2)))
                .site(SiteOptions.builder("chatty").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                        .limits(SiteLimits.builder().maxEventsPerSecond(2).maxEventNameLength(6).build())
                        .onEvent("ping", event -> CompletableFuture.completedFuture(List.of("pong")))
                        .onEvent("pinged", event -> CompletableFuture.completedFuture(List.of("pong")))
                        .build())
                .store(store));
    }

    private static SiteOptions site(String name, SiteLimits.Builder limits) {
        return SiteOptions.builder(name).authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(name + "-key")
                .limits(limits.build()).build();
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static HttpResponse<String> send(String site, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/send?site=" + site))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .header("X-Api-Key", site.equals("news") ? TestGateways.API_KEY : site + "-key")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String body(List<String> rooms, String event, Object... args) throws Exception {
        return JSON.writeValueAsString(Map.of("rooms", rooms, "event", event, "args", List.of(args)));
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static PushRefusedException refusal(PushTemplate template, SendRequest request) throws Exception {
        try {
            template.send(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PushRefusedException refused) {
                return refused;
            }
            throw e;
        }
        throw new AssertionError("the send was accepted");
    }

    private static long count(String name) {
        return gateway.stats().get(name);
    }

    private static int depth(String site, String room) {
        return store.depth(new UserQueue(site, room));
    }

    @Test
    void aMessageAtTheSitesSizeLimitIsAcceptedOneByteMoreIsRefused() throws Exception {
        // size = the arguments' JSON (["x...x"] = n + 4 bytes) plus the event name ("ev")
        String atLimit = body(List.of("user_z1"), "ev", "x".repeat(194));
        String beyond = body(List.of("user_z1"), "ev", "x".repeat(195));
        long hits = count("limits.sized.message_size");

        assertThat(send("sized", atLimit).statusCode()).isEqualTo(200);
        HttpResponse<String> refused = send("sized", beyond);
        assertThat(refused.statusCode()).isEqualTo(413);
        assertThat(json(refused).get("error").asText()).isEqualTo("too_large");
        assertThat(json(refused).get("errors").get(0).asText()).isEqualTo("message is 201 bytes, more than the limit of 200");
        PushRefusedException viaTemplate = refusal(gateway.pushTemplate(), new SendRequest("sized",
                Target.rooms(Set.of("user_z1")), "ev", List.of("x".repeat(195)), false));
        assertThat(viaTemplate.reason()).isEqualTo(PushRefusedException.Reason.TOO_LARGE);

        assertThat(count("limits.sized.message_size")).isEqualTo(hits + 2);
        assertThat(depth("sized", "user_z1")).as("only the message at the limit is queued").isEqualTo(1);
        // the gateway-wide limit (1 MB) still holds for another site
        assertThat(send("news", beyond).statusCode()).isEqualTo(200);
    }

    @Test
    void roomsPerSendAndNameLengthsAreTheSitesOwn() throws Exception {
        long rooms = count("limits.sized.rooms_per_send");
        long roomNames = count("limits.sized.room_name");
        long eventNames = count("limits.sized.event_name");

        assertThat(send("sized", body(List.of("user_r1", "user_r2"), "evt")).statusCode()).isEqualTo(200);
        HttpResponse<String> tooMany = send("sized", body(List.of("user_r1", "user_r2", "user_r3"), "evt"));
        assertThat(tooMany.statusCode()).isEqualTo(400);
        assertThat(json(tooMany).get("error").asText()).isEqualTo("invalid_request");
        assertThat(json(tooMany).get("errors").get(0).asText()).isEqualTo("rooms has 3 entries, more than the limit of 2");

        assertThat(send("sized", body(List.of("user_r4567"), "evt")).statusCode()).as("10 characters").isEqualTo(200);
        HttpResponse<String> longRoom = send("sized", body(List.of("user_r45678"), "evt"));
        assertThat(longRoom.statusCode()).isEqualTo(400);
        assertThat(json(longRoom).get("errors").get(0).asText()).isEqualTo("room 'user_r45678...' is longer than 10 characters");

        assertThat(send("sized", body(List.of("user_r1"), "e1234567")).statusCode()).as("8 characters").isEqualTo(200);
        HttpResponse<String> longEvent = send("sized", body(List.of("user_r1"), "e12345678"));
        assertThat(longEvent.statusCode()).isEqualTo(400);
        assertThat(json(longEvent).get("errors").get(0).asText()).isEqualTo("event is longer than 8 characters");

        PushRefusedException viaTemplate = refusal(gateway.pushTemplate(), new SendRequest("sized",
                Target.rooms(Set.of("user_r1", "user_r2", "user_r3")), "evt", List.of(), false));
        assertThat(viaTemplate.reason()).isEqualTo(PushRefusedException.Reason.INVALID);

        assertThat(count("limits.sized.rooms_per_send")).isEqualTo(rooms + 2);
        assertThat(count("limits.sized.room_name")).isEqualTo(roomNames + 1);
        assertThat(count("limits.sized.event_name")).isEqualTo(eventNames + 1);
        assertThat(depth("sized", "user_r1")).isEqualTo(2);
        assertThat(depth("sized", "user_r2")).isEqualTo(1);
        assertThat(depth("sized", "user_r3")).isZero();
        assertThat(depth("sized", "user_r45678")).isZero();
        // the gateway-wide limits (100 rooms, 200 and 100 characters) still hold for another site
        assertThat(send("news", body(List.of("user_r45678", "b", "c"), "e12345678")).statusCode()).isEqualTo(200);
    }

    @Test
    void roomNamesOfTheOlderServicesPassAndBadCharactersAreRefused() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user:c1,chat/42,user_c1,chat room",
                "ev")) {
            client.awaitConnected();
            HttpResponse<String> ok = send("news", body(List.of("user:c1", "chat/42", "user_c1", "chat room"), "ev", 1));
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(client.next().args()).containsExactly(1);
        }
        long hits = count("limits.news.room_name");
        // JSON escapes, as a sender writes them (a lone surrogate cannot travel as UTF-8)
        for (String bad : List.of(" staff", "staff ", "sta\\u2028ff", "sta\\u0007ff", "sta\\ud800ff")) {
            HttpResponse<String> refused = send("news", "{\"rooms\":[\"user_c2\",\"" + bad + "\"],\"event\":\"ev\"}");
            assertThat(refused.statusCode()).as(bad).isEqualTo(400);
            assertThat(json(refused).get("errors").get(0).asText()).startsWith("room names must not");
        }
        assertThat(count("limits.news.room_name")).isEqualTo(hits + 5);
        assertThat(depth("news", "user_c2")).isZero();
        // a join names its rooms by the same rules
        PushRefusedException join = refusalOf(gateway.pushTemplate().join("news", "some-socket", Set.of("trailing ")));
        assertThat(join.problems()).containsExactly("room names must not start or end with whitespace");
        // and an authorizer's answer too: the connect is refused
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:ok, padded")) {
            assertThat(client.awaitConnectError().optString("code")).isEqualTo("auth_invalid_response");
        }
    }

    private static PushRefusedException refusalOf(java.util.concurrent.CompletionStage<?> stage) throws Exception {
        try {
            stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return (PushRefusedException) e.getCause();
        }
        throw new AssertionError("accepted");
    }

    @Test
    void sendsBeyondTheSitesRateAreRefusedWith429AndRetryAfterUntilTimeMoves() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/metered", "rooms:user_m1", "ev")) {
            client.awaitConnected();
            long hits = count("limits.metered.sends_per_second");
            long refusedBefore = count("sends.refused.rate_limited");

            assertThat(send("metered", body(List.of("user_m1"), "ev", "first")).statusCode()).isEqualTo(200);
            assertThat(send("metered", body(List.of("user_m1"), "ev", "second")).statusCode()).isEqualTo(200);
            HttpResponse<String> limited = send("metered", body(List.of("user_m1"), "ev", "third"));
            assertThat(limited.statusCode()).isEqualTo(429);
            assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(json(limited).get("error").asText()).isEqualTo("rate_limited");
            assertThat(json(limited).get("message").asText()).isEqualTo("Too many sends for this site; retry after 1 s");
            assertThat(json(limited).get("errors").get(0).asText())
                    .isEqualTo("site 'metered' is over its limit of 2 sends per second on this node; retry after 500 ms");

            PushRefusedException viaTemplate = refusal(gateway.pushTemplate(), new SendRequest("metered",
                    Target.rooms(Set.of("user_m1")), "ev", List.of("fourth"), false));
            assertThat(viaTemplate.reason()).isEqualTo(PushRefusedException.Reason.RATE_LIMITED);
            assertThat(viaTemplate.retryAfter()).isEqualTo(Duration.ofMillis(500));

            assertThat(count("limits.metered.sends_per_second")).isEqualTo(hits + 2);
            assertThat(count("sends.refused.rate_limited")).isEqualTo(refusedBefore + 2);
            assertThat(depth("metered", "user_m1")).as("refused sends stored nothing").isEqualTo(2);
            // another site keeps its own (unlimited) budget
            assertThat(send("news", body(List.of("user_m1"), "ev")).statusCode()).isEqualTo(200);

            // half a second later one token is back
            TICKER.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
            gateway.pushTemplate().site("metered").to("user_m1").event("ev").args("after").send()
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            List<Object> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                TestClient.Received r = client.next();
                got.add(r.args().get(0));
                r.ackNow();
            }
            assertThat(got).as("the refused sends were never delivered").containsExactly("first", "second", "after");
        }
    }

    @Test
    void connectsBeyondTheSitesMaximumAreRefusedAndTheOthersStay() throws Exception {
        long hits = count("limits.capped.connections");
        long refusedBefore = count("refused.too_many_connections");
        try (TestClient a = TestClient.connect(gateway.port(), "/capped", "rooms:k1", "ev");
                TestClient b = TestClient.connect(gateway.port(), "/capped", "rooms:k1", "ev")) {
            a.awaitConnected();
            b.awaitConnected();
            try (TestClient c = TestClient.connect(gateway.port(), "/capped", "rooms:k1", "ev")) {
                JSONObject error = c.awaitConnectError();
                assertThat(error.optString("code")).isEqualTo("too_many_connections");
                assertThat(error.optString("message")).isEqualTo("Too many connections to this site, retry later");
                assertThat(c.connected).isNotDone();
            }
            assertThat(count("limits.capped.connections")).isEqualTo(hits + 1);
            assertThat(count("refused.too_many_connections")).isEqualTo(refusedBefore + 1);
            assertThat(gateway.connectionCount("capped")).isEqualTo(2);
            // the two connected sockets stay and still get messages
            gateway.pushTemplate().site("capped").to("k1").event("ev").args("still").send().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            assertThat(a.next().args()).containsExactly("still");
            assertThat(b.next().args()).containsExactly("still");
            // another site is not capped by this one
            try (TestClient other = TestClient.connect(gateway.port(), "/news", "rooms:k1")) {
                other.awaitConnected();
            }

            // a socket that leaves frees its slot
            a.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (gateway.connectionCount("capped") > 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            try (TestClient d = TestClient.connect(gateway.port(), "/capped", "rooms:k1")) {
                d.awaitConnected();
            }
        }
    }

    @Test
    void eventsBeyondTheSitesRatePerSocketAreRefusedUntilTimeMoves() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "/chatty", "rooms:")) {
            client.awaitConnected();
            long hits = count("limits.chatty.events_per_second");
            assertThat(emit(client, "ping")).containsExactly("pong");
            assertThat(emit(client, "ping")).containsExactly("pong");
            JSONObject error = ((JSONObject) emit(client, "ping")[0]).getJSONObject("error");
            assertThat(error.getString("code")).isEqualTo("rate_limited");
            assertThat(count("limits.chatty.events_per_second")).isEqualTo(hits + 1);

            // another socket has its own budget
            try (TestClient other = TestClient.connect(gateway.port(), "/chatty", "rooms:")) {
                other.awaitConnected();
                assertThat(emit(other, "ping")).containsExactly("pong");
            }
            TICKER.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
            assertThat(emit(client, "ping")).containsExactly("pong");

            // the site's event name limit (6): "pinged" is at it, one more character is refused
            TICKER.addAndGet(TimeUnit.SECONDS.toNanos(1));
            long names = count("limits.chatty.event_name");
            assertThat(emit(client, "pinged")).containsExactly("pong");
            JSONObject invalid = ((JSONObject) emit(client, "pingedx")[0]).getJSONObject("error");
            assertThat(invalid.getString("code")).isEqualTo("invalid");
            assertThat(count("limits.chatty.event_name")).isEqualTo(names + 1);
        }
    }

    private static Object[] emit(TestClient client, String event, Object... args) throws Exception {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        client.socket.emit(event, args, (Ack) answer::complete);
        return answer.get(10, TimeUnit.SECONDS);
    }
}
