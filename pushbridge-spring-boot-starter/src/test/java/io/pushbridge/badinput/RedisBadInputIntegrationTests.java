package io.pushbridge.badinput;

import static io.pushbridge.badinput.BadInputSupport.WAIT;
import static io.pushbridge.badinput.BadInputSupport.await;
import static io.pushbridge.badinput.BadInputSupport.awaitCount;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.boot.PushBridgeAutoConfiguration;
import io.pushbridge.boot.PushBridgeRedisAutoConfiguration;
import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.redis.RedisKeys;
import io.pushbridge.redis.RedisRouter;
import io.pushbridge.redis.handshake.RedisHandshake;
import io.pushbridge.redis.session.RedisSessions;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.upstream.RedisUpstream;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import io.pushbridge.redis.upstream.UpstreamStreams;
import io.socket.client.Ack;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * Every bad message PushBridge can meet on Redis, one table row each: on the redis-handshake
 * ingestion channel ({@code socket.io}), the redis-session notifications channel, the routed
 * messages and commands between gateway nodes (site and node channels, CBOR), the upstream reply
 * channel and the upstream partition streams. Each row names the counter that moves by exactly one
 * (and, for the ingestion channels, the reason); the suite checks that nothing was delivered (the
 * clients of those sites get the next good message first), the clients' rooms did not change, no
 * ERROR line was logged, and the subscription or stream goes on (that next good message, sent the
 * same way, arrives).
 *
 * <p>One Redis, one gateway node and one application node, configured by {@code pushbridge.*}
 * properties as an operator would, serve every row. To add a bad message, add one line to
 * {@link #messages()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisBadInputIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static final CBORMapper CBOR = new CBORMapper();
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final String PREFIX = "badinput:";
    private static final int MAX_MESSAGE_SIZE = 4096;

    private AnnotationConfigApplicationContext gatewayNode;
    private AnnotationConfigApplicationContext appNode;
    private PushBridgeGateway gateway;
    private final ContextCapture capture = new ContextCapture();
    private RedisRouter router;
    private RedisHandshake handshake;
    private RedisSessions sessions;
    private RedisUpstream upstream;
    private RedisUpstreamConsumer consumer;
    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;
    private RedisCommands<byte[], byte[]> redisCli;
    private final RedisKeys keys = new RedisKeys(PREFIX);

    /** A client of each site: chat (upstream, allow_all in lobby), legacy (redis-handshake), yunity (redis-session). */
    private TestClient chat;
    private TestClient legacy;
    private TestClient yunity;
    private final Map<String, BlockingQueue<List<Object>>> received = new LinkedHashMap<>();
    private final AtomicInteger markers = new AtomicInteger();
    private BadInputSupport.LogCapture logs;

    @BeforeAll
    void start() throws Exception {
        logs = BadInputSupport.LogCapture.start();
        String[] common = {"pushbridge.redis.url=" + redis.uri(), "pushbridge.redis.prefix=" + PREFIX,
            "pushbridge.upstream.partitions=2", "pushbridge.max-message-size=" + MAX_MESSAGE_SIZE + "B",
            "pushbridge.sites.chat.authorizer=allow_all", "pushbridge.sites.chat.rooms=lobby",
            "pushbridge.sites.chat.upstream.enabled=true"};
        gatewayNode = context(common, "pushbridge.port=0", "pushbridge.host=127.0.0.1",
                "pushbridge.sites.legacy.authorizer=redis-handshake", "pushbridge.sites.legacy.user-room-prefix=",
                "pushbridge.sites.legacy.redis-handshake.urls=" + redis.uri(),
                "pushbridge.sites.yunity.authorizer=redis-session", "pushbridge.sites.yunity.redis-session.url=" + redis.uri(),
                "pushbridge.sites.yunity.redis-session.configure-keyspace-events=true");
        gatewayNode.registerBean("badInputCapture", ContextCapture.class, () -> capture);
        gatewayNode.refresh();
        appNode = context(common, "pushbridge.serve=false", "pushbridge.upstream.idle-timeout=2s");
        appNode.registerBean(UpstreamListener.class, () -> new UpstreamListener() {
            @Override
            public java.util.concurrent.CompletionStage<List<Object>> event(UpstreamRecord record) {
                return CompletableFuture.completedFuture(List.of(Map.of("echo", String.valueOf(record.firstArg()))));
            }
        });
        appNode.refresh();

        gateway = gatewayNode.getBean(PushBridgeGateway.class);
        router = gatewayNode.getBean(RedisRouter.class);
        handshake = extension(RedisHandshake.class);
        sessions = extension(RedisSessions.class);
        upstream = extension(RedisUpstream.class);
        consumer = appNode.getBean(RedisUpstreamConsumer.class);
        client = RedisClient.create(redis.uri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        redisCli = connection.sync();

        chat = connect("/chat");
        legacy = connect("/legacy");
        yunity = connect("/yunity");
        // legacy: the backend grants the room the client asked for
        emit(legacy, "subscribe", new JSONObject().put("room", "myroom"));
        publish("socket.io", "{\"socketId\":\"" + legacy.socket.id() + "\",\"type\":\"authorize\",\"room\":\"myroom\"}");
        await("legacy client joins myroom", WAIT, () -> capture.rooms("legacy", legacy.socket.id()).contains("myroom"));
        // yunity: the session belongs to user u1
        redisCli.set(bytes("session-store-s1"), bytes("u1"));
        emit(yunity, "authenticate", new JSONObject().put("sessionId", "s1"));
        await("yunity client joins user_u1", WAIT, () -> capture.rooms("yunity", yunity.socket.id()).contains("user_u1"));
        // chat: an event goes through an application node and back
        assertThat(emit(chat, "hello", "warm-up")).isEqualTo("{\"echo\":\"warm-up\"}");
    }

    @AfterAll
    void stop() {
        for (TestClient c : new TestClient[] {chat, legacy, yunity}) {
            if (c != null) {
                c.close();
            }
        }
        if (connection != null) {
            connection.close();
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
        if (appNode != null) {
            appNode.close();
        }
        if (gatewayNode != null) {
            gatewayNode.close();
        }
        if (logs != null) {
            logs.close();
        }
    }

    // ---- the table -----------------------------------------------------------------------------

    Stream<RedisCase> messages() {
        String longRoom = "r".repeat(201);
        return Stream.of(
                // redis-handshake: the socket.io channel (docs/migration/redis-handshake-service.md)
                handshake("a message that is not JSON", "{not json", "malformed_json"),
                handshake("an empty message", "", "malformed_json"),
                handshake("a message that is not UTF-8", new byte[] {(byte) 0xff, (byte) 0xfe, '{'}, "malformed_json"),
                handshake("a JSON array", "[{\"room\":\"myroom\",\"type\":\"probe\"}]", "not_an_object"),
                handshake("a JSON string", "\"myroom\"", "not_an_object"),
                handshake("a JSON number", "42", "not_an_object"),
                handshake("an empty object", "{}", "missing_field"),
                handshake("no type", "{\"room\":\"myroom\",\"n\":1}", "missing_field"),
                handshake("no room", "{\"type\":\"probe\"}", "missing_field"),
                handshake("a type that is a number", "{\"room\":\"myroom\",\"type\":7}", "missing_field"),
                handshake("a room that is a list", "{\"room\":[\"myroom\"],\"type\":\"probe\"}", "missing_field"),
                handshake("the reserved event connect as type", "{\"room\":\"myroom\",\"type\":\"connect\"}", "invalid"),
                handshake("the reserved event batch as type", "{\"room\":\"myroom\",\"type\":\"batch\"}", "invalid"),
                handshake("a type with a control character", "{\"room\":\"myroom\",\"type\":\"pro\\u0000be\"}", "invalid"),
                handshake("an empty room", "{\"room\":\"\",\"type\":\"probe\"}", "invalid"),
                handshake("a room with a control character", "{\"room\":\"my\\u0001room\",\"type\":\"probe\"}", "invalid"),
                handshake("a room longer than max-room-name-length", "{\"room\":\"" + longRoom + "\",\"type\":\"probe\"}", "invalid"),
                handshake("a message larger than max-message-size",
                        "{\"room\":\"myroom\",\"type\":\"probe\",\"pad\":\"" + "x".repeat(MAX_MESSAGE_SIZE) + "\"}", "too_large"),
                handshake("an authorize without socketId", "{\"type\":\"authorize\",\"room\":\"other\"}", "missing_field"),
                handshake("an authorize whose socketId is a number", "{\"type\":\"authorize\",\"room\":\"other\",\"socketId\":7}",
                        "missing_field"),
                handshake("an authorize with an empty socketId", "{\"type\":\"authorize\",\"room\":\"other\",\"socketId\":\"\"}",
                        "invalid"),
                handshake("an authorize for a socket no node holds",
                        "{\"type\":\"authorize\",\"room\":\"other\",\"socketId\":\"0f8e2c4e-5d7b-4a43-9c55-3b1f6c0e2a91\"}",
                        "unknown_socket"),
                handshake("an authorize of a room with a control character",
                        "{\"type\":\"authorize\",\"room\":\"ot\\u0001her\",\"socketId\":\"{legacy}\"}", "invalid"),
                handshake("an authorize of a room longer than max-room-name-length",
                        "{\"type\":\"authorize\",\"room\":\"" + longRoom + "\",\"socketId\":\"{legacy}\"}", "invalid"),
                // redis-session: the notifications channel (docs/migration/redis-session-sockets.md)
                notification("a notification that is not JSON", "{\"users\":[\"u1\"", "malformed_json"),
                notification("a JSON array", "[\"u1\"]", "not_an_object"),
                notification("no users", "{\"data\":{\"a\":1}}", "missing_field"),
                notification("no data", "{\"users\":[\"u1\"]}", "missing_field"),
                notification("users that are a string", "{\"users\":\"u1\",\"data\":1}", "invalid"),
                notification("an empty list of users", "{\"users\":[],\"data\":1}", "invalid"),
                notification("a user that is an object", "{\"users\":[{\"id\":\"u1\"}],\"data\":1}", "invalid"),
                notification("a user id that is a fraction", "{\"users\":[1.5],\"data\":1}", "invalid"),
                notification("an empty user id", "{\"users\":[\"\"],\"data\":1}", "invalid"),
                notification("a user id with a control character", "{\"users\":[\"u\\u00011\"],\"data\":1}", "invalid"),
                notification("a user id longer than 256 characters", "{\"users\":[\"" + "u".repeat(257) + "\"],\"data\":1}",
                        "invalid"),
                notification("a user id whose room would be too long", "{\"users\":[\"" + "u".repeat(196) + "\"],\"data\":1}",
                        "invalid"),
                notification("a notification larger than max-message-size",
                        "{\"users\":[\"u1\"],\"data\":\"" + "x".repeat(MAX_MESSAGE_SIZE) + "\"}", "too_large"),
                // routed messages between gateway nodes (docs/cluster.md): CBOR on the site channel
                routed("bytes that are not CBOR", new byte[] {(byte) 0xff, 0x00, 0x13}),
                routed("a JSON message instead of CBOR", "{\"v\":1,\"k\":\"m\"}".getBytes(StandardCharsets.UTF_8)),
                routed("a CBOR list", cbor(List.of(1, "m", "chat"))),
                routed("no format version", cbor(message(m -> m.remove("v")))),
                routed("format version 2", cbor(message(m -> m.put("v", 2)))),
                routed("a format version that is a string", cbor(message(m -> m.put("v", "1")))),
                routed("an unknown kind", cbor(message(m -> m.put("k", "zz")))),
                routed("no site", cbor(message(m -> m.remove("s")))),
                routed("no target", cbor(message(m -> m.remove("r")))),
                routed("an empty list of rooms", cbor(message(m -> m.put("r", List.of())))),
                routed("an empty room name", cbor(message(m -> m.put("r", List.of(""))))),
                routed("a room that is a number", cbor(message(m -> m.put("r", List.of(7))))),
                routed("args that are not a list", cbor(message(m -> m.put("a", "probe")))),
                routed("an id that is a string", cbor(message(m -> m.put("id", "123")))),
                routed("no event", cbor(message(m -> m.remove("e")))),
                routed("an unknown command", cbor(command("EXPLODE", List.of("lobby")))),
                routed("a connection listing asking for 0 connections",
                        cbor(Map.of("v", 1, "k", "lq", "s", "chat", "id", "r1", "from", "elsewhere", "n", 0))),
                routed("a message for an unknown site", cbor(message(m -> m.put("s", "nosuchsite"))))
                        .counting("dropped.unknown_site"),
                routed("a message with the reserved event connect", cbor(message(m -> m.put("e", "connect"))))
                        .counting("dropped.invalid_message"),
                routed("a message with the reserved event batch", cbor(message(m -> m.put("e", "batch"))))
                        .counting("dropped.invalid_message"),
                routed("a message with an event with a control character", cbor(message(m -> m.put("e", "pro\u0007be"))))
                        .counting("dropped.invalid_message"),
                routed("a command for an unknown site", cbor(command("JOIN", List.of("news")), m -> m.put("s", "nosuchsite")))
                        .toNode().counting("commands.unknown_site"),
                routed("a command for a socket this node does not hold",
                        cbor(command("JOIN", List.of("news")), m -> m.put("sk", "0f8e2c4e-5d7b-4a43-9c55-3b1f6c0e2a91")))
                        .toNode().counting("commands.unknown_socket"),
                routed("a join without rooms", cbor(command("JOIN", List.of()))).toNode().counting("commands.invalid"),
                routed("a join of a room with a control character", cbor(command("JOIN", List.of("ne\u0001ws")))).toNode()
                        .counting("commands.invalid"),
                routed("a leave of a room longer than max-room-name-length", cbor(command("LEAVE", List.of("r".repeat(201)))))
                        .toNode().counting("commands.invalid"),
                // answers of application nodes on a gateway's reply channel (docs/upstream.md)
                reply("bytes that are not CBOR", new byte[] {(byte) 0xff, 0x01}),
                reply("a CBOR string", cbor("chat:1")),
                reply("no format version", cbor(answer(m -> m.remove("v")))),
                reply("no reply id", cbor(answer(m -> m.remove("id")))),
                reply("a reply id that is a number", cbor(answer(m -> m.put("id", 7)))),
                reply("arguments that are not a list", cbor(answer(m -> m.put("ar", "ok")))),
                reply("an error code that is a number", cbor(answer(m -> m.put("err", 500)))),
                reply("an answer nobody waits for", cbor(answer(m -> { }))).counting("replies_late"),
                // records in the upstream partition streams (docs/upstream.md): to the dead letters
                record("an entry that is not CBOR", Map.of(UpstreamStreams.FIELD, new byte[] {(byte) 0xff})),
                record("an entry without the record field", Map.of("x", cbor(upstreamRecord(m -> { })))),
                record("a record of an unknown kind", Map.of(UpstreamStreams.FIELD, cbor(upstreamRecord(m -> m.put("k", "EXPLODED"))))),
                record("an event record without an event", Map.of(UpstreamStreams.FIELD, cbor(upstreamRecord(m -> m.remove("e"))))),
                record("a record without a socket id", Map.of(UpstreamStreams.FIELD, cbor(upstreamRecord(m -> m.remove("sk"))))),
                record("a record whose rooms are not a list", Map.of(UpstreamStreams.FIELD,
                        cbor(upstreamRecord(m -> m.put("rm", "lobby"))))),
                record("a record of format version 9", Map.of(UpstreamStreams.FIELD, cbor(upstreamRecord(m -> m.put("v", 9))))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messages")
    void badRedisMessage(RedisCase row) throws Exception {
        Map<String, java.util.Set<String>> rooms = Map.of(
                "chat", capture.rooms("chat", chat.socket.id()),
                "legacy", capture.rooms("legacy", legacy.socket.id()),
                "yunity", capture.rooms("yunity", yunity.socket.id()));
        LongSupplier counter = counter(row);
        long before = counter.getAsLong();
        // the ingestion channels' drops are counted by reason in the gateway's statistics too
        LongSupplier gatewayCounter = row.entry == Entry.HANDSHAKE || row.entry == Entry.NOTIFICATIONS
                ? () -> gateway.stats().get("ingestion.dropped." + row.counter) : null;
        long gatewayBefore = gatewayCounter == null ? 0 : gatewayCounter.getAsLong();
        long deadLetters = redisCli.xlen(bytes(consumer.streams().deadLetters("chat")));
        int mark = logs.mark();

        byte[] payload = row.payload;
        if (row.entry == Entry.HANDSHAKE) {
            payload = new String(payload, StandardCharsets.UTF_8).replace("{legacy}", legacy.socket.id()).getBytes(StandardCharsets.UTF_8);
        }
        switch (row.entry) {
            case HANDSHAKE -> publish("socket.io", payload);
            case NOTIFICATIONS -> publish("notifications", payload);
            case SITE_CHANNEL -> publish(keys.siteChannel("chat"), payload);
            case NODE_CHANNEL -> publish(keys.nodeChannel(gateway.options().nodeId()), payload);
            case REPLY_CHANNEL -> publish(consumer.streams().replyChannel(gateway.options().nodeId()), payload);
            case STREAM -> {
                // into the partition of the chat client: its next event must still be handled
                String stream = consumer.streams().stream("chat", consumer.streams().partition(chat.socket.id()));
                Map<byte[], byte[]> fields = new LinkedHashMap<>();
                row.fields.forEach((k, v) -> fields.put(bytes(k), v));
                redisCli.xadd(bytes(stream), fields);
            }
        }

        awaitCount(row.toString(), counter, before + 1);
        if (gatewayCounter != null) {
            awaitCount("gateway counter of " + row, gatewayCounter, gatewayBefore + 1);
        }
        if (row.entry == Entry.STREAM) {
            await("the entry reaches the dead letters", WAIT,
                    () -> redisCli.xlen(bytes(consumer.streams().deadLetters("chat"))) == deadLetters + 1);
            var last = redisCli.xrevrange(bytes(consumer.streams().deadLetters("chat")), 
                    io.lettuce.core.Range.<String>unbounded(), io.lettuce.core.Limit.from(1)).get(0);
            assertThat(last.getBody().entrySet().stream().map(e -> new String(e.getKey(), StandardCharsets.UTF_8) + "="
                    + new String(e.getValue(), StandardCharsets.UTF_8)).toList()).as("the dead letter")
                    .anySatisfy(field -> assertThat(field).contains("malformed: "));
        }

        // the same way in, a good message still arrives, and is the first thing the clients got
        goodMessageStillArrives(row.entry);
        for (String site : List.of("chat", "legacy", "yunity")) {
            assertThat(received.get(site).peek()).as("what the %s client got besides the good message", site).isNull();
        }
        assertThat(capture.rooms("chat", chat.socket.id())).isEqualTo(rooms.get("chat"));
        assertThat(capture.rooms("legacy", legacy.socket.id())).isEqualTo(rooms.get("legacy"));
        assertThat(capture.rooms("yunity", yunity.socket.id())).isEqualTo(rooms.get("yunity"));
        assertThat(logs.errorsSince(mark)).as("ERROR lines logged for a bad Redis message").isEmpty();
    }

    /** The counter a row names, by default the drop counter of its entry point. */
    private LongSupplier counter(RedisCase row) {
        return switch (row.entry) {
            case HANDSHAKE -> () -> handshake.stats().get("dropped." + row.counter);
            case NOTIFICATIONS -> () -> sessions.stats().get("dropped." + row.counter);
            case SITE_CHANNEL, NODE_CHANNEL -> row.counter == null ? () -> router.stats().get("dropped")
                    : () -> gateway.stats().get(row.counter);
            case REPLY_CHANNEL -> () -> upstream.stats().get(row.counter == null ? "replies_dropped" : row.counter);
            case STREAM -> () -> consumer.stats().get("malformed");
        };
    }

    private void goodMessageStillArrives(Entry entry) throws Exception {
        String marker = "m" + markers.incrementAndGet();
        switch (entry) {
            case HANDSHAKE -> {
                publish("socket.io", "{\"room\":\"myroom\",\"type\":\"marker\",\"n\":\"" + marker + "\"}");
                assertFirst("legacy", "marker", new JSONObject().put("room", "myroom").put("type", "marker").put("n", marker));
            }
            case NOTIFICATIONS -> {
                publish("notifications", "{\"users\":[\"u1\"],\"data\":{\"n\":\"" + marker + "\"}}");
                assertFirst("yunity", "message", new JSONObject().put("n", marker));
            }
            case SITE_CHANNEL -> {
                publish(keys.siteChannel("chat"), cbor(message(m -> m.put("a", List.of(marker)))));
                assertFirst("chat", "probe", marker);
            }
            case NODE_CHANNEL -> {
                // a good command on the node channel: a join, then a leave, of a room of its own
                publish(keys.nodeChannel(gateway.options().nodeId()), cbor(command("JOIN", List.of(marker))));
                await("the good join", WAIT, () -> capture.rooms("chat", chat.socket.id()).contains(marker));
                publish(keys.nodeChannel(gateway.options().nodeId()), cbor(command("LEAVE", List.of(marker))));
                await("the good leave", WAIT, () -> !capture.rooms("chat", chat.socket.id()).contains(marker));
            }
            case REPLY_CHANNEL, STREAM -> assertThat(emit(chat, "hello", marker)).isEqualTo("{\"echo\":\"" + marker + "\"}");
        }
    }

    private void assertFirst(String site, String event, Object arg) throws Exception {
        List<Object> first = received.get(site).poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(first).as("the first event the %s client got", site).isNotNull();
        assertThat(first.get(0)).isEqualTo(event);
        Object got = first.get(1);
        if (arg instanceof JSONObject expected) {
            assertThat(got).isInstanceOf(JSONObject.class);
            assertThat(JSON.readTree(got.toString())).as("%s", got).isEqualTo(JSON.readTree(expected.toString()));
        } else {
            assertThat(got).isEqualTo(arg);
        }
    }

    // ---- wiring --------------------------------------------------------------------------------

    private static AnnotationConfigApplicationContext context(String[] common, String... properties) {
        AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
        TestPropertyValues.of(common).and(properties).applyTo(context);
        context.register(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class);
        return context;
    }

    private <T> T extension(Class<T> type) {
        return gateway.extensions().stream().filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " among " + gateway.extensions()));
    }

    private TestClient connect(String namespace) throws Exception {
        TestClient c = TestClient.connect(gateway.port(), namespace, null);
        BlockingQueue<List<Object>> events = new LinkedBlockingQueue<>();
        received.put(namespace.substring(1), events);
        c.socket.onAnyIncoming(args -> events.add(Arrays.asList(args)));
        c.awaitConnected();
        return c;
    }

    /** Emits with a callback; the callback's first argument, as text. */
    private static String emit(TestClient c, String event, Object arg) throws Exception {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        c.socket.emit(event, new Object[] {arg}, (Ack) answer::complete);
        Object[] args = answer.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        return args.length == 0 ? null : String.valueOf(args[0]);
    }

    private void publish(String channel, String message) {
        publish(channel, bytes(message));
    }

    private void publish(String channel, byte[] message) {
        assertThat(redisCli.publish(bytes(channel), message)).as("subscribers of %s", channel).isPositive();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] cbor(Object value) {
        try {
            return CBOR.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] cbor(Map<String, Object> map, java.util.function.Consumer<Map<String, Object>> change) {
        change.accept(map);
        return cbor(map);
    }

    /** A good routed message to the chat site's lobby (as Wire writes one), changed by {@code change}. */
    private static Map<String, Object> message(java.util.function.Consumer<Map<String, Object>> change) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("k", "m");
        m.put("id", 1_000_000L + System.nanoTime() % 1_000_000);
        m.put("s", "chat");
        m.put("r", List.of("lobby"));
        m.put("e", "probe");
        m.put("a", List.of("bad"));
        m.put("t", System.currentTimeMillis());
        change.accept(m);
        return m;
    }

    /** A routed command for the chat client's socket. */
    private Map<String, Object> command(String kind, List<String> rooms) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("k", "c");
        m.put("s", "chat");
        m.put("sk", chat.socket.id());
        m.put("c", kind);
        if (!rooms.isEmpty()) {
            m.put("r", rooms);
        }
        return m;
    }

    /** An application node's answer, for a reply id nobody waits for, changed by {@code change}. */
    private static Map<String, Object> answer(java.util.function.Consumer<Map<String, Object>> change) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("id", "chat:00000000-0000-0000-0000-000000000000");
        m.put("ar", List.of("late"));
        change.accept(m);
        return m;
    }

    /** An upstream EVENT record of the chat client (as UpstreamStreams writes one), changed by {@code change}. */
    private Map<String, Object> upstreamRecord(java.util.function.Consumer<Map<String, Object>> change) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", 1);
        m.put("k", "EVENT");
        m.put("s", "chat");
        m.put("sk", chat == null ? "socket" : chat.socket.id());
        m.put("n", "node");
        m.put("rm", List.of("lobby"));
        m.put("a", "127.0.0.1");
        m.put("q", Map.of());
        m.put("e", "hello");
        m.put("ar", List.of("bad"));
        m.put("t", System.currentTimeMillis());
        change.accept(m);
        return m;
    }

    // ---- rows ----------------------------------------------------------------------------------

    /** Where a bad message comes in. */
    enum Entry {
        HANDSHAKE, NOTIFICATIONS, SITE_CHANNEL, NODE_CHANNEL, REPLY_CHANNEL, STREAM
    }

    static final class RedisCase {
        final String name;
        Entry entry;
        final byte[] payload;
        Map<String, byte[]> fields;
        String counter;

        RedisCase(String name, Entry entry, byte[] payload, String counter) {
            this.name = name;
            this.entry = entry;
            this.payload = payload;
            this.counter = counter;
        }

        /** The counter that moves by one instead of the entry point's drop counter. */
        RedisCase counting(String counter) {
            this.counter = counter;
            return this;
        }

        /** Published on the node channel of the gateway node (commands for its sockets). */
        RedisCase toNode() {
            this.entry = Entry.NODE_CHANNEL;
            return this;
        }

        @Override
        public String toString() {
            return entry.name().toLowerCase().replace('_', ' ') + ": " + name
                    + (counter == null ? "" : " (" + counter + ")");
        }
    }

    /** A message on the redis-handshake ingestion channel, dropped for {@code reason}. */
    static RedisCase handshake(String name, String message, String reason) {
        return handshake(name, message.getBytes(StandardCharsets.UTF_8), reason);
    }

    static RedisCase handshake(String name, byte[] message, String reason) {
        return new RedisCase(name, Entry.HANDSHAKE, message, reason);
    }

    /** A message on the redis-session notifications channel, dropped for {@code reason}. */
    static RedisCase notification(String name, String message, String reason) {
        return new RedisCase(name, Entry.NOTIFICATIONS, message.getBytes(StandardCharsets.UTF_8), reason);
    }

    /** A routed message on the chat site's channel, dropped by the router (unless {@link RedisCase#counting}). */
    static RedisCase routed(String name, byte[] message) {
        return new RedisCase(name, Entry.SITE_CHANNEL, message, null);
    }

    /** A message on the gateway node's upstream reply channel, dropped ({@code replies_dropped}). */
    static RedisCase reply(String name, byte[] message) {
        return new RedisCase(name, Entry.REPLY_CHANNEL, message, null);
    }

    /** An entry in the chat client's upstream partition stream, moved to the dead letters as malformed. */
    static RedisCase record(String name, Map<String, byte[]> fields) {
        RedisCase row = new RedisCase(name, Entry.STREAM, new byte[0], "malformed");
        row.fields = fields;
        return row;
    }
}
