package io.pushbridge.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.pushbridge.NodeInfo;
import io.pushbridge.Router;
import io.pushbridge.http.HttpJson;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes endpoint, for clients that pick a node themselves: the nodes of the cluster that
 * clients may connect to ({@link Router#nodes()}), as JSON at {@link GatewayOptions#nodesPath()}
 * and as a script at {@value GatewayOptions#CONFIG_JS_PATH} (the shape socket.io-cluster's
 * frontend node served):
 *
 * <pre>
 * {"nodes":[{"id":"node-a","url":"http://33.33.33.10:8081"}]}
 * var IO_SERVERS = [{"id":"node-a","url":"http://33.33.33.10:8081","external":"33.33.33.10","port":8081}];
 * </pre>
 *
 * {@code external} and {@code port} are the host and port of the URL (the scheme's default port
 * when it names none); a node without a public URL has {@code null} in all three. Both answers
 * carry {@code Cache-Control: no-store} and {@code Access-Control-Allow-Origin: *}; a preflight
 * ({@code OPTIONS}) is answered with 204, other methods with 405. When the router cannot list the
 * nodes (its broker is unreachable), both answer 503: a JSON error, and a script with a comment and
 * an empty list. Counters: {@code nodes.requests}, {@code nodes.failed}.
 *
 * <p>Requests arrive on a Netty I/O thread; the answer is built and written on the executor, from
 * the completion of the router's (asynchronous) call.
 */
final class NodesEndpoint {

    private static final Logger log = LoggerFactory.getLogger(NodesEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JS_TYPE = "application/javascript; charset=utf-8";
    private static final Map<String, String> CORS = Map.of("Access-Control-Allow-Origin", "*");

    private final String nodesPath;
    private final Router router;
    private final GatewayStats stats;
    private final Executor executor;
    private final RateLimitedLog failures = new RateLimitedLog(log, 10_000);

    /** @param executor where answers are built and written (never a Netty I/O thread) */
    NodesEndpoint(GatewayOptions options, Router router, GatewayStats stats, Executor executor) {
        this.nodesPath = options.nodesPath();
        this.router = router;
        this.stats = stats;
        this.executor = executor;
    }

    /** Whether a request path on the gateway's port is the endpoint's (JSON or script). */
    boolean serves(String path) {
        return path.equals(nodesPath) || path.equals(GatewayOptions.CONFIG_JS_PATH);
    }

    /** Answers one request for a path it {@link #serves} (and releases it). Runs on the I/O thread; does not block. */
    void handle(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpMethod method = request.method();
        String askedHeaders = request.headers().get("Access-Control-Request-Headers");
        ReferenceCountUtil.release(request);
        stats.increment("nodes.requests");
        if (HttpMethod.OPTIONS.equals(method)) {
            preflight(ctx, askedHeaders, keepAlive);
            return;
        }
        if (!HttpMethod.GET.equals(method)) {
            HttpJson.write(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                    HttpJson.error("method_not_allowed", "Use GET", List.of()), keepAlive, Map.of("Allow", "GET, OPTIONS"));
            return;
        }
        boolean script = path.equals(GatewayOptions.CONFIG_JS_PATH);
        java.util.concurrent.CompletionStage<List<NodeInfo>> listing;
        try {
            listing = router.nodes();
        } catch (RuntimeException e) {
            listing = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        listing.whenCompleteAsync((list, failure) -> {
            if (failure != null) {
                stats.increment("nodes.failed");
                failures.warn("Nodes endpoint: could not list the nodes: {}", Dispatcher.unwrap(failure).toString());
                if (script) {
                    write(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, JS_TYPE,
                            "/* PushBridge: the list of nodes is unavailable, retry later */\nvar IO_SERVERS = [];\n", keepAlive);
                } else {
                    HttpJson.write(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                            HttpJson.error("unavailable", "Could not list the nodes, retry later", List.of()), keepAlive, CORS);
                }
            } else if (script) {
                write(ctx, HttpResponseStatus.OK, JS_TYPE, script(list), keepAlive);
            } else {
                HttpJson.write(ctx, HttpResponseStatus.OK, Map.of("nodes", list.stream().map(NodesEndpoint::entry).toList()),
                        keepAlive, CORS);
            }
        }, executor);
    }

    /** A CORS preflight: any origin may GET, with whatever headers it asked for (the answer is public). */
    private static void preflight(ChannelHandlerContext ctx, @Nullable String askedHeaders, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
        response.headers().set("Access-Control-Allow-Origin", "*");
        response.headers().set("Access-Control-Allow-Methods", "GET, OPTIONS");
        response.headers().set("Access-Control-Max-Age", "86400");
        if (askedHeaders != null) {
            response.headers().set("Access-Control-Allow-Headers", askedHeaders);
        }
        HttpJson.send(ctx, response, keepAlive);
    }

    private static Map<String, @Nullable Object> entry(NodeInfo node) {
        Map<String, @Nullable Object> m = new LinkedHashMap<>();
        m.put("id", node.nodeId());
        m.put("url", node.publicUrl());
        return m;
    }

    /**
     * {@code var IO_SERVERS = [...];} with {@code external} and {@code port} from each URL. The list
     * is JSON with {@code <}, U+2028 and U+2029 escaped, so it is also safe inlined in a page.
     */
    static String script(List<NodeInfo> nodes) {
        List<Map<String, @Nullable Object>> servers = nodes.stream().map(node -> {
            Map<String, @Nullable Object> m = entry(node);
            URI uri = uri(node.publicUrl());
            m.put("external", uri == null ? null : uri.getHost());
            m.put("port", uri == null ? null : port(uri));
            return m;
        }).toList();
        String list;
        try {
            list = JSON.writeValueAsString(servers);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the list of nodes", e);
        }
        list = list.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
        return "var IO_SERVERS = " + list + ";\n";
    }

    private static @Nullable URI uri(@Nullable String url) {
        if (url == null) {
            return null;
        }
        try {
            URI uri = new URI(url);
            return uri.getHost() == null ? null : uri;
        } catch (URISyntaxException e) {
            return null; // another node's registration, not validated here: listed without host and port
        }
    }

    private static @Nullable Integer port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return switch (uri.getScheme().toLowerCase(Locale.ROOT)) {
            case "http", "ws" -> 80;
            case "https", "wss" -> 443;
            default -> null;
        };
    }

    private static void write(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body, boolean keepAlive) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        response.headers().set("Access-Control-Allow-Origin", "*");
        response.headers().set("X-Content-Type-Options", "nosniff");
        HttpUtil.setContentLength(response, bytes.length);
        HttpJson.send(ctx, response, keepAlive);
    }

}
