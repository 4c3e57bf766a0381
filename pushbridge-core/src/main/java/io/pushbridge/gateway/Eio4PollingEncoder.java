package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.base64.Base64;
import java.io.IOException;
import java.util.Queue;

/**
 * Encodes a long-polling response the Engine.IO 4 way: packets separated by {@code 0x1e}, each
 * binary attachment as a packet of its own, {@code b} followed by its base64. netty-socketio writes
 * attachments in Engine.IO 3's binary framing instead, which v4 clients cannot read. Only Engine.IO 4
 * sessions are accepted by the gateway, so this is the only framing needed.
 *
 * <p>Over both transports, an {@link EncodedEvent} (a broadcast encoded once for all its recipients)
 * is written as the bytes it holds.
 */
final class Eio4PollingEncoder extends PacketEncoder {

    private static final byte SEPARATOR = 0x1e;

    Eio4PollingEncoder(Configuration configuration) {
        super(configuration, configuration.getJsonSupport());
    }

    /** Writes an {@link EncodedEvent}'s bytes as they are; encodes any other packet as netty-socketio does. */
    @Override
    public void encodePacket(Packet packet, ByteBuf buffer, ByteBufAllocator allocator, boolean binary) throws IOException {
        if (packet instanceof EncodedEvent event) {
            event.writeTo(buffer);
            return;
        }
        super.encodePacket(packet, buffer, allocator, binary);
    }

    @Override
    public void encodePackets(Queue<Packet> packets, ByteBuf buffer, ByteBufAllocator allocator, int limit) throws IOException {
        int written = 0;
        while (written < limit) {
            Packet packet = packets.poll();
            if (packet == null) {
                break;
            }
            if (written > 0) {
                buffer.writeByte(SEPARATOR);
            }
            encodePacket(packet, buffer, allocator, false);
            for (ByteBuf attachment : packet.getAttachments()) {
                buffer.writeByte(SEPARATOR);
                buffer.writeByte('b');
                ByteBuf encoded = Base64.encode(attachment.duplicate(), false);
                try {
                    buffer.writeBytes(encoded);
                } finally {
                    encoded.release();
                }
            }
            written++;
        }
    }
}
