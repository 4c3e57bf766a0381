package io.pushbridge.samples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.handshake.RedisChannels;
import io.pushbridge.redis.testing.RedisExtension;
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
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The sample gateway as a drop-in for each Redis-driven service: the shipped profile, given the old
 * service's environment (as command-line properties, which its placeholders read the same way), on
 * a real Redis, with a real Socket.IO client doing what the old README's client did.
 */
class SampleProfilesIntegrationTests {

    /** Reports the session keys' changes, as the old service's Redis had to. */
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone("--notify-keyspace-events", "K$gx");

    private static ConfigurableApplicationContext start(String profile, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--spring.main.keep-alive=false";
        all[1] = "--pushbridge.host=127.0.0.1";
        System.arraycopy(args, 0, all, 2, args.length);
        return new SpringApplicationBuilder(SampleGatewayApplication.class).profiles(profile).run(all);
    }

    private static Socket connect(int port, String path, BlockingQueue<String> received, String event) throws Exception {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setPath(path).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port), options);
        socket.on(event, args -> received.add(String.valueOf(args[0])));
        CompletableFuture<String> connected = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(socket.id()));
        socket.connect();
        connected.get(10, TimeUnit.SECONDS);
        return socket;
    }

    @Test
    void theRedisHandshakeProfile() throws Exception {
        try (ConfigurableApplicationContext context = start("redis-handshake", "--SOCKETIO_PORT=0",
                "--SOCKETIO_REDIS_URLS=" + redis.uri());
                RedisChannels backend = RedisChannels.open(redis.uri(), "socket.io:auth")) {
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            assertThat(gateway.sites()).containsOnlyKeys("legacy");
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            Socket socket = connect(gateway.port(), "/socket.io/", received, "myevent");
            try {
                socket.emit("subscribe", new JSONObject().put("room", "myroom").put("uid", "someuid").put("sid", "somesid"));
                JSONObject request = new JSONObject(backend.next());
                assertThat(request.getString("socketId")).isEqualTo(socket.id());
                backend.publish("socket.io", "{\"socketId\": \"" + socket.id() + "\", \"type\": \"authorize\", \"room\": \"myroom\"}");
                RedisChannels.awaitCount("joined", () -> gateway.stats().get("commands.executed"), 1);
                backend.publish("socket.io", "{\"room\": \"myroom\", \"type\": \"myevent\", \"key1\": \"value1\"}");
                String got = received.poll(10, TimeUnit.SECONDS);
                assertThat(got).isNotNull();
                assertThat(new JSONObject(got).getString("key1")).isEqualTo("value1");
            } finally {
                socket.close();
            }
        }
    }

    @Test
    void theRedisSessionProfile() throws Exception {
        String adminKey = "a-key-of-the-operators";
        try (ConfigurableApplicationContext context = start("redis-session", "--PORT=0", "--ADMIN_PORT=0",
                "--REDIS_URL=" + redis.uri(), "--PUSHBRIDGE_ADMIN_KEY=" + adminKey)) {
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            assertThat(gateway.sites()).containsOnlyKeys("yunity");
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> cli = client.connect()) {
                cli.sync().set("session-store-mysessionid", "user5");
                BlockingQueue<String> received = new LinkedBlockingQueue<>();
                Socket socket = connect(gateway.port(), "/socket/", received, "message");
                try {
                    // socket.on('connect', () => socket.emit('authenticate', {sessionId}))
                    socket.emit("authenticate", new JSONObject().put("sessionId", "mysessionid"));
                    RedisChannels.awaitCount("joined", () -> gateway.stats().get("commands.executed"), 1);
                    cli.sync().publish("notifications", "{\"users\":[\"user5\"],\"data\":{\"a\":\"b\"}}");
                    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("{\"a\":\"b\"}");

                    HttpResponse<String> admin = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + gateway.adminPort() + "/"))
                            .header("Authorization", "Bearer " + adminKey).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(admin.statusCode()).isEqualTo(200);
                    assertThat(admin.body()).contains("\"sessionId\":\"mysessionid\"").contains("\"userId\":\"user5\"");
                } finally {
                    socket.close();
                }
            } finally {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
        }
    }
}
