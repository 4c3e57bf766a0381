package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * An event encoded once ({@link EncodedEvent}) is byte for byte what netty-socketio's encoder writes
 * for the same event sent to one socket, with and without an ack id, in any namespace; binary
 * arguments are left to netty-socketio.
 */
class EncodedEventTests {

    private final JacksonJsonSupport json = new JacksonJsonSupport();
    private final Eio4PollingEncoder encoder;

    EncodedEventTests() {
        Configuration configuration = new Configuration();
        configuration.setJsonSupport(json);
        encoder = new Eio4PollingEncoder(configuration);
    }

    private static List<Object> args() throws Exception {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("text", "héllo \u2603 \uD83D\uDE00 \"quoted\" \\ \n");
        object.put("n", 12.5);
        object.put("nested", List.of(1, 2, Map.of("k", true)));
        List<Object> args = new ArrayList<>(Arrays.asList("plain", 42, null, false, object));
        args.add(new ObjectMapper().readTree("{\"from\":\"json\",\"a\":[1,{\"b\":null}]}"));
        return args;
    }

    /** What netty-socketio writes for this event sent to one socket of the namespace. */
    private String netty(String namespace, String event, List<Object> args, Long ackId) throws Exception {
        Packet packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        packet.setSubType(PacketType.EVENT);
        packet.setName(event);
        packet.setData(args);
        packet.setNsp(namespace);
        packet.setAckId(ackId);
        ByteBuf out = Unpooled.buffer();
        encoder.encodePacket(packet, out, ByteBufAllocator.DEFAULT, true);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String written(EncodedEvent event) {
        ByteBuf out = Unpooled.buffer();
        event.writeTo(out);
        assertThat(out.readableBytes()).isEqualTo(event.size());
        ByteBuf bytes = event.bytes();
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(out.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/news", "/", "", "/ünïcode"})
    void encodedOnceIsWhatNettySocketioWritesPerSocket(String namespace) throws Exception {
        EncodedEvent event = EncodedEvent.encode(json, namespace, "price-update", args());
        assertThat(event).isNotNull();
        assertThat(written(event)).isEqualTo(netty(namespace, "price-update", args(), null));
        for (long ackId : new long[] {0, 7, 10, 99, 123456789}) {
            EncodedEvent acked = event.withAck(ackId);
            assertThat(written(acked)).isEqualTo(netty(namespace, "price-update", args(), ackId));
            assertThat(acked.getAckId()).isEqualTo(ackId);
        }
        // the shared instance is untouched by its acked copies
        assertThat(event.getAckId()).isNull();
        assertThat(written(event)).isEqualTo(netty(namespace, "price-update", args(), null));
    }

    @Test
    void noArgumentsAndAPacketThatLooksAsNettySocketiosToItsReaders() throws Exception {
        EncodedEvent event = EncodedEvent.encode(json, "/news", "ping-me", List.of());
        assertThat(written(event)).isEqualTo("42/news,[\"ping-me\"]").isEqualTo(netty("/news", "ping-me", List.of(), null));
        assertThat(event.getType()).isEqualTo(PacketType.MESSAGE);
        assertThat(event.getSubType()).isEqualTo(PacketType.EVENT);
        assertThat(event.getName()).isEqualTo("ping-me");
        assertThat(event.getNsp()).isEqualTo("/news");
        assertThat(event.isFor("/news")).isTrue();
        assertThat(event.isFor("/other")).isFalse();
        assertThat(event.<List<Object>>getData()).isEmpty();
        assertThat(event.getAttachments()).isEmpty();
    }

    @Test
    void binaryArgumentsAreLeftToNettySocketio() throws Exception {
        assertThat(EncodedEvent.encode(json, "/news", "file", List.of("name", new byte[] {1, 2, 3}))).isNull();
        assertThat(EncodedEvent.encode(json, "/news", "file", List.of(Map.of("data", new byte[] {4})))).isNull();
        // and the next encode on the thread is not confused by the arrays left over
        EncodedEvent next = EncodedEvent.encode(json, "/news", "text", List.of("x"));
        assertThat(written(next)).isEqualTo(netty("/news", "text", List.of("x"), null));
    }

    @Test
    void thePollingEncoderWritesAnEncodedEventsBytes() throws Exception {
        EncodedEvent event = EncodedEvent.encode(json, "/news", "e", List.of("a", 1)).withAck(5);
        ByteBuf out = Unpooled.buffer();
        java.util.Queue<Packet> queue = new java.util.ArrayDeque<>(List.of(event, event));
        encoder.encodePackets(queue, out, ByteBufAllocator.DEFAULT, 50);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("42/news,5[\"e\",\"a\",1]\u001e42/news,5[\"e\",\"a\",1]");
    }

    @Test
    void theMeteredQueueCountsAnEncodedEventsExactSize() {
        EncodedEvent event = EncodedEvent.encode(json, "/news", "e", List.of("abc"));
        OutboundBacklog.MeteredQueue queue = new OutboundBacklog.MeteredQueue();
        queue.add(event);
        assertThat(queue.bytes()).isEqualTo(event.size()).isEqualTo("42/news,[\"e\",\"abc\"]".length());
        queue.poll();
        assertThat(queue.bytes()).isZero();
    }

    /** Payloads at each edge of a frame header's three length forms (7 bits, 16 bits, 64 bits). */
    @ParameterizedTest
    @ValueSource(ints = {0, 125, 126, 65_535, 65_536, 200_000})
    void aWholeFrameIsWhatNettysFrameDecoderReadsAsOneTextMessage(int payload) {
        String name = "e";
        String envelope = "42/news,[\"e\",\"\"]";
        int fill = Math.max(0, payload - envelope.length());
        for (Long ackId : java.util.Arrays.asList(null, 0L, 9L, 10L, 123_456_789_012L)) {
            EncodedEvent event = EncodedEvent.encode(json, "/news", name, List.of("x".repeat(fill)));
            if (ackId != null) {
                event = event.withAck(ackId);
            }
            ByteBuf frame = Unpooled.buffer();
            event.writeFrame(frame);
            assertThat(frame.readableBytes()).isEqualTo(event.frameSize());
            io.netty.channel.embedded.EmbeddedChannel client = new io.netty.channel.embedded.EmbeddedChannel(
                    new io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder(false, false, 1 << 20, false));
            client.writeInbound(frame);
            io.netty.handler.codec.http.websocketx.TextWebSocketFrame text = client.readInbound();
            assertThat(text.isFinalFragment()).isTrue();
            assertThat(text.rsv()).isZero();
            assertThat(text.text()).isEqualTo(written(event));
            assertThat(text.text()).startsWith(ackId == null ? "42/news,[" : "42/news," + ackId + "[");
            text.release();
            assertThat((Object) client.readInbound()).isNull();
        }
    }
}
