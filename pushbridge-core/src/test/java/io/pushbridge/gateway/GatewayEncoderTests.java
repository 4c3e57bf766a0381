package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * The gateway's WebSocket writer: everything a session's queue holds leaves in order, a packet over
 * the frame limit in pieces (of any limit), a packet that cannot be encoded is dropped without
 * holding back the others, and the write's promise completes also when nothing waited. What leaves
 * is read as a client reads it: the bytes on the wire (after Netty's frame encoder, which the
 * whole frames the encoder writes itself pass), decoded by Netty's frame decoder as unmasked server
 * frames.
 */
class GatewayEncoderTests {

    private final JacksonJsonSupport json = new JacksonJsonSupport();
    private final Queue<Packet> queue = new ConcurrentLinkedQueue<>();
    private final ClientHead head = mock(ClientHead.class);
    private final Configuration configuration = new Configuration();
    private final EmbeddedChannel channel;

    GatewayEncoderTests() throws Exception {
        configuration.setJsonSupport(json);
        configuration.setMaxFramePayloadLength(1024); // the lowest maxPayload GatewayOptions allows
        configuration.setWebsocketCompression(false); // the gateway's default (netty-socketio's is on)
        channel = webSocket(configuration);
        when(head.getPacketsQueue(Transport.WEBSOCKET)).thenReturn(queue);
        when(head.getSessionId()).thenReturn(new UUID(0, 1));
    }

    /** A WebSocket connection's outbound pipeline: Netty's frame encoder, then the gateway's. */
    private static EmbeddedChannel webSocket(Configuration configuration) throws Exception {
        return new EmbeddedChannel(new WebSocket08FrameEncoder(false), new GatewayEncoder(configuration, new Eio4PollingEncoder(configuration)));
    }

    /** The messages written, each a whole text message (its pieces joined). */
    private List<String> written() {
        return written(channel);
    }

