package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Connections run on Netty's native epoll transport where it is available, else on NIO, and
 * {@code nativeTransport(false)} always chooses NIO: both serve WebSocket and long-polling clients
 * (the other tests run on whichever the machine has), and the start line says which one runs.
 */
class TransportIntegrationTests {

    @Test
    void withoutTheNativeTransportConnectionsRunOnNio() throws Exception {
        assertServesAndSays(false, "transport=nio");
    }

    @Test
    void byDefaultConnectionsRunOnEpollWhereItIsAvailable() throws Exception {
        assertServesAndSays(true, NativeTransport.available() ? "transport=epoll" : "transport=nio");
    }

    private static void assertServesAndSays(boolean nativeTransport, String transport) throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(PushBridgeGateway.class);
        logs.start();
        logger.addAppender(logs);
        PushBridgeGateway gateway;
        try {
            gateway = TestGateways.start(TestGateways.options().nativeTransport(nativeTransport).build(),
                    b -> b.site(TestGateways.newsSite()));
        } finally {
            logger.detachAppender(logs);
        }
        try (TestClient ws = TestClient.connect(gateway.port(), "/news", "rooms:t_room", "hello");
                TestClient polling = TestClient.connectPolling(gateway.port(), "/news", "rooms:t_room", "hello")) {
            assertThat(logs.list).anySatisfy(line -> assertThat(line.getFormattedMessage())
                    .contains("PushBridge gateway started: ").contains(", tls=off, " + transport + ", nodeId="));
            assertThat(gateway.options().nativeTransport()).isEqualTo(nativeTransport);
            ws.awaitConnected();
            polling.awaitConnected();
            gateway.pushTemplate().site("news").to("t_room").event("hello").args("both").send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(ws.next().args()).containsExactly("both");
            assertThat(polling.next().args()).containsExactly("both");
        } finally {
            gateway.stop();
        }
    }
}
