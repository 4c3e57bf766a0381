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
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
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
 * holding back the others, and the write's promise completes also when nothing waited.
 */
class GatewayEncoderTests {

    private final JacksonJsonSupport json = new JacksonJsonSupport();
    private final Queue<Packet> queue = new ConcurrentLinkedQueue<>();
    private final ClientHead head = mock(ClientHead.class);
    private final EmbeddedChannel channel;

    GatewayEncoderTests() throws Exception {
        Configuration configuration = new Configuration();
        configuration.setJsonSupport(json);
        configuration.setMaxFramePayloadLength(1024); // the lowest maxPayload GatewayOptions allows
        channel = new EmbeddedChannel(new GatewayEncoder(configuration, new Eio4PollingEncoder(configuration)));
        when(head.getPacketsQueue(Transport.WEBSOCKET)).thenReturn(queue);
        when(head.getSessionId()).thenReturn(new UUID(0, 1));
    }

    /** The messages written, each a whole text message (its pieces joined). */
    private List<String> written() {
        List<String> messages = new ArrayList<>();
        StringBuilder message = new StringBuilder();
        Object out;
        while ((out = channel.readOutbound()) != null) {
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
}
