package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.handshake.RedisChannels;
import io.pushbridge.redis.testing.RedisExtension;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The two Redis-driven services, switched to by configuration alone: each README's example replayed
 * against a gateway the starter built from {@code pushbridge.*} properties (the {@code redis-cli}
 * commands done through Lettuce, the clients real Java Socket.IO clients), and the start-up
 * failures of bad settings.
 */
class PushBridgeRedisDrivenSitesIntegrationTests {

    @RegisterExtension
    static final RedisExtension redisA = RedisExtension.standalone();

    @RegisterExtension
    static final RedisExtension redisB = RedisExtension.standalone();

    /** A server whose keyspace notifications nothing configures. */
    @RegisterExtension
    static final RedisExtension plainRedis = RedisExtension.standalone();

    private static final String ADMIN_KEY = "admin-key-for-the-tests";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1");

    private ApplicationContextRunner handshakeSite() {
        return runner.withPropertyValues(
                "pushbridge.sites.legacy.namespace=/",
                "pushbridge.sites.legacy.authorizer=redis-handshake",
                "pushbridge.sites.legacy.user-room-prefix=",
                // SOCKETIO_REDIS_URLS=redis://a,redis://b
                "pushbridge.sites.legacy.redis-handshake.urls=" + redisA.uri() + "," + redisB.uri());
    }

    private ApplicationContextRunner sessionSite() {
        return runner.withPropertyValues(
                "pushbridge.path=/socket/",
                "pushbridge.admin.key=" + ADMIN_KEY,
                "pushbridge.admin.port=0",
                "pushbridge.sites.yunity.namespace=/",
                "pushbridge.sites.yunity.authorizer=redis-session",
                "pushbridge.sites.yunity.redis-session.url=" + redisA.uri(),
                "pushbridge.sites.yunity.redis-session.configure-keyspace-events=true");
    }

