package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.memory.InMemoryMessageStore;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Engine.IO heartbeat with the gateway's timers ({@link SessionTimers}): a client that answers
 * the server's pings stays connected over many ping intervals, one that stops answering is closed
 * by its ping timeout (before the idle handler, which it keeps from firing by sending events), and
 * the timers of closed sessions are let go.
 */
class HeartbeatIntegrationTests {

    private static PushBridgeGateway gateway;
    private static ScheduledExecutorService chatter;

    @BeforeAll
    static void start() {
        // ping every 500 ms, a pong due 500 ms later: netty-socketio closes a silent client 1 s after its
        // last pong; the idle handler would only after 6 s of no reads
        gateway = TestGateways.start(TestGateways.options().pingInterval(Duration.ofMillis(500))
                .pingTimeout(Duration.ofMillis(500)).build(), b -> b.site(TestGateways.newsSite())
                .store(InMemoryMessageStore.builder().build()));
        chatter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "test-chatter");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stop() {
        chatter.shutdownNow();
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void aClientThatAnswersPingsStaysAndOneThatStopsIsClosedByItsPingTimeout() throws Exception {
        try (RawClient answering = RawClient.connect(gateway.port());
                RawClient silent = RawClient.connect(gateway.port())) {
            answering.join("/news", "{\"token\":\"rooms:a\"}");
            silent.join("/news", "{\"token\":\"rooms:b\"}");
            silent.answerPings = false;
            // the silent client keeps sending events, so that only a missed pong can close it
            var events = chatter.scheduleAtFixedRate(() -> {
                try {
                    silent.send("42/news,[\"noise\"]");
                } catch (Exception closed) {
                    // closed meanwhile
                }
            }, 0, 200, TimeUnit.MILLISECONDS);
            try {
                assertThat(silent.awaitClosed(Duration.ofSeconds(5))).as("closed by its ping timeout").isTrue();
            } finally {
                events.cancel(false);
            }
            // several ping intervals later, the client that answers is still served
            assertThat(answering.awaitClosed(Duration.ofMillis(2_500))).as("answering client still open").isFalse();
            gateway.pushTemplate().site("news").to("a").event("still").args("here").send().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertThat(answering.nextText(t -> t.contains("still"), RawClient.WAIT)).contains("here");
        }
    }

    @Test
    void aClosedSessionLeavesNoHeartbeatTimer() throws Exception {
        SessionTimers timers = timers();
        try (RawClient client = RawClient.connect(gateway.port())) {
            client.join("/news", "{\"token\":\"rooms:c\"}");
            assertThat(timers.sessionsScheduled()).isGreaterThan(0);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (timers.sessionsScheduled() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(timers.sessionsScheduled()).as("sessions with timers after every client left").isZero();
    }

    /** The gateway's scheduler, as netty-socketio's initializer holds it. */
    private static SessionTimers timers() throws Exception {
        var own = PushBridgeGateway.class.getDeclaredField("server");
        own.setAccessible(true);
        var server = own.get(gateway);
        var field = com.corundumstudio.socketio.SocketIOServer.class.getDeclaredField("pipelineFactory");
        field.setAccessible(true);
        var initializer = field.get(server);
        var scheduler = com.corundumstudio.socketio.SocketIOChannelInitializer.class.getDeclaredField("scheduler");
        scheduler.setAccessible(true);
        return (SessionTimers) scheduler.get(initializer);
    }
}
