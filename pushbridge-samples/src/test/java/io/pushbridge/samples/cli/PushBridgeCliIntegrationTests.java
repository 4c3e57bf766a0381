package io.pushbridge.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.ClientEvent;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.UserQueue;
import io.pushbridge.auth.StaticAuthorizer;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.memory.InMemoryMessageStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * Runs the command-line client in-process against an in-memory gateway: a site on "/" at the path
 * /socket/ (as the old session service had it), tokens from a static table, and handlers that record
 * the client's authenticate and subscribe events.
 */
class PushBridgeCliIntegrationTests {

    private static final String SITE = "cli";

    private static PushBridgeGateway gateway;
    private static InMemoryMessageStore store;
    private static String url;
    /** The gateway's context, to look sockets up. */
    private static volatile GatewayContext context;
    private static final BlockingQueue<ClientEvent> clientEvents = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() {
        store = InMemoryMessageStore.builder().build();
        gateway = PushBridgeGateway.builder()
                .options(GatewayOptions.builder().host("127.0.0.1").port(0).path("/socket/")
                        .connectTimeout(Duration.ofSeconds(5)).workerThreads(2).build())
                .site(SiteOptions.builder(SITE).namespace("/")
                        .authorizer(new StaticAuthorizer(Map.of("alice", Set.of("user_alice", "staff"), "bob", Set.of())))
                        .onEvent("authenticate", PushBridgeCliIntegrationTests::record)
                        .onEvent("subscribe", PushBridgeCliIntegrationTests::record)
                        .build())
                .store(store)
                .extension(new GatewayExtension() {
                    @Override
                    public void start(GatewayContext started) {
                        context = started;
                    }

                    @Override
                    public void stop() {
                    }
                })
                .build();
        gateway.start();
        url = "http://127.0.0.1:" + gateway.port();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static CompletableFuture<List<Object>> record(ClientEvent event) {
        clientEvents.add(event);
        return CompletableFuture.completedFuture(List.of());
    }

    @Test
    void printsAnEventAndExitsAfterCount() throws Exception {
        Run run = Run.start("--path", "/socket/", "--token", "alice", "--count", "1", "--timeout", "20s", url);
        run.awaitLineStartingWith("connect ");

        gateway.pushTemplate().site(SITE).to("staff").event("news").args("hello", Map.of("n", 1)).send()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(run.exitCode()).isZero();
        List<String> lines = run.lines();
        assertThat(lines.get(0)).matches("connect [0-9a-f-]{36}");
        assertThat(lines).contains("news [\"hello\",{\"n\":1}]");
        assertThat(lines.get(lines.size() - 1)).isEqualTo("disconnect io client disconnect");
    }

    @Test
    void authenticatesWithASessionAndAcksUserRoomMessages() throws Exception {
        Run run = Run.start("--path", "/socket/", "--token", "bob", "--session", "mysessionid", "--ack", "--count", "1",
                "--timeout", "20s", url);
        ClientEvent authenticate = nextClientEvent("authenticate");
        assertThat(authenticate.args()).containsExactly(Map.of("sessionId", "mysessionid"));

        // the room a session service would join the socket to: a user room, so the message comes with an ack
        gateway.pushTemplate().join(SITE, authenticate.socketId(), Set.of("user_bob")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        awaitSocketIn("user_bob", authenticate.socketId());
        gateway.pushTemplate().site(SITE).to("user_bob").event("message").args(Map.of("a", "b")).send()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(run.exitCode()).isZero();
        // on its own, or in the batch of pending messages if it was queued before the socket's queue opened
        assertThat(run.lines()).containsAnyOf("message [{\"a\":\"b\"}]", "batch [[[\"message\",{\"a\":\"b\"}]]]");
        UserQueue bob = new UserQueue(SITE, "user_bob");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (store.depth(bob) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(store.depth(bob)).as("bob's queue after the client's ack").isZero();
    }

    @Test
    void subscribesOverLongPolling() throws Exception {
        Run run = Run.start("--path", "/socket/", "--token", "bob", "--polling", "--subscribe", "myroom", "--uid",
                "someuid", "--sid", "somesid", "--count", "1", "--timeout", "20s", url);
        ClientEvent subscribe = nextClientEvent("subscribe");
        assertThat(subscribe.args()).containsExactly(Map.of("room", "myroom", "uid", "someuid", "sid", "somesid"));

        gateway.pushTemplate().join(SITE, subscribe.socketId(), Set.of("myroom")).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        awaitSocketIn("myroom", subscribe.socketId());
        gateway.pushTemplate().site(SITE).to("myroom").event("myevent")
                .args(Map.of("room", "myroom", "type", "myevent", "key1", "value1")).send()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(run.exitCode()).isZero();
        String line = run.lines().stream().filter(l -> l.startsWith("myevent ")).findFirst().orElseThrow();
        JSONArray args = new JSONArray(line.substring("myevent ".length()));
        assertThat(args.length()).isEqualTo(1);
        JSONObject message = args.getJSONObject(0);
        assertThat(message.getString("room")).isEqualTo("myroom");
        assertThat(message.getString("type")).isEqualTo("myevent");
        assertThat(message.getString("key1")).isEqualTo("value1");
    }

    @Test
    void aRefusedConnectPrintsItsConnectErrorAndFails() throws Exception {
        Run run = Run.start("--path", "/socket/", "--token", "mallory", "--timeout", "20s", url);

        assertThat(run.exitCode()).isEqualTo(PushBridgeCli.CONNECTION_FAILED);
        List<String> lines = run.lines();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).startsWith("connect_error {");
        JSONObject data = new JSONObject(lines.get(0).substring("connect_error ".length()));
        assertThat(data.getString("code")).isEqualTo("unauthorized");
        assertThat(data.getString("message")).isEqualTo("Unknown token");
    }

    @Test
    void fewerEventsThanCountWithinTheTimeoutFails() throws Exception {
        Run run = Run.start("--path", "/socket/", "--token", "alice", "--count", "1", "--timeout", "1s", url);

        assertThat(run.exitCode()).as(run.lines().toString()).isEqualTo(PushBridgeCli.TIMED_OUT);
        assertThat(run.lines()).contains("timeout after 1s: 0 of 1 events");
    }

    private static ClientEvent nextClientEvent(String name) throws InterruptedException {
        ClientEvent event = clientEvents.poll(10, TimeUnit.SECONDS);
        assertThat(event).as("the client's " + name).isNotNull();
        assertThat(event.event()).isEqualTo(name);
        return event;
    }

    /** join completes once the command is handed over; wait until the socket is in the room. */
    private static void awaitSocketIn(String room, String socketId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            ConnectionInfo info = context.socket(SITE, socketId);
            if (info != null && info.rooms().contains(room)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError(socketId + " did not join " + room);
    }

    /** One in-process run of the client on its own thread, with its output captured. */
    private record Run(ByteArrayOutputStream bytes, CompletableFuture<Integer> exit) {

        static Run start(String... args) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            return new Run(bytes, CompletableFuture.supplyAsync(() -> PushBridgeCli.run(args, out)));
        }

        int exitCode() throws Exception {
            return exit.get(30, TimeUnit.SECONDS);
        }

        List<String> lines() {
            return bytes.toString(StandardCharsets.UTF_8).lines().toList();
        }

        void awaitLineStartingWith(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                if (lines().stream().anyMatch(l -> l.startsWith(prefix))) {
                    return;
                }
                if (exit.isDone()) {
                    throw new AssertionError("the client ended: " + lines());
                }
                Thread.sleep(20);
            }
            throw new AssertionError("no line starting with '" + prefix + "': " + lines());
        }
    }
}
