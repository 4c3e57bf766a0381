package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A site on the main namespace {@code /}, which netty-socketio joins implicitly at the Engine.IO
 * handshake (W4): the gateway must still admit only after the client's own {@code 40} and its
 * authorizer, and keep the root site apart from a {@code /news} site on the same gateway.
 */
class RootNamespaceIntegrationTests {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        SiteOptions main = SiteOptions.builder("main").namespace("/").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .apiKey(TestGateways.API_KEY).build();
        gateway = TestGateways.start(TestGateways.options().build(), b -> b.site(main).site(TestGateways.newsSite()));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @Test
    void javaClientOnTheMainNamespaceConnectsJoinsItsRoomsAndGetsSends() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "", "rooms:root_a,root_b", "hello")) {
            assertThat(client.awaitConnected()).isNotEmpty();
            send(gateway.pushTemplate().site("main").to("root_b").event("hello").args("room", 1));
            assertThat(client.next().args()).containsExactly("room", 1);
            send(gateway.pushTemplate().site("main").toAll().event("hello").args("all"));
            assertThat(client.next().args()).containsExactly("all");
            send(gateway.pushTemplate().site("main").to("root_other").event("hello").args("not you"));
            assertThat(client.poll(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void withoutATokenTheMainNamespaceRefusesAndDeliversNothing() throws Exception {
        try (TestClient refused = TestClient.connect(gateway.port(), "", null, "hello");
                TestClient member = TestClient.connect(gateway.port(), "", "rooms:root_m", "hello")) {
            JSONObject error = refused.awaitConnectError();
            assertThat(error.optString("code")).isEqualTo("token_missing");
            assertThat(error.optString("message")).isNotEmpty();
            assertThat(refused.connected).isNotDone();
            member.awaitConnected();
            send(gateway.pushTemplate().site("main").toAll().event("hello").args("everyone"));
            assertThat(member.next().args()).containsExactly("everyone");
            assertThat(refused.poll(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void rawEventOnTheMainNamespaceBeforeItsConnectIsDropped() throws Exception {
        try (RawClient raw = RawClient.connect(gateway.port())) {
            // joined to "/" by netty-socketio at the handshake, but not admitted by the gateway
            long dropped = gateway.stats().get("dropped.not_connected");
            raw.send("42[\"early\"]");
            raw.send("42[\"early\",{\"with\":\"args\"}]");
            awaitStat("dropped.not_connected", dropped + 2);
            send(gateway.pushTemplate().site("main").toAll().event("rawev").args("before"));
            assertThat(raw.pollText(t -> t.startsWith("42"), Duration.ofMillis(300))).isNull();
            assertThat(raw.closed).isNotDone();

            String answer = raw.connectNamespace("/", "{\"token\":\"rooms:rootraw\"}");
            assertThat(answer).startsWith("40{");
            JsonNode ack = RawClient.JSON.readTree(answer.substring(2));
            assertThat(ack.path("sid").asText()).isNotEmpty();

            long droppedAfter = gateway.stats().get("dropped.not_connected");
            raw.send("42[\"late\"]");
            send(gateway.pushTemplate().site("main").to("rootraw").event("rawev").args("after"));
            assertThat(raw.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42[\"rawev\",\"after\"]");
            assertThat(gateway.stats().get("dropped.not_connected")).isEqualTo(droppedAfter);

            // leaving its only site closes the connection (W6), also on "/"
            raw.send("41");
            assertThat(raw.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void rootAndNewsSitesOnOneGatewayStayApart() throws Exception {
        try (TestClient root = TestClient.connect(gateway.port(), "", "rooms:two_r", "m", "n");
                TestClient news = TestClient.connect(gateway.port(), "/news", "rooms:two_n", "m", "n");
                RawClient both = RawClient.connect(gateway.port())) {
            root.awaitConnected();
            news.awaitConnected();
            both.join("/", "{\"token\":\"rooms:two_r\"}");
            both.join("/news", "{\"token\":\"rooms:two_n\"}");

            send(gateway.pushTemplate().site("main").toAll().event("m").args("main"));
            assertThat(root.next().args()).containsExactly("main");
            assertThat(both.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42[\"m\",\"main\"]");
            // every session is in netty-socketio's "/", but only admitted sockets belong to the root site
            assertThat(news.poll(Duration.ofMillis(300))).isNull();

            send(gateway.pushTemplate().site("news").to("two_n").event("n").args("news"));
            assertThat(news.next().args()).containsExactly("news");
            assertThat(both.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42/news,[\"n\",\"news\"]");
            assertThat(root.poll(Duration.ofMillis(300))).isNull();

            // the same room name on the other site is another room
            send(gateway.pushTemplate().site("main").to("two_n").event("m").args("nobody"));
            assertThat(news.poll(Duration.ofMillis(300))).isNull();
            assertThat(both.pollText(t -> t.startsWith("42"), Duration.ofMillis(100))).isNull();
            assertThat(List.of(gateway.connectionCount("main"), gateway.connectionCount("news")))
                    .allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(2));
        }
    }

    @Test
    void aServerDisconnectOfOneSiteKeepsTheSessionForTheOtherAndTheLastOneClosesIt() throws Exception {
        try (RawClient both = RawClient.connect(gateway.port())) {
            String rootAck = both.join("/", "{\"token\":\"rooms:cmd_r\"}");
            String newsAck = both.join("/news", "{\"token\":\"rooms:cmd_n\"}");
            String rootId = RawClient.JSON.readTree(rootAck.substring(2)).get("sid").asText();
            String newsId = RawClient.JSON.readTree(newsAck.substring("40/news,".length())).get("sid").asText();

            gateway.pushTemplate().disconnect("news", newsId).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(both.nextText(t -> t.startsWith("41"), WAIT)).isEqualTo("41/news,");
            send(gateway.pushTemplate().site("news").to("cmd_n").event("n").args("gone"));
            send(gateway.pushTemplate().site("main").to("cmd_r").event("m").args("still here"));
            assertThat(both.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42[\"m\",\"still here\"]");
            assertThat(both.closed).as("the session still has the root site").isNotDone();

            gateway.pushTemplate().disconnect("main", rootId).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(both.nextText(t -> t.startsWith("41"), WAIT)).isEqualTo("41");
            assertThat(both.awaitClosed(WAIT)).as("no site left: the session is closed").isTrue();
        }
    }

    @Test
    void aServerDisconnectOfTheRootSiteKeepsTheSessionForTheOther() throws Exception {
        try (RawClient both = RawClient.connect(gateway.port())) {
            String rootAck = both.join("/", "{\"token\":\"rooms:cmd_r2\"}");
            String newsAck = both.join("/news", "{\"token\":\"rooms:cmd_n2\"}");
            String rootId = RawClient.JSON.readTree(rootAck.substring(2)).get("sid").asText();
            String newsId = RawClient.JSON.readTree(newsAck.substring("40/news,".length())).get("sid").asText();

            gateway.pushTemplate().disconnect("main", rootId).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(both.nextText(t -> t.startsWith("41"), WAIT)).isEqualTo("41");
            send(gateway.pushTemplate().site("main").to("cmd_r2").event("m").args("gone"));
            send(gateway.pushTemplate().site("news").to("cmd_n2").event("n").args("still here"));
            assertThat(both.nextText(t -> t.startsWith("42"), WAIT)).isEqualTo("42/news,[\"n\",\"still here\"]");
            assertThat(both.closed).isNotDone();

            gateway.pushTemplate().disconnect("news", newsId).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(both.nextText(t -> t.startsWith("41"), WAIT)).isEqualTo("41/news,");
            assertThat(both.awaitClosed(WAIT)).isTrue();
        }
    }

    @Test
    void aServerDisconnectOnTheMainNamespaceReachesTheJavaClient() throws Exception {
        try (TestClient client = TestClient.connect(gateway.port(), "", "rooms:cmd_j", "hello")) {
            String id = client.awaitConnected();
            gateway.pushTemplate().disconnect("main", id).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(client.disconnected.get(10, TimeUnit.SECONDS)).isEqualTo("io server disconnect");
            send(gateway.pushTemplate().site("main").to("cmd_j").event("hello").args("gone"));
            assertThat(client.poll(Duration.ofMillis(300))).isNull();
        }
    }

    private static void send(io.pushbridge.SendBuilder builder) throws Exception {
        builder.send().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static void awaitStat(String name, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (gateway.stats().get(name) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(gateway.stats().get(name)).as(name).isGreaterThanOrEqualTo(atLeast);
    }
}
