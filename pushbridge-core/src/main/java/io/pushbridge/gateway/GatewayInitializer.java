package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOChannelInitializer;
import com.corundumstudio.socketio.handler.EncoderHandler;
import com.corundumstudio.socketio.namespace.NamespacesHub;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.pushbridge.http.HttpJson;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * netty-socketio's pipeline with PushBridge's handlers added:
 * <ul>
 *   <li>TLS, when configured ({@link TlsOptions}), with failed handshakes (a plain HTTP client on
 *       the TLS port, a client that does not trust the certificate) counted, logged without the
 *       bytes received, and closed;</li>
 *   <li>an idle timeout on every connection (a silent peer is closed: no zombie sockets);</li>
 *   <li>an HTTP aggregator that answers an oversized body with a JSON 413, and a JSON 400 for
 *       requests that are not valid HTTP;</li>
 *   <li>the send API and the other HTTP routes before netty-socketio's handshake handler;</li>
 *   <li>the {@link PacketGate} before netty-socketio's packet handler;</li>
 *   <li>binary attachments framed the Engine.IO 4 way: an outbound fix for WebSocket frames and
 *       {@link Eio4PollingEncoder} for long-polling (netty-socketio frames both the Engine.IO 3 way).</li>
 * </ul>
 */
final class GatewayInitializer extends SocketIOChannelInitializer {

    static final String IDLE = "pushbridgeIdle";
    static final String MALFORMED = "pushbridgeMalformedRequests";
    static final String SEND_API = "pushbridgeSendApi";
    static final String ROUTES = "pushbridgeRoutes";
    static final String GATE = "pushbridgeGate";
    static final String CLOSE_HEADER = "pushbridgeCloseHeader";
    static final String TLS_FAILURES = "pushbridgeTlsFailures";
    static final String TLS_BYPASS = "pushbridgeTlsBypass";
    static final String FIRST_DATA = "pushbridgeFirstData";

    private final long idleMillis;
    private final int maxHttpContent;
    private final ChannelHandler sendApi;
    private final ChannelHandler routes;
    private final ChannelHandler gate;
    private final ChannelHandler malformed;
    private final GatewayStats stats;
    private final @org.jspecify.annotations.Nullable TlsOptions tls;
    private final TlsFailures tlsFailures;

    GatewayInitializer(GatewayOptions options, int maxHttpContent, ChannelHandler sendApi, ChannelHandler routes,
            ChannelHandler gate, GatewayStats stats) {
        // a live client answers every ping: it cannot stay silent for a ping interval plus timeout
        this.idleMillis = options.pingInterval().toMillis() + options.pingTimeout().toMillis() + 5_000;
        this.maxHttpContent = maxHttpContent;
        this.sendApi = sendApi;
        this.routes = routes;
        this.gate = gate;
        this.stats = stats;
        this.malformed = new MalformedRequests(stats);
        this.tls = options.tls();
        this.tlsFailures = new TlsFailures(stats);
        SessionTimers.install(this, new SessionTimers());
    }

    private EncoderHandler encoder;

    @Override
    public void start(Configuration configuration, NamespacesHub namespacesHub) {
        super.start(configuration, namespacesHub);
        try {
            encoder = new GatewayEncoder(configuration, new Eio4PollingEncoder(configuration));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot set up the packet encoder", e);
        }
        firstData = FirstData.of(this);
    }

    private @org.jspecify.annotations.Nullable FirstData firstData;

    /**
     * Ends netty-socketio's first-data timeout at a connection's first read. Its handshake handler
     * closes every connection that sends nothing for {@code firstDataTimeout} (5 s) and cancels
     * that when it reads something; but the send API, the nodes endpoint, static files and the
     * admin routes answer before that handler, which then never reads: it closed every keep-alive
     * connection of the send API 5 s after it opened, requests in flight or not (their senders got
     * no answer, and a sender that retried sent a message twice). This handler does the cancel for
     * every connection, then leaves the pipeline.
     */
    @Sharable
    static final class FirstData extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final com.corundumstudio.socketio.scheduler.CancelableScheduler scheduler;

        private FirstData(com.corundumstudio.socketio.scheduler.CancelableScheduler scheduler) {
            this.scheduler = scheduler;
        }

