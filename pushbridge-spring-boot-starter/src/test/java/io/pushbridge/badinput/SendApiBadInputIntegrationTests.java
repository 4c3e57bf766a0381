package io.pushbridge.badinput;

import static io.pushbridge.badinput.BadInputSupport.WAIT;
import static io.pushbridge.badinput.BadInputSupport.errorCode;
import static io.pushbridge.badinput.BadInputSupport.errorText;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.memory.InMemoryMessageStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad request to the HTTP send API, one table row each, with the status and JSON error code
 * it gets ({@code docs/send-api.md} lists them). For each row the suite also checks that nothing
 * changed: a client in the targeted rooms (a user room and a group room) receives the next good
 * send and nothing before it, the user room's queue stays empty, {@code sends.accepted} moves only
 * for that good send, the answer never echoes the API key, and no ERROR line was logged. One
 * gateway serves every row.
 *
 * <p>To add a bad request, add one line to {@link #requests()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SendApiBadInputIntegrationTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "news-key-3f9a01bc";
    private static final String OTHER_KEY = "other-key-77d0e412";
    private static final int MAX_MESSAGE_SIZE = 4096;
    private static final int MAX_PAYLOAD = 200_000;
    private static final int MAX_ROOMS = 10;
    private static final int MAX_ROOM_NAME = 50;
    private static final int MAX_EVENT_NAME = 30;
    /** The rooms every bad request targets: the listener's user room and a group room. */
    private static final String ROOMS = "'rooms':['user_alice','lobby']";

    private InMemoryMessageStore store;
    private PushBridgeGateway gateway;
    private TestClient listener;
    private final BlockingQueue<List<Object>> received = new LinkedBlockingQueue<>();
    private final AtomicInteger markers = new AtomicInteger();
    private BadInputSupport.LogCapture logs;

    @BeforeAll
    void start() throws Exception {
        logs = BadInputSupport.LogCapture.start();
        store = TestGateways.memoryStore();
        gateway = TestGateways.start(TestGateways.options().maxMessageSize(MAX_MESSAGE_SIZE).maxPayload(MAX_PAYLOAD)
                        .maxRoomsPerSend(MAX_ROOMS).maxRoomNameLength(MAX_ROOM_NAME).maxEventNameLength(MAX_EVENT_NAME).build(),
                b -> b.site(SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(KEY).build())
                        .site(SiteOptions.builder("other").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(OTHER_KEY).build())
                        .site(SiteOptions.builder("keyless").authorizer(TestGateways.ROOMS_FROM_TOKEN).build())
                        .store(store));
        listener = TestClient.connect(gateway.port(), "/news", "rooms:user_alice,lobby");
        listener.socket.onAnyIncoming(args -> received.add(Arrays.asList(args)));
        listener.awaitConnected();
    }

    @AfterAll
    void stop() {
        if (listener != null) {
            listener.close();
        }
        if (gateway != null) {
            gateway.stop(Duration.ofSeconds(2));
        }
        if (logs != null) {
            logs.close();
        }
    }

    // ---- the table -----------------------------------------------------------------------------

    Stream<Request> requests() {
        String tooManyRooms = IntStream.rangeClosed(0, MAX_ROOMS).mapToObj(i -> "'r" + i + "'").collect(Collectors.joining(","));
        return Stream.of(
                // method and path
                send("GET instead of POST", json("{" + ROOMS + ",'event':'probe'}")).method("GET")
                        .answers(405, "method_not_allowed"),
                send("PUT instead of POST", json("{" + ROOMS + ",'event':'probe'}")).method("PUT")
                        .answers(405, "method_not_allowed"),
                send("DELETE instead of POST", "").method("DELETE").answers(405, "method_not_allowed"),
                send("an unknown path", json("{" + ROOMS + ",'event':'probe'}")).path("/sendx").answers(404, "not_found"),
                send("the path with a trailing slash", json("{" + ROOMS + ",'event':'probe'}")).path("/send/")
                        .answers(404, "not_found"),
                // site and key
                send("no site parameter", json("{" + ROOMS + ",'event':'probe'}")).query("")
                        .answers(400, "invalid_request", "site is required"),
                send("an empty site parameter", json("{" + ROOMS + ",'event':'probe'}")).query("site=")
                        .answers(400, "invalid_request", "site is required"),
                send("an unknown site", json("{" + ROOMS + ",'event':'probe'}")).query("site=nosuchsite")
                        .answers(404, "unknown_site"),
                send("no API key", json("{" + ROOMS + ",'event':'probe'}")).key(null)
                        .answers(401, "unauthorized", "An API key is required"),
                send("a wrong API key", json("{" + ROOMS + ",'event':'probe'}")).key("wrong-key")
                        .answers(401, "unauthorized", "Invalid API key"),
                send("an empty X-Api-Key header", json("{" + ROOMS + ",'event':'probe'}")).key("")
                        .answers(401, "unauthorized"),
                send("the key of another site", json("{" + ROOMS + ",'event':'probe'}")).key(OTHER_KEY)
                        .answers(401, "unauthorized"),
                send("this site's key sent to another site", json("{" + ROOMS + ",'event':'probe'}")).query("site=other")
                        .answers(401, "unauthorized"),
                send("a site without API keys", json("{" + ROOMS + ",'event':'probe'}")).query("site=keyless")
                        .answers(401, "unauthorized"),
                send("the key as Authorization: Basic", json("{" + ROOMS + ",'event':'probe'}")).key(null)
                        .header("Authorization", "Basic " + KEY).answers(401, "unauthorized"),
                send("a wrong key as Authorization: Bearer", json("{" + ROOMS + ",'event':'probe'}")).key(null)
                        .header("Authorization", "Bearer wrong-key").answers(401, "unauthorized"),
                send("a wrong key in the query", json("{" + ROOMS + ",'event':'probe'}")).key(null)
                        .query("site=news&apiKey=wrong-key").answers(401, "unauthorized"),
                // content type and body
                send("a text/plain body", json("{" + ROOMS + ",'event':'probe'}")).contentType("text/plain")
                        .answers(415, "unsupported_media_type"),
                send("no content type", json("{" + ROOMS + ",'event':'probe'}")).contentType(null)
                        .answers(415, "unsupported_media_type"),
                send("an XML body", "<send><event>probe</event></send>").contentType("application/xml")
                        .answers(415, "unsupported_media_type"),
                send("a body that is not JSON", "{rooms: user_alice").answers(400, "invalid_request", "body is not valid JSON"),
                send("a body that is not UTF-8", new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'})
                        .answers(400, "invalid_request", "body is not valid JSON"),
                send("an empty body", "").answers(400, "invalid_request", "body must be a JSON object"),
                send("a JSON array body", json("[{" + ROOMS + ",'event':'probe'}]"))
                        .answers(400, "invalid_request", "body must be a JSON object"),
                send("a JSON null body", "null").answers(400, "invalid_request", "body must be a JSON object"),
                send("a JSON string body", json("'probe'")).answers(400, "invalid_request", "body must be a JSON object"),
                // rooms
                send("no rooms", json("{'event':'probe'}")).answers(400, "invalid_request", "rooms must be a non-empty list"),
                send("an empty list of rooms", json("{'rooms':[],'event':'probe'}"))
                        .answers(400, "invalid_request", "rooms must be a non-empty list"),
                send("rooms as a string", json("{'rooms':'user_alice','event':'probe'}"))
                        .answers(400, "invalid_request", "rooms must be a non-empty list"),
                send("a room that is a number", json("{'rooms':['user_alice',7],'event':'probe'}"))
                        .answers(400, "invalid_request", "rooms must contain only non-empty strings"),
                send("a room that is null", json("{'rooms':['user_alice',null],'event':'probe'}"))
                        .answers(400, "invalid_request", "rooms must contain only non-empty strings"),
                send("an empty room name", json("{'rooms':['user_alice',''],'event':'probe'}"))
                        .answers(400, "invalid_request", "rooms must contain only non-empty strings"),
                send("more rooms than max-rooms-per-send", json("{'rooms':['user_alice','lobby'," + tooManyRooms + "],'event':'probe'}"))
                        .answers(400, "invalid_request", "more than the limit of " + MAX_ROOMS),
                send("a room name longer than max-room-name-length",
                        json("{'rooms':['user_alice','" + "r".repeat(MAX_ROOM_NAME + 1) + "'],'event':'probe'}"))
                        .answers(400, "invalid_request", "longer than " + MAX_ROOM_NAME + " characters"),
                send("a room name with a control character", json("{'rooms':['user_alice','lob\\u0007by'],'event':'probe'}"))
                        .answers(400, "invalid_request", "control characters"),
                // event
                send("no event", json("{" + ROOMS + "}")).answers(400, "invalid_request", "event is required"),
                send("a null event", json("{" + ROOMS + ",'event':null}")).answers(400, "invalid_request", "event is required"),
                send("an event that is a number", json("{" + ROOMS + ",'event':5}"))
                        .answers(400, "invalid_request", "event must be a string"),
                send("an event that is an object", json("{" + ROOMS + ",'event':{'name':'probe'}}"))
                        .answers(400, "invalid_request", "event must be a string"),
                send("an empty event name", json("{" + ROOMS + ",'event':''}")).answers(400, "invalid_request", "event is required"),
                send("an event name longer than max-event-name-length", json("{" + ROOMS + ",'event':'" + "e".repeat(MAX_EVENT_NAME + 1) + "'}"))
                        .answers(400, "invalid_request", "event is longer than " + MAX_EVENT_NAME),
                send("an event name with a newline", json("{" + ROOMS + ",'event':'pro\\nbe'}"))
                        .answers(400, "invalid_request", "control characters"),
                send("the reserved event connect", json("{" + ROOMS + ",'event':'connect'}"))
                        .answers(400, "invalid_request", "event 'connect' is reserved"),
                send("the reserved event disconnect", json("{" + ROOMS + ",'event':'disconnect'}"))
                        .answers(400, "invalid_request", "event 'disconnect' is reserved"),
                send("the reserved event connect_error", json("{" + ROOMS + ",'event':'connect_error'}"))
                        .answers(400, "invalid_request", "is reserved"),
                send("the reserved event batch", json("{" + ROOMS + ",'event':'batch','args':[[['x']]]}"))
                        .answers(400, "invalid_request", "event 'batch' is reserved"),
                send("the reserved event resync", json("{" + ROOMS + ",'event':'resync'}"))
                        .answers(400, "invalid_request", "event 'resync' is reserved"),
                send("the reserved event message_ack", json("{" + ROOMS + ",'event':'message_ack'}"))
                        .answers(400, "invalid_request", "is reserved"),
                // args, except, resync
                send("args that are an object", json("{" + ROOMS + ",'event':'probe','args':{'a':1}}"))
                        .answers(400, "invalid_request", "args must be an array"),
                send("args that are a string", json("{" + ROOMS + ",'event':'probe','args':'a'}"))
                        .answers(400, "invalid_request", "args must be an array"),
                send("except that is not a list", json("{" + ROOMS + ",'event':'probe','except':'sid'}"))
                        .answers(400, "invalid_request", "except must be a list of strings"),
                send("an empty socket id in except", json("{" + ROOMS + ",'event':'probe','except':['']}"))
                        .answers(400, "invalid_request", "except must contain only non-empty strings"),
                send("resync that is not a boolean", json("{" + ROOMS + ",'event':'probe','resync':'yes'}"))
                        .answers(400, "invalid_request", "resync must be true or false"),
                send("resync in the query that is not a boolean", json("{" + ROOMS + ",'event':'probe'}"))
                        .query("site=news&resync=maybe").answers(400, "invalid_request", "resync must be true or false"),
                send("every problem at once", json("{'rooms':[],'args':3,'resync':1}"))
                        .answers(400, "invalid_request", "rooms must be a non-empty list", "event is required",
                                "args must be an array", "resync must be true or false"),
                // sizes
                send("a message larger than max-message-size",
                        json("{" + ROOMS + ",'event':'probe','args':['" + "x".repeat(MAX_MESSAGE_SIZE) + "']}"))
                        .answers(413, "too_large", "more than the limit of " + MAX_MESSAGE_SIZE),
                send("a body larger than the send API takes",
                        json("{" + ROOMS + ",'event':'probe','pad':'" + "x".repeat(MAX_MESSAGE_SIZE + 70_000) + "'}"))
                        .answers(413, "too_large", "The body is larger than"),
                raw("a Content-Length beyond what the gateway reads", "POST /send?site=news HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + KEY
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + (MAX_PAYLOAD + 1) + "\r\n\r\n{")
                        .answers(413, "too_large"),
                // HTTP itself
                raw("a request line that is not HTTP", "SEND ME EVERYTHING\r\n\r\n").answers(400, "bad_request"),
                raw("a Content-Length that is not a number", "POST /send?site=news HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + KEY
                        + "\r\nContent-Type: application/json\r\nContent-Length: ten\r\n\r\n{}").answers(400, "bad_request"),
                raw("a header line without a colon", "POST /send?site=news HTTP/1.1\r\nHost: x\r\nX-Api-Key " + KEY
                        + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").answers(400, "bad_request"),
                // forms
                form("a form without rooms", "event=probe").answers(400, "invalid_request", "rooms must be a non-empty list"),
                form("a form with an empty room", "rooms=user_alice&rooms=&event=probe")
                        .answers(400, "invalid_request", "rooms must not contain empty names"),
                form("a form without event", "rooms=user_alice&rooms=lobby").answers(400, "invalid_request", "event is required"),
                form("a form whose args are not JSON", "rooms=user_alice&event=probe&args=%7Bnot")
                        .answers(400, "invalid_request", "args must be a JSON array"),
                form("a form whose args are a JSON object", "rooms=user_alice&event=probe&args=%7B%22a%22%3A1%7D")
                        .answers(400, "invalid_request", "args must be an array"),
                form("a form with a reserved event", "rooms=user_alice&event=batch").answers(400, "invalid_request", "is reserved"),
                form("a form whose resync is not a boolean", "rooms=user_alice&event=probe&resync=perhaps")
                        .answers(400, "invalid_request", "resync must be true or false"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void badSend(Request row) throws Exception {
        long accepted = gateway.stats().get("sends.accepted");
        int mark = logs.mark();

        Answer answer = row.raw != null ? rawExchange(row.raw) : exchange(row);

        assertThat(answer.status).as("status; body %s", answer.body).isEqualTo(row.status);
        assertThat(answer.contentType).as("content type").startsWith("application/json");
        JsonNode body = JSON.readTree(answer.body);
        assertThat(errorCode(body)).as("error code of %s", body).isEqualTo(row.code);
        for (String problem : row.problems) {
            assertThat(errorText(body)).as("the answer names the problem").contains(problem);
        }
        if (row.status == 405) {
            assertThat(answer.allow).as("Allow header").isEqualTo("POST");
        }
        assertThat(answer.body).as("the answer never echoes a key").doesNotContain(KEY).doesNotContain(OTHER_KEY);

        // nothing was stored or delivered: the next good send is the first thing the client gets
        assertThat(store.depth(new UserQueue("news", "user_alice"))).as("the user room's queue").isZero();
        String marker = "marker-" + markers.incrementAndGet();
        gateway.pushTemplate().site("news").to("lobby").event("marker").args(marker).send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        List<Object> first = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(first).as("the first event the client got after the bad request").containsExactly("marker", marker);
        assertThat(gateway.stats().get("sends.accepted")).as("sends.accepted (the good send only)").isEqualTo(accepted + 1);
        assertThat(logs.errorsSince(mark)).as("ERROR lines logged for a bad request").isEmpty();
        assertThat(logs.containing(mark, KEY)).as("log lines with the API key").isEmpty();
    }

    // ---- HTTP ----------------------------------------------------------------------------------

    private record Answer(int status, String contentType, String allow, String body) {
    }

    private Answer exchange(Request row) throws Exception {
        String query = row.query.isEmpty() ? "" : "?" + row.query;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + row.path + query))
                .timeout(Duration.ofSeconds(10))
                .method(row.method, HttpRequest.BodyPublishers.ofByteArray(row.body));
        if (row.contentType != null) {
            request.header("Content-Type", row.contentType);
        }
        row.headers.forEach(request::header);
        // a fresh client per request: a connection the gateway closed after its answer is not reused
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
                response.headers().firstValue("Allow").orElse(null), response.body());
    }

    /** Writes a request as given on a plain socket and reads the answer until the gateway closes. */
    private Answer rawExchange(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                all.write(buffer, 0, n);
            }
            String text = all.toString(StandardCharsets.UTF_8);
            int headersEnd = text.indexOf("\r\n\r\n");
            String[] lines = text.substring(0, headersEnd).split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(), lines[i].substring(colon + 1).trim());
            }
            return new Answer(Integer.parseInt(lines[0].split(" ")[1]), headers.getOrDefault("content-type", ""),
                    headers.get("allow"), text.substring(headersEnd + 4));
        }
    }

    // ---- rows ----------------------------------------------------------------------------------

    /** One bad request and its answer. Defaults: {@code POST /send?site=news}, the site's key in {@code X-Api-Key}, JSON. */
    static final class Request {
        final String name;
        String method = "POST";
        String path = "/send";
        String query = "site=news";
        final Map<String, String> headers = new LinkedHashMap<>(Map.of("X-Api-Key", KEY));
        String contentType = "application/json";
        final byte[] body;
        String raw;
        int status;
        String code;
        List<String> problems = List.of();

        Request(String name, byte[] body) {
            this.name = name;
            this.body = body;
        }

        Request method(String method) {
            this.method = method;
            return this;
        }

        Request path(String path) {
            this.path = path;
            return this;
        }

        Request query(String query) {
            this.query = query;
            return this;
        }

        /** The {@code X-Api-Key} header; {@code null} leaves it out. */
        Request key(String key) {
            if (key == null) {
                headers.remove("X-Api-Key");
            } else {
                headers.put("X-Api-Key", key);
            }
            return this;
        }

        Request header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Request contentType(String contentType) {
            this.contentType = contentType;
            return this;
        }

        /** The expected status, JSON error code, and texts the answer's message or problem list contains. */
        Request answers(int status, String code, String... problems) {
            this.status = status;
            this.code = code;
            this.problems = List.of(problems);
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Request send(String name, String body) {
        return new Request(name, body.getBytes(StandardCharsets.UTF_8));
    }

    static Request send(String name, byte[] body) {
        return new Request(name, body);
    }

    static Request form(String name, String body) {
        return send(name, body).contentType("application/x-www-form-urlencoded");
    }

    /** A request written byte for byte on a socket (for what an HTTP client library will not send). */
    static Request raw(String name, String request) {
        Request r = new Request(name, new byte[0]);
        r.raw = request;
        return r;
    }

    /** JSON written with single quotes, for readable rows. */
    static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }
}
