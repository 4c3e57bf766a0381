package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.Message;
import io.pushbridge.NodeInfo;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.redis.testing.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The nodes endpoint in a cluster: every gateway node lists the live gateway nodes with their
 * public URLs, leaves out application nodes, and forgets a node that stopped.
 */
class ClusterNodesIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    private final List<GatewayNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(GatewayNode::close);
    }

    private GatewayNode node(String id, @Nullable String url) {
        GatewayNode node = GatewayNode.start(id, redis.uri(), o -> o.publicUrl(url));
        nodes.add(node);
        return node;
    }

    private static HttpResponse<String> get(GatewayNode via, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + via.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode listed(GatewayNode via) throws Exception {
        HttpResponse<String> response = get(via, "/pushbridge/nodes");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).get("nodes");
    }

    @Test
    void eachNodeListsTheGatewayNodesWithTheirUrlsAndForgetsOneThatStopped() throws Exception {
        GatewayNode a = node("nodes-a", "http://33.33.33.10:8081");
        GatewayNode b = node("nodes-b", "https://io2.example.com");
        GatewayNode app = GatewayNode.start("nodes-app", redis.uri(), o -> o.serve(false));
        nodes.add(app);

        String expected = "[{\"id\":\"nodes-a\",\"url\":\"http://33.33.33.10:8081\"},"
                + "{\"id\":\"nodes-b\",\"url\":\"https://io2.example.com\"}]";
        assertThat(listed(a)).as("the application node has no URL and is left out").isEqualTo(JSON.readTree(expected));
        assertThat(listed(b)).isEqualTo(JSON.readTree(expected));
        assertThat(a.registry.nodeInfos().toCompletableFuture().get(5, TimeUnit.SECONDS)).extracting(n -> n.nodeId())
                .as("the registry knows it").containsExactly("nodes-a", "nodes-app", "nodes-b");
        assertThat(a.router.clusterNodes().toCompletableFuture().get(5, TimeUnit.SECONDS))
                .as("so do the router's cluster nodes, for operators")
                .containsExactly(new NodeInfo("nodes-a", "http://33.33.33.10:8081"), new NodeInfo("nodes-app", null),
                        new NodeInfo("nodes-b", "https://io2.example.com"));
        assertThat(b.gateway.overview(true).toCompletableFuture().get(5, TimeUnit.SECONDS).nodes()).extracting(NodeInfo::nodeId)
                .as("and the admin overview").containsExactly("nodes-a", "nodes-app", "nodes-b");

        HttpResponse<String> script = get(b, "/config.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type")).hasValue("application/javascript; charset=utf-8");
        assertThat(script.body()).isEqualTo("var IO_SERVERS = ["
                + "{\"id\":\"nodes-a\",\"url\":\"http://33.33.33.10:8081\",\"external\":\"33.33.33.10\",\"port\":8081},"
                + "{\"id\":\"nodes-b\",\"url\":\"https://io2.example.com\",\"external\":\"io2.example.com\",\"port\":443}];\n");

        b.close(); // deregisters at once
        assertThat(listed(a)).isEqualTo(JSON.readTree("[{\"id\":\"nodes-a\",\"url\":\"http://33.33.33.10:8081\"}]"));
        assertThat(redis.server().command("EXISTS", RedisKeys.DEFAULT_PREFIX + "node:{nodes-b}")).as("its URL went with it")
                .isEqualTo("0");
    }

    @Test
    void aRouterRefusesToStartWhenTheGatewayAndTheRegistryDisagreeOnTheUrl() {
        RedisConnector connector = RedisConnector.builder().uri(redis.uri()).build();
        try {
            RedisNodeRegistry registry = RedisNodeRegistry.builder(connector.commands(), "nodes-odd")
                    .publicUrl("http://io1.example.com").build();
            RedisRouter router = new RedisRouter(connector, registry, List.of("news"));
            assertThatIllegalStateException().isThrownBy(() -> router.start(new Router.Receiver() {
                @Override
                public void deliver(Message message) {
                }

                @Override
                public void execute(SocketCommand command) {
                }

                @Override
                public String publicUrl() {
                    return "http://io9.example.com";
                }
            })).withMessageContaining("http://io1.example.com").withMessageContaining("http://io9.example.com")
                    .withMessageContaining("pushbridge.public-url");
            registry.close();
        } finally {
            connector.close();
        }
    }
}
