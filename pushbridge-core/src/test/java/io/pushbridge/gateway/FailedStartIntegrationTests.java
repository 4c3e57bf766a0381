package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.PushBridgeException;
import io.pushbridge.memory.LocalRouter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A start that fails part way undoes what it started: the extensions started (in reverse order),
 * the router, the gateway's threads; the gateway cannot be started again.
 */
class FailedStartIntegrationTests {

    /** Records its start and stop in {@code events}; with {@code fail}, its start throws. */
    private static GatewayExtension extension(String name, List<String> events, boolean fail) {
        return new GatewayExtension() {
            @Override
            public void start(GatewayContext context) {
                events.add("start " + name);
                if (fail) {
                    throw new IllegalStateException(name + " cannot start");
                }
            }

            @Override
            public void stop() {
                events.add("stop " + name);
            }
        };
    }

    @Test
    void aPortInUseStopsTheExtensionsAndTheRouter() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        LocalRouter router = new LocalRouter();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            PushBridgeGateway gateway = PushBridgeGateway.builder()
                    .options(TestGateways.options().port(taken.getLocalPort()).build())
                    .site(TestGateways.newsSite()).router(router)
                    .extension(extension("a", events, false)).extension(extension("b", events, false)).build();
            assertThatThrownBy(gateway::start).isInstanceOf(PushBridgeException.class)
                    .hasMessageContaining("Could not listen on 127.0.0.1:" + taken.getLocalPort() + " (pushbridge.port)");
            assertThat(events).containsExactly("start a", "start b", "stop b", "stop a");
            assertThat(router.isRunning()).isFalse();
            assertThat(gateway.isRunning()).isFalse();
            assertThatThrownBy(gateway::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot be started again");
        }
    }

    @Test
    void anExtensionThatFailsToStartStopsThoseStartedBeforeItAndTheRouter() {
        List<String> events = new CopyOnWriteArrayList<>();
        LocalRouter router = new LocalRouter();
        PushBridgeGateway gateway = PushBridgeGateway.builder().options(TestGateways.options().build())
                .site(TestGateways.newsSite()).router(router)
                .extension(extension("a", events, false)).extension(extension("b", events, true))
                .extension(extension("c", events, false)).build();
        assertThatThrownBy(gateway::start).isInstanceOf(IllegalStateException.class).hasMessage("b cannot start");
        assertThat(events).containsExactly("start a", "start b", "stop b", "stop a");
        assertThat(router.isRunning()).isFalse();
        assertThat(gateway.isRunning()).isFalse();
        assertThat(gateway.port()).isEqualTo(-1);
    }
}