        /** netty-socketio's scheduler, which it keeps to itself; {@code null} (said once) when it cannot be reached. */
        static @org.jspecify.annotations.Nullable FirstData of(SocketIOChannelInitializer initializer) {
            try {
                java.lang.reflect.Field field = SocketIOChannelInitializer.class.getDeclaredField("scheduler");
                field.setAccessible(true);
                if (field.get(initializer) instanceof com.corundumstudio.socketio.scheduler.CancelableScheduler s) {
                    return new FirstData(s);
                }
                throw new IllegalStateException("its scheduler field holds no CancelableScheduler");
            } catch (ReflectiveOperationException | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(GatewayInitializer.class).warn("Cannot reach netty-socketio's scheduler ({}):"
                        + " keep-alive connections to the send API are closed 5 s after they open", e.toString());
                return null;
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            scheduler.cancel(new com.corundumstudio.socketio.scheduler.SchedulerKey(
                    com.corundumstudio.socketio.scheduler.SchedulerKey.Type.PING_TIMEOUT, ctx.channel()));
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * One receive-buffer sizer for every connection: Netty gives each channel an
     * {@code AdaptiveRecvByteBufAllocator} of its own (32 bytes per connection), although it keeps
     * nothing per channel (each channel's sizing state is in the handle it makes for it). Same
     * settings as the channel's own, which it replaces only when they match.
     */
    private static final io.netty.channel.AdaptiveRecvByteBufAllocator SHARED_RECV = new io.netty.channel.AdaptiveRecvByteBufAllocator();

    @Override
    protected void initChannel(io.netty.channel.Channel ch) throws Exception {
        if (ch.config().getRecvByteBufAllocator() instanceof io.netty.channel.AdaptiveRecvByteBufAllocator own
                && own.getClass() == io.netty.channel.AdaptiveRecvByteBufAllocator.class
                && own.maxMessagesPerRead() == SHARED_RECV.maxMessagesPerRead()
                && own.respectMaybeMoreData() == SHARED_RECV.respectMaybeMoreData()) {
            ch.config().setRecvByteBufAllocator(SHARED_RECV);
        }
        super.initChannel(ch);
    }

    static {
        SHARED_RECV.maxMessagesPerRead(16); // what NIO's and epoll's socket channels set on their own
    }

    @Override
    protected void addSslHandler(ChannelPipeline pipeline) {
        // netty-socketio's own TLS needs a key store in its Configuration; PushBridge's is built
        // and checked once at start-up (TlsOptions), PEM or key store alike
        if (tls != null) {
            pipeline.addLast(SSL_HANDLER, tls.newHandler(pipeline.channel().alloc()));
            pipeline.addLast(TLS_FAILURES, tlsFailures);
        }
    }

    @Override
    protected void addSocketioHandlers(ChannelPipeline pipeline) {
        super.addSocketioHandlers(pipeline);
        pipeline.replace(SOCKETIO_ENCODER, SOCKETIO_ENCODER, encoder);
        pipeline.addFirst(IDLE, new IdleClose(idleMillis));
        pipeline.replace(HTTP_AGGREGATOR, HTTP_AGGREGATOR, new JsonLimitAggregator(maxHttpContent, stats));
        pipeline.addBefore(PACKET_HANDLER, MALFORMED, malformed);
        if (firstData != null) {
            pipeline.addBefore(MALFORMED, FIRST_DATA, firstData);
        }
        pipeline.addBefore(PACKET_HANDLER, SEND_API, sendApi);
        pipeline.addBefore(PACKET_HANDLER, ROUTES, routes);
        pipeline.addBefore(PACKET_HANDLER, GATE, gate);
        pipeline.addAfter(HTTP_ENCODER, CLOSE_HEADER, CloseHeader.INSTANCE);
        if (tls != null) {
            pipeline.addFirst(TLS_BYPASS, TlsBypass.INSTANCE);
        }
    }

    /**
     * netty-socketio's transports hand each decoded payload back to the pipeline from its head
     * ({@code ctx.pipeline().fireChannelRead(new PacketsMessage(...))}) and release the frame as soon
     * as that call returns. Through the TLS handler, which is in the middle of delivering the
     * decrypted bytes, such a message is delivered later, after its content was released. So
     * payloads skip the TLS handler: they are already decrypted, and go on at once to the handler
     * after it. Also notes that the peer sent something (see {@link TlsFailures}).
     */
    @Sharable
    static final class TlsBypass extends io.netty.channel.ChannelInboundHandlerAdapter {
        static final TlsBypass INSTANCE = new TlsBypass();
        /** Set once the peer sent a byte: a connection closed before then is no failed handshake. */
        static final io.netty.util.AttributeKey<Boolean> RECEIVED = io.netty.util.AttributeKey.valueOf("pushbridgeReceived");

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf && ctx.channel().attr(RECEIVED).get() == null) {
                ctx.channel().attr(RECEIVED).set(Boolean.TRUE);
            }
            if (msg instanceof com.corundumstudio.socketio.messages.PacketsMessage) {
                ChannelHandlerContext afterTls = ctx.pipeline().context(TLS_FAILURES);
                if (afterTls != null) {
                    afterTls.fireChannelRead(msg);
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Right after the TLS handler: a failed handshake is counted ({@code refused.tls.plaintext} for a
     * plain HTTP client, {@code refused.tls.handshake} otherwise, such as a client that does not trust
     * the certificate) and logged in one rate-limited line per kind; the TLS handler closes the connection. A
     * connection closed before its handshake (a TCP health check) is only logged at debug level.
     * Netty's own message for a plain HTTP request is a hex dump of the bytes received, which may
     * hold an API key: it is never logged, and TLS errors go no further down the pipeline.
     */
    @Sharable
    static final class TlsFailures extends ChannelDuplexHandler {
        private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GatewayInitializer.class);
        private final GatewayStats stats;
        /** One rate limit per kind, so that plain HTTP clients do not hide failed handshakes, nor the reverse. */
        private final RateLimitedLog plaintext = new RateLimitedLog(log, 10_000);
        private final RateLimitedLog handshakes = new RateLimitedLog(log, 10_000);

        TlsFailures(GatewayStats stats) {
            this.stats = stats;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent done && !done.isSuccess()) {
                Throwable cause = done.cause();
                if (cause instanceof io.netty.handler.ssl.NotSslRecordException) {
                    stats.increment("refused.tls.plaintext");
                    plaintext.warn("Closed a connection from {} that is not TLS (plain HTTP on the TLS port?)",
                            ctx.channel().remoteAddress());
                } else if (cause instanceof java.nio.channels.ClosedChannelException
                        || String.valueOf(cause.getMessage()).startsWith("Connection closed while")) {
                    if (Boolean.TRUE.equals(ctx.channel().attr(TlsBypass.RECEIVED).get())) {
                        stats.increment("refused.tls.handshake");
                        handshakes.warn("The client at {} closed the connection during the TLS handshake (does it trust"
                                + " the certificate?)", ctx.channel().remoteAddress());
                    } else {
                        log.debug("Connection from {} closed before its TLS handshake", ctx.channel().remoteAddress());
                    }
                } else {
                    stats.increment("refused.tls.handshake");
                    handshakes.warn("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(),
                            RateLimitedLog.excerpt(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
                }
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof javax.net.ssl.SSLException) {
                    log.debug("TLS error on the connection from {}: {}", ctx.channel().remoteAddress(),
                            t.getClass().getSimpleName());
                    ctx.close();
                    return;
                }
            }
            super.exceptionCaught(ctx, cause);
        }
    }

    /**
     * Answers a request that is not valid HTTP (a garbled request line, a Content-Length that is not
     * a number, ...) with a JSON 400 and closes the connection; Netty's decoder hands such a request
     * on marked as failed, and it would otherwise be served as {@code /bad-request} or with an empty
     * body. Counted as {@code refused.http.malformed_request}.
     */
    @Sharable
    static final class MalformedRequests extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final GatewayStats stats;

        MalformedRequests(GatewayStats stats) {
            this.stats = stats;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof io.netty.handler.codec.http.HttpRequest request && request.decoderResult().isFailure()) {
                io.netty.util.ReferenceCountUtil.release(msg);
                stats.increment("refused.http.malformed_request");
                HttpJson.write(ctx, HttpResponseStatus.BAD_REQUEST,
                        HttpJson.error("bad_request", "The request is not valid HTTP", List.of()), false, Map.of());
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Closes a connection that has been silent for too long: nothing read for {@code idleMillis}
     * (a read in progress counts as not silent), measured on the event loop's clock, as Netty's
     * {@code IdleStateHandler} measures a reader idle time. One object per connection that is also
     * its scheduled check (40 bytes and the loop's task), where an {@code IdleStateHandler} with its
     * reader task cost about 200: it keeps the fields of three kinds of idleness and of write
     * observation that this check never uses.
     */
    static final class IdleClose extends io.netty.channel.ChannelInboundHandlerAdapter implements Runnable {
        private final long idleNanos;
        private @org.jspecify.annotations.Nullable ChannelHandlerContext ctx;
        private io.netty.util.concurrent.@org.jspecify.annotations.Nullable ScheduledFuture<?> check;
        private long lastRead;
        private boolean reading;

        IdleClose(long idleMillis) {
            this.idleNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, idleMillis));
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
                start(ctx);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            stop();
        }

        @Override
        public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
            if (ctx.channel().isActive()) {
                start(ctx);
            }
            super.channelRegistered(ctx);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            start(ctx);
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            stop();
            super.channelInactive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            reading = true;
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            if (reading) {
                lastRead = ctx.executor().ticker().nanoTime();
                reading = false;
            }
            ctx.fireChannelReadComplete();
        }

        private void start(ChannelHandlerContext ctx) {
            if (this.ctx != null) {
                return; // started already (or stopped: a handler is not started twice)
            }
            this.ctx = ctx;
            lastRead = ctx.executor().ticker().nanoTime();
            check = ctx.executor().schedule(this, idleNanos, TimeUnit.NANOSECONDS);
        }

        private void stop() {
            if (check != null) {
                check.cancel(false);
                check = null;
            }
        }

        /** The check, on the connection's event loop. */
        @Override
        public void run() {
            ChannelHandlerContext context = ctx;
            if (check == null || context == null || !context.channel().isOpen()) {
                return;
            }
            long next = reading ? idleNanos : idleNanos - (context.executor().ticker().nanoTime() - lastRead);
            if (next <= 0) {
                check = null;
                context.close();
            } else {
                check = context.executor().schedule(this, next, TimeUnit.NANOSECONDS);
            }
        }
    }

    /**
     * The handlers of HTTP requests and responses, which a connection no longer needs once it is a
     * WebSocket: {@link CloseHeader} takes them out when the upgrade's 101 goes out. Each costs a
     * handler context per connection (64 bytes, 10,000 idle connections: 4.5 MB for these) and a
     * hop for every packet a client sends (netty-socketio fires each one from the pipeline's head).
     * Netty's own WebSocket handshake already removes the HTTP aggregator and codec.
     */
    static final List<String> HTTP_ONLY = List.of(CLOSE_HEADER, MALFORMED, SEND_API, ROUTES, AUTHORIZE_HANDLER,
            XHR_POLLING_TRANSPORT, WRONG_URL_HANDLER);

    /** Removes the {@link #HTTP_ONLY} handlers from a WebSocket connection's pipeline (those it has). */
    static void dropHttpHandlers(ChannelPipeline pipeline) {
        for (String name : HTTP_ONLY) {
            if (pipeline.context(name) != null) {
                try {
                    pipeline.remove(name);
                } catch (java.util.NoSuchElementException e) {
                    // removed meanwhile: nothing to do
                }
            }
        }
    }

    /**
     * netty-socketio closes the connection after every long-polling response and after its own
     * errors, but does not say so: clients that keep connections alive (browsers, Node's agent)
     * then send their next request on a closed socket. Those responses are the streamed ones
     * ({@link HttpResponse} without content); PushBridge's own are full responses with the right
     * header, and the WebSocket upgrade (101) must keep its own. Once that 101 is written, the
     * connection's HTTP handlers go ({@link #dropHttpHandlers}), this one with them.
     */
    @Sharable
    static final class CloseHeader extends ChannelOutboundHandlerAdapter {
        static final CloseHeader INSTANCE = new CloseHeader();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            boolean upgrade = msg instanceof HttpResponse response
                    && response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code();
            if (msg instanceof HttpResponse response && !(msg instanceof FullHttpResponse) && !upgrade) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            super.write(ctx, msg, promise);
            if (upgrade) {
                dropHttpHandlers(ctx.pipeline());
            }
        }
    }

    /** An aggregator that answers a body over the limit (by its Content-Length or as it arrives) with a JSON 413 and closes. */
    static final class JsonLimitAggregator extends HttpObjectAggregator {
        private final GatewayStats stats;

        JsonLimitAggregator(int maxContentLength, GatewayStats stats) {
            super(maxContentLength);
            this.stats = stats;
        }

        @Override
        protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
            return null;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            stats.increment("refused.http.too_large");
            // through the whole pipeline: the HTTP encoder comes after this aggregator, so a write from
            // its context would skip the encoder, and the client would see the connection close unanswered
            HttpJson.write(ctx.channel(), HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    HttpJson.error("too_large", "The body is larger than " + maxContentLength() + " bytes", List.of()),
                    false, Map.of());
        }
    }
}
