package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.Message;
import io.pushbridge.NodeInfo;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.memory.LocalRouter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nodes endpoint of a single node (in-memory router): JSON and config.js with CORS and no
 * caching, a node without a public URL, a router that cannot list, and the endpoint turned off.
 */
class NodesEndpointIntegrationTests {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    static final FailingRouter router = new FailingRouter();
    static PushBridgeGateway withUrl;
    static PushBridgeGateway withoutUrl;
    static PushBridgeGateway off;

    /** The in-memory router, whose listing of nodes fails while {@link #down}. */
    static final class FailingRouter implements Router {
        final LocalRouter delegate = new LocalRouter();
        volatile boolean down;

        @Override
        public void start(Receiver receiver) {
            delegate.start(receiver);
        }

        @Override
        public CompletionStage<Void> publish(Message message) {
            return delegate.publish(message);
        }

        @Override
        public CompletionStage<Void> command(SocketCommand command) {
            return delegate.command(command);
        }

        @Override
        public CompletionStage<List<NodeInfo>> nodes() {
            return down ? CompletableFuture.failedFuture(new PushUnavailableException("broker down", null)) : delegate.nodes();
        }

        @Override
        public void stop() {
            delegate.stop();
        }
    }

    @BeforeAll
    static void start() {
        withUrl = TestGateways.start(TestGateways.options().nodeId("node-a").publicUrl("http://33.33.33.10:8081")
                .nodesPath("/io/nodes").build(), b -> b.site(TestGateways.newsSite()).router(router));
        withoutUrl = TestGateways.start(TestGateways.options().nodeId("node-b").build(), b -> b.site(TestGateways.newsSite()));
        off = TestGateways.start(TestGateways.options().nodesEndpoint(false).build(), b -> b.site(TestGateways.newsSite()));
    }

    @AfterAll
    static void stop() {
        withUrl.stop();
        withoutUrl.stop();
        off.stop();
    }

    private static HttpResponse<String> send(PushBridgeGateway gateway, String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).header("Origin", "https://other.example").build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listsThisNodeAsJsonForAnyOriginUncached() throws Exception {
        HttpResponse<String> response = send(withUrl, "GET", "/io/nodes");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()))
                .isEqualTo(JSON.readTree("{\"nodes\":[{\"id\":\"node-a\",\"url\":\"http://33.33.33.10:8081\"}]}"));
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(send(withUrl, "GET", GatewayOptions.DEFAULT_NODES_PATH).statusCode()).as("the configured path only")
                .isEqualTo(404);
        assertThat(withUrl.stats().get("nodes.requests")).isPositive();
    }

    @Test
    void servesTheListAsConfigJsWithHostAndPortOfTheUrl() throws Exception {
        HttpResponse<String> response = send(withUrl, "GET", "/config.js");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("var IO_SERVERS = [{\"id\":\"node-a\",\"url\":\"http://33.33.33.10:8081\","
                + "\"external\":\"33.33.33.10\",\"port\":8081}];\n");
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/javascript; charset=utf-8");
        assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
    }

    @Test
    void aNodeWithoutPublicUrlListsItselfWithNulls() throws Exception {
        assertThat(JSON.readTree(send(withoutUrl, "GET", GatewayOptions.DEFAULT_NODES_PATH).body()))
                .isEqualTo(JSON.readTree("{\"nodes\":[{\"id\":\"node-b\",\"url\":null}]}"));
        assertThat(send(withoutUrl, "GET", "/config.js").body())
                .isEqualTo("var IO_SERVERS = [{\"id\":\"node-b\",\"url\":null,\"external\":null,\"port\":null}];\n");
    }

    @Test
    void answersPreflightsAndRefusesOtherMethods() throws Exception {
        HttpResponse<String> preflight = send(withUrl, "OPTIONS", "/io/nodes");
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).hasValue("GET, OPTIONS");
        HttpResponse<String> post = send(withUrl, "POST", "/config.js");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, OPTIONS");
    }

    @Test
    void aRouterThatCannotListGives503OnBothPaths() throws Exception {
        long failed = withUrl.stats().get("nodes.failed");
        router.down = true;
        try {
            HttpResponse<String> json = send(withUrl, "GET", "/io/nodes");
            assertThat(json.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(json.body()).get("error").asText()).isEqualTo("unavailable");
            assertThat(json.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
            HttpResponse<String> script = send(withUrl, "GET", "/config.js");
            assertThat(script.statusCode()).isEqualTo(503);
            assertThat(script.headers().firstValue("Content-Type")).hasValue("application/javascript; charset=utf-8");
            assertThat(script.body()).startsWith("/*").endsWith("var IO_SERVERS = [];\n");
        } finally {
            router.down = false;
        }
        assertThat(withUrl.stats().get("nodes.failed")).isEqualTo(failed + 2);
    }

    @Test
    void turnedOffBothPathsAreNotFound() throws Exception {
        assertThat(send(off, "GET", GatewayOptions.DEFAULT_NODES_PATH).statusCode()).isEqualTo(404);
        assertThat(send(off, "GET", "/config.js").statusCode()).isEqualTo(404);
    }

    @Test
    void scriptEscapesWhatCouldEndAnInlinedScript() {
        assertThat(NodesEndpoint.script(List.of(new NodeInfo("</script>\u2028", null))))
                .isEqualTo("var IO_SERVERS = [{\"id\":\"\\u003c/script>\\u2028\",\"url\":null,\"external\":null,\"port\":null}];\n");
    }
}
