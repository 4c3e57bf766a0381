package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One line at start and one at stop, each with the effective settings, and never a secret. */
class StartStopLogIntegrationTests {

    static final String ADMIN_KEY = "admin-key-that-must-not-be-logged";

    final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    final Logger logger = (Logger) LoggerFactory.getLogger(PushBridgeGateway.class);

    @BeforeEach
    void capture() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void release() {
        logger.detachAppender(logs);
    }

    private List<String> lines() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aGatewayLogsOneLineWithItsSettingsAtStartAndAtStop() {
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().nodeId("log-node").adminKey(ADMIN_KEY).adminPort(0)
                .build(), b -> b.site(TestGateways.newsSite())
                        .site(SiteOptions.builder("chat").namespace("/").authorizer(new io.pushbridge.auth.AllowAllAuthorizer(java.util.Set.of("lobby"))).build()));
        List<String> started = lines();
        assertThat(started).hasSize(1);
        String start = started.get(0);
        assertThat(start).doesNotContain("\n").doesNotContain(ADMIN_KEY).doesNotContain(TestGateways.API_KEY);
        assertThat(start).startsWith("[log-node] PushBridge gateway started: port=" + gateway.port() + ", adminPort="
                + gateway.adminPort() + ", tls=off, transport=" + (NativeTransport.available() ? "epoll" : "nio")
                + ", nodeId=log-node, sites=[");
        assertThat(start).contains("sites=[news=/news (TestGateways (lambda)), chat=/ (AllowAllAuthorizer)]");
        assertThat(start).contains(", redis=none, store=InMemoryMessageStore[maxPendingPerUser=10000, clientTtl=PT1H, resyncMemory=PT168H], "
                + "router=LocalRouter[running]; ", "host=127.0.0.1", "path=/socket.io", "queueInspector=off", "admin=/pushbridge/admin");

        logs.list.clear();
        gateway.stop();
        // the drain says when it starts; the stop line comes once it is done
        List<String> stopped = lines().stream().filter(line -> line.contains(" stopped")).toList();
        assertThat(stopped).hasSize(1);
        assertThat(lines().get(lines().size() - 1)).isEqualTo(stopped.get(0));
        assertThat(stopped.get(0)).startsWith("[log-node] PushBridge gateway stopped: port=" + gateway.port() + ", adminPort="
                + gateway.adminPort() + ", tls=off, transport=" + (NativeTransport.available() ? "epoll" : "nio")
                + ", nodeId=log-node, sites=[").contains(", redis=none, store=InMemoryMessageStore[",
                        "router=LocalRouter[stopped]; drained for ", " ms, 0 sessions closed for reconnect; up ",
                        " s, 0 sends accepted, 0 connects").doesNotContain(ADMIN_KEY)
                .doesNotContain("\n");
    }

    @Test
    void aNodeWithoutAPortSaysSoAndNamesTheRedisModeItWasGiven() {
        PushBridgeGateway node = TestGateways.start(TestGateways.options().nodeId("app-node").serve(false).queueInspector(true).build(),
                b -> b.site(TestGateways.newsSite()).redisMode("sentinel"));
        try {
            assertThat(lines()).singleElement().asString()
                    .startsWith("[app-node] PushBridge node started without a port (it holds no connections: it sends, and runs "
                            + "its extensions): port=none, tls=off, nodeId=app-node, sites=[news=/news (")
                    .contains(", redis=sentinel, store=InMemoryMessageStore[", "queueInspector=on", "serve=false");
        } finally {
            logs.list.clear();
            node.stop();
        }
        assertThat(lines().stream().filter(line -> line.contains(" stopped"))).singleElement().asString()
                .startsWith("[app-node] PushBridge node stopped: port=none, tls=off, nodeId=app-node");
    }
}
