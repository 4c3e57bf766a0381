package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.Message;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two routers (two nodes) on one real Redis: what reaches whom, bad messages, and recovery. */
class RedisRouterIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private final List<AutoCloseable> closing = new java.util.ArrayList<>();

    /** A receiver that records what reaches its node. */
    static final class Recorder implements Router.Receiver {
        final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
        final AtomicInteger resumes = new AtomicInteger();

        @Override
        public void deliver(Message message) {
            items.add(message);
        }

        @Override
        public void execute(SocketCommand command) {
            items.add(command);
        }

        @Override
        public void resumed() {
            resumes.incrementAndGet();
        }

        Object next() throws InterruptedException {
            Object o = items.poll(5, TimeUnit.SECONDS);
            assertThat(o).as("an item within 5 s").isNotNull();
            return o;
        }

        void assertNothing() throws InterruptedException {
            assertThat(items.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    record Node(RedisConnector connector, RedisNodeRegistry registry, RedisRouter router, Recorder recorder) {
    }

    private Node node(String id, String uri) {
        RedisConnector connector = RedisConnector.builder().uri(uri).build();
        RedisNodeRegistry registry = RedisNodeRegistry.builder(connector.commands(), id)
                .heartbeatInterval(Duration.ofMillis(250)).nodeTimeout(Duration.ofSeconds(2)).build();
        registry.start();
        RedisRouter router = new RedisRouter(connector, registry, List.of("news", "chat"));
        Recorder recorder = new Recorder();
        router.start(recorder);
        closing.add(0, connector);
        closing.add(0, registry);
        closing.add(0, router::stop);
        return new Node(connector, registry, router, recorder);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private static Message message(long id, String site, Target target) {
        return new Message(id, site, target, "ev", List.of("x", new byte[] {9}), Set.of(), false, 1L);
    }

    @Test
    void roomAndSiteMessagesReachEveryNodeOnceAndKeepTheirContent() throws Exception {
        Node a = node("a", redis.uri());
        Node b = node("b", redis.uri());
        Message m = new Message(1, "news", Target.rooms(Set.of("r1", "user_1")).except(Set.of("s9")), "ev",
                List.of("x", new byte[] {9}, java.util.Map.of("k", 1)), Set.of("user_1"), true, 42L);

        a.router().publish(m).toCompletableFuture().get(5, TimeUnit.SECONDS);

        for (Node n : List.of(a, b)) {
            Message got = (Message) n.recorder().next();
            assertThat(got.id()).isEqualTo(1);
            assertThat(got.target()).isEqualTo(m.target());
            assertThat(got.queuedRooms()).isEqualTo(Set.of("user_1"));
            assertThat(got.resync()).isTrue();
            assertThat(got.args().get(1)).isEqualTo(new byte[] {9});
            assertThat(got.args().get(2)).isEqualTo(java.util.Map.of("k", 1));
            n.recorder().assertNothing();
        }
    }

    @Test
    void siteChannelsAreApart() throws Exception {
        Node a = node("a", redis.uri());
        Node b = node("b", redis.uri());

        a.router().publish(message(2, "chat", Target.site())).toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertThat(((Message) b.recorder().next()).site()).isEqualTo("chat");
        a.recorder().next();
    }

    @Test
    void socketMessagesAndCommandsReachOnlyTheNodeThatHoldsTheSocket() throws Exception {
        Node a = node("a", redis.uri());
        Node b = node("b", redis.uri());
        b.router().socketConnected("news", "sock-b").toCompletableFuture().get(5, TimeUnit.SECONDS);

        a.router().publish(message(3, "news", Target.socket("sock-b"))).toCompletableFuture().get(5, TimeUnit.SECONDS);
        a.router().command(SocketCommand.join("news", "sock-b", Set.of("r2"))).toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertThat(((Message) b.recorder().next()).id()).isEqualTo(3);
        assertThat(b.recorder().next()).isEqualTo(SocketCommand.join("news", "sock-b", Set.of("r2")));
        a.recorder().assertNothing();

        // once the socket is gone, nothing is routed for it, and that is not an error
        b.router().socketDisconnected("news", "sock-b").toCompletableFuture().get(5, TimeUnit.SECONDS);
        Node c = node("c", redis.uri());
        c.router().command(SocketCommand.disconnect("news", "sock-b")).toCompletableFuture().get(5, TimeUnit.SECONDS);
        b.recorder().assertNothing();
    }

    @Test
    void malformedRoutedMessagesAreDroppedAndCountedAndRoutingGoesOn() throws Exception {
        Node a = node("a", redis.uri());
        String channel = new RedisKeys(RedisKeys.DEFAULT_PREFIX).siteChannel("news");

        redis.server().command("PUBLISH", channel, "not cbor at all");
        redis.server().command("PUBLISH", channel, "");
        a.router().publish(message(4, "news", Target.site())).toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertThat(((Message) a.recorder().next()).id()).isEqualTo(4);
        assertThat(a.router().stats().get("dropped")).isEqualTo(2);
        a.recorder().assertNothing();
    }

    @Test
    void publishFailsFastWhileRedisIsDownAndRoutingResumesByItselfAfterwards() throws Exception {
        try (var own = io.pushbridge.redis.testing.RedisServer.start()) {
            Node a = node("a", own.uri());
            Node b = node("b", own.uri());

            own.kill();
            long started = System.nanoTime();
            assertThatThrownBy(() -> a.router().publish(message(5, "news", Target.site())).toCompletableFuture().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(PushUnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("fails fast, not after a timeout").isLessThan(Duration.ofSeconds(2));

            own.restart();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (b.recorder().resumes.get() == 0 || a.recorder().resumes.get() == 0) {
                assertThat(System.nanoTime()).as("both routers resubscribed and said so").isLessThan(deadline);
                Thread.sleep(50);
            }
            a.router().publish(message(6, "news", Target.site())).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(((Message) b.recorder().next()).id()).isEqualTo(6);
        }
    }

    @Test
    void aDeadNodeIsReapedAndItsSocketsForgotten() throws Exception {
        Node a = node("a", redis.uri());
        Node b = node("b", redis.uri());
        b.router().socketConnected("news", "sock-dead").toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertThat(a.registry().liveNodes().toCompletableFuture().get(5, TimeUnit.SECONDS)).contains("a", "b");

        b.registry().abandonForTests();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (a.registry().reapedNodes() == 0) {
            assertThat(System.nanoTime()).as("reaped within the node timeout plus two heartbeats").isLessThan(deadline);
            Thread.sleep(50);
        }
        assertThat(a.registry().nodeOf("sock-dead").toCompletableFuture().get(5, TimeUnit.SECONDS)).isNull();
        assertThat(a.registry().liveNodes().toCompletableFuture().get(5, TimeUnit.SECONDS)).containsExactly("a");
    }
}