    /** The messages written to the channel, as a client decodes its bytes. */
    private static List<String> written(EmbeddedChannel channel) {
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(false, false, 1 << 20, false));
        Object wire;
        while ((wire = channel.readOutbound()) != null) {
            assertThat(wire).as("bytes on the wire").isInstanceOf(ByteBuf.class);
            client.writeInbound(wire);
        }
        client.finish();
        List<String> messages = new ArrayList<>();
        StringBuilder message = new StringBuilder();
        Object out;
        while ((out = client.readInbound()) != null) {
            WebSocketFrame frame = (WebSocketFrame) out;
            assertThat(frame).isInstanceOfAny(TextWebSocketFrame.class, ContinuationWebSocketFrame.class);
            message.append(frame.content().toString(StandardCharsets.UTF_8));
            if (frame.isFinalFragment()) {
                messages.add(message.toString());
                message.setLength(0);
            }
            frame.release();
        }
        assertThat(message).as("no message left unfinished").isEmpty();
        return messages;
    }

    @Test
    void aPacketOverTheFrameLimitLeavesInPiecesFollowedByTheRest() {
        String big = "x".repeat(20_000);
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of(big)));
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("y".repeat(2000))));
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("after")));
        ChannelFuture done = channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        assertThat(done.cause()).isNull();
        assertThat(done.isSuccess()).isTrue();
        assertThat(written()).containsExactly("42/news,[\"e\",\"" + big + "\"]", "42/news,[\"e\",\"" + "y".repeat(2000) + "\"]",
                "42/news,[\"e\",\"after\"]");
        assertThat(queue).isEmpty();
    }

    @Test
    void aPacketThatCannotBeEncodedIsDroppedAndTheOthersStillLeave() {
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("before")));
        Packet broken = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        broken.setSubType(PacketType.EVENT);
        broken.setNsp("/news");
        broken.setName("e");
        broken.setData(List.of(new Exploding())); // Jackson fails on it
        queue.add(broken);
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("after")));
        ChannelFuture done = channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        assertThat(done.cause()).isNull();
        assertThat(done.isSuccess()).isTrue();
        assertThat(written()).containsExactly("42/news,[\"e\",\"before\"]", "42/news,[\"e\",\"after\"]");
    }

    /** A value whose serialization fails. */
    public static final class Exploding {
        public String getValue() {
            throw new IllegalStateException("cannot be serialized");
        }
    }

    @Test
    void theWriteCompletesAlsoWhenNothingWaited() {
        ChannelFuture done = channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        assertThat(done.cause()).isNull();
        assertThat(done.isSuccess()).isTrue();
        Object out = channel.readOutbound();
        assertThat(out).as("at most an empty buffer").satisfiesAnyOf(o -> assertThat(o).isNull(),
                o -> assertThat(((io.netty.buffer.ByteBuf) o).isReadable()).isFalse());
    }

    @Test
    void aBroadcastLeavesAsOneFrameMadeOncePerLoopTaskAndAnAckedEventWithItsAckId() throws Exception {
        EncodedEvent broadcast = EncodedEvent.encode(json, "/news", "e", List.of("all"));
        EncodedEvent acked = EncodedEvent.encode(json, "/news", "e", List.of("mine")).withAck(1234567);
        // two sockets of one event loop (this thread) take the same broadcast in one loop task
        EmbeddedChannel other = webSocket(configuration);
        Queue<Packet> otherQueue = new ConcurrentLinkedQueue<>();
        ClientHead otherHead = mock(ClientHead.class);
        when(otherHead.getPacketsQueue(Transport.WEBSOCKET)).thenReturn(otherQueue);
        RecordingAllocator alloc = new RecordingAllocator();
        channel.config().setAllocator(alloc);
        other.config().setAllocator(alloc);
        queue.add(broadcast);
        queue.add(acked);
        otherQueue.add(broadcast);
        GatewayEncoder.SharedFrames task = new GatewayEncoder.SharedFrames();
        writeQueued(channel, head, task);
        writeQueued(other, otherHead, task);
        // one buffer for the broadcast, kept by the task and written to both sockets; one for the acked event
        assertThat(alloc.direct).hasSize(2);
        ByteBuf shared = alloc.direct.get(0);
        assertThat(shared.refCnt()).as("the task's and the two writes' references").isEqualTo(3);
        assertThat(written()).containsExactly("42/news,[\"e\",\"all\"]", "42/news,1234567[\"e\",\"mine\"]");
        assertThat(written(other)).containsExactly("42/news,[\"e\",\"all\"]");
        assertThat(shared.refCnt()).as("once written, the task's alone").isEqualTo(1);
        assertThat(alloc.direct.get(1).refCnt()).as("the acked event's frame, written and released").isZero();
        task.release();
        assertThat(shared.refCnt()).as("released when the task ends").isZero();
        // a write outside a loop task (netty-socketio's, through the pipeline) makes a frame of its own
        queue.add(broadcast);
        channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        assertThat(written()).containsExactly("42/news,[\"e\",\"all\"]");
        assertThat(alloc.direct).hasSize(3);
        assertThat(alloc.direct.get(2).refCnt()).isZero();
    }

    /** Writes the session's queue as a loop task of {@link Flushes} does, then returns the write's outcome. */
    private static ChannelFuture writeQueued(EmbeddedChannel channel, ClientHead head, GatewayEncoder.SharedFrames task) {
        io.netty.channel.ChannelHandlerContext ctx = channel.pipeline().context(GatewayEncoder.class);
        io.netty.channel.ChannelPromise promise = ctx.newPromise();
        ((GatewayEncoder) ctx.handler()).writeQueued(ctx, head, promise, task);
        return promise;
    }

    @Test
    void aFrameThatCannotBeMadeFailsTheWriteAndLeavesNothingHeldOrUnflushed() {
        RecordingAllocator alloc = new RecordingAllocator();
        alloc.failAfter = 2; // the third frame's direct buffer: direct memory exhausted
        channel.config().setAllocator(alloc);
        for (int i = 1; i <= 3; i++) {
            queue.add(EncodedEvent.encode(json, "/news", "e", List.of(i)).withAck(i));
        }
        ChannelFuture done = channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        assertThat(done.cause()).isInstanceOf(OutOfMemoryError.class);
        // the first frame was written and flushed; the second, held back for the promise, released
        assertThat(written()).containsExactly("42/news,1[\"e\",1]");
        assertThat(alloc.direct).hasSize(2);
        assertThat(alloc.direct.get(0).refCnt()).isZero();
        assertThat(alloc.direct.get(1).refCnt()).as("the frame held back").isZero();
        // the next write of the session goes out as usual
        channel.config().setAllocator(new RecordingAllocator());
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("after")));
        assertThat(channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET)).isSuccess()).isTrue();
        assertThat(written()).containsExactly("42/news,[\"e\",\"after\"]");
    }

    /** Unpooled buffers, whose duplicates share their reference count; the direct ones it made, in order. */
    private static final class RecordingAllocator extends io.netty.buffer.AbstractByteBufAllocator {
        final List<ByteBuf> direct = new ArrayList<>();
        /** How many direct buffers it makes before it fails as exhausted direct memory does (-1: never). */
        int failAfter = -1;

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return new io.netty.buffer.UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            if (failAfter >= 0 && direct.size() >= failAfter) {
                throw new OutOfMemoryError("Cannot reserve direct buffer memory (injected)");
            }
            ByteBuf buffer = new io.netty.buffer.UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            direct.add(buffer);
            return buffer;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    @Test
    void aTaskSharesTheFramesOfEveryBroadcastItsSocketsTakeUpToItsLimitAndReleasesThemWhenItEnds() throws Exception {
        // a burst queued more broadcasts for two sockets than the task shares: each socket takes them all, in order
        int count = GatewayEncoder.SharedFrames.MAX + 6;
        EmbeddedChannel other = webSocket(configuration);
        Queue<Packet> otherQueue = new ConcurrentLinkedQueue<>();
        ClientHead otherHead = mock(ClientHead.class);
        when(otherHead.getPacketsQueue(Transport.WEBSOCKET)).thenReturn(otherQueue);
        RecordingAllocator alloc = new RecordingAllocator();
        channel.config().setAllocator(alloc);
        other.config().setAllocator(alloc);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            EncodedEvent event = EncodedEvent.encode(json, "/news", "e", List.of(i));
            queue.add(event);
            // the second socket joined late: it misses the first broadcast
            if (i > 0) {
                otherQueue.add(event);
            }
            expected.add("42/news,[\"e\"," + i + "]");
        }
        GatewayEncoder.SharedFrames task = new GatewayEncoder.SharedFrames();
        assertThat(writeQueued(channel, head, task).isSuccess()).isTrue();
        assertThat(writeQueued(other, otherHead, task).isSuccess()).isTrue();
        assertThat(task.size()).isEqualTo(GatewayEncoder.SharedFrames.MAX);
        // the first MAX made once and shared, the six after them made per socket
        assertThat(alloc.direct).hasSize(GatewayEncoder.SharedFrames.MAX + 2 * 6);
        assertThat(written()).containsExactlyElementsOf(expected);
        assertThat(written(other)).containsExactlyElementsOf(expected.subList(1, count));
        task.release();
        assertThat(task.size()).isZero();
        assertThat(alloc.direct).allSatisfy(frame -> assertThat(frame.refCnt()).as("every frame released").isZero());
    }

    @Test
    void withCompressionTheEventsLeaveAsFramesForNettysCompressionAndFrameEncoders() throws Exception {
        Configuration compressed = new Configuration();
        compressed.setJsonSupport(json);
        compressed.setWebsocketCompression(true);
        EmbeddedChannel frames = new EmbeddedChannel(new GatewayEncoder(compressed, new Eio4PollingEncoder(compressed)));
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("all")));
        queue.add(EncodedEvent.encode(json, "/news", "e", List.of("mine")).withAck(7));
        frames.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        List<String> texts = new ArrayList<>();
        Object out;
        while ((out = frames.readOutbound()) != null) {
            assertThat(out).isInstanceOf(TextWebSocketFrame.class);
            texts.add(((TextWebSocketFrame) out).text());
            ((TextWebSocketFrame) out).release();
        }
        assertThat(texts).containsExactly("42/news,[\"e\",\"all\"]", "42/news,7[\"e\",\"mine\"]");
    }
}
