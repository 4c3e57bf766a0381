package io.pushbridge.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufInputStream;
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
import io.netty.handler.codec.http.QueryStringDecoder;
import io.pushbridge.http.HttpJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin page and its JSON, under {@link GatewayOptions#adminPagePath()} ({@code P}), served
 * with the admin view (only while it is on):
 *
 * <ul>
 *   <li>{@code GET P/} the page, {@code P/admin.js}, {@code P/admin.css} and {@code P/favicon.svg}
 *       (static, no key; the page asks for the key and sends it as a header); {@code P} redirects to
 *       {@code P/};</li>
 *   <li>{@code GET P/overview}: the {@link GatewayOverview} of this node, with each site's queue
 *       totals;</li>
 *   <li>{@code GET P/queue?site=S&room=R} or {@code POST P/queue} with {@code {"site","room"}}:
 *       the {@link QueueInspector} reads a queue;</li>
 *   <li>{@code POST P/queue/purge} with {@code {"site","room"}}: it purges one.</li>
 * </ul>
 *
 * Every JSON path needs the admin key (as the admin view does, compared in constant time) and
 * answers {@code Cache-Control: no-store}. The page is sent with a Content-Security-Policy that
 * allows only its own script, style and requests to its own origin, and no framing. Counters:
 * {@code admin.page.requests}, and the inspector's.
 *
 * <p>Requests arrive on a Netty I/O thread; calls to the router or the store start on the executor,
 * and their answers are written there.
 */
final class AdminPage {

    private static final Logger log = LoggerFactory.getLogger(AdminPage.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The page's policy: its own script, style, images and requests; nothing inline, no frames, no forms posted. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** The sub-paths under the page path, which other paths must not take. */
    private static final List<String> SUB_PATHS = List.of("/", "/admin.js", "/admin.css", "/favicon.svg", "/overview",
            "/queue", "/queue/purge");
    /**
     * The static files. The page links its own icon: without it a browser asks for /favicon.ico,
     * which is not the gateway's to answer (a 404 it logs as an error).
     */
    private static final Map<String, String> FILES = Map.of("/", "index.html", "/admin.js", "admin.js", "/admin.css", "admin.css",
            "/favicon.svg", "favicon.svg");
    private static final Map<String, String> TYPES = Map.of("/", "text/html; charset=utf-8", "/admin.js",
            "text/javascript; charset=utf-8", "/admin.css", "text/css; charset=utf-8", "/favicon.svg", "image/svg+xml");
    private static final Map<String, String> JSON_HEADERS = Map.of("X-Content-Type-Options", "nosniff");
    /** The largest JSON body of a queue request. */
    private static final int MAX_BODY = 4096;

    private final String pagePath;
    private final PushBridgeGateway gateway;
    private final QueueInspector inspector;
    private final GatewayStats stats;
    private final Executor executor;
    private final Map<String, byte[]> files = new LinkedHashMap<>();

    AdminPage(GatewayOptions options, PushBridgeGateway gateway, QueueInspector inspector, GatewayStats stats, Executor executor) {
        this.pagePath = options.adminPagePath();
        this.gateway = gateway;
        this.inspector = inspector;
        this.stats = stats;
        this.executor = executor;
        FILES.forEach((sub, file) -> files.put(sub, resource(file)));
    }

    /** Whether {@code path} is one of the page's paths, for a page at {@code pagePath}. */
    static boolean servesPath(String pagePath, String path) {
        if (path.equals(pagePath)) {
            return true;
        }
        return path.startsWith(pagePath) && SUB_PATHS.contains(path.substring(pagePath.length()));
    }

    boolean serves(String path) {
        return servesPath(pagePath, path);
    }

    /**
     * Answers a request for a path it {@link #serves}; the caller has released nothing and
     * releases the request after this returns ({@code authorized} is the admin view's key check).
     */
    void handle(ChannelHandlerContext ctx, FullHttpRequest request, String path, Predicate<FullHttpRequest> authorized) {
        stats.increment("admin.page.requests");
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpMethod method = request.method();
        String sub = path.substring(pagePath.length());
        if (sub.isEmpty()) {
            if (!readMethod(ctx, method, keepAlive)) {
                return;
            }
            FullHttpResponse redirect = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.PERMANENT_REDIRECT);
            redirect.headers().set(HttpHeaderNames.LOCATION, pagePath + "/");
            redirect.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            HttpUtil.setContentLength(redirect, 0);
            HttpJson.send(ctx, redirect, keepAlive);
            return;
        }
        byte[] file = files.get(sub);
        if (file != null) {
            if (readMethod(ctx, method, keepAlive)) {
                writeFile(ctx, sub, file, keepAlive, HttpMethod.HEAD.equals(method));
            }
            return;
        }
        if (!authorized.test(request)) {
            stats.increment("admin.refused");
            HttpJson.write(ctx, HttpResponseStatus.UNAUTHORIZED, HttpJson.error("unauthorized", "A valid admin key is required",
                    List.of()), keepAlive, Map.of("WWW-Authenticate", "Bearer realm=\"pushbridge-admin\"",
                            "X-Content-Type-Options", "nosniff"));
            return;
        }
        switch (sub) {
            case "/overview" -> {
                if (!HttpMethod.GET.equals(method)) {
                    notAllowed(ctx, "GET", keepAlive);
                    return;
                }
                answer(ctx, () -> gateway.overview(true), overview -> overview, keepAlive);
            }
            case "/queue" -> {
                if (!HttpMethod.GET.equals(method) && !HttpMethod.POST.equals(method)) {
                    notAllowed(ctx, "GET, POST", keepAlive);
                    return;
                }
                String[] target = HttpMethod.GET.equals(method) ? fromQuery(request) : fromBody(ctx, request, keepAlive);
                if (target != null) {
                    String caller = caller(ctx);
                    answer(ctx, () -> inspector.inspect(target[0], target[1], caller), QueueInspector.QueueReport::toMap, keepAlive);
                }
            }
            default -> { // "/queue/purge"
                if (!HttpMethod.POST.equals(method)) {
                    notAllowed(ctx, "POST", keepAlive);
                    return;
                }
                String[] target = fromBody(ctx, request, keepAlive);
                if (target != null) {
                    String caller = caller(ctx);
                    answer(ctx, () -> inspector.purge(target[0], target[1], caller), QueueInspector.PurgeReport::toMap, keepAlive);
                }
            }
        }
    }

    private static boolean readMethod(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive) {
        if (HttpMethod.GET.equals(method) || HttpMethod.HEAD.equals(method)) {
            return true;
        }
        notAllowed(ctx, "GET, HEAD", keepAlive);
        return false;
    }

    private static void notAllowed(ChannelHandlerContext ctx, String allow, boolean keepAlive) {
        HttpJson.write(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, HttpJson.error("method_not_allowed", "Use " + allow, List.of()),
                keepAlive, Map.of("Allow", allow, "X-Content-Type-Options", "nosniff"));
    }

    private static String @Nullable [] fromQuery(FullHttpRequest request) {
        Map<String, List<String>> params = new QueryStringDecoder(request.uri()).parameters();
        return new String[] {first(params.get("site")), first(params.get("room"))};
    }

    private static @Nullable String first(@Nullable List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** {@code {"site": ..., "room": ...}}, or null after answering 400/413/415. */
    private static String @Nullable [] fromBody(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        if (!contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT).equals("application/json")) {
            HttpJson.write(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, HttpJson.error("unsupported_media_type",
                    "Send application/json", List.of()), keepAlive, JSON_HEADERS);
            return null;
        }
        if (request.content().readableBytes() > MAX_BODY) {
            HttpJson.write(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, HttpJson.error("too_large",
                    "The body is larger than " + MAX_BODY + " bytes", List.of()), keepAlive, JSON_HEADERS);
            return null;
        }
        JsonNode body;
        try (InputStream in = new ByteBufInputStream(request.content().duplicate())) {
            body = JSON.readTree(in);
        } catch (IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            HttpJson.write(ctx, HttpResponseStatus.BAD_REQUEST, HttpJson.error("invalid_request",
                    "The body must be a JSON object {\"site\": ..., \"room\": ...}", List.of()), keepAlive, JSON_HEADERS);
            return null;
        }
        JsonNode site = body.get("site");
        JsonNode room = body.get("room");
        if (site != null && !site.isTextual() || room != null && !room.isTextual()) {
            HttpJson.write(ctx, HttpResponseStatus.BAD_REQUEST, HttpJson.error("invalid_request",
                    "site and room must be strings", List.of()), keepAlive, JSON_HEADERS);
            return null;
        }
        return new String[] {site == null ? null : site.textValue(), room == null ? null : room.textValue()};
    }

    /**
     * Starts a call on the executor (an in-memory store walks its queues on the calling thread, which
     * must not be an I/O thread) and writes what it answers there: 200 with its JSON, or the error
     * it failed with.
     */
    private <T> void answer(ChannelHandlerContext ctx, java.util.function.Supplier<CompletionStage<T>> call,
            java.util.function.Function<T, Object> body, boolean keepAlive) {
        CompletableFuture.supplyAsync(call, executor).thenCompose(stage -> stage).whenCompleteAsync((value, failure) -> {
            if (failure == null) {
                HttpJson.write(ctx, HttpResponseStatus.OK, body.apply(value), keepAlive, JSON_HEADERS);
                return;
            }
            QueueInspector.ErrorAnswer error = QueueInspector.errorAnswer(failure);
            if (error.unexpected() != null) {
                stats.increment("admin.failed");
                log.warn("Admin page: request failed: {}", error.unexpected().toString());
            }
            HttpJson.write(ctx, HttpResponseStatus.valueOf(error.status()), HttpJson.error(error.code(), error.message(), List.of()),
                    keepAlive, JSON_HEADERS);
        }, executor);
    }

    private static String caller(ChannelHandlerContext ctx) {
        SocketAddress remote = ctx.channel().remoteAddress();
        return "admin key from " + (remote instanceof java.net.InetSocketAddress inet
                ? inet.getAddress().getHostAddress() : String.valueOf(remote));
    }

    private static void writeFile(ChannelHandlerContext ctx, String sub, byte[] file, boolean keepAlive, boolean head) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(file));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, TYPES.get(sub));
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        response.headers().set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.headers().set("X-Content-Type-Options", "nosniff");
        response.headers().set("X-Frame-Options", "DENY");
        response.headers().set("Referrer-Policy", "no-referrer");
        response.headers().set("Cross-Origin-Opener-Policy", "same-origin");
        response.headers().set("Cross-Origin-Resource-Policy", "same-origin");
        HttpUtil.setContentLength(response, file.length);
        HttpJson.send(ctx, response, keepAlive);
    }


    private static byte[] resource(String name) {
        try (InputStream in = AdminPage.class.getResourceAsStream("admin/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource io/pushbridge/gateway/admin/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
