package io.pushbridge.redis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.gateway.ContextCapture;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteLimits;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.testing.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One gateway in redis-session mode on a real Redis, with real Socket.IO clients on namespace
 * {@code /} and path {@code /socket/}: the old {@code yunity-sockets} README, replayed.
 */
class RedisSessionsIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static final String SITE = "yunity";
    static final int MAX_ROOM = 40;

    static RedisClient lettuce;
    static StatefulRedisConnection<String, String> connection;
    static RedisCommands<String, String> cli;
    static RedisConnector connector;
    static RedisSessions sessions;
    static final ContextCapture capture = new ContextCapture();
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        redis.server().command("CONFIG", "SET", "notify-keyspace-events", "KA");
        lettuce = RedisClient.create(redis.uri());
        connection = lettuce.connect();
        cli = connection.sync();
        connector = RedisConnector.builder().uri(redis.uri()).build();
        sessions = RedisSessions.builder(SITE).redis(connector).keyPrefix("session-store-").event("authenticate")
                .roomPrefix(SiteOptions.DEFAULT_USER_ROOM_PREFIX).notificationsChannel("notifications")
                .notificationsEvent("message").maxMessageSize(10_000).build();
        // the site's own limits shape what its notifications become: rooms of at most 40
        // characters, sends of at most 2 rooms
        gateway = TestGateways.start(TestGateways.options().path("/socket/").build(), b -> b
                .site(sessions.applyTo(SiteOptions.builder(SITE).namespace("/")
                        .limits(SiteLimits.builder().maxRoomNameLength(MAX_ROOM).maxRoomsPerSend(2).build())).build())
                .extension(sessions)
                .extension(capture)
                .meterRegistry(registry));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
        connector.close();
        connection.close();
        lettuce.shutdown();
    }

    static SessionClient client() throws Exception {
        return SessionClient.connect(gateway.port(), "/socket/");
    }

    static Set<String> rooms(SessionClient client) {
        ConnectionInfo info = capture.socket(SITE, client.id());
        assertThat(info).as("socket " + client.id()).isNotNull();
        return info.rooms();
    }

    static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    static JSONObject asJson(Object message) {
        assertThat(message).isInstanceOf(JSONObject.class);
        return (JSONObject) message;
    }

    @Test
    void readmeSessionThenNotification() throws Exception {
        cli.set("session-store-mysessionid", "myuserid");
        try (SessionClient client = client()) {
            JSONObject answer = client.authenticate("mysessionid");
            assertThat(answer.getString("sessionId")).isEqualTo("mysessionid");
            assertThat(answer.getString("userId")).isEqualTo("myuserid");
            assertThat(rooms(client)).containsExactly("user_myuserid");
            ConnectionInfo info = capture.socket(SITE, client.id());
            assertThat(info.sessionId()).isEqualTo("mysessionid");
            assertThat(info.userId()).isEqualTo("myuserid");

            cli.publish("notifications", "{\"users\":[\"myuserid\"],\"data\":{\"a\":\"b\"}}");

            assertThat(client.nextMessage().toString()).isEqualTo("{\"a\":\"b\"}");
            assertThat(client.poll(Duration.ofMillis(200))).as("one copy").isNull();
        }
    }

    @Test
    void numericUsersAndSessionIds() throws Exception {
        cli.set("session-store-4711", "23");
        try (SessionClient client = client()) {
            JSONObject answer = client.authenticate(4711);
            assertThat(answer.getString("sessionId")).isEqualTo("4711");
            assertThat(answer.getString("userId")).isEqualTo("23");

            cli.publish("notifications", "{\"users\":[23, 5, 12],\"data\":{\"type\":\"chat_message\",\"data\":{\"chat_id\":3434}}}");

            JSONObject data = asJson(client.nextMessage());
            assertThat(data.getString("type")).isEqualTo("chat_message");
            assertThat(data.getJSONObject("data").getInt("chat_id")).isEqualTo(3434);
        }
    }

    @Test
    void unknownSessionStaysConnectedAndGetsNothing() throws Exception {
        try (SessionClient client = client()) {
            JSONObject answer = client.authenticate("nosuchsession");
            assertThat(answer.isNull("userId")).isTrue();
            assertThat(rooms(client)).isEmpty();

            cli.publish("notifications", "{\"users\":[\"nosuchsession\", \"nobody\"],\"data\":1}");

            assertThat(client.poll(Duration.ofMillis(300))).isNull();
            assertThat(client.socket.connected()).isTrue();
        }
    }

    @Test
    void changingTheKeyMovesTheSocket() throws Exception {
        cli.set("session-store-moving", "alice");
        try (SessionClient client = client()) {
            client.authenticate("moving");
            assertThat(rooms(client)).containsExactly("user_alice");

            cli.set("session-store-moving", "bob");

            await("moves to bob's room", () -> rooms(client).equals(Set.of("user_bob")));
            // the rooms move first, then the socket's identity
            await("the socket is bob's", () -> "bob".equals(capture.socket(SITE, client.id()).userId()));
            assertThat(capture.socket(SITE, client.id()).userId()).isEqualTo("bob");
            cli.publish("notifications", "{\"users\":[\"alice\"],\"data\":\"for alice\"}");
            cli.publish("notifications", "{\"users\":[\"bob\"],\"data\":\"for bob\"}");
            assertThat(client.nextMessage()).isEqualTo("for bob");
            assertThat(client.poll(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void deletingOrExpiringTheKeyLeavesTheRoom() throws Exception {
        cli.set("session-store-deleted", "carol");
        cli.set("session-store-expiring", "dave");
        try (SessionClient deleted = client(); SessionClient expiring = client()) {
            deleted.authenticate("deleted");
            expiring.authenticate("expiring");
            assertThat(rooms(deleted)).containsExactly("user_carol");

            cli.del("session-store-deleted");
            cli.set("session-store-expiring", "dave", SetArgs.Builder.px(300));

            await("leaves after DEL", () -> rooms(deleted).isEmpty());
            await("leaves after expiry", () -> rooms(expiring).isEmpty());
            assertThat(capture.socket(SITE, deleted.id()).userId()).isNull();
            assertThat(capture.socket(SITE, deleted.id()).sessionId()).isEqualTo("deleted");
            cli.publish("notifications", "{\"users\":[\"carol\",\"dave\"],\"data\":{}}");
            assertThat(deleted.poll(Duration.ofMillis(200))).isNull();
            assertThat(expiring.poll(Duration.ofMillis(10))).isNull();
            assertThat(deleted.socket.connected()).isTrue();
        }
    }

    @Test
    void aKeySetAfterAuthenticateJoins() throws Exception {
        try (SessionClient client = client()) {
            assertThat(client.authenticate("later").isNull("userId")).isTrue();

            cli.set("session-store-later", "erin");

            await("joins erin's room", () -> rooms(client).equals(Set.of("user_erin")));
            cli.publish("notifications", "{\"users\":[\"erin\"],\"data\":[1,2]}");
            assertThat(client.nextMessage().toString()).isEqualTo("[1,2]");
        }
    }

    @Test
    void anotherSessionLeavesTheOldUsersRoom() throws Exception {
        cli.set("session-store-first", "frank");
        cli.set("session-store-second", "grace");
        try (SessionClient client = client()) {
            client.authenticate("first");
            assertThat(rooms(client)).containsExactly("user_frank");

            client.authenticate("second");

            assertThat(rooms(client)).containsExactly("user_grace");
            cli.set("session-store-first", "henry"); // the old session no longer moves this socket
            cli.set("session-store-second", "grace2");
            await("follows the new session", () -> rooms(client).equals(Set.of("user_grace2")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "malformed_json            | {users:[1]",
        "not_an_object          | [1,2]",
        "missing_field       | {\"data\":1}",
        "invalid     | {\"users\":\"user5\",\"data\":1}",
        "invalid         | {\"users\":[],\"data\":1}",
        "invalid | {\"users\":[\"a\",{\"id\":1}],\"data\":1}",
        "invalid | {\"users\":[\"\"],\"data\":1}",
        "invalid | {\"users\":[1.5],\"data\":1}",
        "missing_field        | {\"users\":[\"badinput\"]}",
    })
    void badNotificationsAreDroppedAndCounted(String reason, String payload) throws Exception {
        cli.set("session-store-badinput", "badinput");
        try (SessionClient client = client()) {
            client.authenticate("badinput");
            long before = gateway.stats().get("ingestion.dropped." + reason);

            cli.publish("notifications", payload);
            cli.publish("notifications", "{\"users\":[\"badinput\"],\"data\":\"good\"}");

            assertThat(client.nextMessage()).isEqualTo("good");
            assertThat(gateway.stats().get("ingestion.dropped." + reason)).isEqualTo(before + 1);
            assertThat(sessions.stats().get("dropped." + reason)).isGreaterThanOrEqualTo(before + 1);
        }
    }

    @Test
    void aUserIdTooLongForARoomIsLeftOutAndTheOthersStillGetTheNotification() throws Exception {
        cli.set("session-store-neighbour", "neighbour");
        try (SessionClient client = client()) {
            client.authenticate("neighbour");
            long before = gateway.stats().get("ingestion.dropped.invalid");
            long hits = gateway.stats().get("limits." + SITE + ".room_name");
            String tooLong = "u".repeat(gateway.options().maxRoomNameLength());

            cli.publish("notifications", "{\"users\":[\"" + tooLong + "\",\"neighbour\"],\"data\":\"still\"}");

            assertThat(client.nextMessage()).isEqualTo("still");
            assertThat(gateway.stats().get("ingestion.dropped.invalid")).isEqualTo(before + 1);
            assertThat(gateway.stats().get("limits." + SITE + ".room_name")).isEqualTo(hits + 1);
        }
    }

    @Test
    void aNotificationSentInSeveralChunksCountsOnceAsAccepted() throws Exception {
        cli.set("session-store-chunked", "chunked");
        try (SessionClient client = client()) {
            client.authenticate("chunked");
            double before = acceptedFromRedis();
            // five users, at most two rooms per send: three local emits, one message accepted
            cli.publish("notifications", "{\"users\":[\"c1\",\"c2\",\"c3\",\"c4\",\"chunked\"],\"data\":\"once\"}");

            assertThat(client.nextMessage()).isEqualTo("once");
            // counted once the local emits are done: the client may see the message first
            io.pushbridge.redis.handshake.RedisChannels.awaitCount("accepted", () -> (long) acceptedFromRedis(), (long) before + 1);
            // a notification nobody can get (every user id unusable) is not accepted
            cli.publish("notifications", "{\"users\":[\"" + "u".repeat(MAX_ROOM) + "\"],\"data\":\"none\"}");
            cli.publish("notifications", "{\"users\":[\"chunked\"],\"data\":\"marker\"}");
            assertThat(client.nextMessage()).isEqualTo("marker");
            // notifications are taken in order: once the marker is counted, "none" was too, had it counted
            io.pushbridge.redis.handshake.RedisChannels.awaitCount("accepted", () -> (long) acceptedFromRedis(), (long) before + 2);
        }
    }

    static double acceptedFromRedis() {
        return registry.find(PushBridgeMeter.MESSAGES_ACCEPTED.meterName())
                .tags("site", SITE, "source", MessageSource.REDIS.tag()).counter().count();
    }

    @Test
    void theSitesOwnRoomLimitsShapeANotification() throws Exception {
        // a user id that makes a room of exactly the site's 40 characters, one more, and padded ones
        String atLimit = "a".repeat(MAX_ROOM - SiteOptions.DEFAULT_USER_ROOM_PREFIX.length());
        cli.set("session-store-atlimit", atLimit);
        cli.set("session-store-second", "second");
        try (SessionClient client = client(); SessionClient second = client()) {
            client.authenticate("atlimit");
            assertThat(rooms(client)).containsExactly("user_" + atLimit);
            second.authenticate("second");
            long before = gateway.stats().get("ingestion.dropped.invalid");
            long hits = gateway.stats().get("limits." + SITE + ".room_name");

            // five users: two are left out, three are sent in two sends of at most two rooms
            cli.publish("notifications", "{\"users\":[\"" + atLimit + "b\",\" padded\",\"" + atLimit
                    + "\",\"third\",\"second\"],\"data\":\"fits\"}");

            assertThat(client.nextMessage()).isEqualTo("fits");
            assertThat(second.nextMessage()).isEqualTo("fits");
            assertThat(client.poll(Duration.ofMillis(200))).as("one copy").isNull();
            assertThat(gateway.stats().get("ingestion.dropped.invalid")).isEqualTo(before + 1);
            assertThat(gateway.stats().get("limits." + SITE + ".room_name")).isEqualTo(hits + 1);
        }
    }

    @Test
    void aReservedNotificationEventIsRefusedAtBuild() {
        for (String reserved : List.of("connect", "disconnect", "error", "batch", "resync", "message_ack")) {
            assertThatThrownBy(() -> RedisSessions.builder(SITE).redis(connector).notificationsEvent(reserved).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("notificationsEvent")
                    .hasMessageContaining("reserved");
        }
    }

    @Test
    void tooLargeNotificationsAreDropped() throws Exception {
        cli.set("session-store-large", "large");
        try (SessionClient client = client()) {
            client.authenticate("large");
            long before = gateway.stats().get("ingestion.dropped.too_large");

            cli.publish("notifications", "{\"users\":[\"large\"],\"data\":\"" + "x".repeat(10_001) + "\"}");
            cli.publish("notifications", "{\"users\":[\"large\"],\"data\":\"small\"}");

            assertThat(client.nextMessage()).isEqualTo("small");
            assertThat(gateway.stats().get("ingestion.dropped.too_large")).isEqualTo(before + 1);
        }
    }

    @Test
    void badAuthenticateArgumentsAreAnsweredWithAnError() throws Exception {
        try (SessionClient client = client()) {
            for (Object arg : new Object[] {
                new JSONObject(), new JSONObject().put("sessionId", ""), new JSONObject().put("sessionId", "x".repeat(257)),
                new JSONObject().put("sessionId", "a\nb"), new JSONObject().put("sessionId", true), "just-a-string",
                new JSONArray().put("s")}) {
                JSONObject answer = client.emitWithAck(arg);
                assertThat(answer.getJSONObject("error").getString("code")).as(String.valueOf(arg)).isEqualTo("invalid");
            }
            assertThat(gateway.stats().get("events.refused.invalid")).isGreaterThanOrEqualTo(7);
            assertThat(client.socket.connected()).isTrue();
            assertThat(rooms(client)).isEmpty();
        }
    }

    @Test
    void startFailsWithoutKeyspaceNotifications() {
        try (RedisServer bare = RedisServer.start(); RedisConnector bareConnector = RedisConnector.builder().uri(bare.uri()).build()) {
            bare.command("CONFIG", "SET", "notify-keyspace-events", "Ex");
            RedisSessions refusing = RedisSessions.builder(SITE).redis(bareConnector).build();
            PushBridgeGateway failing = PushBridgeGateway.builder().options(TestGateways.options().path("/socket/").build())
                    .site(refusing.applyTo(SiteOptions.builder(SITE).namespace("/")).build()).extension(refusing).build();

            assertThatThrownBy(failing::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("notify-keyspace-events 'xE'")
                    .hasMessageContaining("missing: 'K$g'")
                    .hasMessageContaining("redis-cli config set notify-keyspace-events 'xEK$g'")
                    .hasMessageContaining("pushbridge.sites.yunity.redis-session.configure-keyspace-events=true")
                    .hasMessageContaining("managed Redis");
            assertThat(failing.isRunning()).isFalse();
        }
    }

    @Test
    void startConfiguresKeyspaceNotificationsWhenAllowed() {
        try (RedisServer bare = RedisServer.start(); RedisConnector bareConnector = RedisConnector.builder().uri(bare.uri()).build()) {
            bare.command("CONFIG", "SET", "notify-keyspace-events", "Ex");
            RedisSessions configuring = RedisSessions.builder(SITE).redis(bareConnector).configureKeyspaceEvents(true).build();

            configuring.start(capture.context());
            configuring.stop();

            String flags = bare.command("CONFIG", "GET", "notify-keyspace-events").split("\n")[1];
            assertThat(RedisSessions.missingFlags(flags)).as(flags).isEmpty();
            assertThat(flags).contains("E");
        }
    }
}
