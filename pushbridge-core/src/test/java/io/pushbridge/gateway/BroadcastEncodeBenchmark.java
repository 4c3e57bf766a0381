package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketEncoder;
import com.corundumstudio.socketio.protocol.PacketType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.pushbridge.jmh.Payloads;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Encoding one broadcast for {@value #RECIPIENTS} WebSocket recipients: one event packet on
 * namespace {@code /site} with 3 arguments of about 200 bytes of JSON each ({@link Payloads}).
 * Figures are per recipient ({@link OperationsPerInvocation}): frames made per second.
 *
 * <p>Each benchmark makes one frame per recipient in {@link Broadcast#frames} and ends with
 * {@link Broadcast#releaseFrames()}, which stands for the writes completing: every buffer made is
 * released, inside the measurement, as Netty does after a write. A benchmark that leaves a buffer
 * unreleased fails at the end of its trial. To add a variant, write one more method like those
 * below: take a {@link Broadcast}, fill {@code frames}, call {@code releaseFrames()}, and annotate it
 * {@code @Benchmark @OperationsPerInvocation(RECIPIENTS)}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BroadcastEncodeBenchmark {

    static final int RECIPIENTS = 1_000;

    /** The broadcast, the gateway's encoder and allocator, and a frame slot per recipient. */
    @State(Scope.Thread)
    public static class Broadcast {
        /** The configuration the encoder reads: netty-socketio's defaults with the gateway's JSON support. */
        Configuration configuration;
        /** The gateway's encoder (it only changes long-polling's framing; WebSocket packets are netty-socketio's). */
        PacketEncoder encoder;
        /** What the gateway's channels allocate from: Netty's default allocator. */
        ByteBufAllocator allocator;
        /** The event, as {@code SocketIOClient.sendEvent(event, args)} makes it for each socket. */
        Packet packet;
        /** One frame per recipient, as written to its channel. */
        final WebSocketFrame[] frames = new WebSocketFrame[RECIPIENTS];
        /** One whole frame (header and packet) per recipient, as the gateway writes it past Netty's frame encoder. */
        final ByteBuf[] wire = new ByteBuf[RECIPIENTS];

        @Setup(Level.Trial)
        public void setUp() {
            configuration = new Configuration();
            configuration.setJsonSupport(new JacksonJsonSupport());
            encoder = new Eio4PollingEncoder(configuration);
            allocator = ByteBufAllocator.DEFAULT;
            packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
            packet.setSubType(PacketType.EVENT);
            packet.setNsp("/site");
            packet.setName(Payloads.EVENT);
            packet.setData(Arrays.asList(Payloads.args().toArray()));
        }

        /** The writes complete: releases every frame made, and forgets it. */
        void releaseFrames() {
            for (int i = 0; i < frames.length; i++) {
                WebSocketFrame frame = frames[i];
                if (frame != null) {
                    frame.release();
                    frames[i] = null;
                }
                ByteBuf bytes = wire[i];
                if (bytes != null) {
                    bytes.release();
                    wire[i] = null;
                }
            }
        }

        /** Fails the trial when a frame is left, or its bytes are not those of the packet. */
        @TearDown(Level.Trial)
        public void check() throws IOException {
            for (int i = 0; i < RECIPIENTS; i++) {
                if (frames[i] != null || wire[i] != null) {
                    throw new IllegalStateException("a benchmark left a frame unreleased");
                }
            }
            ByteBuf out = encoder.allocateBuffer(allocator);
            try {
                encoder.encodePacket(packet, out, allocator, true);
                String text = out.toString(StandardCharsets.UTF_8);
                if (!text.startsWith("42/site,[\"" + Payloads.EVENT + "\",{")) {
                    throw new IllegalStateException("unexpected encoding: " + text);
                }
            } finally {
                out.release();
            }
        }
    }

    /**
     * netty-socketio today: each recipient's packet is encoded into a buffer of its own
     * ({@code EncoderHandler}: {@code allocateBuffer}, {@code encodePacket}, a
     * {@link TextWebSocketFrame} over it): 1,000 JSON encodes per broadcast.
     */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void encodePerRecipient(Broadcast b) throws IOException {
        for (int i = 0; i < RECIPIENTS; i++) {
            ByteBuf out = b.encoder.allocateBuffer(b.allocator);
            b.encoder.encodePacket(b.packet, out, b.allocator, true);
            b.frames[i] = new TextWebSocketFrame(out);
        }
        b.releaseFrames();
    }

    /**
     * The floor for an encode-once path: the same packet encoded once by netty-socketio's encoder,
     * and each recipient's frame a retained duplicate of those bytes (no copy). A reference for
     * PushBridge's own encode-once path, not that path.
     */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void encodeOnceSharedBytes(Broadcast b) throws IOException {
        ByteBuf shared = b.encoder.allocateBuffer(b.allocator);
        try {
            b.encoder.encodePacket(b.packet, shared, b.allocator, true);
            for (int i = 0; i < RECIPIENTS; i++) {
                b.frames[i] = new TextWebSocketFrame(shared.retainedDuplicate());
            }
        } finally {
            shared.release();
        }
        b.releaseFrames();
    }

    /**
     * PushBridge's path before whole frames (b09d21e): the event encoded once with netty-socketio's
     * JSON support ({@link EncodedEvent}), each recipient's frame a wrapper of the shared array,
     * which Netty's frame encoder then copied into a buffer of its own with the header (not
     * measured here). The JSON encode is inside the measurement, once per broadcast.
     */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void encodeOnceGateway(Broadcast b) {
        EncodedEvent event = EncodedEvent.encode(b.configuration.getJsonSupport(), "/site", b.packet.getName(),
                b.packet.getData());
        for (int i = 0; i < RECIPIENTS; i++) {
            b.frames[i] = new TextWebSocketFrame(event.bytes());
        }
        b.releaseFrames();
    }

    /**
     * The same for recipients that ack (messages to their user rooms): each gets its own ack id
     * around the shared JSON, in a buffer of its own (before whole frames).
     */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void encodeOnceGatewayWithAcks(Broadcast b) {
        EncodedEvent event = EncodedEvent.encode(b.configuration.getJsonSupport(), "/site", b.packet.getName(),
                b.packet.getData());
        for (int i = 0; i < RECIPIENTS; i++) {
            b.frames[i] = new TextWebSocketFrame(event.withAck(i).bytes());
        }
        b.releaseFrames();
    }

    /**
     * PushBridge's path ({@link GatewayEncoder} without WebSocket compression): each recipient
     * writes a duplicate of one whole frame, header and packet, made once per loop task (here,
     * once per broadcast: one thread). Nothing is left for Netty's frame encoder to do.
     */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void wholeFrameShared(Broadcast b) {
        EncodedEvent event = EncodedEvent.encode(b.configuration.getJsonSupport(), "/site", b.packet.getName(),
                b.packet.getData());
        GatewayEncoder.SharedFrames task = new GatewayEncoder.SharedFrames();
        for (int i = 0; i < RECIPIENTS; i++) {
            b.wire[i] = GatewayEncoder.frame(b.allocator, event, task);
        }
        task.release();
        b.releaseFrames();
    }

    /** The same for recipients that ack: each a whole frame of its own with its ack id. */
    @Benchmark
    @OperationsPerInvocation(RECIPIENTS)
    public void wholeFrameWithAcks(Broadcast b) {
        EncodedEvent event = EncodedEvent.encode(b.configuration.getJsonSupport(), "/site", b.packet.getName(),
                b.packet.getData());
        for (int i = 0; i < RECIPIENTS; i++) {
            b.wire[i] = GatewayEncoder.frame(b.allocator, event.withAck(i), null);
        }
        b.releaseFrames();
    }
}
