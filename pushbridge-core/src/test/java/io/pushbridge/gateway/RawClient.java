package io.pushbridge.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A raw Engine.IO v4 / Socket.IO v5 client on the JDK's {@link WebSocket}, for tests that need to
 * send hand-written packets and to see exactly which frames the gateway writes.
 *
 * <p>Records every text and binary frame (in {@link #frames}, in arrival order; {@link #texts} and
 * {@link #binaries} by kind), answers Engine.IO pings ({@code 2}) with pongs ({@code 3}) unless
 * {@link #answerPings} is turned off, and completes {@link #closed} when the server closes the
 * connection (close frame: the status code; transport error: -1). Also has helpers for plain HTTP
 * long-polling requests.
 *
 * <p>Public (and in the test-jar) so that the starter's bad-input suite sends the same frames.
 */
public final class RawClient implements AutoCloseable {

    public static final ObjectMapper JSON = new ObjectMapper();
    public static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    public static final Duration WAIT = Duration.ofSeconds(10);

    /** Every frame received: a {@link String} for a text frame, a {@code byte[]} for a binary frame. */
    public final BlockingQueue<Object> frames = new LinkedBlockingQueue<>();
    public final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    public final BlockingQueue<byte[]> binaries = new LinkedBlockingQueue<>();
    /** Completes when the server closes the connection: the close status, or -1 after a transport error. */
    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    /** Whether Engine.IO pings are answered with pongs. */
    public volatile boolean answerPings = true;

    private final BlockingQueue<Object> unread = new LinkedBlockingQueue<>();
    private final CompletableFuture<String> open = new CompletableFuture<>();
    private volatile WebSocket ws;
    private volatile String sid;
    private volatile JsonNode handshake;
    private CompletableFuture<?> sendChain = CompletableFuture.completedFuture(null);

    private RawClient() {
    }

    /** Connects over WebSocket and waits for the Engine.IO handshake. */
    public static RawClient connect(int port) throws Exception {
        return connect(port, Map.of());
    }

    /** Connects over WebSocket with extra handshake headers and waits for the Engine.IO handshake. */
    public static RawClient connect(int port, Map<String, String> headers) throws Exception {
        return connect(port, headers, "");
    }

    /**
     * Connects over WebSocket with extra handshake headers and query ({@code &a=b...}, appended as is)
     * and waits for the Engine.IO handshake.
     */
    public static RawClient connect(int port, Map<String, String> headers, String extraQuery) throws Exception {
        RawClient client = new RawClient();
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(builder::header);
        URI uri = URI.create("ws://127.0.0.1:" + port + "/socket.io/?EIO=4&transport=websocket" + extraQuery);
        client.ws = builder.buildAsync(uri, client.new Listener()).get(10, TimeUnit.SECONDS);
        String first = client.open.get(10, TimeUnit.SECONDS);
        client.handshake = JSON.readTree(first.substring(1));
        client.sid = client.handshake.get("sid").asText();
        return client;
    }

    /** The Engine.IO session id from the handshake. */
    public String sid() {
        return sid;
    }

    /** The handshake's JSON ({@code sid}, {@code upgrades}, {@code pingInterval}, ...). */
    public JsonNode handshake() {
        return handshake;
    }

    /** Sends one text frame as is, e.g. {@code 40/news,{"token":"rooms:a"}}. */
    public void send(String text) throws Exception {
        enqueue(socket -> socket.sendText(text, true)).get(5, TimeUnit.SECONDS);
    }

    /** Sends one binary frame as is. */
    public void sendBinary(byte[] data) throws Exception {
        enqueue(socket -> socket.sendBinary(ByteBuffer.wrap(data), true)).get(5, TimeUnit.SECONDS);
    }

    /** The JDK WebSocket allows one outstanding send at a time: sends are chained. */
    private synchronized CompletableFuture<?> enqueue(Function<WebSocket, CompletableFuture<WebSocket>> send) {
        CompletableFuture<?> next = sendChain.handle((v, e) -> null).thenCompose(v -> send.apply(ws));
        sendChain = next;
        return next;
    }

    /**
     * Sends a namespace CONNECT ({@code 40<nsp>,<auth>}) and returns the server's answer for that
     * namespace: {@code 40...} (admitted) or {@code 44...} (refused).
     */
    public String connectNamespace(String nsp, String authJson) throws Exception {
        String prefix = "/".equals(nsp) ? "" : nsp + ",";
        send("40" + prefix + (authJson == null ? "" : authJson));
        return nextText(t -> t.startsWith("40" + prefix) || t.startsWith("44" + prefix)
                || "/".equals(nsp) && (t.startsWith("40{") || t.startsWith("44{") || t.equals("40")), WAIT);
    }

    /** Like {@link #connectNamespace} but fails unless the answer is a CONNECT ack. */
    public String join(String nsp, String authJson) throws Exception {
        String answer = connectNamespace(nsp, authJson);
        if (!answer.startsWith("40")) {
            throw new AssertionError("CONNECT to " + nsp + " was refused: " + answer);
        }
        return answer;
    }

    /**
     * The next received frame that is not an Engine.IO ping, or {@code null} after {@code wait}.
     * Frames read here are consumed (they stay in {@link #frames}).
     */
    public Object nextFrame(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Object frame = unread.poll(left, TimeUnit.NANOSECONDS);
            if (frame == null) {
                return null;
            }
            if (!"2".equals(frame)) {
                return frame;
            }
        }
    }

    /** The next text frame matching {@code filter}, skipping others; fails after {@code wait}. */
    public String nextText(Predicate<String> filter, Duration wait) throws InterruptedException {
        String text = pollText(filter, wait);
        if (text == null) {
            throw new AssertionError("no matching text frame within " + wait.toMillis() + " ms; got " + frames);
        }
        return text;
    }

    /** The next text frame matching {@code filter}, skipping others; {@code null} after {@code wait}. */
    public String pollText(Predicate<String> filter, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Object frame = nextFrame(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (frame == null) {
                return null;
            }
            if (frame instanceof String text && filter.test(text)) {
                return text;
            }
        }
    }

    /** The Socket.IO frames (not pings/pongs) received within {@code wait}, consumed. */
    public List<Object> drain(Duration wait) throws InterruptedException {
        List<Object> out = new ArrayList<>();
        Object frame;
        while ((frame = nextFrame(wait)) != null) {
            out.add(frame);
        }
        return out;
    }

    /**
     * Whether the server closed the connection within {@code wait}.
     *
     * <p>JDK 17's WebSocket client can lose the end of the stream when the server closes the TCP
     * connection without a close frame right after a last text frame (it reads the EOF while that
     * frame is being delivered and never calls the listener). So while waiting this also writes an
     * unsolicited WebSocket pong (a no-op for the server, RFC 6455 5.5.3) every 100 ms: on a closed
     * connection the write fails, which completes {@link #closed} with -1.
     */
    public boolean awaitClosed(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!closed.isDone()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                closed.get(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 100), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                probe();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return closed.isDone();
            } catch (java.util.concurrent.ExecutionException e) {
                break;
            }
        }
        return true;
    }

    private void probe() {
        if (ws == null || closed.isDone()) {
            return;
        }
        enqueue(socket -> socket.sendPong(ByteBuffer.allocate(0))).whenComplete((v, failure) -> {
            if (failure != null) {
                closed.complete(-1);
            }
        });
    }

    @Override
    public void close() {
        WebSocket socket = ws;
        if (socket != null && !socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(2, TimeUnit.SECONDS);
        }
        if (socket != null) {
            socket.abort();
        }
    }

    private void received(WebSocket socket, Object frame) {
        frames.add(frame);
        if (frame instanceof String text) {
            texts.add(text);
            if (!open.isDone() && text.startsWith("0")) {
                open.complete(text);
                return;
            }
            if ("2".equals(text) && answerPings) {
                if (ws == null) {
                    ws = socket;
                }
                enqueue(s -> s.sendText("3", true));
            }
        } else {
            binaries.add((byte[]) frame);
        }
        unread.add(frame);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public void onOpen(WebSocket webSocket) {
            // unbounded demand: with request(1) per message the JDK client can miss the end of the
            // stream that follows a last frame in the same read
            webSocket.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String frame = text.toString();
                text.setLength(0);
                received(webSocket, frame);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.write(chunk, 0, chunk.length);
            if (last) {
                byte[] frame = binary.toByteArray();
                binary.reset();
                received(webSocket, frame);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            open.completeExceptionally(new IOException("closed before the handshake: " + statusCode + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(-1);
            open.completeExceptionally(error);
        }
    }

    // ---- HTTP long-polling --------------------------------------------------------------------

    /**
     * A fresh HTTP/1.1 client per polling request: the gateway may close a polling connection after
     * its response, and a pooled connection closed that way fails the next request.
     */
    public static HttpClient http() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** {@code /socket.io/?EIO=4&transport=polling} plus {@code &sid=...} when {@code sid} is not null. */
    public static URI pollingUri(int port, String sid) {
        return URI.create("http://127.0.0.1:" + port + "/socket.io/?EIO=4&transport=polling"
                + (sid == null ? "" : "&sid=" + sid));
    }

    /** A GET with a raw query ({@code EIO=...&transport=...}) and headers; the body as bytes. */
    public static HttpResponse<byte[]> get(int port, String query, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/socket.io/?" + query))
                .timeout(Duration.ofSeconds(5)).GET();
        headers.forEach(request::header);
        return http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A POST with a raw query and a text body; the body as bytes. */
    public static HttpResponse<byte[]> post(int port, String query, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/socket.io/?" + query))
                .timeout(Duration.ofSeconds(5))
                .header("Content-Type", "text/plain;charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A polling GET on a session ({@code sid} null: the handshake). */
    public static HttpResponse<byte[]> pollGet(int port, String sid) throws Exception {
        return http().send(HttpRequest.newBuilder(pollingUri(port, sid)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A polling POST of Engine.IO packets (joined with the record separator) on a session. */
    public static HttpResponse<byte[]> pollPost(int port, String sid, String... packets) throws Exception {
        return http().send(HttpRequest.newBuilder(pollingUri(port, sid)).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "text/plain;charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(String.join("\u001e", packets))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A polling handshake; returns the session id. */
    public static String pollHandshake(int port, Map<String, String> headers) throws Exception {
        HttpResponse<byte[]> response = get(port, "EIO=4&transport=polling", headers);
        String body = text(response);
        if (response.statusCode() != 200 || !body.startsWith("0{")) {
            throw new AssertionError("polling handshake failed: " + response.statusCode() + " " + body);
        }
        return JSON.readTree(body.substring(1)).get("sid").asText();
    }

    public static String text(HttpResponse<byte[]> response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /** The Engine.IO packets of a polling payload (text packets separated by {@code \u001e}). */
    public static List<String> packets(HttpResponse<byte[]> response) {
        return List.of(text(response).split("\u001e"));
    }
}
