package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.PushTemplate;
import io.pushbridge.SendResult;
import io.pushbridge.gateway.PushBridgeGateway;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** A context that starts a real gateway on a free port, with a real Socket.IO client. */
class PushBridgeAutoConfigurationIntegrationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1",
                    "pushbridge.sites.demo.authorizer=STATIC",
                    "pushbridge.sites.demo.tokens.alice=user_alice,staff",
                    "pushbridge.sites.demo.api-key=demo-key");

    @Test
    void pushTemplateReachesAConnectedClientAndClosingStopsTheGateway() throws Exception {
        int[] port = new int[1];
        ConfigurableApplicationContext[] started = new ConfigurableApplicationContext[1];
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            started[0] = context;
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            assertThat(gateway.isRunning()).isTrue();
            port[0] = gateway.port();
            assertThat(port[0]).isPositive();

            CompletableFuture<Object[]> received = new CompletableFuture<>();
            Socket socket = connect(port[0], received);
            try {
                SendResult result = context.getBean(PushTemplate.class).site("demo").to("user_alice")
                        .event("greeting").args("hello alice").send().toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertThat(result.rooms()).containsExactly("user_alice");
                assertThat(result.queued()).isEqualTo(1);

                Object[] args = received.get(10, TimeUnit.SECONDS);
                assertThat(args[0]).isEqualTo("hello alice");
                // a user room message comes with an ack callback
                assertThat(args[args.length - 1]).isInstanceOf(Ack.class);
                ((Ack) args[args.length - 1]).call();
            } finally {
                socket.close();
            }
        });
        assertThat(started[0].isActive()).isFalse();
        assertThatThrownBy(() -> {
            try (java.net.Socket probe = new java.net.Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port[0]), 2000);
            }
        }).as("the port no longer accepts once the context is closed").isInstanceOf(ConnectException.class);
    }

    @Test
    void portInUseFailsStartupWithAnAnalysis() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.setReuseAddress(false);
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            runner.withPropertyValues("pushbridge.port=" + taken.getLocalPort()).run(context -> {
                assertThat(context).hasFailed();
                FailureAnalysis analysis = new PushBridgeStartFailureAnalyzer().analyze(context.getStartupFailure());
                assertThat(analysis).as("analysis of %s", context.getStartupFailure()).isNotNull();
                assertThat(analysis.getDescription()).contains(String.valueOf(taken.getLocalPort()));
                assertThat(analysis.getAction()).contains("pushbridge.port");
            });
        }
    }

    /** The in-memory store, whose appends wait for {@code release}: a send that stays in flight. */
    static final class HeldStore implements io.pushbridge.MessageStore {
        final io.pushbridge.memory.InMemoryMessageStore delegate = io.pushbridge.memory.InMemoryMessageStore.builder().build();
        final CompletableFuture<Void> release = new CompletableFuture<>();

        @Override
        public java.util.concurrent.CompletionStage<AppendOutcome> append(io.pushbridge.UserQueue queue,
                io.pushbridge.QueuedMessage message) {
            return release.thenCompose(v -> delegate.append(queue, message));
        }

        @Override
        public java.util.concurrent.CompletionStage<Pending> takePending(io.pushbridge.UserQueue queue) {
            return delegate.takePending(queue);
        }

        @Override
        public java.util.concurrent.CompletionStage<AckOutcome> ack(io.pushbridge.UserQueue queue, long messageId) {
            return delegate.ack(queue, messageId);
        }

        @Override
        public java.util.concurrent.CompletionStage<Integer> remove(io.pushbridge.UserQueue queue,
                java.util.Collection<Long> messageIds) {
            return delegate.remove(queue, messageIds);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> clear(io.pushbridge.UserQueue queue) {
            return delegate.clear(queue);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> connectionOpened(io.pushbridge.UserQueue queue) {
            return delegate.connectionOpened(queue);
        }

        @Override
        public java.util.concurrent.CompletionStage<Void> connectionClosed(io.pushbridge.UserQueue queue) {
            return delegate.connectionClosed(queue);
        }
    }

    @Test
    void closingTheContextDrainsTheGatewayAndTheHealthIndicatorSaysSo() throws Exception {
        HeldStore store = new HeldStore();
        runner.withBean(io.pushbridge.MessageStore.class, () -> store).run(context -> {
            PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
            org.springframework.boot.health.contributor.HealthIndicator health =
                    context.getBean("pushbridge", org.springframework.boot.health.contributor.HealthIndicator.class);
            assertThat(health.health().getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
            CompletableFuture<Object[]> received = new CompletableFuture<>();
            CompletableFuture<String> disconnected = new CompletableFuture<>();
            Socket socket = connect(gateway.port(), received);
            socket.on(Socket.EVENT_DISCONNECT, args -> disconnected.complete(String.valueOf(args[0])));
            try {
                CompletableFuture<SendResult> inFlight = context.getBean(PushTemplate.class).site("demo").to("user_alice")
                        .event("greeting").args("sent before the stop").send().toCompletableFuture();
                Thread closer = new Thread(context::close, "test-context-close");
                closer.start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!gateway.isDraining()) {
                    assertThat(System.nanoTime()).as("draining").isLessThan(deadline);
                    Thread.sleep(10);
                }
                org.springframework.boot.health.contributor.Health draining = health.health();
                assertThat(draining.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.OUT_OF_SERVICE);
                assertThat(draining.getDetails()).containsEntry("reason", "draining");
                java.net.http.HttpResponse<String> refused = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                        + "/send?site=demo&apiKey=demo-key"))
                                .header("Content-Type", "application/json")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                        "{\"rooms\":[\"user_alice\"],\"event\":\"greeting\",\"args\":[\"refused\"]}"))
                                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");

                store.release.complete(null);
                assertThat(inFlight.get(10, TimeUnit.SECONDS).queued()).isEqualTo(1);
                assertThat(received.get(10, TimeUnit.SECONDS)[0]).isEqualTo("sent before the stop");
                assertThat(disconnected.get(10, TimeUnit.SECONDS)).isIn("transport close", "transport error");
                closer.join(TimeUnit.SECONDS.toMillis(20));
                assertThat(closer.isAlive()).isFalse();
                assertThat(gateway.isRunning()).isFalse();
                assertThat(gateway.stats().get("drain.timed_out")).isZero();
                // the message was received, not acked: it stays queued for the next connect
                assertThat(store.delegate.depth(new io.pushbridge.UserQueue("demo", "user_alice"))).isEqualTo(1);
            } finally {
                store.release.complete(null);
                socket.close();
            }
        });
    }

    /** Alice's client on the demo site, connected; {@code greeting} events complete {@code received}. */
    static Socket connect(int port, CompletableFuture<Object[]> received) {
        CompletableFuture<Void> connected = new CompletableFuture<>();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + port + "/demo"), IO.Options.builder()
                .setAuth(Map.of("token", "alice"))
                .setTransports(new String[] {"websocket"})
                .setReconnection(false)
                .build());
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(null));
        socket.on(Socket.EVENT_CONNECT_ERROR, args -> connected.completeExceptionally(
                new AssertionError("connect_error " + List.of(args))));
        socket.on("greeting", received::complete);
        socket.connect();
        try {
            connected.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            socket.close();
            throw new AssertionError("could not connect", e);
        }
        return socket;
    }
}
