package io.pushbridge.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.handler.TransportState;
import com.corundumstudio.socketio.protocol.Packet;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import java.lang.reflect.Field;
import java.util.AbstractQueue;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What waits to reach one client (one Engine.IO session): the packets netty-socketio queues for it
 * and the bytes its connections have not written to the network yet.
 *
 * <p>netty-socketio queues every outgoing packet of a session in its {@code TransportState}; a
 * WebSocket connection drains that queue at once into Netty's outbound buffer (where bytes wait
 * when the client reads slowly), while over long-polling the packets wait in the queue until the
 * client's next poll takes up to 50 of them. {@link #attach} replaces those queues with
 * {@link MeteredQueue}s that keep an estimate of their bytes, so {@link #bytes()} is the queued
 * estimate plus the exact pending bytes of the session's channels. netty-socketio gives no access
 * to its transport states: they are reached by reflection once per session; if that fails, only
 * nothing is metered (logged once).
 *
 * <p>Thread-safe: {@link #bytes()} reads counters and volatile fields from any thread.
 */
final class OutboundBacklog {

    private static final Logger log = LoggerFactory.getLogger(OutboundBacklog.class);
    /** Why {@code ClientHead.channels} cannot be reached, set by {@link #channelsField} (before {@link #CHANNELS}). */
    private static @Nullable String channelsProblem;
    private static final @Nullable Field CHANNELS = channelsField();
    /**
     * The size of the data of the next packet this thread queues, when its sender knows it (see
     * {@link #sendSized}); -1: estimate it.
     */
    private static final ThreadLocal<long[]> NEXT_DATA_BYTES = ThreadLocal.withInitial(() -> new long[] {-1});
    /** Nothing is measured: the transport states could not be reached. */
    static final OutboundBacklog NONE = new OutboundBacklog(new TransportState[0]);

    private final TransportState[] states;

    private OutboundBacklog(TransportState[] states) {
        this.states = states;
    }

    /**
     * Whether sessions can be metered at all in this netty-socketio: {@code null} if so, else why
     * not. The gateway asks once at start when some site has a {@code maxBufferedBytes}, and says so
     * once (WARN, start line, {@code limits.buffered_bytes_unavailable}); {@link #attach} is then
     * silent.
     */
    static @Nullable String unavailable() {
        if (CHANNELS == null) {
            return channelsProblem;
        }
        if (!Map.class.isAssignableFrom(CHANNELS.getType())) {
            return "ClientHead.channels is a " + CHANNELS.getType().getName() + ", not a Map";
        }
        return null;
    }

    /**
     * Meters a new session's queues. Call on the session's event loop right after its handshake,
     * before anything else sends to it: packets already queued move to the metered queue in order.
     * Silent: a session that cannot be metered ({@link #unavailable}, said once at start) gets
     * {@link #NONE}.
     */
    static OutboundBacklog attach(ClientHead head) {
        if (CHANNELS == null) {
            return NONE;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<Transport, TransportState> map = (Map<Transport, TransportState>) CHANNELS.get(head);
            // a session that opened on WebSocket never uses its long-polling queue: only its WebSocket queue is metered
            TransportState[] states = head.getCurrentTransport() == Transport.WEBSOCKET
                    ? new TransportState[] {map.get(Transport.WEBSOCKET)}
                    : new TransportState[] {map.get(Transport.POLLING), map.get(Transport.WEBSOCKET)};
            for (TransportState state : states) {
                if (state == null) {
                    log.debug("Session {} has no transport state to meter", head.getSessionId());
                    return NONE;
                }
            }
            for (TransportState state : states) {
                Queue<Packet> old = state.getPacketsQueue();
                if (!(old instanceof MeteredQueue)) {
                    MeteredQueue metered = new MeteredQueue();
                    Packet packet;
                    while ((packet = old.poll()) != null) {
                        metered.add(packet);
                    }
                    state.setPacketsQueue(metered);
                }
            }
            return new OutboundBacklog(states);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Cannot meter session {}: {}", head.getSessionId(), e.toString());
            return NONE;
        }
    }

    /**
     * The session's connection of this transport, if it has one now; {@code null} also when
     * netty-socketio's transport states cannot be reached ({@link #unavailable}).
     */
    static @Nullable Channel channel(ClientHead head, Transport transport) {
        if (CHANNELS == null) {
            return null;
        }
        try {
            Object map = CHANNELS.get(head);
            if (map instanceof Map<?, ?> states && states.get(transport) instanceof TransportState state) {
                return state.getChannel();
            }
            return null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static @Nullable Field channelsField() {
        try {
            Field field = ClientHead.class.getDeclaredField("channels");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            channelsProblem = "netty-socketio's ClientHead has no reachable 'channels' field: " + e;
            return null;
        }
    }

    /**
     * Runs {@code send}, which queues one packet for a client synchronously (netty-socketio's
     * {@code sendEvent} does), telling the metered queue its data's size ({@link #estimateData},
     * computed once per message rather than once per recipient); -1: the queue estimates it.
     */
    static void sendSized(long dataBytes, Runnable send) {
        if (dataBytes < 0) {
            send.run();
            return;
        }
        long[] next = NEXT_DATA_BYTES.get();
        next[0] = dataBytes;
        try {
            send.run();
        } finally {
            next[0] = -1;
        }
    }

    /** Whether this session is metered (its limit can be enforced). */
    boolean isMetered() {
        return states.length > 0;
    }

    /**
     * The bytes waiting for the client: the estimated size of its queued packets plus what its
     * connections have not written to the network.
     */
    long bytes() {
        long total = 0;
        Queue<Packet> seen = null;
        for (TransportState state : states) {
            Queue<Packet> queue = state.getPacketsQueue();
            // after an upgrade both transports share one queue
            if (queue != seen && queue instanceof MeteredQueue metered) {
                total += metered.bytes();
            }
            seen = queue;
            total += pending(state.getChannel());
        }
        return total;
    }

    private static long pending(@Nullable Channel channel) {
        if (channel == null) {
            return 0;
        }
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    /** Drops every queued packet (the client is being disconnected) and closes the session's connections. */
    void discardAndClose() {
        for (TransportState state : states) {
            state.getPacketsQueue().clear();
            Channel channel = state.getChannel();
            if (channel != null) {
                channel.close();
            }
        }
    }

    /**
     * A packet queue that keeps an estimate of its bytes ({@link #estimate(Packet)}), added on
     * {@code offer} and taken off on {@code poll}. Lock-free; the estimate of each packet is computed
     * once.
     */
    static final class MeteredQueue extends AbstractQueue<Packet> {

        private record Entry(Packet packet, long bytes) {
        }

        private final ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();
        /** The estimate of what is queued: a field of its own, not an AtomicLong (24 bytes per connection). */
        private volatile long bytes;
        private static final AtomicLongFieldUpdater<MeteredQueue> BYTES =
                AtomicLongFieldUpdater.newUpdater(MeteredQueue.class, "bytes");

        long bytes() {
            return Math.max(0, bytes);
        }

        @Override
        public boolean offer(Packet packet) {
            long[] next = NEXT_DATA_BYTES.get();
            long dataBytes = next[0];
            long size;
            if (packet instanceof EncodedEvent event) {
                size = event.size(); // exact
            } else if (dataBytes >= 0) {
                next[0] = -1; // for this packet only
                size = envelope(packet) + dataBytes;
            } else {
                size = estimate(packet);
            }
            BYTES.addAndGet(this, size);
            entries.add(new Entry(packet, size));
            return true;
        }

        @Override
        public @Nullable Packet poll() {
            Entry entry = entries.poll();
            if (entry == null) {
                return null;
            }
            BYTES.addAndGet(this, -entry.bytes());
            return entry.packet();
        }

        @Override
        public @Nullable Packet peek() {
            Entry entry = entries.peek();
            return entry == null ? null : entry.packet();
        }

        @Override
        public boolean isEmpty() {
            return entries.isEmpty();
        }

        @Override
        public int size() {
            return entries.size();
        }

        @Override
        public Iterator<Packet> iterator() {
            Iterator<Entry> it = entries.iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public Packet next() {
                    return it.next().packet();
                }
            };
        }
    }

    private static final int MAX_DEPTH = 64;

    /**
     * About how many bytes a packet takes once encoded: its namespace, name and ack id, the JSON of
     * its data (UTF-8 strings, numbers, containers), and its binary attachments as base64. Walks the
     * data without writing it; containers deeper than 64 levels count a fixed amount.
     */
    static long estimate(Packet packet) {
        long n = envelope(packet) + estimate(packet.getData(), 0);
        for (ByteBuf attachment : packet.getAttachments()) {
            n += 2 + (attachment.readableBytes() + 2L) / 3 * 4;
        }
        return n;
    }

    /** The part of {@link #estimate(Packet)} that is not its data or attachments: namespace, name, ack id. */
    private static long envelope(Packet packet) {
        long n = 4 + utf8(packet.getNsp()) + utf8(packet.getName());
        if (packet.getAckId() != null) {
            n += 20;
        }
        return n;
    }

    /**
     * The estimate of an event packet's data (its arguments, as {@link #estimate(Packet)} counts
     * them), to compute once per message and pass to {@link #sendSized} for each recipient.
     */
    static long estimateData(List<?> args) {
        return estimate(args, 0);
    }

    private static long estimate(@Nullable Object value, int depth) {
        if (value == null) {
            return 4;
        }
        if (value instanceof CharSequence text) {
            return 2 + utf8(text);
        }
        if (value instanceof Number || value instanceof Boolean) {
            return 8;
        }
        if (value instanceof byte[] bytes) {
            return 2 + (bytes.length + 2L) / 3 * 4;
        }
        if (depth >= MAX_DEPTH) {
            return 16;
        }
        if (value instanceof JsonNode node) {
            if (node.isTextual()) {
                return 2 + utf8(node.textValue());
            }
            if (node.isBinary()) {
                try {
                    return estimate(node.binaryValue(), depth);
                } catch (java.io.IOException e) {
                    return 16;
                }
            }
            if (node.isObject()) {
                long n = 2;
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    n += 4 + utf8(field.getKey()) + estimate(field.getValue(), depth + 1);
                }
                return n;
            }
            if (node.isArray()) {
                long n = 2;
                for (JsonNode item : node) {
                    n += 1 + estimate(item, depth + 1);
                }
                return n;
            }
            return 8;
        }
        if (value instanceof Collection<?> items) {
            long n = 2;
            for (Object item : items) {
                n += 1 + estimate(item, depth + 1);
            }
            return n;
        }
        if (value instanceof Object[] items) {
            long n = 2;
            for (Object item : items) {
                n += 1 + estimate(item, depth + 1);
            }
            return n;
        }
        if (value instanceof Map<?, ?> map) {
            long n = 2;
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                n += 4 + estimate(String.valueOf(entry.getKey()), depth + 1) + estimate(entry.getValue(), depth + 1);
            }
            return n;
        }
        return 16;
    }

    private static long utf8(@Nullable CharSequence text) {
        if (text == null) {
            return 0;
        }
        long n = 0;
        int length = text.length();
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}
