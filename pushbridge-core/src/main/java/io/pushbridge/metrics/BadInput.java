package io.pushbridge.metrics;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Every kind of bad input the gateway drops or refuses, by entry point and reason: the tags of
 * {@link PushBridgeMeter#BAD_INPUTS}. Each constant also names the gateway's statistics counters
 * ({@code PushBridgeGateway.stats()}) that count it: the gateway moves the meter whenever one of
 * those counters moves, so code that counts a drop in the statistics (the gateway itself, an
 * extension through {@code GatewayContext.count}, a router through {@code Router.Receiver.count})
 * moves the meter too. A new kind of bad input is one more constant here, with its counter's name.
 */
public enum BadInput {

    // ---- http: Engine.IO requests, the send API ----------------------------------------------------
    /** A request that is not valid HTTP (garbled request line, bad Content-Length, header without a colon). */
    HTTP_MALFORMED_REQUEST(EntryPoint.HTTP, "malformed_request", "refused.http.malformed_request"),
    /** An Engine.IO request from an origin that is not allowed. */
    HTTP_ORIGIN(EntryPoint.HTTP, "origin", "refused.http.origin"),
    /** A request of an Engine.IO session with another {@code Origin} than the session's handshake had. */
    HTTP_ORIGIN_CHANGED(EntryPoint.HTTP, "origin_changed", "refused.http.origin_changed"),
    /** Plain HTTP (not TLS) on a TLS port: the connection is closed. */
    HTTP_TLS_PLAINTEXT(EntryPoint.HTTP, "tls_plaintext", "refused.tls.plaintext"),
    /** A TLS handshake that failed (such as a client that does not trust the certificate). */
    HTTP_TLS_HANDSHAKE(EntryPoint.HTTP, "tls_handshake", "refused.tls.handshake"),
    /** An Engine.IO request of another protocol version than 4. */
    HTTP_PROTOCOL_VERSION(EntryPoint.HTTP, "protocol_version", "refused.http.protocol_version"),
    /** An Engine.IO request with a missing or unknown transport. */
    HTTP_TRANSPORT(EntryPoint.HTTP, "transport", "refused.http.transport"),
    /** An Engine.IO handshake that is not a GET. */
    HTTP_HANDSHAKE_METHOD(EntryPoint.HTTP, "handshake_method", "refused.http.handshake_method"),
    /** An Engine.IO request with a malformed or unknown session id. */
    HTTP_SESSION_ID(EntryPoint.HTTP, "session_id", "refused.http.session_id"),
    /** A long-polling request of a session that upgraded to WebSocket. */
    HTTP_POLLING_AFTER_UPGRADE(EntryPoint.HTTP, "polling_after_upgrade", "refused.http.polling_after_upgrade"),
    /** A second WebSocket for a session that already has one (netty-socketio would move the session to it). */
    HTTP_SECOND_WEBSOCKET(EntryPoint.HTTP, "second_websocket", "refused.http.second_websocket"),
    /** An HTTP body over the limit (any request), or a send API body over the message size limit. */
    HTTP_TOO_LARGE(EntryPoint.HTTP, "too_large", "refused.http.too_large", "refused.send.too_large"),
    /** A send API request that is not a POST, or an Engine.IO session request that is not a GET, POST or OPTIONS. */
    HTTP_METHOD_NOT_ALLOWED(EntryPoint.HTTP, "method_not_allowed", "refused.send.method_not_allowed", "refused.http.method"),
    /** A send API request without a valid API key for its site. */
    HTTP_UNAUTHORIZED(EntryPoint.HTTP, "unauthorized", "refused.send.unauthorized"),
    /** A send API request for a site that is not configured. */
    HTTP_UNKNOWN_SITE(EntryPoint.HTTP, "unknown_site", "refused.send.unknown_site"),
    /** A send API request of another content type than JSON or a form. */
    HTTP_UNSUPPORTED_MEDIA_TYPE(EntryPoint.HTTP, "unsupported_media_type", "refused.send.unsupported_media_type"),
    /** A send API request beyond the site's sends per second (429 with {@code Retry-After}). */
    HTTP_RATE_LIMITED(EntryPoint.HTTP, "rate_limited", "refused.send.rate_limited"),
    /** A send API request whose parameters or body are invalid (every problem is in the answer). */
    HTTP_INVALID_REQUEST(EntryPoint.HTTP, "invalid_request", "refused.send.invalid_request"),

    // ---- socket: Socket.IO packets of connected clients ---------------------------------------------
    /** A packet that does not parse (its session is closed). */
    SOCKET_MALFORMED_PACKET(EntryPoint.SOCKET, "malformed_packet", "dropped.malformed_packet"),
    /** A CONNECT to a namespace that is no configured site. */
    SOCKET_UNKNOWN_NAMESPACE(EntryPoint.SOCKET, "unknown_namespace", "refused.unknown_namespace"),
    /** A second CONNECT to a namespace the session is on or connecting to. */
    SOCKET_DUPLICATE_CONNECT(EntryPoint.SOCKET, "duplicate_connect", "dropped.duplicate_connect"),
    /** A packet for a namespace the session was not admitted to. */
    SOCKET_NOT_CONNECTED(EntryPoint.SOCKET, "not_connected", "dropped.not_connected"),
    /** An event with an empty, overlong, reserved or control-character name. */
    SOCKET_INVALID_EVENT(EntryPoint.SOCKET, "invalid_event", "dropped.invalid_event"),

    // ---- redis_ingestion: the redis-handshake and redis-session channels ----------------------------
    /** A channel message larger than the limit. */
    REDIS_INGESTION_TOO_LARGE(EntryPoint.REDIS_INGESTION, "too_large", "ingestion.dropped.too_large"),
    /** A channel message that is not JSON. */
    REDIS_INGESTION_MALFORMED_JSON(EntryPoint.REDIS_INGESTION, "malformed_json", "ingestion.dropped.malformed_json"),
    /** A channel message that is JSON but not an object. */
    REDIS_INGESTION_NOT_AN_OBJECT(EntryPoint.REDIS_INGESTION, "not_an_object", "ingestion.dropped.not_an_object"),
    /** A channel message without a required field. */
    REDIS_INGESTION_MISSING_FIELD(EntryPoint.REDIS_INGESTION, "missing_field", "ingestion.dropped.missing_field"),
    /** A channel message with a bad value, or asking for what the gateway refuses. */
    REDIS_INGESTION_INVALID(EntryPoint.REDIS_INGESTION, "invalid", "ingestion.dropped.invalid"),
    /** A channel message for a socket no live node holds. */
    REDIS_INGESTION_UNKNOWN_SOCKET(EntryPoint.REDIS_INGESTION, "unknown_socket", "ingestion.dropped.unknown_socket"),
    /** A channel message dropped because the registry could not be asked where its socket is. */
    REDIS_INGESTION_UNAVAILABLE(EntryPoint.REDIS_INGESTION, "unavailable", "ingestion.dropped.unavailable"),
    /** A channel message whose handling failed unexpectedly. */
    REDIS_INGESTION_ERROR(EntryPoint.REDIS_INGESTION, "error", "ingestion.dropped.error"),

    // ---- router: messages and commands from other nodes -----------------------------------------------
    /** A routed message, command or listing that cannot be decoded. */
    ROUTER_MALFORMED(EntryPoint.ROUTER, "malformed", "router.dropped.malformed"),
    /** A routed message or command for a site this node does not have. */
    ROUTER_UNKNOWN_SITE(EntryPoint.ROUTER, "unknown_site", "dropped.unknown_site", "commands.unknown_site"),
    /** A routed message whose event no node sends (empty, reserved, control characters). */
    ROUTER_INVALID_MESSAGE(EntryPoint.ROUTER, "invalid_message", "dropped.invalid_message"),
    /** A routed join or leave without valid rooms. */
    ROUTER_INVALID_COMMAND(EntryPoint.ROUTER, "invalid_command", "commands.invalid"),

    // ---- upstream: application nodes' answers and records -------------------------------------------
    /** An answer on a gateway node's reply channel that cannot be decoded. */
    UPSTREAM_MALFORMED_REPLY(EntryPoint.UPSTREAM, "malformed_reply", "upstream.dropped.malformed_reply"),
    /** A stream entry an application node cannot decode (it goes to the dead letters). */
    UPSTREAM_MALFORMED_RECORD(EntryPoint.UPSTREAM, "malformed_record", "upstream.dropped.malformed_record");

    /** Where a bad input came in: the {@code entry_point} tag. */
    public enum EntryPoint {
        /** HTTP requests on the gateway's port: Engine.IO requests and the send API. */
        HTTP,
        /** Socket.IO packets of connected clients. */
        SOCKET,
        /** The Redis ingestion channels of redis-handshake and redis-session sites. */
        REDIS_INGESTION,
        /** Routed messages and commands from other gateway nodes (through Redis). */
        ROUTER,
        /** Upstream routing: answers on the reply channel, records in the streams. */
        UPSTREAM;

        /** The tag value, such as {@code redis_ingestion}. */
        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Map<String, BadInput> BY_STATS_KEY = new TreeMap<>();

    static {
        for (BadInput input : values()) {
            for (String key : input.statsKeys) {
                if (BY_STATS_KEY.put(key, input) != null) {
                    throw new ExceptionInInitializerError("statistics counter " + key + " is named twice");
                }
            }
        }
    }

    private final EntryPoint entryPoint;
    private final String reason;
    private final List<String> statsKeys;

    BadInput(EntryPoint entryPoint, String reason, String... statsKeys) {
        this.entryPoint = entryPoint;
        this.reason = reason;
        this.statsKeys = List.of(statsKeys);
    }

    public EntryPoint entryPoint() {
        return entryPoint;
    }

    /** The {@code reason} tag value, such as {@code malformed_packet}. */
    public String reason() {
        return reason;
    }

    /** The gateway's statistics counters that count this kind of bad input (the first is the one to use). */
    public List<String> statsKeys() {
        return statsKeys;
    }

    /** The counter to add one to for this kind of bad input: {@code statsKeys().get(0)}. */
    public String statsKey() {
        return statsKeys.get(0);
    }

    /** The kind of bad input a statistics counter counts, or {@code null} when it counts none. */
    public static @Nullable BadInput ofStatsKey(String statsKey) {
        return BY_STATS_KEY.get(statsKey);
    }
}
