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
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.pushbridge.http.HttpJson;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * netty-socketio's pipeline with PushBridge's handlers added:
 * <ul>
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
    static final String BINARY_FIX = "pushbridgeBinaryFix";
    static final String CLOSE_HEADER = "pushbridgeCloseHeader";

    private final long idleMillis;
    private final int maxHttpContent;
    private final ChannelHandler sendApi;
    private final ChannelHandler routes;
    private final ChannelHandler gate;
    private final ChannelHandler malformed;
    private final GatewayStats stats;

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
    }

    private EncoderHandler encoder;

    @Override
    public void start(Configuration configuration, NamespacesHub namespacesHub) {
        super.start(configuration, namespacesHub);
        try {
            encoder = new EncoderHandler(configuration, new Eio4PollingEncoder(configuration));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot set up the packet encoder", e);
        }
    }

    @Override
    protected void addSocketioHandlers(ChannelPipeline pipeline) {
        super.addSocketioHandlers(pipeline);
        pipeline.replace(SOCKETIO_ENCODER, SOCKETIO_ENCODER, encoder);
        pipeline.addFirst(IDLE, new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
        pipeline.addAfter(IDLE, IDLE + "Close", IdleClose.INSTANCE);
        pipeline.replace(HTTP_AGGREGATOR, HTTP_AGGREGATOR, new JsonLimitAggregator(maxHttpContent, stats));
        pipeline.addBefore(PACKET_HANDLER, MALFORMED, malformed);
        pipeline.addBefore(PACKET_HANDLER, SEND_API, sendApi);
        pipeline.addBefore(PACKET_HANDLER, ROUTES, routes);
        pipeline.addBefore(PACKET_HANDLER, GATE, gate);
        pipeline.addAfter(HTTP_ENCODER, BINARY_FIX, BinaryFrameFix.INSTANCE);
        pipeline.addAfter(HTTP_ENCODER, CLOSE_HEADER, CloseHeader.INSTANCE);
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

    /** Closes a connection that has been silent for too long. */
    @Sharable
    static final class IdleClose extends ChannelDuplexHandler {
        static final IdleClose INSTANCE = new IdleClose();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                super.userEventTriggered(ctx, evt);
            }
        }
    }

    /**
     * netty-socketio writes each binary attachment as a WebSocket frame starting with {@code 0x04}
     * (Engine.IO 3 framing); Engine.IO 4 clients take the frame as it is, so the byte corrupts the
     * data. Only Engine.IO 4 sessions are accepted, so the byte is dropped from every binary frame.
     */
    @Sharable
    static final class BinaryFrameFix extends ChannelOutboundHandlerAdapter {
        static final BinaryFrameFix INSTANCE = new BinaryFrameFix();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof BinaryWebSocketFrame frame) {
                ByteBuf content = frame.content();
                if (content.isReadable() && content.getByte(content.readerIndex()) == 4) {
                    content.skipBytes(1);
                }
            }
            super.write(ctx, msg, promise);
        }
    }

    /**
     * netty-socketio closes the connection after every long-polling response and after its own
     * errors, but does not say so: clients that keep connections alive (browsers, Node's agent)
     * then send their next request on a closed socket. Those responses are the streamed ones
     * ({@link HttpResponse} without content); PushBridge's own are full responses with the right
     * header, and the WebSocket upgrade (101) must keep its own.
     */
    @Sharable
    static final class CloseHeader extends ChannelOutboundHandlerAdapter {
        static final CloseHeader INSTANCE = new CloseHeader();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse response && !(msg instanceof FullHttpResponse)
                    && response.status().code() != HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            super.write(ctx, msg, promise);
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
