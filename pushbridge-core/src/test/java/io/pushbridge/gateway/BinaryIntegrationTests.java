package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.SendBuilder;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Server-to-client binary (W2): netty-socketio frames attachments the Engine.IO 3 way (a leading
 * {@code 0x04} over WebSocket, the v2 binary payload over polling); v4 clients must get the bytes
 * intact over both transports.
 */
class BinaryIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Starts with 0x04 (the byte netty-socketio prepends) so that a double strip would show. */
    private static final byte[] SMALL = {4, 4, 1, 2, 3, (byte) 0xff, 0, 0x1e, 'b'};

    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        store = TestGateways.memoryStore();
        SiteOptions bin = SiteOptions.builder("bin").authorizer(TestGateways.ROOMS_FROM_TOKEN).build();
        gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(bin).store(store));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @Test
    void javaClientOverWebSocketGetsTheBytesIntact() throws Exception {
        byte[] large = new byte[64 * 1024];
        new Random(7).nextBytes(large);
        large[0] = 4;
        try (TestClient client = TestClient.connect(gateway.port(), "/bin", "rooms:binws", "blob")) {
            client.awaitConnected();
            send(gateway.pushTemplate().site("bin").to("binws").event("blob").args("small", SMALL, Map.of("k", 1)));
            TestClient.Received small = client.next();
            assertThat(small.args()).hasSize(3);
            assertThat(small.args().get(0)).isEqualTo("small");
            assertThat(small.args().get(1)).isInstanceOf(byte[].class);
            assertThat((byte[]) small.args().get(1)).containsExactly(SMALL);
            assertThat(((JSONObject) small.args().get(2)).getInt("k")).isEqualTo(1);

            send(gateway.pushTemplate().site("bin").to("binws").event("blob").args(large, new byte[0]));
            TestClient.Received two = client.next();
            assertThat(two.args()).hasSize(2);
            assertThat((byte[]) two.args().get(0)).isEqualTo(large);
            assertThat((byte[]) two.args().get(1)).isEmpty();
        }
    }

    @Test
    void rawBinaryFrameHasNoLeadingEngineIo3Byte() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            raw.join("/bin", "{\"token\":\"rooms:binraw\"}");
            send(gateway.pushTemplate().site("bin").to("binraw").event("blob").args(SMALL));
            Object header = raw.nextFrame(WAIT);
            assertThat(header).isEqualTo("451-/bin,[\"blob\",{\"_placeholder\":true,\"num\":0}]");
            Object attachment = raw.nextFrame(WAIT);
            assertThat(attachment).isInstanceOf(byte[].class);
            assertThat((byte[]) attachment).containsExactly(SMALL);
        }
    }

    @Test
    void queuedBinaryArrivesInTheReconnectBatchOverWebSocket() throws Exception {
        send(gateway.pushTemplate().site("bin").to("user_binq").event("blob").args("q", SMALL));
        UserQueue queue = new UserQueue("bin", "user_binq");
        assertThat(store.depth(queue)).isEqualTo(1);
        try (TestClient client = TestClient.connect(gateway.port(), "/bin", "rooms:user_binq", "blob")) {
            client.awaitConnected();
            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            JSONArray events = (JSONArray) batch.args().get(0);
            assertThat(events.length()).isEqualTo(1);
            JSONArray entry = events.getJSONArray(0);
            assertThat(entry.getString(0)).isEqualTo("blob");
            assertThat(entry.getString(1)).isEqualTo("q");
            assertThat(entry.get(2)).isInstanceOf(byte[].class);
            assertThat((byte[]) entry.get(2)).containsExactly(SMALL);
            batch.ackNow();
            awaitDepth(queue, 0);
        }
    }

    /**
     * Over long-polling netty-socketio writes the Engine.IO 2/3 binary payload ({@code \x01<len>\xff\x04<bytes>}
     * glued to the text packet), which a v4 client cannot read. The gateway's payload is Engine.IO 4:
     * text packets separated by {@code \x1e}, each attachment as {@code b<base64>}.
     */
    @Test
    void pollingPayloadWithBinaryStaysEngineIo4() throws Exception {
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), sid, "40/bin,{\"token\":\"rooms:binpoll\"}");
        assertThat(RawClient.text(RawClient.pollGet(gateway.port(), sid))).startsWith("40/bin,{");
        send(gateway.pushTemplate().site("bin").to("binpoll").event("blob").args(SMALL));
        send(gateway.pushTemplate().site("bin").to("binpoll").event("after").args("text"));
        List<String> packets = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!packets.contains("42/bin,[\"after\",\"text\"]") && System.nanoTime() < deadline) {
            HttpResponse<byte[]> response = RawClient.pollGet(gateway.port(), sid);
            assertThat(response.statusCode()).isEqualTo(200);
            packets.addAll(RawClient.packets(response));
        }
        assertThat(packets).contains("42/bin,[\"after\",\"text\"]");
        assertThat(packets).anySatisfy(p -> assertThat(p).startsWith("451-/bin,"));
        for (int i = 0; i < packets.size(); i++) {
            String packet = packets.get(i);
            assertThat(packet).as("packet %s of %s", i, packets).matches("[0-6b].*");
            assertThat(packet.chars().allMatch(c -> c >= 0x20)).as("control bytes in %s", packet).isTrue();
            if (packet.startsWith("451-")) {
                assertThat(packets.get(i + 1)).startsWith("b");
                assertThat(Base64.getDecoder().decode(packets.get(i + 1).substring(1))).containsExactly(SMALL);
            }
        }
        RawClient.pollPost(gateway.port(), sid, "1");
    }

    /** The Java client on long-polling only gets the bytes intact, and the session stays up. */
    @Test
    void javaClientOnLongPollingGetsTheBytesIntact() throws Exception {
        BlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
        CompletableFuture<Void> connected = new CompletableFuture<>();
        CompletableFuture<String> disconnected = new CompletableFuture<>();
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false)
                .setTransports(new String[] {"polling"}).setAuth(Map.of("token", "rooms:user_binp")).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + gateway.port() + "/bin"), options);
        socket.on(Socket.EVENT_CONNECT, a -> connected.complete(null));
        socket.on(Socket.EVENT_DISCONNECT, a -> disconnected.complete(Arrays.toString(a)));
        socket.on("blob", a -> received.add(a));
        socket.on("after", a -> received.add(new Object[] {"after"}));
        socket.connect();
        try {
            connected.get(10, TimeUnit.SECONDS);
            send(gateway.pushTemplate().site("bin").to("user_binp").event("blob").args(SMALL));
            send(gateway.pushTemplate().site("bin").to("user_binp").event("after").args("text"));
            Object[] first = received.poll(10, TimeUnit.SECONDS);
            assertThat(first).as("the binary event arrives over polling").isNotNull();
            assertThat(first[0]).isInstanceOf(byte[].class);
            assertThat((byte[]) first[0]).containsExactly(SMALL);
            assertThat(received.poll(10, TimeUnit.SECONDS)).containsExactly("after");
            assertThat(socket.connected()).isTrue();
            assertThat(disconnected).isNotDone();
        } finally {
            socket.off();
            socket.close();
        }
    }

    private static void send(SendBuilder builder) throws Exception {
        builder.send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static void awaitDepth(UserQueue queue, int depth) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (store.depth(queue) != depth && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(store.depth(queue)).isEqualTo(depth);
    }
}
