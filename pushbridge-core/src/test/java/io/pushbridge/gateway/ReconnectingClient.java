package io.pushbridge.gateway;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Manager;
import io.socket.client.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.json.JSONArray;

/**
 * A real Java Socket.IO client with reconnection on (as applications run it), which records its
 * connects, disconnect reasons and reconnect attempts, and every message it gets, live or in a
 * {@code batch}. With {@code autoAck} it acks each message (and each batch) as it arrives, as a
 * well-behaved application does. Public (and in the test-jar) for the multi-node tests.
 */
public final class ReconnectingClient implements AutoCloseable {

    /** One message received: its event, its arguments, whether it came in a {@code batch}. */
    public record Received(String event, List<Object> args, boolean batched) {
    }

    public final Socket socket;
    public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    /** The socket id of each connect, in order. */
    public final List<String> connects = new CopyOnWriteArrayList<>();
    /** The reason of each disconnect, in order ({@code transport close}, {@code io server disconnect}, ...). */
    public final List<String> disconnects = new CopyOnWriteArrayList<>();
    public final List<String> connectErrors = new CopyOnWriteArrayList<>();
    public final AtomicInteger reconnectAttempts = new AtomicInteger();
    private final boolean autoAck;

    private ReconnectingClient(Socket socket, String event, boolean autoAck) {
        this.socket = socket;
        this.autoAck = autoAck;
        socket.on(Socket.EVENT_CONNECT, a -> connects.add(socket.id()));
        socket.on(Socket.EVENT_DISCONNECT, a -> disconnects.add(a.length > 0 ? String.valueOf(a[0]) : ""));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> connectErrors.add(a.length > 0 ? String.valueOf(a[0]) : ""));
        socket.io().on(Manager.EVENT_RECONNECT_ATTEMPT, a -> reconnectAttempts.incrementAndGet());
        socket.on(event, a -> {
            Ack ack = a.length > 0 && a[a.length - 1] instanceof Ack k ? k : null;
            received.add(new Received(event, new ArrayList<>(Arrays.asList(a).subList(0, ack == null ? a.length : a.length - 1)),
                    false));
            if (ack != null && autoAck) {
                ack.call();
            }
        });
        socket.on("batch", a -> {
            Ack ack = a.length > 0 && a[a.length - 1] instanceof Ack k ? k : null;
            JSONArray entries = (JSONArray) a[0];
            try {
                for (int i = 0; i < entries.length(); i++) {
                    JSONArray entry = entries.getJSONArray(i);
                    List<Object> args = new ArrayList<>();
                    for (int j = 1; j < entry.length(); j++) {
                        args.add(entry.get(j));
                    }
                    received.add(new Received(entry.getString(0), args, true));
                }
            } catch (org.json.JSONException e) {
                throw new IllegalStateException("a malformed batch: " + entries, e);
            }
            if (ack != null && autoAck) {
                ack.call();
            }
        });
    }

    /**
     * Connects to {@code http://127.0.0.1:<port><namespace>} with {@code auth.token}, over the given
     * transports ({@code websocket}, {@code polling}), reconnecting 100 to 300 ms after a transport
     * close; records {@code event} messages (and batches).
     */
    public static ReconnectingClient connect(int port, String namespace, String token, String[] transports, String event,
            boolean autoAck) {
        IO.Options options = IO.Options.builder()
                .setForceNew(true)
                .setReconnection(true)
                .setReconnectionDelay(200)
                .setReconnectionDelayMax(300)
                .setRandomizationFactor(0.5)
                .setTimeout(5_000)
                .setTransports(transports)
                .setAuth(Map.of("token", token))
                .build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port + namespace), options);
        ReconnectingClient client = new ReconnectingClient(socket, event, autoAck);
        socket.connect();
        return client;
    }

    @Override
    public void close() {
        socket.off();
        socket.io().off();
        socket.disconnect();
        socket.close();
    }
}