    /** A client of the default namespace ({@code io(url)}), recording the events it is told to. */
    private static Socket connect(int port, String path, BlockingQueue<String> received, String... events) throws Exception {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setPath(path)
                .setTransports(new String[] {"websocket"}).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port), options);
        for (String event : events) {
            socket.on(event, args -> received.add(event + " " + args[0]));
        }
        CompletableFuture<String> connected = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(socket.id()));
        socket.connect();
        connected.get(10, TimeUnit.SECONDS);
        return socket;
    }

    private static Object[] emit(Socket socket, String event, JSONObject arg) throws Exception {
        CompletableFuture<Object[]> answer = new CompletableFuture<>();
        socket.emit(event, new Object[] {arg}, (Ack) answer::complete);
        return answer.get(10, TimeUnit.SECONDS);
    }

    @Test
    void theRedisHandshakeServiceByConfiguration() {
        handshakeSite().run(context -> {
            assertThat(context).hasNotFailed();
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            try (RedisChannels backendA = RedisChannels.open(redisA.uri(), "socket.io:auth");
                    RedisChannels backendB = RedisChannels.open(redisB.uri(), "socket.io:auth")) {
                Socket socket = connect(gateway.port(), "/socket.io/", received, "myevent");
                try {
                    // socket.emit('subscribe', {room: 'myroom', uid: 'someuid', sid: 'somesid'});
                    emit(socket, "subscribe", new JSONObject().put("room", "myroom").put("uid", "someuid").put("sid", "somesid"));
                    String expected = "{\"room\":\"myroom\",\"uid\":\"someuid\",\"sid\":\"somesid\",\"socketId\":\""
                            + socket.id() + "\",\"ip\":\"127.0.0.1\"}";
                    assertThat(backendA.next()).isEqualTo(expected);
                    assertThat(backendB.next()).isEqualTo(expected);

                    backendB.publish("socket.io", "{\"socketId\": \"" + socket.id() + "\", \"type\": \"authorize\", \"room\": \"myroom\"}");
                    RedisChannels.awaitCount("joined", () -> gateway.stats().get("commands.executed"), 1);
                    backendA.publish("socket.io", "{\"room\": \"myroom\", \"type\": \"myevent\", \"key1\": \"value1\"}");
                    String got = received.poll(10, TimeUnit.SECONDS);
                    assertThat(got).startsWith("myevent ");
                    assertThat(JSON.readTree(got.substring(8))).isEqualTo(
                            JSON.readTree("{\"room\": \"myroom\", \"type\": \"myevent\", \"key1\": \"value1\"}"));

                    // a malformed message is dropped and counted in the meter; the channel keeps working
                    backendA.publish("socket.io", "{not json");
                    io.micrometer.core.instrument.Counter dropped = context.getBean(MeterRegistry.class)
                            .get("pushbridge.bad.inputs").tag("entry_point", "redis_ingestion")
                            .tag("reason", "malformed_json").counter();
                    RedisChannels.awaitCount("malformed dropped", () -> (long) dropped.count(), 1);
                    backendA.publish("socket.io", "{\"room\": \"myroom\", \"type\": \"myevent\", \"n\": 2}");
                    assertThat(received.poll(10, TimeUnit.SECONDS)).contains("\"n\":2");
                } finally {
                    socket.close();
                }
            }
        });
    }

    @Test
    void theRedisSessionServiceByConfiguration() {
        sessionSite().run(context -> {
            assertThat(context).hasNotFailed();
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            RedisClient client = RedisClient.create(redisA.uri());
            try (StatefulRedisConnection<String, String> cli = client.connect()) {
                // redis-cli set session-store-mysessionid myuserid
                cli.sync().set("session-store-mysessionid", "myuserid");
                BlockingQueue<String> received = new LinkedBlockingQueue<>();
                Socket socket = connect(gateway.port(), "/socket/", received, "message");
                try {
                    Object[] answer = emit(socket, "authenticate", new JSONObject().put("sessionId", "mysessionid"));
                    assertThat(((JSONObject) answer[0]).getString("userId")).isEqualTo("myuserid");

                    // redis-cli publish notifications '{"users":["myuserid"],"data":{"a":"b"}}'
                    cli.sync().publish("notifications", "{\"users\":[\"myuserid\"],\"data\":{\"a\":\"b\"}}");
                    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("message {\"a\":\"b\"}");

                    // curl -s localhost:<admin port> (with the key)
                    HttpResponse<String> admin = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gateway.adminPort() + "/"))
                            .header("Authorization", "Bearer " + ADMIN_KEY).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(admin.statusCode()).isEqualTo(200);
                    JsonNode connection = JSON.readTree(admin.body()).get("connections").get(0);
                    assertThat(connection.get("connectionId").asText()).isEqualTo(socket.id());
                    assertThat(connection.get("sessionId").asText()).isEqualTo("mysessionid");
                    assertThat(connection.get("userId").asText()).isEqualTo("myuserid");
                    assertThat(connection.get("handshake").get("url").asText()).startsWith("/socket/?");

                    // the session goes away: the socket stays connected and gets nothing more
                    cli.sync().del("session-store-mysessionid");
                    RedisChannels.awaitCount("left", () -> gateway.stats().get("commands.executed"), 2);
                    cli.sync().publish("notifications", "{\"users\":[\"myuserid\"],\"data\":{\"a\":\"c\"}}");
                    assertThat(received.poll(500, TimeUnit.MILLISECONDS)).isNull();
                    assertThat(socket.connected()).isTrue();
                } finally {
                    socket.close();
                }
            } finally {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
        });
    }

    @Test
    void aSessionSiteOnARedisWithoutKeyspaceNotificationsFailsToStartNamingWhatIsMissing() {
        runner.withPropertyValues("pushbridge.sites.yunity.namespace=/", "pushbridge.sites.yunity.authorizer=redis-session",
                "pushbridge.sites.yunity.redis-session.url=" + plainRedis.uri()).run(context -> {
            assertThat(context).hasFailed();
            assertThat(rootMessage(context.getStartupFailure())).contains("notify-keyspace-events")
                    .contains("configure-keyspace-events");
        });
    }

    @Test
    void badSettingsFailStartUpNamingTheProperty() {
        runner.withPropertyValues("pushbridge.sites.yunity.authorizer=redis-session").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.yunity.redis-session.url"));
        runner.withPropertyValues("pushbridge.sites.legacy.authorizer=redis-handshake").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.legacy.redis-handshake.urls"));
        runner.withPropertyValues("pushbridge.sites.legacy.authorizer=redis-handshake",
                "pushbridge.sites.legacy.redis-handshake.urls=http://localhost:1").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.legacy.redis-handshake.urls[0]"));
        runner.withPropertyValues("pushbridge.sites.legacy.authorizer=redis-handshake",
                "pushbridge.sites.legacy.redis-handshake.urls=" + redisA.uri(),
                "pushbridge.sites.legacy.redis-handshake.auth-channel=").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.legacy.redis-handshake.auth-channel"));
        runner.withPropertyValues("pushbridge.sites.legacy.authorizer=redis-handshake",
                "pushbridge.sites.legacy.redis-handshake.urls=" + redisA.uri(),
                "pushbridge.sites.legacy.redis-handshake.channel=socket.io:auth").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.legacy.redis-handshake.auth-channel"));
        runner.withPropertyValues("pushbridge.sites.yunity.authorizer=redis-session",
                "pushbridge.sites.yunity.redis-session.url=" + redisA.uri(),
                "pushbridge.sites.yunity.redis-session.notifications-event=disconnect").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.yunity.redis-session.notifications-event"));
        runner.withPropertyValues("pushbridge.sites.legacy.authorizer=static", "pushbridge.sites.legacy.tokens.a=r",
                "pushbridge.sites.legacy.redis-handshake.urls=" + redisA.uri()).run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.legacy.redis-handshake.urls"));
        runner.withPropertyValues("pushbridge.sites.demo.authorizer=allow-all", "pushbridge.admin.key=short").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.admin.key"));
        runner.withPropertyValues("pushbridge.sites.demo.authorizer=allow-all", "pushbridge.admin.port=-5").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.admin.port"));
        runner.withPropertyValues("pushbridge.sites.demo.authorizer=allow-all", "pushbridge.event-timeout=0s").run(context ->
                assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.event-timeout"));
    }

    @Test
    void withoutPushBridgeRedisARedisDrivenSiteFailsNamingItsAuthorizer() {
        runner.withClassLoader(new FilteredClassLoader(RedisConnector.class))
                .withPropertyValues("pushbridge.sites.yunity.authorizer=redis-session").run(context -> {
                    assertThat(failedProperty(context.getStartupFailure())).isEqualTo("pushbridge.sites.yunity.authorizer");
                    assertThat(rootMessage(context.getStartupFailure())).contains("pushbridge-redis");
                });
    }

    @Test
    void theAdminKeyIsNeverInTheEffectiveSettingsLog() {
        sessionSite().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(PushBridgeGateway.class).options().toString()).doesNotContain(ADMIN_KEY);
        });
    }

    private static String failedProperty(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InvalidPushBridgePropertyException invalid) {
                return invalid.property();
            }
        }
        throw new AssertionError("no InvalidPushBridgePropertyException in " + failure, failure);
    }

    private static String rootMessage(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }
}
