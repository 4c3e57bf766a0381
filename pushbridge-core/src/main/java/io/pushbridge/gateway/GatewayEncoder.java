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
 * (no ack id) is made once per loop task that writes it and shared by every socket of that task
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

    /** The largest broadcast packet whose frame a loop task shares ({@link SharedFrames}). */
    static final int SHARED_FRAME_MAX = 64 * 1024;

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
            // one session's queue: no other socket to share a frame with
            writeQueued(ctx, out.getClientHead(), promise, null);
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
     *
     * @param shared the frames of the loop task this write is part of, which the other sockets of
     *     that task share; {@code null} makes every frame this socket's own
     */
    void writeQueued(ChannelHandlerContext ctx, ClientHead head, ChannelPromise promise, @Nullable SharedFrames shared) {
        Queue<Packet> queue = head.getPacketsQueue(Transport.WEBSOCKET);
        Object previous = null;
        Packet packet;
        try {
            while ((packet = queue.poll()) != null) {
                if (wholeFrames && packet instanceof EncodedEvent event && event.size() <= maxFramePayload) {
                    // no attachments: an event with binary arguments is never encoded once
                    previous = write(ctx, previous, frame(ctx.alloc(), event, shared));
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
     * The event as one WebSocket frame: a broadcast's (no ack id, not too large) shared by the
     * sockets of the loop task, any other made for this socket.
     */
    static ByteBuf frame(ByteBufAllocator alloc, EncodedEvent event, @Nullable SharedFrames shared) {
        if (shared != null && event.getAckId() == null && event.size() <= SHARED_FRAME_MAX) {
            return shared.frame(event, alloc);
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
     * The frames of the broadcasts that one loop task writes (the sockets of one event loop that one
     * delivery wrote to, {@link Flushes}), so that each frame is made once per task and every socket
     * writes a duplicate of it (no copy). The task releases them when it ends: nothing outlives it
     * but the duplicates still waiting in the sockets' outbound buffers. Made per task, confined to
     * the loop's thread.
     */
    static final class SharedFrames {
        /**
         * The most frames one task shares. A burst may queue many broadcasts for each socket before its
         * loop gets to it; past this many in one task the rest are made per socket.
         */
        static final int MAX = 64;

        private EncodedEvent @Nullable [] events;
        private ByteBuf @Nullable [] frames;
        private int size;
        /** Where the next lookup starts: the sockets of a task mostly take the same broadcasts in the same order. */
        private int cursor;

        /** The event's frame, for one socket's write (the caller owns the duplicate). */
        ByteBuf frame(EncodedEvent event, ByteBufAllocator alloc) {
            EncodedEvent[] known = events;
            ByteBuf[] made = frames;
            if (known != null && made != null) {
                int i = indexOf(known, event);
                if (i >= 0) {
                    cursor = i + 1;
                    return made[i].retainedDuplicate();
                }
                if (size == MAX) {
                    return newFrame(alloc, event);
                }
            }
            ByteBuf frame = newFrame(alloc, event);
            if (known == null || made == null) {
                known = events = new EncodedEvent[4];
                made = frames = new ByteBuf[4];
            } else if (size == known.length) {
                known = events = java.util.Arrays.copyOf(known, Math.min(MAX, size * 2));
                made = frames = java.util.Arrays.copyOf(made, known.length);
            }
            known[size] = event;
            made[size] = frame;
            cursor = ++size;
            return frame.retainedDuplicate();
        }

        private int indexOf(EncodedEvent[] known, EncodedEvent event) {
            if (cursor < size && known[cursor] == event) {
                return cursor;
            }
            for (int i = 0; i < size; i++) {
                if (known[i] == event) {
                    return i;
                }
            }
            return -1;
        }

        /** How many frames it holds. */
        int size() {
            return size;
        }

        /** Releases every frame it holds; the duplicates written keep theirs until they leave. */
        void release() {
            ByteBuf[] made = frames;
            if (made == null) {
                return;
            }
            for (int i = 0; i < size; i++) {
                made[i].release();
                made[i] = null;
            }
            events = null;
            frames = null;
            size = 0;
            cursor = 0;
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
