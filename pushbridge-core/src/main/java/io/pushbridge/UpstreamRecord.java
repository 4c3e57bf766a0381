package io.pushbridge;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What a gateway node tells the application nodes about one of its clients: it connected, it
 * emitted an event, or it disconnected. Each record carries all an application node needs to know
 * of the client, so that application nodes keep no state of their own.
 *
 * @param kind what happened
 * @param id the record's id in the upstream queue (time-ordered; empty before it was queued)
 * @param site the site's name
 * @param socketId the id the client sees as {@code socket.id}
 * @param nodeId the gateway node that holds the client
 * @param userId the client's user, where an authorizer named one, else {@code null}
 * @param sessionId the client's session, where an authorizer named one, else {@code null}
 * @param rooms the rooms the client is in
 * @param address the client's IP address
 * @param query the handshake's query parameters (the {@code token} parameter left out)
 * @param event for {@link Kind#EVENT}: the event's name, else {@code null}
 * @param args for {@link Kind#EVENT}: the event's arguments as JSON values, else empty
 * @param ackRequested for {@link Kind#EVENT}: whether the client waits for an answer (the
 *     listener's answer reaches its callback)
 * @param reason for {@link Kind#DISCONNECTED}: why, as Socket.IO names it, else {@code null}
 * @param newToApp whether the application nodes may not have heard of this client before: true for
 *     {@link Kind#CONNECTED}, and for later records of a client whose {@code CONNECTED} record could
 *     not be queued (the older services' {@code isReconnect} / {@code no-client})
 * @param createdAt when the gateway node made the record, in milliseconds since the epoch
 */
public record UpstreamRecord(Kind kind, String id, String site, String socketId, String nodeId, @Nullable String userId,
        @Nullable String sessionId, Set<String> rooms, String address, Map<String, List<String>> query,
        @Nullable String event, List<Object> args, boolean ackRequested, @Nullable String reason, boolean newToApp,
        long createdAt) {

    /** What a record tells. */
    public enum Kind {
        /** The client connected to the site. */
        CONNECTED,
        /** The client emitted an event. */
        EVENT,
        /** The client disconnected. */
        DISCONNECTED
    }

    public UpstreamRecord {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(socketId, "socketId");
        Objects.requireNonNull(nodeId, "nodeId");
        rooms = Set.copyOf(rooms);
        Objects.requireNonNull(address, "address");
        query = Map.copyOf(query);
        args = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(args));
        if (kind == Kind.EVENT && event == null) {
            throw new IllegalArgumentException("an EVENT record names its event");
        }
    }

    /** The same record with the id the queue gave it. */
    public UpstreamRecord withId(String queueId) {
        return new UpstreamRecord(kind, queueId, site, socketId, nodeId, userId, sessionId, rooms, address, query, event,
                args, ackRequested, reason, newToApp, createdAt);
    }

    /** The first argument of an event, or {@code null}. */
    public @Nullable Object firstArg() {
        return args.isEmpty() ? null : args.get(0);
    }
}
