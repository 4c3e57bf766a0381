package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayCommand;
import io.pushbridge.PushRefusedException;
import io.pushbridge.Target;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Custom commands ({@code PushTemplate.command}) reach the site's gateway-side handler with this
 * node's recipients; bad ones are refused like sends. And a node without a port (an application
 * node) sends like any other.
 */
class CustomCommandsIntegrationTests {

    static final LinkedBlockingQueue<GatewayCommand> received = new LinkedBlockingQueue<>();
    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        SiteOptions site = SiteOptions.builder("news").authorizer(TestGateways.ROOMS_FROM_TOKEN).apiKey(TestGateways.API_KEY)
                .onCommand("setUserId", command -> {
                    assertThat(Thread.currentThread().getName()).startsWith("pushbridge-worker");
                    received.add(command);
                })
                .onCommand("explode", command -> {
                    throw new IllegalStateException("a failing handler is counted");
                })
                .build();
        gateway = TestGateways.start(TestGateways.options().maxMessageSize(1000).build(), b -> b.site(site));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    private static void send(Target target, String type, Map<String, Object> data) throws Exception {
        gateway.pushTemplate().command("news", target, type, data).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static GatewayCommand next() throws InterruptedException {
        GatewayCommand command = received.poll(5, TimeUnit.SECONDS);
        assertThat(command).as("a command within 5 s").isNotNull();
        return command;
    }

    @Test
    void aCommandReachesTheHandlerWithThisNodesRecipients() throws Exception {
        try (TestClient a = TestClient.connect(gateway.port(), "/news", "rooms:cmd-room");
                TestClient b = TestClient.connect(gateway.port(), "/news", "rooms:cmd-other")) {
            String idA = a.awaitConnected();
            String idB = b.awaitConnected();

            send(Target.socket(idA), "setUserId", Map.of("userId", "u1"));
            GatewayCommand toSocket = next();
            assertThat(toSocket.type()).isEqualTo("setUserId");
            assertThat(toSocket.data()).containsEntry("userId", "u1");
            assertThat(toSocket.sockets()).extracting(ConnectionInfo::socketId).containsExactly(idA);
            assertThat(toSocket.nodeId()).isEqualTo(gateway.options().nodeId());

            send(Target.rooms(Set.of("cmd-room", "cmd-other")).except(Set.of(idB)), "setUserId", Map.of());
            assertThat(next().sockets()).extracting(ConnectionInfo::socketId).containsExactly(idA);

            send(Target.site(), "setUserId", Map.of("all", true));
            assertThat(next().sockets()).extracting(ConnectionInfo::socketId).contains(idA, idB);

            // no recipient here: the handler is not called
            send(Target.rooms(Set.of("nobody-here")), "setUserId", Map.of("n", 1));
            send(Target.socket(idB), "setUserId", Map.of("n", 2));
            assertThat(next().data()).containsEntry("n", 2);
            // nothing reached the clients
            assertThat(a.poll(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void commandsFromOneSenderAreHandledInTheOrderSent() throws Exception {
        try (TestClient a = TestClient.connect(gateway.port(), "/news", "rooms:cmd-order")) {
            a.awaitConnected();
            received.clear();
            for (int i = 0; i < 50; i++) {
                send(Target.rooms(Set.of("cmd-order")), "setUserId", Map.of("n", i));
            }
            for (int i = 0; i < 50; i++) {
                assertThat(next().data()).containsEntry("n", i);
            }
        }
    }

    @Test
    void unknownAndFailingCommandsAreCounted() throws Exception {
        long unhandled = gateway.stats().get("commands.custom.unhandled");
        send(Target.site(), "nobody-handles-this", Map.of());
        long failed = gateway.stats().get("commands.custom.failed");
        send(Target.site(), "explode", Map.of());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((gateway.stats().get("commands.custom.unhandled") == unhandled
                || gateway.stats().get("commands.custom.failed") == failed) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gateway.stats().get("commands.custom.unhandled")).isEqualTo(unhandled + 1);
        assertThat(gateway.stats().get("commands.custom.failed")).isEqualTo(failed + 1);
    }

    @Test
    void badCommandsAreRefusedLikeSends() {
        assertRefused("nope", Target.site(), "setUserId", Map.of(), PushRefusedException.Reason.UNKNOWN_SITE);
        assertRefused("news", Target.site(), "", Map.of(), PushRefusedException.Reason.INVALID);
        assertRefused("news", Target.site(), "bad\ntype", Map.of(), PushRefusedException.Reason.INVALID);
        assertRefused("news", Target.site(), "connect", Map.of(), PushRefusedException.Reason.INVALID);
        assertRefused("news", Target.rooms(Set.of("")), "setUserId", Map.of(), PushRefusedException.Reason.INVALID);
        assertRefused("news", Target.site(), "setUserId", Map.of("big", "x".repeat(2000)), PushRefusedException.Reason.TOO_LARGE);
        assertRefused("news", Target.site(), "setUserId", null, PushRefusedException.Reason.INVALID);
        assertThatThrownBy(() -> SiteOptions.builder("x").onCommand("batch", c -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
    }

    private static void assertRefused(String site, Target target, String type, Map<String, Object> data,
            PushRefusedException.Reason reason) {
        assertThatThrownBy(() -> gateway.pushTemplate().command(site, target, type, data).toCompletableFuture().get())
                .isInstanceOf(ExecutionException.class).cause().isInstanceOfSatisfying(PushRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason));
    }

    @Test
    void aNodeWithoutAPortSendsAndStops() throws Exception {
        InMemoryMessageStore store = InMemoryMessageStore.builder().build();
        PushBridgeGateway app = TestGateways.start(TestGateways.options().serve(false).build(),
                b -> b.site(TestGateways.newsSite()).store(store));
        try {
            assertThat(app.isRunning()).isTrue();
            assertThat(app.port()).isEqualTo(-1);
            assertThat(app.pushTemplate().site("news").to("user_app").event("hello").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS).queued()).isEqualTo(1);
            assertThat(store.takePending(new UserQueue("news", "user_app")).toCompletableFuture().get().messages())
                    .extracting(m -> m.event()).containsExactly("hello");
        } finally {
            app.stop();
        }
        assertThat(app.isRunning()).isFalse();
        assertThat(app.options().serve()).isFalse();
    }
}
