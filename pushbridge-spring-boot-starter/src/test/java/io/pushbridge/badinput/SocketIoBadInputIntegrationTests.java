package io.pushbridge.badinput;

import static io.pushbridge.badinput.BadInputSupport.WAIT;
import static io.pushbridge.badinput.BadInputSupport.await;
import static io.pushbridge.badinput.BadInputSupport.awaitCount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.RawClient;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad input a Socket.IO client can send, one table row each: malformed Engine.IO and
 * Socket.IO packets, CONNECTs that must be refused, events and acks the gateway must not hand on,
 * and Engine.IO HTTP requests it must refuse. Each row says what the client gets (the connection
 * closed, a {@code connect_error}, an error answer to its callback, an Engine.IO JSON error, or
 * nothing), which counter moves by exactly one, and the suite checks that nothing else changed:
 * the bad client's socket keeps its rooms and still answers (unless it was closed, when it left its
 * site), a bystander client on the same site still gets what is sent to it, and no ERROR line was
 * logged. One gateway serves every row.
 *
 * <p>To add a bad input, add one line to {@link #packets()} or {@link #engineIoRequests()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SocketIoBadInputIntegrationTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_PAYLOAD = 4096;
    private static final int MAX_EVENT_NAME = 30;

    private InMemoryMessageStore store;
    private PushBridgeGateway gateway;
    private final ContextCapture capture = new ContextCapture();
    private TestClient bystander;
    private final BlockingQueue<List<Object>> bystanderEvents = new LinkedBlockingQueue<>();
    private final AtomicInteger markers = new AtomicInteger();
    private final AtomicInteger userRooms = new AtomicInteger();
    private BadInputSupport.LogCapture logs;

    @BeforeAll
    void start() throws Exception {
        logs = BadInputSupport.LogCapture.start();
        store = TestGateways.memoryStore();
        SiteOptions news = SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(TestGateways.API_KEY)
                .onEvent("echo", event -> CompletableFuture.completedFuture(event.args())).build();
        SiteOptions other = SiteOptions.builder("other").authorizer(TestGateways.ROOMS_FROM_TOKEN).build();
        gateway = TestGateways.start(TestGateways.options().maxPayload(MAX_PAYLOAD).maxEventNameLength(MAX_EVENT_NAME).build(),
                b -> b.site(news).site(other).store(store).extension(capture));
        bystander = TestClient.connect(gateway.port(), "/news", "rooms:lobby");
        bystander.socket.onAnyIncoming(args -> bystanderEvents.add(Arrays.asList(args)));
        bystander.awaitConnected();
    }

    @AfterAll
    void stop() {
        if (bystander != null) {
            bystander.close();
        }
        if (gateway != null) {
            gateway.stop(Duration.ofSeconds(2));
        }
        if (logs != null) {
            logs.close();
        }
    }

    // ---- the table: Socket.IO and Engine.IO packets over WebSocket ------------------------------

    /**
     * Rows for {@link #badPacket}. The bad client has joined {@code /news} (rooms {@code lobby} and a
     * user room of its own) before it sends the row's frames; {@code {ack}} in a frame is the ack id
     * of a message waiting in its user room.
     */
    Stream<PacketCase> packets() {
        String placeholder = "{\"_placeholder\":true,\"num\":0}";
        return Stream.of(
                // malformed Engine.IO packets: the connection is closed
                closes("an empty Engine.IO packet", ""),
                closes("an unknown Engine.IO packet type", "9"),
                closes("an Engine.IO packet type that is a letter", "x42/news,[\"echo\"]"),
                closes("a message packet without a Socket.IO packet", "4"),
                closes("an empty packet in a batch of packets", "42/news,[\"echo\"]\u001e"),
                closes("a binary frame that no binary event announced", bytes(1, 2, 3)),
                closes("a frame larger than max-payload", "42/news,[\"echo\",\"" + "x".repeat(MAX_PAYLOAD) + "\"]")
                        .counting("errors.channel"),
                // malformed Socket.IO packets: the connection is closed
                closes("an unknown Socket.IO packet type", "47/news,[\"echo\"]"),
                closes("a Socket.IO packet type that is a letter (4abc)", "4abc"),
                closes("a CONNECT_ERROR sent by a client", "44/news,{\"message\":\"x\"}"),
                closes("invalid JSON in an event", "42/news,[\"echo\""),
                closes("trailing garbage after an event", "42/news,[\"echo\"]garbage"),
                closes("duplicate keys in an event's argument", "42/news,[\"echo\",{\"a\":1,\"a\":2}]"),
                closes("an event payload that is an object", "42/news,{\"event\":\"echo\"}"),
                closes("an event payload that is an empty array", "42/news,[]"),
                closes("an event name that is a number", "42/news,[42]"),
                closes("an event name that is null", "42/news,[null,1]"),
                closes("an event name that is an object", "42/news,[{\"name\":\"echo\"}]"),
                closes("an event without payload", "42/news,"),
                closes("an ack id of 16 digits", "42/news,1234567890123456[\"echo\"]"),
                closes("an ack id that is not a number", "43/news,abc[]"),
                closes("an ack without an id", "43/news,[\"ok\"]"),
                closes("an ack whose payload is not an array", "43/news,5{\"ok\":true}"),
                closes("a DISCONNECT with a payload", "41/news,{\"reason\":\"x\"}"),
                closes("a binary event without an attachment count", "45/news,[\"echo\"," + placeholder + "]"),
                closes("a binary event with no attachments", "450-/news,[\"echo\"," + placeholder + "]"),
                closes("a namespace with a space", "42/ne ws,[\"echo\"]"),
                closes("a namespace longer than 256 characters", "42/" + "n".repeat(300) + ",[\"echo\"]"),
                closes("a CONNECT whose auth is an array", "40/other,[\"token\"]"),
                closes("a CONNECT whose auth is a string", "40/other,\"rooms:a\""),
                // CONNECTs that are refused with connect_error data: the connection stays
                answers("a CONNECT to an unknown namespace", "40/nope,{\"token\":\"rooms:a\"}",
                        "44/nope,\\{.*\"code\":\"unknown_namespace\".*").counting("refused.unknown_namespace"),
                answers("a CONNECT without auth", "40/other,", "44/other,\\{.*\"code\":\"token_missing\".*")
                        .counting("refused.token_missing"),
                answers("a CONNECT with an empty auth object", "40/other,{}", "44/other,\\{.*\"code\":\"token_missing\".*")
                        .counting("refused.token_missing"),
                answers("a CONNECT whose token is an object", "40/other,{\"token\":{\"rooms\":\"a\"}}",
                        "44/other,\\{.*\"code\":\"token_missing\".*").counting("refused.token_missing"),
                answers("a CONNECT with a token the authorizer refuses", "40/other,{\"token\":\"deny\"}",
                        "44/other,\\{.*\"code\":\"unauthorized\".*").counting("refused.unauthorized"),
                answers("a CONNECT whose token is a number", "40/other,{\"token\":12}",
                        "44/other,\\{.*\"code\":\"unauthorized\".*").counting("refused.unauthorized"),
                answers("a CONNECT whose authorizer grants a room with a control character",
                        "40/other,{\"token\":\"rooms:a\\u0001b\"}", "44/other,\\{.*\"code\":\"auth_invalid_response\".*")
                        .counting("refused.auth_invalid_response"),
                // events the gateway refuses before any handler: the callback gets {"error": {"code": ...}}
                answers("an event named connect", "42/news,7[\"connect\"]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event named disconnect", "42/news,7[\"disconnect\",1]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event named batch", "42/news,7[\"batch\",[]]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event named resync", "42/news,7[\"resync\"]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event named message_ack", "42/news,7[\"message_ack\"]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event with an empty name", "42/news,7[\"\"]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event name with a control character", "42/news,7[\"ec\\u0000ho\"]", eventError(7, "invalid"))
                        .counting("events.refused.invalid"),
                answers("an event name longer than max-event-name-length", "42/news,7[\"" + "e".repeat(MAX_EVENT_NAME + 1) + "\"]",
                        eventError(7, "invalid")).counting("events.refused.invalid"),
                answers("an event no handler takes", "42/news,7[\"nobody-listens\",1]", eventError(7, "unknown_event"))
                        .counting("events.unhandled"),
                // dropped and counted; the client gets nothing and its connection goes on
                ignored("a reserved event without a callback", "42/news,[\"connect\"]").counting("events.refused.invalid"),
                ignored("an event for a namespace the client did not join", "42/other,[\"echo\"]")
                        .counting("dropped.not_connected"),
                ignored("an event for a namespace that does not exist", "42/nope,[\"echo\"]").counting("dropped.not_connected"),
                ignored("an ack for a namespace the client did not join", "43/other,1[]").counting("dropped.not_connected"),
                ignored("a DISCONNECT for a namespace the client did not join", "41/other,").counting("dropped.not_connected"),
                ignored("a second CONNECT to a namespace already joined", "40/news,{\"token\":\"rooms:other\"}")
                        .counting("dropped.duplicate_connect"),
                answers("a binary event (handlers take JSON arguments only)", eventError(7, "unsupported"),
                        "451-/news,7[\"echo\"," + placeholder + "]", bytes(1, 2, 3)).counting("events.refused.binary"),
                answers("a binary event whose attachment is a text packet (read as the attachment)", eventError(7, "unsupported"),
                        "451-/news,7[\"echo\"," + placeholder + "]", "42/news,[\"echo\"]").counting("events.refused.binary"),
                ignored("an ack for an id the server never sent", "43/news,424242[]"),
                ignored("an ack with several arguments for an id the server never sent", "43/news,424243[1,2,3]"),
                ignored("an ack with several arguments for a pending message", "43/news,{ack}[\"a\",\"b\"]").acking());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("packets")
    void badPacket(PacketCase row) throws Exception {
        int baseline = gateway.connectionCount("news");
        String userRoom = "user_raw" + userRooms.incrementAndGet();
        UserQueue queue = new UserQueue("news", userRoom);
        try (RawClient raw = RawClient.connect(gateway.port())) {
            String admitted = raw.join("/news", "{\"token\":\"rooms:lobby," + userRoom + "\"}");
            String socketId = JSON.readTree(admitted.substring(admitted.indexOf('{'))).get("sid").asText();
            await("the bad client is admitted", WAIT, () -> gateway.connectionCount("news") == baseline + 1);
            String ackId = null;
            if (row.acking) {
                gateway.pushTemplate().site("news").to(userRoom).event("pending").args("p").send().toCompletableFuture()
                        .get(5, TimeUnit.SECONDS);
                String pending = raw.nextText(t -> t.startsWith("42/news,") && t.contains("\"pending\""), WAIT);
                ackId = pending.substring("42/news,".length(), pending.indexOf('['));
                assertThat(store.depth(queue)).isEqualTo(1);
            }
            long counted = row.counter == null ? 0 : gateway.stats().get(row.counter);
            long disconnects = gateway.stats().get("disconnects");
            int mark = logs.mark();

            for (Object frame : row.frames) {
                if (frame instanceof byte[] binary) {
                    raw.sendBinary(binary);
                } else {
                    raw.send(ackId == null ? (String) frame : ((String) frame).replace("{ack}", ackId));
                }
            }

            if (row.kind == Kind.CLOSES) {
                assertThat(raw.awaitClosed(WAIT)).as("the connection is closed; frames %s", raw.frames).isTrue();
                // its socket left the site, exactly once
                await("the closed socket leaves its site", WAIT, () -> gateway.connectionCount("news") == baseline);
                awaitCount("disconnects", () -> gateway.stats().get("disconnects"), disconnects + 1);
            } else {
                List<String> unexpected = answersUntilAlive(raw, row.answer);
                assertThat(unexpected).as("frames the bad input caused besides its answer").isEmpty();
                assertThat(raw.closed).as("the connection stays open").isNotDone();
                assertThat(capture.rooms("news", socketId)).as("the socket's rooms").containsExactlyInAnyOrder("lobby", userRoom);
                assertThat(gateway.stats().get("disconnects")).isEqualTo(disconnects);
            }
            if (row.counter != null) {
                awaitCount(row.counter, () -> gateway.stats().get(row.counter), counted + 1);
            }
            if (row.acking) {
                await("the acked message leaves its queue", WAIT, () -> store.depth(queue) == 0);
            } else {
                assertThat(store.depth(queue)).as("the socket's user queue").isZero();
            }
            assertThat(logs.errorsSince(mark)).as("ERROR lines logged for a client's bad input").isEmpty();
        }
        // the next row starts from the same count
        await("the bad client's socket leaves once it closed", WAIT, () -> gateway.connectionCount("news") == baseline);
        bystanderStillServed();
    }

    /**
     * Sends an {@code echo} event with a callback and reads every frame until its answer: the
     * bad input's expected answer (if any) must be among them, and nothing else but pings.
     *
     * @return the frames that were neither
     */
    private List<String> answersUntilAlive(RawClient raw, Pattern expected) throws Exception {
        raw.send("42/news,9001[\"echo\",\"alive\"]");
        String echo = "43/news,9001[\"alive\"]";
        boolean answered = expected == null;
        boolean alive = false;
        List<String> unexpected = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!(answered && alive)) {
            Object frame = raw.nextFrame(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (frame == null) {
                throw new AssertionError((answered ? "" : "no answer matching " + expected + "; ")
                        + (alive ? "" : "no answer to the echo event; ") + "frames " + raw.frames);
            }
            String text = frame instanceof String s ? s : "<binary " + ((byte[]) frame).length + " bytes>";
            if (text.equals(echo)) {
                alive = true;
            } else if (!answered && expected.matcher(text).matches()) {
                answered = true;
            } else {
                unexpected.add(text);
            }
        }
        return unexpected;
    }

    private void bystanderStillServed() throws Exception {
        String marker = "marker-" + markers.incrementAndGet();
        gateway.pushTemplate().site("news").to("lobby").event("marker").args(marker).send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        List<Object> received = bystanderEvents.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(received).as("the bystander on the same site gets the next message, and nothing before it")
                .containsExactly("marker", marker);
    }

    // ---- the table: Engine.IO HTTP requests ----------------------------------------------------

    /**
     * Rows for {@link #badEngineIoRequest}: HTTP requests on the Engine.IO path; {@code {sid}} is
     * the id of a live long-polling session that joined {@code /news}.
     */
    Stream<EngineIoCase> engineIoRequests() {
        String unknown = UUID.randomUUID().toString();
        return Stream.of(
                request("an Engine.IO 3 handshake (Socket.IO v2 clients)", "GET", "EIO=3&transport=polling")
                        .refused(400, 5, "protocol_version"),
                request("a handshake without EIO", "GET", "transport=polling").refused(400, 5, "protocol_version"),
                request("a handshake with EIO=5", "GET", "EIO=5&transport=polling").refused(400, 5, "protocol_version"),
                request("a POST handshake", "POST", "EIO=4&transport=polling").refused(400, 2, "handshake_method"),
                request("a PUT handshake", "PUT", "EIO=4&transport=polling").refused(400, 2, "handshake_method"),
                request("a handshake with an unknown transport", "GET", "EIO=4&transport=carrier-pigeon")
                        .refused(400, 0, "transport"),
                request("a handshake without a transport", "GET", "EIO=4").refused(400, 0, "transport"),
                request("a malformed session id", "GET", "EIO=4&transport=polling&sid=not-a-uuid").refused(400, 1, "session_id"),
                request("an unknown session id", "GET", "EIO=4&transport=polling&sid=" + unknown).refused(400, 1, "session_id"),
                request("a POST to an unknown session id", "POST", "EIO=4&transport=polling&sid=" + unknown)
                        .body("42[\"echo\"]").refused(400, 1, "session_id"),
                request("a session's poll with an unknown transport", "GET", "EIO=4&transport=carrier-pigeon&sid={sid}")
                        .refused(400, 0, "transport"),
                request("a PUT on a polling session", "PUT", "EIO=4&transport=polling&sid={sid}").body("42/news,[\"echo\"]")
                        .refused(400, 3, "method"),
                request("a polling POST with a malformed packet", "POST", "EIO=4&transport=polling&sid={sid}")
                        .body("42/news,[\"echo\"").closesSession(),
                request("a polling POST with an unknown Engine.IO packet type", "POST", "EIO=4&transport=polling&sid={sid}")
                        .body("9").closesSession(),
                request("a polling POST larger than max-payload", "POST", "EIO=4&transport=polling&sid={sid}")
                        .body("42/news,[\"echo\",\"" + "x".repeat(MAX_PAYLOAD) + "\"]").refused(413, 3, "too_large"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engineIoRequests")
    void badEngineIoRequest(EngineIoCase row) throws Exception {
        String sid = null;
        int baseline = gateway.connectionCount("news");
        if (row.query.contains("{sid}")) {
            sid = RawClient.pollHandshake(gateway.port(), Map.of());
            RawClient.pollPost(gateway.port(), sid, "40/news,{\"token\":\"rooms:lobby\"}");
            HttpResponse<byte[]> admitted = RawClient.pollGet(gateway.port(), sid);
            assertThat(RawClient.text(admitted)).startsWith("40/news,");
            await("the polling client is admitted", WAIT, () -> gateway.connectionCount("news") == baseline + 1);
        }
        String counter = row.reason == null ? "dropped.malformed_packet" : "refused.http." + row.reason;
        long counted = gateway.stats().get(counter);
        long sessions = gateway.stats().get("sessions.opened");
        int mark = logs.mark();

        String query = sid == null ? row.query : row.query.replace("{sid}", sid);
        HttpResponse<byte[]> response = row.method.equals("GET") ? RawClient.get(gateway.port(), query, Map.of())
                : send(row.method, query, row.body);

        if (row.closesSession) {
            // the POST itself may be answered; the session is gone afterwards
            await("the session's socket leaves its site", WAIT, () -> gateway.connectionCount("news") == baseline);
            HttpResponse<byte[]> next = RawClient.pollGet(gateway.port(), sid);
            assertThat(next.statusCode()).as("a poll of the closed session: %s", RawClient.text(next)).isEqualTo(400);
        } else {
            assertThat(response.statusCode()).as("status; body %s", RawClient.text(response)).isEqualTo(row.status);
            JsonNode body = JSON.readTree(response.body());
            assertThat(body.path("code").isInt()).as("an Engine.IO error body: %s", body).isTrue();
            assertThat(body.path("code").asInt()).as("Engine.IO error code: %s", body).isEqualTo(row.code);
            assertThat(body.path("message").asText()).isNotEmpty();
        }
        awaitCount(counter, () -> gateway.stats().get(counter), counted + 1);
        if (sid == null) {
            assertThat(gateway.stats().get("sessions.opened")).as("no Engine.IO session was opened").isEqualTo(sessions);
        } else if (!row.closesSession) {
            // the session survives a refused request: its next poll is answered (a ping or a noop)
            await("the session's socket is still there", WAIT, () -> gateway.connectionCount("news") == baseline + 1);
            RawClient.get(gateway.port(), "EIO=4&transport=polling&sid=" + sid + "&disconnect=1", Map.of());
            RawClient.pollPost(gateway.port(), sid, "1");
            await("the polling client leaves", WAIT, () -> gateway.connectionCount("news") == baseline);
        }
        assertThat(logs.errorsSince(mark)).as("ERROR lines logged for a client's bad request").isEmpty();
        bystanderStillServed();
    }

    private HttpResponse<byte[]> send(String method, String query, String body) throws Exception {
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + gateway.port() + "/socket.io/?" + query))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "text/plain;charset=UTF-8")
                .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(body == null ? "" : body))
                .build();
        return RawClient.http().send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    // ---- rows ----------------------------------------------------------------------------------

    enum Kind { CLOSES, ANSWERS, IGNORED }

    /** One bad input over WebSocket: what is sent, and what the client must get. */
    static final class PacketCase {
        final String name;
        final List<Object> frames;
        final Kind kind;
        final Pattern answer;
        String counter;
        boolean acking;

        PacketCase(String name, List<Object> frames, Kind kind, Pattern answer, String counter) {
            this.name = name;
            this.frames = frames;
            this.kind = kind;
            this.answer = answer;
            this.counter = counter;
        }

        /** The counter that moves by exactly one (instead of the row kind's default). */
        PacketCase counting(String counter) {
            this.counter = counter;
            return this;
        }

        /** A message waits in the socket's user queue first; {@code {ack}} is its ack id, and the queue must end empty. */
        PacketCase acking() {
            this.acking = true;
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The client's connection is closed; {@code dropped.malformed_packet} moves by one. */
    static PacketCase closes(String name, Object frame) {
        return new PacketCase(name, List.of(frame), Kind.CLOSES, null, "dropped.malformed_packet");
    }

    /** The client gets one frame matching {@code answer} (a regex) and its connection goes on. */
    static PacketCase answers(String name, String frame, String answer) {
        return new PacketCase(name, List.of(frame), Kind.ANSWERS, Pattern.compile(answer, Pattern.DOTALL), null);
    }

    /** The client sends several frames, gets one matching {@code answer} (a regex), and its connection goes on. */
    static PacketCase answers(String name, String answer, Object... frames) {
        return new PacketCase(name, List.of(frames), Kind.ANSWERS, Pattern.compile(answer, Pattern.DOTALL), null);
    }

    /** The client gets nothing and its connection goes on. */
    static PacketCase ignored(String name, Object... frames) {
        return new PacketCase(name, List.of(frames), Kind.IGNORED, null, null);
    }

    /** The answer to callback {@code ackId} of an event refused with {@code code}. */
    static String eventError(int ackId, String code) {
        return "43/news," + ackId + "\\[\\{\"error\":\\{\"code\":\"" + code + "\",\"message\":\"[^\"]+\"\\}\\}\\]";
    }

    static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    /** One bad Engine.IO HTTP request. */
    static final class EngineIoCase {
        final String name;
        final String method;
        final String query;
        String body;
        int status;
        int code;
        String reason;
        boolean closesSession;

        EngineIoCase(String name, String method, String query) {
            this.name = name;
            this.method = method;
            this.query = query;
        }

        EngineIoCase body(String body) {
            this.body = body;
            return this;
        }

        /** Refused with this HTTP status and Engine.IO error code; {@code refused.http.<reason>} moves by one. */
        EngineIoCase refused(int status, int code, String reason) {
            this.status = status;
            this.code = code;
            this.reason = reason;
            return this;
        }

        /** The session is closed as for any malformed packet ({@code dropped.malformed_packet}). */
        EngineIoCase closesSession() {
            this.closesSession = true;
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static EngineIoCase request(String name, String method, String query) {
        return new EngineIoCase(name, method, query);
    }
}
