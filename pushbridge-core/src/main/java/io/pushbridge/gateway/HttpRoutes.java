package io.pushbridge.gateway;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.pushbridge.http.HttpJson;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import com.corundumstudio.socketio.Transport;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP requests that are not the send API: Engine.IO requests are checked (protocol version,
 * origin, session id syntax) before netty-socketio sees them; the admin view, when it is on, is
 * served at its path, and so is the {@link NodesEndpoint nodes endpoint}, except that a
 * {@code config.js} among the static files of the application wins over the generated one (an
 * application that served its own keeps it); a configured classpath folder is served as static
 * files; anything else is a JSON 404.
 */
@Sharable
final class HttpRoutes extends ChannelInboundHandlerAdapter {

    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "js",
            "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "json", "application/json", "svg",
            "image/svg+xml", "png", "image/png", "ico", "image/x-icon", "map", "application/json");

    private final String engineIoPath;
    private final int maxPayload;
    private final Origins allowedOrigins;
    private final Function<UUID, @Nullable String> sessionOrigin;
    private final @Nullable String staticRoot;
    private final GatewayStats stats;
    private final Map<String, byte[]> staticCache = new ConcurrentHashMap<>();

    private final Function<UUID, @Nullable Transport> sessionTransport;
    private final @Nullable AdminView admin;
    private final @Nullable NodesEndpoint nodes;
    private final java.util.function.BooleanSupplier draining;

    /**
     * @param draining whether the gateway is draining: new sessions are refused (503)
     * @param allowedOrigins the origins of every site (the site is not known yet at the handshake)
     * @param sessionOrigin the {@code Origin} header of a live session's handshake, if it had one
     */
    HttpRoutes(GatewayOptions options, GatewayStats stats, Function<UUID, @Nullable Transport> sessionTransport,
            @Nullable AdminView admin, @Nullable NodesEndpoint nodes, java.util.function.BooleanSupplier draining,
            Origins allowedOrigins, Function<UUID, @Nullable String> sessionOrigin) {
        this.draining = draining;
        this.sessionTransport = sessionTransport;
        this.admin = admin;
        this.nodes = nodes;
        this.engineIoPath = options.path() + "/";
        this.maxPayload = options.maxPayload();
        this.allowedOrigins = allowedOrigins;
        this.sessionOrigin = sessionOrigin;
        String root = options.staticResources();
        this.staticRoot = root == null ? null : root.replaceAll("^/+|/+$", "");
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path();
        if (path.startsWith(engineIoPath) || path.equals(engineIoPath.substring(0, engineIoPath.length() - 1))) {
            Verdict verdict = engineIoVerdict(ctx, request, query);
            if (verdict == Verdict.ALLOW) {
                ctx.fireChannelRead(msg);
            } else if (verdict == Verdict.UNKNOWN_SESSION) {
                // netty-socketio answers a handshake a moment before the gateway learns of the session
                // (on the handshake's I/O thread, which a loaded machine can hold up): look again every
                // 100 ms, for up to a second, before refusing, with every check of a known session (its
                // origin, polling after its upgrade)
                recheck(ctx, request, query, msg, UNKNOWN_SESSION_RECHECKS);
            } else {
                ReferenceCountUtil.release(request);
            }
            return;
        }
        if (admin != null && admin.serves(path)) {
            admin.handle(ctx, request);
            return;
        }
        if (nodes != null && nodes.serves(path)
                && !(GatewayOptions.CONFIG_JS_PATH.equals(path) && staticRoot != null && staticFile(path) != null)) {
            nodes.handle(ctx, request, path);
            return;
        }
        try {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (staticRoot != null && (HttpMethod.GET.equals(request.method()) || HttpMethod.HEAD.equals(request.method()))) {
                byte[] file = staticFile(path);
                if (file != null) {
                    writeFile(ctx, path, file, keepAlive, HttpMethod.HEAD.equals(request.method()));
                    return;
                }
            }
            HttpJson.write(ctx, HttpResponseStatus.NOT_FOUND, HttpJson.error("not_found", "No such resource", List.of()),
                    keepAlive, Map.of());
        } finally {
            ReferenceCountUtil.release(request);
        }
    }

    /**
     * Checks an Engine.IO request before netty-socketio sees it; answers with Engine.IO's JSON error
     * (and returns false) when it is refused: only Engine.IO 4 (Socket.IO v3/v4 clients), GET
     * handshakes, the polling and websocket transports, GET and POST (and a browser's OPTIONS) on a
     * session, polling payloads up to {@code maxPayload}, well-formed session ids, allowed origins.
     */
    private enum Verdict { ALLOW, REFUSED, UNKNOWN_SESSION }

    /** The WebSocket versions of RFC 6455's framing (13, and the drafts 7 and 8 that share it). */
    private static final java.util.Set<String> RFC6455_VERSIONS = java.util.Set.of("13", "8", "7");

    private Verdict engineIoVerdict(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query) {
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !allowedOrigins.allows(origin)) {
            return refusal(ctx, HttpResponseStatus.FORBIDDEN, 4, "Origin not allowed", "origin");
        }
        List<String> sid = query.parameters().get("sid");
        List<String> transport = query.parameters().get("transport");
        if (request.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true)) {
            String version = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
            if (version == null || !RFC6455_VERSIONS.contains(version.trim())) {
                // Netty would answer a request without a version with the draft of 2010 (Hixie-76), whose
                // framing differs from the frames the gateway writes; no Socket.IO client speaks it
                return refusal(ctx, HttpResponseStatus.UPGRADE_REQUIRED, 3, "Unsupported WebSocket version",
                        "websocket_version", Map.of("Sec-WebSocket-Version", "13"));
            }
        }
        // netty-socketio logs an ERROR for a missing or unknown transport, and answers with no body
        boolean knownTransport = transport != null && ("polling".equals(transport.get(0)) || "websocket".equals(transport.get(0)));
        if (sid == null) {
            List<String> eio = query.parameters().get("EIO");
            if (eio == null || !"4".equals(eio.get(0))) {
                return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 5, "Unsupported protocol version", "protocol_version");
            }
            if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.OPTIONS.equals(request.method())) {
                // OPTIONS: a browser's CORS preflight, answered by netty-socketio
                return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 2, "Bad handshake method", "handshake_method");
            }
            if (!knownTransport) {
                return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 0, "Transport unknown", "transport");
            }
            if (draining.getAsBoolean()) {
                // a new session on a node that is going away: the client retries (its reconnection
                // backoff), and a balancer that saw the health check sends it to another node
                return refusal(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, 3,
                        "Server is shutting down, connect to another node", "draining", Map.of("Retry-After", "1"));
            }
            return Verdict.ALLOW;
        }
        if (!knownTransport) {
            return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 0, "Transport unknown", "transport");
        }
        if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.POST.equals(request.method())
                && !HttpMethod.OPTIONS.equals(request.method())) {
            // netty-socketio answers 500 and logs an ERROR for any other method on a session
            return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 3, "Bad request", "method");
        }
        if (request.content().readableBytes() > maxPayload) {
            // the HTTP limit is higher (the send API shares the port): a polling payload has its own
            return refusal(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, 3, "Payload too large", "too_large");
        }
        UUID sessionId;
        try {
            sessionId = UUID.fromString(sid.get(0));
        } catch (IllegalArgumentException e) {
            return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 1, "Session ID unknown", "session_id");
        }
        Transport current = sessionTransport.apply(sessionId);
        if (current == null) {
            return Verdict.UNKNOWN_SESSION;
        }
        String first = sessionOrigin.apply(sessionId);
        if (origin != null && first != null && !origin.equalsIgnoreCase(first)) {
            // a page of another origin using a session it should not know (its polls or its upgrade)
            return refusal(ctx, HttpResponseStatus.FORBIDDEN, 4, "Origin not allowed", "origin_changed");
        }
        if (current == Transport.WEBSOCKET && "polling".equals(transport.get(0))) {
            // after an upgrade, a poll would hang: netty-socketio no longer answers it
            return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 3, "Bad request", "polling_after_upgrade");
        }
        if (current == Transport.WEBSOCKET && "websocket".equals(transport.get(0))) {
            // a session has one WebSocket: netty-socketio would move the session to a second one
            // and leave the first open, out of its tables (no client does this; a stolen sid might)
            return refusal(ctx, HttpResponseStatus.BAD_REQUEST, 3, "Bad request", "second_websocket");
        }
        return Verdict.ALLOW;
    }

    /** How often, and how long in all, a request for a session not known yet is looked at again. */
    private static final int UNKNOWN_SESSION_RECHECKS = 10;
    private static final long UNKNOWN_SESSION_RECHECK_MILLIS = 100;

    private void recheck(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query, Object msg,
            int left) {
        ctx.executor().schedule(() -> {
            Verdict again = engineIoVerdict(ctx, request, query);
            if (again == Verdict.ALLOW) {
                ctx.fireChannelRead(msg);
            } else if (again == Verdict.UNKNOWN_SESSION && left > 1 && ctx.channel().isActive()) {
                recheck(ctx, request, query, msg, left - 1);
            } else {
                ReferenceCountUtil.release(request);
                if (again == Verdict.UNKNOWN_SESSION) {
                    refuse(ctx, HttpResponseStatus.BAD_REQUEST, 1, "Session ID unknown", "session_id");
                }
            }
        }, UNKNOWN_SESSION_RECHECK_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private Verdict refusal(ChannelHandlerContext ctx, HttpResponseStatus status, int code, String message, String reason) {
        return refusal(ctx, status, code, message, reason, Map.of());
    }

    private Verdict refusal(ChannelHandlerContext ctx, HttpResponseStatus status, int code, String message, String reason,
            Map<String, String> headers) {
        refuse(ctx, status, code, message, reason, headers);
        return Verdict.REFUSED;
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, int code, String message, String reason) {
        refuse(ctx, status, code, message, reason, Map.of());
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, int code, String message, String reason,
            Map<String, String> headers) {
        stats.increment("refused.http." + reason);
        HttpJson.write(ctx, status, Map.of("code", code, "message", message), false, headers);
    }

    private @Nullable byte[] staticFile(String path) {
        if (path.endsWith("/")) {
            path = path + "index.html";
        }
        if (path.contains("..") || path.contains("\\") || path.contains("//")) {
            return null;
        }
        String resource = staticRoot + path;
        byte[] cached = staticCache.get(resource);
        if (cached != null) {
            return cached;
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : HttpRoutes.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return null;
            }
            byte[] bytes = in.readAllBytes();
            staticCache.put(resource, bytes);
            return bytes;
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeFile(ChannelHandlerContext ctx, String path, byte[] file, boolean keepAlive, boolean head) {
        String ext = path.endsWith("/") ? "html" : path.substring(path.lastIndexOf('.') + 1);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(file));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, TYPES.getOrDefault(ext, "application/octet-stream"));
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        response.headers().set("X-Content-Type-Options", "nosniff");
        HttpUtil.setContentLength(response, file.length);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
