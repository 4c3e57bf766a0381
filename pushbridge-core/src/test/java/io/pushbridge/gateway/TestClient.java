package io.pushbridge.gateway;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;

/**
 * A real Java Socket.IO client that records what it receives. Public (and in the test-jar) so that
 * the Redis module's multi-node tests use the same client.
 */
public final class TestClient implements AutoCloseable {

    /** One received event: its name, its arguments (without the ack), and the ack if any. */
    public record Received(String event, List<Object> args, Ack ack) {
        public boolean hasAck() {
            return ack != null;
        }

        public void ackNow() {
            ack.call();
        }
    }

    public final Socket socket;
    public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    public final CompletableFuture<String> connected = new CompletableFuture<>();
    public final CompletableFuture<JSONObject> connectError = new CompletableFuture<>();
    public final CompletableFuture<String> disconnected = new CompletableFuture<>();

    private TestClient(Socket socket, List<String> events) {
        this.socket = socket;
        socket.on(Socket.EVENT_CONNECT, a -> connected.complete(socket.id()));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> connectError.complete(
                a.length > 0 && a[0] instanceof JSONObject o ? o : new JSONObject(Map.of("message", String.valueOf(a.length > 0 ? a[0] : "")))));
        socket.on(Socket.EVENT_DISCONNECT, a -> disconnected.complete(a.length > 0 ? String.valueOf(a[0]) : ""));
        for (String event : events) {
            socket.on(event, a -> {
                Ack ack = a.length > 0 && a[a.length - 1] instanceof Ack k ? k : null;
                List<Object> args = new ArrayList<>(Arrays.asList(a).subList(0, ack == null ? a.length : a.length - 1));
                received.add(new Received(event, args, ack));
            });
        }
    }

    public static TestClient connect(int port, String namespace, Map<String, String> auth, String query, boolean websocketOnly,
            String... events) {
        return connect(port, namespace, auth, query, websocketOnly ? new String[] {"websocket"} : null, events);
    }

    /** A client that stays on HTTP long-polling (no upgrade to WebSocket). */
    public static TestClient connectPolling(int port, String namespace, String token, String... events) {
        return connect(port, namespace, token == null ? null : Map.of("token", token), null, new String[] {"polling"},
                events);
    }

    private static TestClient connect(int port, String namespace, Map<String, String> auth, String query,
            String[] transports, String... events) {
        io.socket.client.SocketOptionBuilder options = IO.Options.builder()
                .setForceNew(true)
                .setReconnection(false)
                .setTimeout(10_000);
        if (auth != null) {
            options.setAuth(auth);
        }
        if (query != null) {
            options.setQuery(query);
        }
        if (transports != null) {
            options.setTransports(transports);
        }
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port + namespace), options.build());
        List<String> all = new ArrayList<>(Arrays.asList(events));
        all.add("batch");
        all.add("resync");
        TestClient client = new TestClient(socket, all);
        socket.connect();
        return client;
    }

    public static TestClient connect(int port, String namespace, String token, String... events) {
        return connect(port, namespace, token == null ? null : Map.of("token", token), null, true, events);
    }

    public String awaitConnected() throws Exception {
        return connected.get(10, TimeUnit.SECONDS);
    }

    public JSONObject awaitConnectError() throws Exception {
        return connectError.get(10, TimeUnit.SECONDS);
    }

    public Received next() throws InterruptedException {
        Received r = received.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no event received within 10 s");
        }
        return r;
    }

    /** Returns the next event if one arrives within {@code wait}, else null. */
    public Received poll(Duration wait) throws InterruptedException {
        return received.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        socket.off();
        socket.disconnect();
        socket.close();
    }
}
