package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.SocketListener;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.json.JSONArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The site's {@code maxBufferedBytes} against clients that stop reading: a raw WebSocket client
 * that never reads its socket again (bytes pile up in Netty's outbound buffer) and a long-polling
 * client that never polls again (packets pile up in netty-socketio's session queue). Beyond the
 * limit the connection is closed, counted and logged; the user queue keeps every message, and the
 * client gets them all in its batch when it reconnects.
 */
class SlowClientIntegrationTests {

    private static final int LIMIT = 64 * 1024;
    private static final String PAYLOAD = "p".repeat(4096);

    private static InMemoryMessageStore store;
    private static PushBridgeGateway gateway;
    private static final BlockingQueue<String> reasons = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() {
        store = TestGateways.memoryStore();
        SocketListener listener = new SocketListener() {
            @Override
            public CompletionStage<Void> disconnected(ConnectionInfo socket, String reason) {
                reasons.add(socket.socketId() + " " + reason);
                return CompletableFuture.completedFuture(null);
            }
        };
        // a client that does not poll must outlive the test: long ping timings
        gateway = TestGateways.start(TestGateways.options().pingInterval(Duration.ofSeconds(60))
                .pingTimeout(Duration.ofSeconds(60)).build(), b -> b
                .site(TestGateways.newsSite())
                .site(SiteOptions.builder("slow").authorizer(TestGateways.ROOMS_FROM_TOKEN).listener(listener)
                        .limits(SiteLimits.builder().maxBufferedBytes(LIMIT).build()).build())
                .store(store));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    /** Sends 4 KB messages to the room until the limit is hit; returns how many were sent (all accepted). */
    private static int sendUntilClosed(String room) throws Exception {
        return sendUntilClosed(room, PAYLOAD);
    }

    /** Sends messages with this payload to the room until the limit is hit; returns how many were sent (all accepted). */
    private static int sendUntilClosed(String room, String payload) throws Exception {
        long hits = gateway.stats().get("limits.slow.buffered_bytes");
        for (int i = 1; i <= 20_000; i++) {
            gateway.pushTemplate().site("slow").to(room).event("ev").args(i, payload).send().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            if (gateway.stats().get("limits.slow.buffered_bytes") > hits) {
                return i;
            }
        }
        throw new AssertionError("the limit was never hit");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The site's listeners heard a socket end with this reason (others, of other tests, are skipped). */
    private static void awaitReason(String reason) throws InterruptedException {
        String heard;
        do {
            heard = reasons.poll(10, TimeUnit.SECONDS);
            assertThat(heard).as("a socket that ended with '%s'", reason).isNotNull();
        } while (!heard.endsWith(" " + reason));
    }

    /** Reconnects with a real Socket.IO client: its batch holds every message, in order; its ack empties the queue. */
    private static void reconnectGetsEverything(String room, int sent, boolean polling) throws Exception {
        UserQueue queue = new UserQueue("slow", room);
        try (TestClient client = polling ? TestClient.connectPolling(gateway.port(), "/slow", "rooms:" + room, "ev")
                : TestClient.connect(gateway.port(), "/slow", "rooms:" + room, "ev")) {
            client.awaitConnected();
            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            JSONArray events = (JSONArray) batch.args().get(0);
            assertThat(events.length()).isEqualTo(sent);
            for (int i = 0; i < sent; i++) {
                assertThat(events.getJSONArray(i).getInt(1)).isEqualTo(i + 1);
            }
            batch.ackNow();
            await(() -> store.depth(queue) == 0, "the batch's ack emptied the queue");
        }
    }

    @Test
    void aWebSocketClientThatStopsReadingIsDisconnectedAndItsQueueKeepsEverything() throws Exception {
        long closedBefore = gateway.stats().get("sessions.closed_too_slow");
        int sent;
        try (StalledWebSocket stalled = StalledWebSocket.connect(gateway.port(), "/slow", "rooms:user_w1")) {
            await(() -> gateway.connectionCount("slow") == 1, "the raw client is connected");
            sent = sendUntilClosed("user_w1");
            await(() -> gateway.connectionCount("slow") == 0, "the slow socket is gone");
            assertThat(gateway.stats().get("sessions.closed_too_slow")).isEqualTo(closedBefore + 1);
            awaitReason("client too slow");
            // the client sees its connection end once it reads again
            assertThat(stalled.readsToTheEnd()).isTrue();
        }
        assertThat(sent).as("more than the limit was sent before the limit was hit").isGreaterThan(LIMIT / PAYLOAD.length());
        assertThat(store.depth(new UserQueue("slow", "user_w1"))).as("nothing was removed from the queue").isEqualTo(sent);
        reconnectGetsEverything("user_w1", sent, false);
        assertThat(gateway.stats().get("limits.news.buffered_bytes")).isZero();
    }

    @Test
    void aPollingClientThatStopsPollingIsDisconnectedAndItsQueueKeepsEverything() throws Exception {
        long closedBefore = gateway.stats().get("sessions.closed_too_slow");
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), sid, "40/slow,{\"token\":\"rooms:user_p1\"}");
        assertThat(RawClient.text(RawClient.pollGet(gateway.port(), sid))).startsWith("40/slow,");
        // from here it never polls: packets wait in the session's queue
        int sent = sendUntilClosed("user_p1");
        assertThat(sent).as("the queued packets' estimate is close to their size")
                .isBetween(LIMIT / (PAYLOAD.length() + 100), LIMIT / PAYLOAD.length() + 2);
        await(() -> gateway.connectionCount("slow") == 0, "the slow socket is gone");
        assertThat(gateway.stats().get("sessions.closed_too_slow")).isEqualTo(closedBefore + 1);
        awaitReason("client too slow");
        // its next poll finds the session gone, so a Socket.IO client reconnects
        assertThat(RawClient.pollGet(gateway.port(), sid).statusCode()).isEqualTo(400);
        assertThat(store.depth(new UserQueue("slow", "user_p1"))).isEqualTo(sent);
        reconnectGetsEverything("user_p1", sent, true);
    }

    /**
     * Messages under 1/64 of the limit are checked against a measurement of the backlog made at
     * most 16 messages earlier: a client that stops polling is cut off after at most 15 more of them
     * than an exact check allows, and its queue still keeps everything.
     */
    @Test
    void smallMessagesAreCheckedAgainstARecentMeasurementAndCutOffWithinItsBound() throws Exception {
        String small = "s".repeat(500);
        assertThat(small.length()).isLessThan(LIMIT / SiteSocket.MEASURE_LARGE);
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), sid, "40/slow,{\"token\":\"rooms:user_p2\"}");
        assertThat(RawClient.text(RawClient.pollGet(gateway.port(), sid))).startsWith("40/slow,");
        int sent = sendUntilClosed("user_p2", small);
        // an exact check cuts it off after LIMIT / (the packet's estimate) messages; the estimate is a little over the payload
        assertThat(sent).isBetween(LIMIT / (small.length() + 100), LIMIT / small.length() + SiteSocket.MEASURE_EVERY);
        await(() -> gateway.connectionCount("slow") == 0, "the slow socket is gone");
        awaitReason("client too slow");
        assertThat(store.depth(new UserQueue("slow", "user_p2"))).isEqualTo(sent);
        reconnectGetsEverything("user_p2", sent, true);
    }

    /**
     * A backlog four times the limit goes out as one {@code batch} on reconnect. Live messages that
     * follow while the batch still waits for a slow (polling) client do not cut it off: the batch
     * does not count until acked, and the client gets everything. A client that never reads its
     * batch is still cut off once live messages pile up behind it.
     */
    @Test
    void aBacklogLargerThanTheLimitReachesAClientThatReadsItSlowly() throws Exception {
        int backlog = 4 * LIMIT / PAYLOAD.length();
        for (String room : java.util.List.of("user_b1", "user_b2")) {
            for (int i = 1; i <= backlog; i++) {
                gateway.pushTemplate().site("slow").to(room).event("ev").args(i, PAYLOAD).send().toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
            }
        }
        long closedBefore = gateway.stats().get("sessions.closed_too_slow");
        String sid = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), sid, "40/slow,{\"token\":\"rooms:user_b1\"}");
        await(() -> gateway.connectionCount("slow") == 1, "the polling client is admitted");
        // it polls nothing yet: its batch waits in the session's queue while live messages follow
        int live = 3;
        for (int i = backlog + 1; i <= backlog + live; i++) {
            gateway.pushTemplate().site("slow").to("user_b1").event("ev").args(i, PAYLOAD).send().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        }
        // now it reads, and acks what it gets
        java.util.List<Integer> received = new java.util.ArrayList<>();
        java.util.regex.Pattern event = java.util.regex.Pattern.compile("^42/slow,(\\d+)(\\[.*)$", java.util.regex.Pattern.DOTALL);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.size() < backlog + live) {
            assertThat(System.nanoTime()).as("everything arrived in time").isLessThan(deadline);
            HttpResponse<byte[]> poll = RawClient.pollGet(gateway.port(), sid);
            assertThat(poll.statusCode()).as("the session is alive").isEqualTo(200);
            for (String packet : RawClient.packets(poll)) {
                java.util.regex.Matcher m = event.matcher(packet);
                if (!m.matches()) {
                    continue;
                }
                JSONArray data = new JSONArray(m.group(2));
                if (data.getString(0).equals("batch")) {
                    JSONArray events = data.getJSONArray(1);
                    for (int i = 0; i < events.length(); i++) {
                        received.add(events.getJSONArray(i).getInt(1));
                    }
                } else {
                    received.add(data.getInt(1));
                }
                RawClient.pollPost(gateway.port(), sid, "43/slow," + m.group(1) + "[]");
            }
        }
        assertThat(received).as("every message once, in order")
                .isEqualTo(java.util.stream.IntStream.rangeClosed(1, backlog + live).boxed().toList());
        await(() -> store.depth(new UserQueue("slow", "user_b1")) == 0, "the acks emptied the queue");
        assertThat(gateway.stats().get("sessions.closed_too_slow")).as("never cut off").isEqualTo(closedBefore);
        RawClient.pollPost(gateway.port(), sid, "41/slow,");
        await(() -> gateway.connectionCount("slow") == 0, "the client left");

        // a client that never reads its batch: cut off once live messages behind it exceed the limit
        String stalled = RawClient.pollHandshake(gateway.port(), Map.of());
        RawClient.pollPost(gateway.port(), stalled, "40/slow,{\"token\":\"rooms:user_b2\"}");
        await(() -> gateway.connectionCount("slow") == 1, "the stalled client is admitted");
        int sent = sendUntilClosed("user_b2");
        assertThat(sent).as("live messages beyond the limit were sent first").isGreaterThan(LIMIT / PAYLOAD.length());
        await(() -> gateway.connectionCount("slow") == 0, "the stalled socket is gone");
        assertThat(gateway.stats().get("sessions.closed_too_slow")).isEqualTo(closedBefore + 1);
        assertThat(store.depth(new UserQueue("slow", "user_b2"))).isEqualTo(backlog + sent);
    }

    @Test
    void aClientThatKeepsUpIsNeverDisconnected() throws Exception {
        long hits = gateway.stats().get("limits.slow.buffered_bytes");
        try (TestClient client = TestClient.connect(gateway.port(), "/slow", "rooms:user_f1", "ev")) {
            client.awaitConnected();
            // ten times the limit in all, one message at a time: it never waits beyond the limit
            for (int i = 1; i <= 10 * LIMIT / PAYLOAD.length(); i++) {
                gateway.pushTemplate().site("slow").to("user_f1").event("ev").args(i, PAYLOAD).send().toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                TestClient.Received got = client.next();
                assertThat(got.args().get(0)).isEqualTo(i);
                got.ackNow();
            }
            assertThat(client.disconnected).isNotDone();
        }
        assertThat(gateway.stats().get("limits.slow.buffered_bytes")).isEqualTo(hits);
    }

    /**
     * A WebSocket client over a plain TCP socket with a small receive buffer: it does the handshake,
     * connects to a namespace, then reads nothing more until {@link #readsToTheEnd}.
     */
    private static final class StalledWebSocket implements AutoCloseable {

        private final Socket socket;
        private final InputStream in;

        private StalledWebSocket(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        static StalledWebSocket connect(int port, String namespace, String token) throws Exception {
            Socket socket = new Socket();
            socket.setReceiveBufferSize(4096);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            StalledWebSocket client = new StalledWebSocket(socket);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                    + Base64.getEncoder().encodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = client.readHeaders();
            assertThat(status).startsWith("HTTP/1.1 101");
            assertThat(client.readText()).startsWith("0{");
            client.writeText(out, "40" + namespace + ",{\"token\":\"" + token + "\"}");
            String answer;
            do {
                answer = client.readText();
            } while (!answer.startsWith("40" + namespace + ","));
            return client;
        }

        private String readHeaders() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed during the handshake");
                }
                head.write(b);
                matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                        ? matched + 1 : 0;
            }
            return head.toString(StandardCharsets.US_ASCII);
        }

        /** Reads one server frame (unmasked, unfragmented), returns its text. */
        private String readText() throws IOException {
            int b0 = readByte();
            int b1 = readByte();
            long length = b1 & 0x7f;
            if (length == 126) {
                length = (readByte() << 8) | readByte();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | readByte();
                }
            }
            byte[] payload = in.readNBytes((int) length);
            if ((b0 & 0x0f) == 0x9) {
                return readText(); // a WebSocket ping: skipped
            }
            return new String(payload, StandardCharsets.UTF_8);
        }

        private int readByte() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed");
            }
            return b;
        }

        private void writeText(OutputStream out, String text) throws IOException {
            byte[] payload = text.getBytes(StandardCharsets.UTF_8);
            byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x81);
            if (payload.length < 126) {
                frame.write(0x80 | payload.length);
            } else {
                frame.write(0x80 | 126);
                frame.write(payload.length >> 8);
                frame.write(payload.length & 0xff);
            }
            frame.write(mask);
            for (int i = 0; i < payload.length; i++) {
                frame.write(payload[i] ^ mask[i % 4]);
            }
            out.write(frame.toByteArray());
            out.flush();
        }

        /** Reads whatever the server still sent, until the connection ends; whether it ended. */
        boolean readsToTheEnd() {
            byte[] buffer = new byte[64 * 1024];
            try {
                while (in.read(buffer) >= 0) {
                    // discard
                }
                return true;
            } catch (java.net.SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true; // reset: ended too
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
