package io.pushbridge.gateway;

import com.corundumstudio.socketio.protocol.JsonSupport;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.pushbridge.Message;
import org.jspecify.annotations.Nullable;

/**
 * One message on its way to this node's sockets, with what is worked out once for all of them:
 * its packet's bytes ({@link EncodedEvent}) and, for the sockets whose backlog is limited, the
 * estimate of its size. Both are made on first use and kept; safe to share between threads.
 */
final class Outgoing {

    /** Marks a message that cannot be encoded once (binary arguments). */
    private static final Object NOT_ENCODABLE = new Object();

    private final Message message;
    private final @Nullable JsonSupport json;
    /** The {@link EncodedEvent}, {@link #NOT_ENCODABLE}, or {@code null} until first asked for. */
    private volatile @Nullable Object encoded;
    /** {@link OutboundBacklog#estimateData} of the arguments; -1 until first asked for. */
    private volatile long dataBytes = -1;

    /**
     * @param json netty-socketio's JSON support, to encode the packet once with; {@code null}: never
     *     encoded here (each socket's packet is encoded by netty-socketio)
     */
    Outgoing(Message message, @Nullable JsonSupport json) {
        this.message = message;
        this.json = json;
    }

    Message message() {
        return message;
    }

    /**
     * The message's event packet for the sockets of the client's namespace, encoded on the first call; {@code null}
     * when it cannot be encoded once (an argument holds binary data) or no JSON support was given.
     * All the sockets of one site share a namespace; a call for another namespace encodes again.
     */
    @Nullable EncodedEvent encoded(NamespaceClient client) {
        if (json == null) {
            return null;
        }
        String namespace = client.getNamespace().getName();
        Object done = encoded;
        if (done == NOT_ENCODABLE) {
            return null;
        }
        if (done instanceof EncodedEvent event && event.isFor(namespace)) {
            return event;
        }
        EncodedEvent event;
        try {
            event = EncodedEvent.encode(json, namespace, message.event(), message.args());
        } catch (RuntimeException e) {
            // left to netty-socketio's own encoding, which fails (and says so) as it always did
            event = null;
        }
        encoded = event == null ? NOT_ENCODABLE : event;
        return event;
    }

    /** The estimate of the message's arguments ({@link OutboundBacklog#estimateData}), computed once. */
    long dataBytes() {
        long n = dataBytes;
        if (n < 0) {
            n = OutboundBacklog.estimateData(message.args());
            dataBytes = n;
        }
        return n;
    }
}
