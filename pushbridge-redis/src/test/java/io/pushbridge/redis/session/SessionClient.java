package io.pushbridge.redis.session;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;

/**
 * A Java Socket.IO client as the old {@code yunity-sockets} README shows one: connects to the root
 * namespace on a given Engine.IO path, emits {@code authenticate}, records {@code message} events.
 */
public final class SessionClient implements AutoCloseable {

    public final Socket socket;
    public final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<String> connected = new CompletableFuture<>();

    private SessionClient(Socket socket) {
        this.socket = socket;
        socket.on(Socket.EVENT_CONNECT, a -> connected.complete(socket.id()));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> connected.completeExceptionally(
                new IllegalStateException("connect error: " + (a.length > 0 ? a[0] : ""))));
        socket.on("message", a -> messages.add(a.length > 0 ? a[0] : JSONObject.NULL));
    }

    /** Connects to {@code http://127.0.0.1:port/} with {@code opts.path = path} and waits for the connection. */
    public static SessionClient connect(int port, String path) throws Exception {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setTimeout(10_000)
                .setTransports(new String[] {"websocket"}).build();
        options.path = path;
        SessionClient client = new SessionClient(IO.socket(URI.create("http://127.0.0.1:" + port), options));
        client.socket.connect();
        client.connected.get(10, TimeUnit.SECONDS);
        return client;
    }

    public String id() {
        return socket.id();
    }

    /** Emits {@code authenticate {sessionId}} and returns the callback's first argument. */
    public JSONObject authenticate(Object sessionId) throws Exception {
        return emitWithAck(new JSONObject().put("sessionId", sessionId));
    }

    /** Emits {@code authenticate} with this argument and returns the callback's first argument. */
    public JSONObject emitWithAck(Object arg) throws Exception {
        CompletableFuture<JSONObject> answer = new CompletableFuture<>();
        socket.emit("authenticate", new Object[] {arg}, (Ack) a -> answer.complete((JSONObject) a[0]));
        return answer.get(10, TimeUnit.SECONDS);
    }

    /** The next {@code message} event's argument; fails after 5 s. */
    public Object nextMessage() throws InterruptedException {
        Object m = messages.poll(5, TimeUnit.SECONDS);
        if (m == null) {
            throw new AssertionError("no message within 5 s");
        }
        return m;
    }

    /** The next message within {@code wait}, or null. */
    public Object poll(Duration wait) throws InterruptedException {
        return messages.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        socket.off();
        socket.disconnect();
        socket.close();
    }
}
