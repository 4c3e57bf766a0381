package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.handler.EncoderHandler;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.FastThreadLocal;
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
 * <p>Without WebSocket compression (the default), an {@link EncodedEvent} leaves as a whole
 * WebSocket frame this encoder writes itself, a buffer that Netty's frame encoder lets pass: one
 * direct buffer with the frame's header and the packet, where a {@code TextWebSocketFrame} cost a
 * heap wrapper, a frame object and the frame encoder's own buffer and copy. A broadcast's frame
 * (no ack id) is made once per event loop and shared by every socket of that loop
 * ({@link SharedFrames}). With compression on, frames go through Netty's compression and frame
 * encoders as netty-socketio wrote them.
 *
 * <p>Runs on the channel's event loop, as every outbound handler does.
 */
@Sharable
final class GatewayEncoder extends EncoderHandler {

    /** The size of each piece of a packet split into continuation frames (as netty-socketio splits). */
    private static final int FRAGMENT_SIZE = 8192;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GatewayEncoder.class);

    /** The largest broadcast packet whose frame an event loop keeps to share ({@link SharedFrames}). */
    static final int SHARED_FRAME_MAX = 64 * 1024;

    /** Each event loop's frames of the last few broadcasts it wrote. */
    private static final FastThreadLocal<SharedFrames> SHARED = new FastThreadLocal<>() {
        @Override
        protected SharedFrames initialValue() {
            return new SharedFrames();
        }

        @Override
        protected void onRemoval(SharedFrames frames) {
            frames.clear();
        }
    };

    private final PacketEncoder encoder;
    private final int maxFramePayload;
    /** Whether this encoder writes {@link EncodedEvent}s as whole frames (no WebSocket compression). */
    private final boolean wholeFrames;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);

    GatewayEncoder(Configuration configuration, PacketEncoder encoder) throws IOException {
        super(configuration, encoder);
        this.encoder = encoder;
        this.maxFramePayload = configuration.getMaxFramePayloadLength();
        this.wholeFrames = !configuration.isWebsocketCompression();
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
     * completes with the last write (the writes of one channel complete in order). A packet that
     * cannot be encoded is dropped with a rate-limited warning; the others still leave. When a
     * frame cannot be made at all (direct memory exhausted, say), what was written leaves, the
     * frame held back is released and the promise fails, as the pipeline fails a write that throws.
     */
    void writeQueued(ChannelHandlerContext ctx, ClientHead head, ChannelPromise promise) {
        Queue<Packet> queue = head.getPacketsQueue(Transport.WEBSOCKET);
        Object previous = null;
        Packet packet;
        try {
            while ((packet = queue.poll()) != null) {
                if (wholeFrames && packet instanceof EncodedEvent event && event.size() <= maxFramePayload) {
                    // no attachments: an event with binary arguments is never encoded once
                    previous = write(ctx, previous, frame(ctx.alloc(), event));
                    continue;
                }
                ByteBuf bytes;
                try {
                    bytes = encode(ctx, packet);
                } catch (IOException | RuntimeException e) {
                    // this packet cannot be written; the ones after it still are
                    failureLog.warn("Dropped a packet for session {} that could not be encoded: {}", head.getSessionId(), e.toString());
                    continue;
                }
                try {
                    if (!bytes.isReadable()) {
                        // nothing to write
                    } else if (bytes.readableBytes() <= maxFramePayload) {
                        previous = write(ctx, previous, new TextWebSocketFrame(bytes.retain()));
                    } else {
                        // a text message in pieces
                        previous = write(ctx, previous, new TextWebSocketFrame(false, 0,
                                bytes.readRetainedSlice(Math.min(FRAGMENT_SIZE, bytes.readableBytes() - 1))));
                        while (bytes.isReadable()) {
                            int n = Math.min(FRAGMENT_SIZE, bytes.readableBytes());
                            previous = write(ctx, previous, new ContinuationWebSocketFrame(n == bytes.readableBytes(), 0,
                                    bytes.readRetainedSlice(n)));
                        }
                    }
                } finally {
                    bytes.release();
                }
                for (ByteBuf attachment : packet.getAttachments()) {
                    ByteBuf frame = encoder.allocateBuffer(ctx.alloc());
                    frame.writeBytes(attachment, attachment.readerIndex(), attachment.readableBytes());
                    previous = write(ctx, previous, new BinaryWebSocketFrame(frame));
                }
            }
        } catch (Throwable e) {
            if (previous != null) {
                io.netty.util.ReferenceCountUtil.release(previous);
            }
            ctx.flush();
            promise.tryFailure(e);
            return;
        }
        if (previous != null) {
            ctx.write(previous, promise);
        } else {
            // nothing waited (an earlier write took it): the promise completes once what was written
            // before has left, so that a close on it (netty-socketio's disconnect) loses nothing
            ctx.write(Unpooled.EMPTY_BUFFER, promise);
        }
        ctx.flush();
    }

    /** The packet's bytes: an {@link EncodedEvent}'s own, any other encoded by netty-socketio's encoder. */
    private ByteBuf encode(ChannelHandlerContext ctx, Packet packet) throws IOException {
        if (packet instanceof EncodedEvent event) {
            return event.bytes();
        }
        ByteBuf bytes = encoder.allocateBuffer(ctx.alloc());
        try {
            encoder.encodePacket(packet, bytes, ctx.alloc(), true);
            return bytes;
        } catch (IOException | RuntimeException e) {
            bytes.release();
            throw e;
        }
    }

    /**
     * Releases the frames this thread keeps ({@link SharedFrames}). An event loop's are released when
     * its thread ends; a thread that is not Netty's (a test's, a benchmark's) calls this itself.
     */
    static void releaseSharedFrames() {
        SHARED.remove();
    }

    /**
     * The event as one WebSocket frame: a broadcast's (no ack id, not too large) shared by the
     * sockets of this event loop, any other made for this socket.
     */
    static ByteBuf frame(ByteBufAllocator alloc, EncodedEvent event) {
        if (event.getAckId() == null && event.size() <= SHARED_FRAME_MAX) {
            return SHARED.get().frame(event, alloc);
        }
        return newFrame(alloc, event);
    }

    /** A direct buffer of its own holding the event's whole frame. */
    private static ByteBuf newFrame(ByteBufAllocator alloc, EncodedEvent event) {
        ByteBuf frame = alloc.directBuffer(event.frameSize());
        event.writeFrame(frame);
        return frame;
    }

    /**
     * The frames of the last few broadcasts one event loop wrote, so that each is made once per loop
     * and every socket of the loop writes a duplicate of it (no copy); a frame is released when a
     * newer broadcast takes its place, or when the loop's thread ends. Confined to its thread.
     */
    static final class SharedFrames {
        /** A burst may queue several broadcasts for each socket: one slot each. */
        private static final int SLOTS = 4;

        private final EncodedEvent[] events = new EncodedEvent[SLOTS];
        private final ByteBuf[] frames = new ByteBuf[SLOTS];
        private int next;

        /** The event's frame, for one socket's write (the caller owns the duplicate). */
        ByteBuf frame(EncodedEvent event, ByteBufAllocator alloc) {
            for (int i = 0; i < SLOTS; i++) {
                if (events[i] == event) {
                    return frames[i].retainedDuplicate();
                }
            }
            ByteBuf frame = newFrame(alloc, event);
            int slot = next;
            next = (slot + 1) % SLOTS;
            ByteBuf old = frames[slot];
            events[slot] = event;
            frames[slot] = frame;
            if (old != null) {
                old.release();
            }
            return frame.retainedDuplicate();
        }

        /** Releases every frame kept. */
        void clear() {
            for (int i = 0; i < SLOTS; i++) {
                ByteBuf frame = frames[i];
                events[i] = null;
                frames[i] = null;
                if (frame != null) {
                    frame.release();
                }
            }
        }
    }

    /** Writes the frame held back, if any, and holds this one back (the last one gets the promise). */
    private static Object write(ChannelHandlerContext ctx, @Nullable Object previous, Object next) {
        if (previous != null) {
            // a promise of its own: a failed write (the channel closed) is not an exception to fire
            ctx.write(previous);
        }
        return next;
    }
}
