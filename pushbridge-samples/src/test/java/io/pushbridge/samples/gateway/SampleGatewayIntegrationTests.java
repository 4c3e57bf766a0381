package io.pushbridge.samples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.memory.InMemoryMessageStore;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Boots the sample gateway as it ships (its application.yml), on a free port. */
class SampleGatewayIntegrationTests {

    private static ConfigurableApplicationContext context;
    private static String base;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        context = new SpringApplicationBuilder(SampleGatewayApplication.class)
                .run("--pushbridge.port=0", "--pushbridge.host=127.0.0.1", "--spring.main.keep-alive=false");
        base = "http://127.0.0.1:" + context.getBean(PushBridgeGateway.class).port();
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    @Test
    void servesTheDemoPage() throws Exception {
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(page.body()).contains("PushBridge demo").contains("/js/socket.io.min.js").contains("demo-key");
        assertThat(get("/app.js").statusCode()).isEqualTo(200);
        assertThat(get("/style.css").statusCode()).isEqualTo(200);
        assertThat(get("/favicon.svg").statusCode()).as("the icon the page links (no 404 for /favicon.ico)").isEqualTo(200);
    }

    @Test
    void servesTheSocketIoClientFromNpm() throws Exception {
        HttpResponse<String> script = get("/js/socket.io.min.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/javascript"));
        assertThat(script.body()).contains("Socket.IO v4.8.1");
    }

    @Test
    void doesNotServeTheConfiguration() throws Exception {
        assertThat(get("/application.yml").statusCode()).isEqualTo(404);
        assertThat(get("/../application.yml").statusCode()).isEqualTo(404);
    }

    @Test
    void aliceReceivesASendWithAnAckCallbackAndAckingEmptiesHerQueue() throws Exception {
        Socket socket = connect("alice");
        CompletableFuture<Object[]> received = new CompletableFuture<>();
        socket.on("update_store", received::complete);
        try {
            HttpResponse<String> answer = send("demo-key",
                    "{\"rooms\": [\"user_alice\"], \"event\": \"update_store\", \"args\": [\"user\", {\"id\": 1, \"age\": 5}]}");
            assertThat(answer.statusCode()).isEqualTo(200);
            JSONObject json = new JSONObject(answer.body());
            assertThat(json.getInt("queued")).isEqualTo(1);
            assertThat(json.getJSONArray("rooms").length()).isEqualTo(1);
            assertThat(json.getJSONArray("rooms").getString(0)).isEqualTo("user_alice");
            assertThat(json.getString("id")).isNotBlank();

            Object[] args = received.get(10, TimeUnit.SECONDS);
            assertThat(args).hasSize(3);
            assertThat(args[0]).isEqualTo("user");
            assertThat(((JSONObject) args[1]).getInt("age")).isEqualTo(5);
            assertThat(args[2]).as("the ack callback of a user room message").isInstanceOf(Ack.class);

            InMemoryMessageStore store = (InMemoryMessageStore) context.getBean(MessageStore.class);
            UserQueue alice = new UserQueue("demo", "user_alice");
            assertThat(store.depth(alice)).isEqualTo(1);
            ((Ack) args[2]).call();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (store.depth(alice) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(store.depth(alice)).as("alice's queue after her ack").isZero();
        } finally {
            socket.close();
        }
    }

    @Test
    void aWrongApiKeyGets401Json() throws Exception {
        HttpResponse<String> answer = send("not-the-key", "{\"rooms\": [\"user_alice\"], \"event\": \"x\", \"args\": []}");
        assertThat(answer.statusCode()).isEqualTo(401);
        assertThat(answer.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        assertThat(new JSONObject(answer.body()).getString("error")).isEqualTo("unauthorized");
    }

    @Test
    void anUnknownTokenGetsConnectErrorWithACode() throws Exception {
        CompletableFuture<Object[]> refused = new CompletableFuture<>();
        Socket socket = IO.socket(URI.create(base + "/demo"), IO.Options.builder()
                .setAuth(Map.of("token", "mallory"))
                .setTransports(new String[] {"websocket"})
                .setReconnection(false)
                .build());
        socket.on(Socket.EVENT_CONNECT_ERROR, refused::complete);
        socket.connect();
        try {
            Object[] args = refused.get(10, TimeUnit.SECONDS);
            assertThat(args[0]).isInstanceOf(JSONObject.class);
            assertThat(((JSONObject) args[0]).toString()).contains("unauthorized");
        } finally {
            socket.close();
        }
    }

    private static Socket connect(String token) throws Exception {
        CompletableFuture<Void> connected = new CompletableFuture<>();
        Socket socket = IO.socket(URI.create(base + "/demo"), IO.Options.builder()
                .setAuth(Map.of("token", token))
                .setTransports(new String[] {"websocket"})
                .setReconnection(false)
                .build());
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(null));
        socket.on(Socket.EVENT_CONNECT_ERROR, args ->
                connected.completeExceptionally(new AssertionError("connect_error " + List.of(args))));
        socket.connect();
        connected.get(10, TimeUnit.SECONDS);
        return socket;
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> send(String apiKey, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/send?site=demo&apiKey=" + apiKey))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
