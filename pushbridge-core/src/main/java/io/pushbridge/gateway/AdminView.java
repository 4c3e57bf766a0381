package io.pushbridge.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.ConnectionListing;
import io.pushbridge.PushBridgeException;
import io.pushbridge.Router;
import io.pushbridge.http.HttpJson;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin view: every connection of the cluster as JSON, in the shape the replaced
 * redis-session service served it ({@code {"connections": [{connectionId, sessionId, userId,
 * handshake}]}}), plus the site and node of each, the nodes that answered and those that did not.
 *
 * <p>Off unless a key is configured; every request must carry it ({@code Authorization: Bearer
 * <key>} or {@code X-PushBridge-Admin-Key}), compared in constant time. Served on the gateway's
 * port at the admin path, and, when configured, on a port of its own (at {@code /} too). Secrets
 * never appear: see {@link ConnectionInfo}. Counters: {@code admin.requests},
 * {@code admin.refused}, {@code admin.failed}.
 *
 * <p>The {@link AdminPage admin page} and its JSON (overview, queue inspector) are served with it,
 * on the same ports, behind the same key.
 */
@Sharable
final class AdminView extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AdminView.class);
    static final String KEY_HEADER = "X-PushBridge-Admin-Key";
    /** How JavaScript's {@code Date.toString()} writes a time, in UTC. */
    private static final DateTimeFormatter JS_DATE = DateTimeFormatter
            .ofPattern("EEE MMM dd yyyy HH:mm:ss 'GMT+0000 (Coordinated Universal Time)'", Locale.US)
            .withZone(ZoneOffset.UTC);

    private final GatewayOptions options;
    private final Router router;
    private final List<String> sites;
    private final GatewayStats stats;
    private final byte[] keyDigest;
    private final java.util.concurrent.Executor executor;
    private final AdminPage page;
    private @Nullable EventLoopGroup group;
    private @Nullable Channel channel;
    private final GatewayInitializer.TlsFailures tlsFailures;

    /** @param executor where listings are gathered and answers written (never a Netty I/O thread) */
    AdminView(GatewayOptions options, Router router, List<String> sites, GatewayStats stats,
            java.util.concurrent.Executor executor, AdminPage page) {
        this.executor = executor;
        this.page = page;
        this.options = options;
        this.router = router;
        this.sites = List.copyOf(sites);
        this.stats = stats;
        this.tlsFailures = new GatewayInitializer.TlsFailures(stats);
        this.keyDigest = SiteOptions.digest(java.util.Objects.requireNonNull(options.adminKey(), "adminKey"));
    }

    /** Whether a request path on the gateway's port is the admin view's or its page's. */
    boolean serves(String path) {
        return path.equals(options.adminPath()) || page.serves(path);
    }

    /** Starts the admin view's own port, if one is configured; returns the port bound, or -1. */
    int start() {
        if (options.adminPort() < 0) {
            return -1;
        }
        EventLoopGroup g = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "pushbridge-admin");
            t.setDaemon(true);
            return t;
        });
        AdminView view = this;
        ServerBootstrap bootstrap = new ServerBootstrap().group(g).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (options.tls() != null) {
                            // the same TLS as the gateway's port
                            ch.pipeline().addLast(GatewayInitializer.TlsBypass.INSTANCE, options.tls().newHandler(ch.alloc()),
                                    tlsFailures);
                        }
                        // an idle connection is closed after a minute: the port serves no long-lived requests
                        ch.pipeline().addLast(new io.netty.handler.timeout.ReadTimeoutHandler(60), new HttpServerCodec(),
                                new HttpObjectAggregator(8192), view);
                    }
                });
        io.netty.channel.ChannelFuture bind = bootstrap.bind(options.host(), options.adminPort()).awaitUninterruptibly();
        if (!bind.isSuccess()) {
            g.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
            throw new PushBridgeException("Could not listen on " + options.host() + ":" + options.adminPort()
                    + " for the admin view (pushbridge.admin.port): " + bind.cause().getMessage(), bind.cause());
        }
        group = g;
        channel = bind.channel();
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    void stop() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
            channel = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
            group = null;
        }
    }

    /** Requests on the admin view's own port: the view at {@code /} and at the admin path, the admin page, else 404. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        if (path.equals("/") || serves(path)) {
            handle(ctx, request);
        } else {
            ReferenceCountUtil.release(request);
            HttpJson.write(ctx, HttpResponseStatus.NOT_FOUND, HttpJson.error("not_found", "No such resource", List.of()),
                    false, Map.of());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("Admin connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    /** Answers one admin request (and releases it). */
    void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String path = new QueryStringDecoder(request.uri()).path();
        if (!path.equals("/") && !path.equals(options.adminPath()) && page.serves(path)) {
            try {
                page.handle(ctx, request, path, this::authorized);
            } finally {
                ReferenceCountUtil.release(request);
            }
            return;
        }
        try {
            stats.increment("admin.requests");
            if (!HttpMethod.GET.equals(request.method())) {
                stats.increment("admin.refused");
                HttpJson.write(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                        HttpJson.error("method_not_allowed", "Use GET", List.of()), keepAlive, Map.of("Allow", "GET"));
                return;
            }
            if (!authorized(request)) {
                stats.increment("admin.refused");
                HttpJson.write(ctx, HttpResponseStatus.UNAUTHORIZED,
                        HttpJson.error("unauthorized", "A valid admin key is required", List.of()), keepAlive,
                        Map.of("WWW-Authenticate", "Bearer realm=\"pushbridge-admin\""));
                return;
            }
            List<String> siteParam = new QueryStringDecoder(request.uri()).parameters().get("site");
            List<String> wanted = sites;
            if (siteParam != null && !siteParam.isEmpty()) {
                if (!sites.contains(siteParam.get(0))) {
                    HttpJson.write(ctx, HttpResponseStatus.NOT_FOUND,
                            HttpJson.error("unknown_site", "No such site", List.of()), keepAlive, Map.of());
                    return;
                }
                wanted = List.of(siteParam.get(0));
            }
            gather(wanted).whenCompleteAsync((body, failure) -> {
                if (failure != null) {
                    stats.increment("admin.failed");
                    log.warn("Admin view: could not list connections: {}", Dispatcher.unwrap(failure).toString());
                    HttpJson.write(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                            HttpJson.error("unavailable", "Could not list the connections, retry later", List.of()),
                            keepAlive, Map.of());
                } else {
                    HttpJson.write(ctx, HttpResponseStatus.OK, body, keepAlive, Map.of());
                }
            }, executor);
        } finally {
            ReferenceCountUtil.release(request);
        }
    }

    private boolean authorized(FullHttpRequest request) {
        String key = request.headers().get(KEY_HEADER);
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (key == null && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            key = authorization.substring(7).trim();
        }
        return key != null && MessageDigest.isEqual(keyDigest, SiteOptions.digest(key));
    }

    /**
     * Lists the sites one after the other, within the overall limit, on the executor: a router of one
     * node lists this node's sockets on the calling thread, and the answer may be large.
     */
    private CompletionStage<Map<String, Object>> gather(List<String> wanted) {
        int limit = options.adminMaxConnections();
        CompletableFuture<List<ConnectionListing>> all = CompletableFuture.supplyAsync(ArrayList::new, executor);
        for (String site : wanted) {
            all = all.thenCompose(done -> {
                int left = limit - done.stream().mapToInt(l -> l.connections().size()).sum();
                if (left <= 0) {
                    done.add(new ConnectionListing(List.of(), List.of(), List.of(), true));
                    return CompletableFuture.completedFuture(done);
                }
                return router.listConnections(site, left).thenApplyAsync(listing -> {
                    done.add(listing);
                    return done;
                }, executor);
            });
        }
        return all.thenApplyAsync(AdminView::body, executor);
    }

    private static Map<String, Object> body(List<ConnectionListing> listings) {
        List<Object> connections = new ArrayList<>();
        Set<String> nodes = new LinkedHashSet<>();
        Set<String> missing = new LinkedHashSet<>();
        boolean truncated = false;
        for (ConnectionListing listing : listings) {
            for (ConnectionInfo c : listing.connections()) {
                connections.add(entry(c));
            }
            nodes.addAll(listing.nodes());
            missing.addAll(listing.missingNodes());
            truncated |= listing.truncated();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("connections", connections);
        body.put("nodes", nodes);
        body.put("missingNodes", missing);
        body.put("truncated", truncated);
        return body;
    }

    private static Map<String, Object> entry(ConnectionInfo c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("connectionId", c.socketId());
        m.put("sessionId", c.sessionId() == null ? "__nosession__" : c.sessionId());
        m.put("userId", c.userId() == null ? "__nouser__" : c.userId());
        ConnectionInfo.Handshake h = c.handshake();
        Map<String, Object> handshake = new LinkedHashMap<>();
        Map<String, String> headers = new LinkedHashMap<>();
        h.headers().forEach((name, values) -> headers.put(name, String.join(", ", values)));
        handshake.put("headers", headers);
        handshake.put("time", JS_DATE.format(Instant.ofEpochMilli(h.issued())));
        handshake.put("address", h.address());
        handshake.put("xdomain", h.xdomain());
        handshake.put("secure", h.secure());
        handshake.put("issued", h.issued());
        handshake.put("url", h.url());
        Map<String, String> query = new LinkedHashMap<>();
        h.query().forEach((name, values) -> query.put(name, values.isEmpty() ? "" : values.get(0)));
        handshake.put("query", query);
        m.put("handshake", handshake);
        m.put("site", c.site());
        m.put("node", c.nodeId());
        m.put("rooms", c.rooms());
        return m;
    }
}
