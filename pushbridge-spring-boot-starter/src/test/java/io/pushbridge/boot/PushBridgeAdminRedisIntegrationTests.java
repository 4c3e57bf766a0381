package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.NodeInfo;
import io.pushbridge.PushTemplate;
import io.pushbridge.gateway.GatewayOverview;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.redis.testing.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A started node on a real Redis, as the starter wires it: its start and stop lines name the Redis
 * mode, store and router; the admin page's overview totals the queues in Redis; the actuator
 * endpoint lists the nodes registered in Redis and inspects and purges a queue in Redis.
 */
class PushBridgeAdminRedisIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static final String ADMIN_KEY = "admin-key-for-the-redis-test";
    static final ObjectMapper JSON = new ObjectMapper();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1", "pushbridge.node-id=redis-admin-node",
                    "pushbridge.sites.demo.authorizer=STATIC", "pushbridge.sites.demo.tokens.alice=user_alice",
                    "pushbridge.sites.demo.api-key=demo-key-that-must-not-be-logged",
                    "pushbridge.admin.key=" + ADMIN_KEY, "pushbridge.admin.queue-inspector=true",
                    "pushbridge.redis.prefix=admin-test:", "management.endpoints.web.exposure.include=pushbridge");

    @Test
    void startAndStopLinesTheOverviewAndTheInspectorOnRedis() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger logger = (Logger) LoggerFactory.getLogger(PushBridgeGateway.class);
        logger.addAppender(logs);
        try {
            runner.withPropertyValues("pushbridge.redis.url=" + redis.uri()).run(context -> {
                assertThat(context).hasNotFailed();
                PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                List<String> started = lines(logs);
                assertThat(started).hasSize(1);
                // epoll on Linux, NIO elsewhere (pushbridge.native-transport)
                assertThat(started.get(0)).containsPattern(", transport=(epoll|nio), ");
                assertThat(started.get(0).replaceFirst(", transport=(epoll|nio)", "")).startsWith("[redis-admin-node] PushBridge gateway started: port=" + gateway.port()
                        + ", tls=off, nodeId=redis-admin-node, sites=[demo=/demo (StaticAuthorizer)], redis=standalone, "
                        + "store=RedisMessageStore[node=redis-admin-node, prefix=admin-test:, ")
                        .contains(", router=RedisRouter[redis-admin-node, standalone redis://127.0.0.1:", "queueInspector=on")
                        .doesNotContain(ADMIN_KEY).doesNotContain("demo-key-that-must-not-be-logged");

                context.getBean(PushTemplate.class).site("demo").to("user_alice").event("note").args("for later").send()
                        .toCompletableFuture().get(10, TimeUnit.SECONDS);

                // the admin page's overview: queue totals from Redis
                HttpResponse<String> overview = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + gateway.port() + "/pushbridge/admin/overview"))
                        .header("Authorization", "Bearer " + ADMIN_KEY).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(overview.statusCode()).as(overview.body()).isEqualTo(200);
                JsonNode demo = JSON.readTree(overview.body()).get("sites").get(0);
                assertThat(demo.get("queues").get("queues").asLong()).isEqualTo(1);
                assertThat(demo.get("queues").get("messages").asLong()).isEqualTo(1);
                assertThat(demo.get("queues").get("oldestCreatedAtMillis").asLong()).isPositive();

                // the actuator endpoint: nodes from the registry, the queue in Redis
                PushBridgeEndpoint endpoint = context.getBean(PushBridgeEndpoint.class);
                GatewayOverview o = endpoint.overview();
                assertThat(o.nodes()).extracting(NodeInfo::nodeId).containsExactly("redis-admin-node");
                assertThat(o.nodesError()).isNull();
                WebEndpointResponse<Map<String, Object>> read = endpoint.queue("demo", new String[] {"user_alice"}, SecurityContext.NONE);
                assertThat(read.getStatus()).isEqualTo(200);
                assertThat(read.getBody()).containsEntry("depth", 1).containsEntry("connections", 0);
                // a purge needs an authenticated principal
                assertThat(endpoint.purge("demo", new String[] {"user_alice"}, SecurityContext.NONE).getStatus()).isEqualTo(401);
                SecurityContext ops = new SecurityContext() {
                    @Override
                    public java.security.Principal getPrincipal() {
                        return () -> "ops";
                    }

                    @Override
                    public boolean isUserInRole(String role) {
                        return false;
                    }
                };
                WebEndpointResponse<Map<String, Object>> purged = endpoint.purge("demo", new String[] {"user_alice"}, ops);
                assertThat(purged.getBody()).containsEntry("purged", 1);
                assertThat(endpoint.queue("demo", new String[] {"user_alice"}, SecurityContext.NONE).getBody()).containsEntry("depth", 0);
                logs.list.clear();
            });
            // the drain says when it starts; the stop line comes once it is done
            List<String> stopped = lines(logs).stream().filter(line -> line.contains(" stopped")).toList();
            assertThat(stopped).hasSize(1);
            assertThat(stopped.get(0)).startsWith("[redis-admin-node] PushBridge gateway stopped: port=")
                    .contains("redis=standalone", "store=RedisMessageStore[", "router=RedisRouter[", "1 sends accepted")
                    .doesNotContain(ADMIN_KEY);
        } finally {
            logger.detachAppender(logs);
        }
    }

    private static List<String> lines(ListAppender<ILoggingEvent> logs) {
        return logs.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage).toList();
    }
}
