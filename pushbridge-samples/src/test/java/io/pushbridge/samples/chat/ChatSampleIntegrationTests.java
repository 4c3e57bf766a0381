package io.pushbridge.samples.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.samples.chat.app.ChatAppApplication;
import io.pushbridge.samples.chat.gateway.ChatGatewayApplication;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
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
 * The chat example as it ships: two gateway nodes and one application node (three application
 * contexts, as three processes would be) on a real Redis, with real Socket.IO clients on different
 * gateway nodes talking through the application node.
 */
class ChatSampleIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static ConfigurableApplicationContext start(Class<?> main, String configName) {
        return new SpringApplicationBuilder(main).properties("spring.config.name=" + configName)
                .run("--PORT=0", "--REDIS_URL=" + redis.uri(), "--pushbridge.host=127.0.0.1",
                        "--spring.main.keep-alive=false", "--pushbridge.upstream.idle-timeout=2s");
    }

    private static Socket connect(int port, BlockingQueue<String> received) throws Exception {
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port),
                IO.Options.builder().setForceNew(true).setReconnection(false).build());
        socket.on("message", args -> received.add("message " + args[0]));
        socket.on("announcement", args -> received.add("announcement " + args[0]));
        CompletableFuture<String> connected = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(socket.id()));
        socket.connect();
        connected.get(10, TimeUnit.SECONDS);
        return socket;
    }

    /** The next line starting with {@code prefix}, skipping others, within 10 s. */
    private static String next(BlockingQueue<String> received, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String line = received.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("no '" + prefix + "' line within 10 s");
    }

    @Test
    void twoBrowsersOnTwoGatewaysChatThroughTheApplicationNode() throws Exception {
        try (ConfigurableApplicationContext app = start(ChatAppApplication.class, "chat-app");
                ConfigurableApplicationContext gatewayA = start(ChatGatewayApplication.class, "chat-gateway");
                ConfigurableApplicationContext gatewayB = start(ChatGatewayApplication.class, "chat-gateway")) {
            assertThat(app.getBean(PushBridgeGateway.class).port()).isEqualTo(-1);
            BlockingQueue<String> atA = new LinkedBlockingQueue<>();
            BlockingQueue<String> atB = new LinkedBlockingQueue<>();
            Socket alice = connect(gatewayA.getBean(PushBridgeGateway.class).port(), atA);
            Socket bob = connect(gatewayB.getBean(PushBridgeGateway.class).port(), atB);
            String bobShort = bob.id().substring(0, 8);
            try {
                assertThat(next(atA, "announcement ")).isEqualTo("announcement " + bobShort + " joined");

                CompletableFuture<Object[]> answer = new CompletableFuture<>();
                alice.emit("message", new Object[] {new JSONObject().put("name", "alice").put("text", "hi bob")},
                        (Ack) answer::complete);
                assertThat(((JSONObject) answer.get(10, TimeUnit.SECONDS)[0]).getBoolean("ok")).isTrue();
                // bob may first hear of alice joining (her connect record can be handled after bob connected)
                String got = next(atB, "message ");
                JSONObject message = new JSONObject(got.substring("message ".length()));
                assertThat(message.getString("name")).isEqualTo("alice");
                assertThat(message.getString("text")).isEqualTo("hi bob");

                CompletableFuture<Object[]> refused = new CompletableFuture<>();
                bob.emit("message", new Object[] {new JSONObject().put("text", "")}, (Ack) refused::complete);
                JSONObject error = ((JSONObject) refused.get(10, TimeUnit.SECONDS)[0]).getJSONObject("error");
                assertThat(error.getString("code")).isEqualTo("invalid");

                bob.disconnect();
                assertThat(next(atA, "announcement ")).isEqualTo("announcement " + bobShort + " left");
            } finally {
                alice.close();
                bob.close();
            }
        }
    }
}
