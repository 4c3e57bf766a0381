package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.handler.EncoderHandler;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.util.Queue;
import org.jspecify.annotations.Nullable;

/**
 * netty-socketio's encoder, with WebSocket sessions written PushBridge's way: everything waiting in
 * the session's queue leaves as frames followed by one flush (one system call for several
 * messages when a burst queued them), where netty-socketio flushed after every packet. An
 * {@link EncodedEvent} leaves as the bytes it holds, encoded once for all its recipients; any other
 * packet is encoded as netty-socketio encodes it, with its binary attachments as binary frames the
 * Engine.IO 4 way (the attachment's bytes alone: netty-socketio put Engine.IO 3's {@code 0x04}
 * before them, which v4 clients take for data), and a packet larger than the frame limit split into continuation frames. Long-polling and every
 * other message go to netty-socketio's own code.
 *
 * <p>Runs on the channel's event loop, as every outbound handler does.
 */
@Sharable
final class GatewayEncoder extends EncoderHandler {

    /** The size of each piece of a packet split into continuation frames (as netty-socketio splits). */
    private static final int FRAGMENT_SIZE = 8192;

    private final PacketEncoder encoder;
    private final int maxFramePayload;

    GatewayEncoder(Configuration configuration, PacketEncoder encoder) throws IOException {
        super(configuration, encoder);
        this.encoder = encoder;
        this.maxFramePayload = configuration.getMaxFramePayloadLength();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof OutPacketMessage out && out.getTransport() == Transport.WEBSOCKET) {
            writeQueued(ctx, out.getClientHead(), promise);
            return;
        }
        super.write(ctx, msg, promise);
    }

    /**
     * Writes every packet waiting in the session's WebSocket queue, then flushes once. The promise
     * completes with the last frame's write (frames of one channel complete in order), at once when
     * nothing waited.
     */
    void writeQueued(ChannelHandlerContext ctx, ClientHead head, ChannelPromise promise) throws IOException {
        Queue<Packet> queue = head.getPacketsQueue(Transport.WEBSOCKET);
        WebSocketFrame previous = null;
        Packet packet;
        try {
            while ((packet = queue.poll()) != null) {
                ByteBuf bytes;
                if (packet instanceof EncodedEvent event) {
                    bytes = event.bytes();
                } else {
                    bytes = encoder.allocateBuffer(ctx.alloc());
                    try {
                        encoder.encodePacket(packet, bytes, ctx.alloc(), true);
                    } catch (IOException | RuntimeException e) {
                        bytes.release();
                        throw e;
                    }
                }
                if (!bytes.isReadable()) {
                    bytes.release();
                } else if (bytes.readableBytes() > maxFramePayload) {
                    // a text message in pieces: every piece but the last written now
                    previous = write(ctx, previous, new TextWebSocketFrame(false, 0, bytes.readRetainedSlice(FRAGMENT_SIZE)));
                    while (bytes.readableBytes() > FRAGMENT_SIZE) {
                        previous = write(ctx, previous, new ContinuationWebSocketFrame(false, 0, bytes.readRetainedSlice(FRAGMENT_SIZE)));
                    }
                    previous = write(ctx, previous, new ContinuationWebSocketFrame(true, 0, bytes.readRetainedSlice(bytes.readableBytes())));
                    bytes.release();
                } else {
                    previous = write(ctx, previous, new TextWebSocketFrame(bytes));
                }
                for (ByteBuf attachment : packet.getAttachments()) {
                    ByteBuf frame = encoder.allocateBuffer(ctx.alloc());
                    frame.writeBytes(attachment, attachment.readerIndex(), attachment.readableBytes());
                    previous = write(ctx, previous, new BinaryWebSocketFrame(frame));
                }
            }
        } catch (IOException | RuntimeException e) {
            // what was encoded before still leaves; the failure goes to the promise (Netty completes it)
            if (previous != null) {
                ctx.write(previous);
                ctx.flush();
            }
            throw e;
        }
        if (previous != null) {
            ctx.write(previous, promise);
            ctx.flush();
        } else {
            promise.trySuccess();
        }
    }

    /** Writes the frame held back, if any, and holds this one back (the last one gets the promise). */
    private static WebSocketFrame write(ChannelHandlerContext ctx, @Nullable WebSocketFrame previous, WebSocketFrame next) {
        if (previous != null) {
            // a promise of its own: a failed write (the channel closed) is not an exception to fire
            ctx.write(previous);
        }
        return next;
    }
}
