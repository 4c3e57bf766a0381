package io.pushbridge.redis.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import io.pushbridge.redis.testing.RedisExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One gateway node routing site "chat" upstream through a real Redis, with real Socket.IO clients;
 * the tests play the application node with plain XRANGE and PUBLISH.
 */
class RedisUpstreamIntegrationTests {

    private static final String NODE = "gw-up-1";
    private static final String SITE = "chat";
    private static final int PARTITIONS = 4;
    private static final int MAX_LENGTH = 10;
    private static final int MAX_RECORD_SIZE = 2048;
    private static final Duration EVENT_TIMEOUT = Duration.ofMillis(500);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static final RedisKeys keys = new RedisKeys("up-test:");
    private static final UpstreamStreams streams = new UpstreamStreams(keys, PARTITIONS);

    private static RedisConnector connector;
    private static RedisConnector app;
    private static RedisUpstream upstream;
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        connector = RedisConnector.builder().uri(redis.uri()).build();
        app = RedisConnector.builder().uri(redis.uri()).build();
        upstream = RedisUpstream.builder(SITE, connector, keys)
                .partitions(PARTITIONS)
                .events(Set.of("say", "ask", "big"))
                .maxLength(MAX_LENGTH)
                .maxRecordSize(MAX_RECORD_SIZE)
                .build();
        SiteOptions site = upstream.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
        gateway = TestGateways.start(TestGateways.options().nodeId(NODE).eventTimeout(EVENT_TIMEOUT).maxPendingEvents(64).build(),
                b -> b.site(site).extension(upstream));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
        connector.close();
        app.close();
    }

    @Test
    void aClientsConnectEventAndDisconnectReachItsPartitionInOrder() throws Exception {
        TestClient client = TestClient.connect(gateway.port(), "/" + SITE, null, "token=rooms:lobby&lang=de", true);
        String socketId = client.awaitConnected();
        client.socket.emit("say", new JSONObject(Map.of("text", "hi")));
        awaitRecords(socketId, 2);
        client.close();
        List<UpstreamStreams.Entry> entries = awaitRecords(socketId, 3);

        assertThat(entries).extracting(e -> e.record().kind()).containsExactly(UpstreamRecord.Kind.CONNECTED,
                UpstreamRecord.Kind.EVENT, UpstreamRecord.Kind.DISCONNECTED);
        assertThat(entries).extracting(e -> e.record().newToApp()).containsExactly(true, false, false);
        for (UpstreamStreams.Entry entry : entries) {
            UpstreamRecord r = entry.record();
            assertThat(r.site()).isEqualTo(SITE);
            assertThat(r.socketId()).isEqualTo(socketId);
            assertThat(r.nodeId()).isEqualTo(NODE);
            assertThat(r.rooms()).containsExactly("lobby");
            assertThat(r.address()).isEqualTo("127.0.0.1");
            assertThat(r.query()).containsEntry("lang", List.of("de")).doesNotContainKey("token");
            assertThat(r.id()).isNotEmpty();
            assertThat(entry.replyTo()).isNull();
        }
        UpstreamRecord event = entries.get(1).record();
        assertThat(event.event()).isEqualTo("say");
        assertThat(event.args()).containsExactly(Map.of("text", "hi"));
        assertThat(event.ackRequested()).isFalse();
        assertThat(entries.get(2).record().reason()).isEqualTo("client namespace disconnect");
    }

    @Test
    void theApplicationsAnswerReachesTheClientsCallback() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            long replies = upstream.stats().get("replies");
            CompletableFuture<Object[]> answer = emitWithAck(client, "ask", new JSONObject().put("q", "answer me"));
            UpstreamStreams.Entry entry = awaitEvent(socketId, "ask");
            assertThat(entry.record().ackRequested()).isTrue();
            assertThat(entry.record().firstArg()).isEqualTo(Map.of("q", "answer me"));
            assertThat(entry.replyTo()).startsWith(NODE + "|");

            reply(new UpstreamStreams.Reply(replyId(entry), List.of(Map.of("ok", true)), null));
            JSONObject got = (JSONObject) answer.get(5, TimeUnit.SECONDS)[0];
            assertThat(got.getBoolean("ok")).isTrue();
            // counted once handed to the client, which may see it first
            await(() -> upstream.stats().get("replies") >= replies + 1, "the reply counted");
            assertThat(upstream.stats().get("replies")).isEqualTo(replies + 1);
            await(() -> upstream.stats().get("pending") == 0, "the answered event is forgotten");
        }
    }

    @Test
    void anApplicationFailureAnswersTheCallbackWithError() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            CompletableFuture<Object[]> answer = emitWithAck(client, "ask", new JSONObject().put("q", "fail"));
            UpstreamStreams.Entry entry = awaitEvent(socketId, "ask");
            reply(new UpstreamStreams.Reply(replyId(entry), List.of(), "error"));
            assertThat(errorCode(answer)).isEqualTo("error");
        }
    }

    @Test
    void noAnswerTimesOutAndALateAnswerIsCountedAndIgnored() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            long late = upstream.stats().get("replies_late");
            CompletableFuture<Object[]> answer = emitWithAck(client, "ask", new JSONObject().put("q", "silence"));
            UpstreamStreams.Entry entry = awaitEvent(socketId, "ask");
            assertThat(errorCode(answer)).isEqualTo("timeout");
            await(() -> upstream.stats().get("pending") == 0, "the event is forgotten after the timeout and a second");

            reply(new UpstreamStreams.Reply(replyId(entry), List.of("too late"), null));
            await(() -> upstream.stats().get("replies_late") == late + 1, "the late answer is counted");
            assertThat(client.poll(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void onlyTheListedEventsAreAppended() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            assertThat(errorCode(emitWithAck(client, "other", new JSONObject()))).isEqualTo("unknown_event");
            client.socket.emit("say", "listed");
            List<UpstreamStreams.Entry> entries = awaitRecords(socketId, 2);
            assertThat(entries).extracting(e -> e.record().event()).containsExactly(null, "say");
        }
    }

    @Test
    void anOversizedRecordIsRefusedAndNotAppended() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            long appended = upstream.stats().get("appended");
            CompletableFuture<Object[]> answer = emitWithAck(client, "big", "x".repeat(MAX_RECORD_SIZE));
            assertThat(errorCode(answer)).isEqualTo("too_large");
            assertThat(upstream.stats().get("appended")).isEqualTo(appended);
            assertThat(records(socketId)).extracting(e -> e.record().kind()).containsExactly(UpstreamRecord.Kind.CONNECTED);
        }
    }

    @Test
    void malformedAnswersAreDroppedAndCountedAndTheSubscriptionGoesOn() throws Exception {
        long dropped = upstream.stats().get("replies_dropped");
        CBORMapper cbor = new CBORMapper();
        List<byte[]> malformed = List.of(
                "not cbor".getBytes(StandardCharsets.UTF_8),
                new byte[0],
                cbor.writeValueAsBytes(List.of(1, 2)),
                cbor.writeValueAsBytes(Map.of("v", 99, "id", "x", "ar", List.of())),
                cbor.writeValueAsBytes(Map.of("v", 1, "ar", List.of())),
                cbor.writeValueAsBytes(Map.of("v", 1, "id", "x", "ar", "not a list")));
        for (byte[] message : malformed) {
            assertThat(publish(message)).isEqualTo(1);
        }
        await(() -> upstream.stats().get("replies_dropped") == dropped + malformed.size(), "the malformed answers dropped");

        try (TestClient client = connect()) {
            String socketId = announced(client);
            CompletableFuture<Object[]> answer = emitWithAck(client, "ask", "still there?");
            reply(new UpstreamStreams.Reply(replyId(awaitEvent(socketId, "ask")), List.of("yes"), null));
            assertThat(answer.get(5, TimeUnit.SECONDS)).containsExactly("yes");
        }
    }

    @Test
    void eachPartitionStreamIsCappedAtMaxLength() throws Exception {
        try (TestClient client = connect()) {
            String socketId = announced(client);
            long appended = upstream.stats().get("appended");
            for (int i = 0; i < 50; i++) {
                client.socket.emit("say", i);
            }
            await(() -> upstream.stats().get("appended") >= appended + 50, "50 events appended");
            byte[] stream = bytes(streams.stream(SITE, streams.partition(socketId)));
            assertThat(app.commands().xlen(stream).get(5, TimeUnit.SECONDS)).isEqualTo(MAX_LENGTH);
            List<UpstreamStreams.Entry> kept = records(socketId);
            assertThat(kept).hasSize(MAX_LENGTH);
            assertThat(kept.get(MAX_LENGTH - 1).record().firstArg()).as("the newest are kept").isEqualTo(49);
        }
    }

    @Test
    void whileRedisIsDownEventsFailAndAfterItsRestartTheClientIsAnnouncedAgain() throws Exception {
        try (TestClient early = connect()) {
            announced(early);
            long failures = upstream.stats().get("append_failures");
            redis.server().kill();
            await(() -> connector.ping().toCompletableFuture().handle((pong, failure) -> failure != null).join(),
                    "the gateway's connection sees Redis gone");

            assertThat(errorCode(emitWithAck(early, "ask", "anyone?"))).isEqualTo("error");
            try (TestClient client = connect()) {
                String socketId = client.awaitConnected();
                await(() -> upstream.stats().get("append_failures") >= failures + 2, "the event and the connect failed");

                redis.server().restart();
                String channel = streams.replyChannel(NODE);
                await(() -> redis.server().command("PUBSUB", "NUMSUB", channel).equals(channel + "\n1"),
                        "the reply channel is subscribed again");
                await(() -> connector.ping().toCompletableFuture().handle((pong, failure) -> failure == null).join(),
                        "the gateway's connection is back");

                CompletableFuture<Object[]> answer = emitWithAck(client, "ask", "back?");
                UpstreamStreams.Entry first = awaitEvent(socketId, "ask");
                assertThat(first.record().newToApp()).as("its CONNECTED record was lost").isTrue();
                reply(new UpstreamStreams.Reply(replyId(first), List.of("back"), null));
                assertThat(answer.get(5, TimeUnit.SECONDS)).containsExactly("back");

                client.socket.emit("say", "announced now");
                List<UpstreamStreams.Entry> entries = awaitRecords(socketId, 2);
                assertThat(entries).extracting(e -> e.record().newToApp()).containsExactly(true, false);
            }
        }
    }

    @Test
    void theBuilderRefusesSettingsThatCannotWorkAndApplyToRegistersEveryEventByDefault() {
        assertThatThrownBy(() -> RedisUpstream.builder(SITE, connector, keys).partitions(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partitions must be 1..1024, was 0");
        assertThatThrownBy(() -> RedisUpstream.builder(SITE, connector, keys).events(Set.of("connect")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'connect'");
        assertThatThrownBy(() -> RedisUpstream.builder(SITE, connector, keys).maxLength(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxLength");
        assertThatThrownBy(() -> RedisUpstream.builder(SITE, connector, keys).maxRecordSize(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRecordSize");

        RedisUpstream every = RedisUpstream.builder(SITE, connector, keys).build();
        SiteOptions site = every.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
        assertThat(site.anyEventHandler()).isSameAs(every);
        assertThat(site.eventHandlers()).isEmpty();
        assertThat(site.listeners()).containsExactly(every);

        SiteOptions listed = upstream.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
        assertThat(listed.anyEventHandler()).isNull();
        assertThat(listed.eventHandlers().keySet()).containsExactlyInAnyOrder("say", "ask", "big");
    }

    // ---- the application's side ----------------------------------------------------------------

    private static TestClient connect() {
        return TestClient.connect(gateway.port(), "/" + SITE, null, "token=rooms:lobby", true);
    }

    /** The client's socket id, once its CONNECTED record is in the stream. */
    private static String announced(TestClient client) throws Exception {
        String socketId = client.awaitConnected();
        awaitRecords(socketId, 1);
        return socketId;
    }

    /** The records of one socket in its partition's stream, oldest first. */
    private static List<UpstreamStreams.Entry> records(String socketId) throws Exception {
        byte[] stream = bytes(streams.stream(SITE, streams.partition(socketId)));
        List<StreamMessage<byte[], byte[]>> messages = app.commands().xrange(stream, Range.create("-", "+"))
                .get(5, TimeUnit.SECONDS);
        List<UpstreamStreams.Entry> out = new ArrayList<>();
        for (StreamMessage<byte[], byte[]> message : messages) {
            assertThat(message.getBody()).hasSize(1);
            Map.Entry<byte[], byte[]> field = message.getBody().entrySet().iterator().next();
            assertThat(new String(field.getKey(), StandardCharsets.UTF_8)).isEqualTo(UpstreamStreams.FIELD);
            UpstreamStreams.Entry entry = UpstreamStreams.decode(field.getValue(), message.getId());
            if (entry.record().socketId().equals(socketId)) {
                out.add(entry);
            }
        }
        return out;
    }

    /** Waits until the socket has at least {@code n} records, and returns them. */
    private static List<UpstreamStreams.Entry> awaitRecords(String socketId, int n) throws Exception {
        return awaitValue(() -> records(socketId), list -> list.size() >= n, socketId + " has " + n + " records");
    }

    /** Waits for the socket's latest record of this event. */
    private static UpstreamStreams.Entry awaitEvent(String socketId, String event) throws Exception {
        List<UpstreamStreams.Entry> entries = awaitValue(() -> records(socketId),
                list -> !list.isEmpty() && event.equals(list.get(list.size() - 1).record().event()),
                socketId + " emitted " + event);
        return entries.get(entries.size() - 1);
    }

    private static String replyId(UpstreamStreams.Entry entry) {
        String replyTo = entry.replyTo();
        assertThat(replyTo).isNotNull();
        return replyTo.substring(replyTo.lastIndexOf('|') + 1);
    }

    private static void reply(UpstreamStreams.Reply reply) throws Exception {
        assertThat(publish(UpstreamStreams.encode(reply))).as("the gateway listens on its reply channel").isEqualTo(1);
    }

    private static long publish(byte[] message) throws Exception {
        return app.commands().publish(bytes(streams.replyChannel(NODE)), message).get(5, TimeUnit.SECONDS);
    }

    private static CompletableFuture<Object[]> emitWithAck(TestClient client, String event, Object arg) {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        client.socket.emit(event, new Object[] {arg}, answer::complete);
        return answer;
    }

    private static String errorCode(CompletableFuture<Object[]> answer) throws Exception {
        return ((JSONObject) answer.get(5, TimeUnit.SECONDS)[0]).getJSONObject("error").getString("code");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @FunctionalInterface
    private interface Probe<T> {
        T get() throws Exception;
    }

    private static void await(Supplier<Boolean> condition, String what) throws Exception {
        awaitValue(condition::get, Boolean::booleanValue, what);
    }

    /** Polls every 10 ms for up to 10 s; failures of the probe (Redis restarting) count as not yet. */
    private static <T> T awaitValue(Probe<T> probe, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                T value = probe.get();
                if (done.test(value)) {
                    return value;
                }
            } catch (ExecutionException | RuntimeException e) {
                last = e;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("timed out waiting until " + what, last);
    }
}
