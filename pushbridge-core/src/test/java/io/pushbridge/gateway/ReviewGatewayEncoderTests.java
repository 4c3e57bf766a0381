package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** Review: GatewayEncoder splits a packet over maxFramePayloadLength in fixed 8 KB slices. */
class ReviewGatewayEncoderTests {

    @Test
    void aPacketOverAFrameLimitBelow8KbIsWrittenNotLost() throws Exception {
        JacksonJsonSupport json = new JacksonJsonSupport();
        Configuration configuration = new Configuration();
        configuration.setJsonSupport(json);
        configuration.setMaxFramePayloadLength(1024); // GatewayOptions allows maxPayload >= 1024
        GatewayEncoder encoder = new GatewayEncoder(configuration, new Eio4PollingEncoder(configuration));
        EmbeddedChannel channel = new EmbeddedChannel(encoder);

        Queue<Packet> queue = new ConcurrentLinkedQueue<>();
        EncodedEvent big = EncodedEvent.encode(json, "/news", "e", List.of("x".repeat(2000)));
        EncodedEvent small = EncodedEvent.encode(json, "/news", "e", List.of("after"));
        queue.add(big);
        queue.add(small);
        ClientHead head = mock(ClientHead.class);
        when(head.getPacketsQueue(Transport.WEBSOCKET)).thenReturn(queue);

        channel.writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
        int frames = 0;
        Object out;
        while ((out = channel.readOutbound()) != null) {
            frames++;
            ((WebSocketFrame) out).release();
        }
        assertThat(queue).as("nothing left behind in the session's queue").isEmpty();
        assertThat(frames).as("the big packet (in pieces) and the small one").isGreaterThanOrEqualTo(2);
    }
}
