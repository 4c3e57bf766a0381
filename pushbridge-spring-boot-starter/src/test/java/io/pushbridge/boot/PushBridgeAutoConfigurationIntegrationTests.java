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
