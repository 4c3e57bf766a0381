package io.pushbridge.gateway;

import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.JsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An event packet whose bytes were encoded once for all its recipients: the Engine.IO message type,
 * the Socket.IO event type and namespace ({@code 42/site,}), then the JSON array of the event name
 * and arguments. netty-socketio encodes every packet of every recipient on its own; a broadcast to
 * 1,000 sockets wrote the same JSON 1,000 times. One instance without an ack id is shared by all the
 * recipients of a message; a recipient that acks gets its own instance ({@link #withAck}) that shares
 * the bytes.
 *
 * <p>It is a real {@link Packet} (type, namespace, name, data and ack id set as netty-socketio's
 * {@code sendEvent} sets them), so it can wait in a session's queue beside netty-socketio's own
 * packets; {@link Eio4PollingEncoder#encodePacket} and {@link GatewayEncoder} write its bytes
 * instead of encoding it again. Immutable once made.
 */
final class EncodedEvent extends Packet {

    private static final long serialVersionUID = 1L;

    /** {@code 42<namespace>,} : Engine.IO MESSAGE, Socket.IO EVENT, the namespace as netty-socketio writes it. */
    private final byte[] prefix;
    /** The JSON array {@code [event, ...args]}. */
    private final byte[] body;
    /** {@code prefix} and {@code body} in one array, for the recipients without an ack id (shared by all). */
    private final byte @Nullable [] whole;

    private EncodedEvent(String namespace, String event, List<Object> args, byte[] prefix, byte[] body,
            @Nullable Long ackId) {
        super(PacketType.MESSAGE, EngineIOVersion.V4);
        setSubType(PacketType.EVENT);
        setNsp(namespace);
        setName(event);
        setData(args);
        setAckId(ackId);
        this.prefix = prefix;
        this.body = body;
        if (ackId == null) {
            whole = java.util.Arrays.copyOf(prefix, prefix.length + body.length);
            System.arraycopy(body, 0, whole, prefix.length, body.length);
        } else {
            whole = null;
        }
    }

    /**
     * Encodes an event for the sockets of one namespace with netty-socketio's JSON support (the same
     * mapper, so the same JSON as it would write), or answers {@code null} when an argument holds
     * binary data: those packets carry attachments, which only netty-socketio's own encoding makes.
     *
     * @param namespace the namespace's name as netty-socketio knows it ({@code Namespace.getName()})
     */
    static @Nullable EncodedEvent encode(JsonSupport json, String namespace, String event, List<?> args) {
        List<Object> values = new ArrayList<>(args.size() + 1);
        values.add(event);
        values.addAll(args);
        ByteBuf buf = Unpooled.buffer(256);
        try {
            json.writeValue(new ByteBufOutputStream(buf), values);
            if (!json.getArrays().isEmpty()) {
                return null;
            }
            byte[] body = new byte[buf.readableBytes()];
            buf.readBytes(body);
            // the arguments as data, for what reads a queued packet's data (an argument may be null)
            return new EncodedEvent(namespace, event, java.util.Collections.unmodifiableList(values.subList(1, values.size())),
                    prefix(namespace), body, null);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode the arguments of event '" + event + "': " + e.getMessage(), e);
        } finally {
            buf.release();
        }
    }

    private static byte[] prefix(String namespace) {
        // as netty-socketio's PacketEncoder: the namespace and a comma, unless it is the empty default namespace
        String text = namespace.isEmpty() ? "42" : "42" + namespace + ",";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** This event for one recipient that acks it: the same bytes, with the ack id netty-socketio registered. */
    EncodedEvent withAck(long ackId) {
        return new EncodedEvent(getNsp(), getName(), getData(), prefix, body, ackId);
    }

    /** Whether it was encoded for this namespace (all the sockets of a site share theirs). */
    boolean isFor(String namespace) {
        return getNsp().equals(namespace);
    }

    /** Its size once written, in bytes. */
    int size() {
        Long ackId = getAckId();
        return prefix.length + (ackId == null ? 0 : digits(ackId)) + body.length;
    }

    /** Writes the packet: prefix, ack id if any, JSON. */
    void writeTo(ByteBuf out) {
        if (whole != null) {
            out.writeBytes(whole);
            return;
        }
        out.writeBytes(prefix);
        Long ackId = getAckId();
        if (ackId != null) {
            writeDecimal(out, ackId);
        }
        out.writeBytes(body);
    }

    /** Its size as a WebSocket frame ({@link #writeFrame}): the frame's header and the packet. */
    int frameSize() {
        int size = size();
        return frameHeaderSize(size) + size;
    }

    /**
     * Writes the packet as one WebSocket text frame as a server sends it (RFC 6455, section 5.2):
     * final, unmasked, no extension bits, the payload's length in the shortest form, then the packet.
     */
    void writeFrame(ByteBuf out) {
        int size = size();
        out.writeByte(0x80 | 0x1); // FIN, opcode text
        if (size < 126) {
            out.writeByte(size);
        } else if (size <= 0xFFFF) {
            out.writeByte(126);
            out.writeShort(size);
        } else {
            out.writeByte(127);
            out.writeLong(size);
        }
        writeTo(out);
    }

    /** The length of a server frame's header for a payload of this size (no mask). */
    static int frameHeaderSize(int payload) {
        return payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10;
    }

    private static void writeDecimal(ByteBuf out, long n) {
        if (n < 0) {
            out.writeCharSequence(Long.toString(n), StandardCharsets.US_ASCII);
            return;
        }
        int length = digits(n);
        int at = out.writerIndex();
        out.ensureWritable(length);
        for (int i = at + length - 1; i >= at; i--) {
            out.setByte(i, '0' + (int) (n % 10));
            n /= 10;
        }
        out.writerIndex(at + length);
    }

    /**
     * The packet's bytes as a buffer of their own: without an ack id, a wrapper of the shared array
     * (no copy); with one, a new heap buffer.
     */
    ByteBuf bytes() {
        if (whole != null) {
            return Unpooled.wrappedBuffer(whole);
        }
        ByteBuf out = Unpooled.buffer(size());
        writeTo(out);
        return out;
    }

    private static int digits(long n) {
        int d = 1;
        while (n >= 10) {
            n /= 10;
            d++;
        }
        return d;
    }
}
