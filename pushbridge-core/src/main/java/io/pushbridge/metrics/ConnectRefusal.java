package io.pushbridge.metrics;

import io.pushbridge.AuthorizationDeniedException;

/**
 * Why the gateway refused a client's CONNECT to a configured site: the {@code reason} tag of
 * {@link PushBridgeMeter#CONNECT_REFUSALS} and the {@code outcome} of {@link PushBridgeMeter#AUTHORIZER}.
 * Each {@link #code()} is the code of the {@code connect_error} the client gets (but for
 * {@link #SHUTTING_DOWN}).
 *
 * <p>A code that is none of these (a custom {@code RoomAuthorizer}'s own) is counted as
 * {@link #OTHER}, so that an authorizer cannot grow the number of series. New refusals of the
 * gateway itself get a constant here.
 */
public enum ConnectRefusal {
    /** No token in the {@code auth} payload nor in the {@code token} query parameter. */
    TOKEN_MISSING(AuthorizationDeniedException.TOKEN_MISSING),
    /** The authorizer did not accept the token. */
    UNAUTHORIZED(AuthorizationDeniedException.UNAUTHORIZED),
    /** The authorization service answered with an unexpected status. */
    AUTH_REJECTED(AuthorizationDeniedException.AUTH_REJECTED),
    /** The authorizer did not answer within the connect timeout. */
    AUTH_TIMEOUT(AuthorizationDeniedException.AUTH_TIMEOUT),
    /** The authorization service could not be reached. */
    AUTH_UNAVAILABLE(AuthorizationDeniedException.AUTH_UNAVAILABLE),
    /** The authorizer answered something that is not a list of valid room names. */
    AUTH_INVALID_RESPONSE(AuthorizationDeniedException.AUTH_INVALID_RESPONSE),
    /** The authorization service failed several times in a row: refused without calling it (its circuit breaker is open). */
    AUTH_CIRCUIT_OPEN(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN),
    /** The {@code Origin} of the connection's handshake is not allowed for the site, or is missing and required. */
    ORIGIN_NOT_ALLOWED("origin_not_allowed"),
    /** The authorizer failed in an unexpected way. */
    AUTH_ERROR(AuthorizationDeniedException.AUTH_ERROR),
    /** The gateway is draining: the session is closed (no {@code connect_error}) so that the client reconnects elsewhere. */
    SHUTTING_DOWN("shutting_down"),
    /** The site has its {@code max-connections-per-site} on this node already. */
    TOO_MANY_CONNECTIONS("too_many_connections"),
        /** The user queues of the admitted socket could not be read. */
    STORE_UNAVAILABLE("store_unavailable"),
    /** The socket could not be recorded with the router. */
    CLUSTER_UNAVAILABLE("cluster_unavailable"),
    /** A code an authorizer chose that is none of the above. */
    OTHER("other");

    private final String code;

    ConnectRefusal(String code) {
        this.code = code;
    }

    /** The {@code connect_error} code, also the tag value. */
    public String code() {
        return code;
    }

    /** The refusal of this code; {@link #OTHER} for a code that is none of the constants'. */
    public static ConnectRefusal of(String code) {
        for (ConnectRefusal refusal : values()) {
            if (refusal != OTHER && refusal.code.equals(code)) {
                return refusal;
            }
        }
        return OTHER;
    }

    @Override
    public String toString() {
        return code;
    }
}
