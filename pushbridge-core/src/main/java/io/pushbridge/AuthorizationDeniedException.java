package io.pushbridge;

import org.jspecify.annotations.Nullable;

/**
 * Thrown (or used to complete a stage exceptionally) by a {@link RoomAuthorizer} to refuse a
 * connection. The client receives {@code connect_error} whose data carries {@link #code()} and
 * {@link #getMessage()}; both are shown to the client, so they must not contain secrets.
 */
public class AuthorizationDeniedException extends PushBridgeException {

    private static final long serialVersionUID = 1L;

    /** No token in the {@code auth} payload nor in the {@code token} query parameter. */
    public static final String TOKEN_MISSING = "token_missing";
    /** The authorizer did not accept the token. */
    public static final String UNAUTHORIZED = "unauthorized";
    /** The authorization service answered with an unexpected status. */
    public static final String AUTH_REJECTED = "auth_rejected";
    /** The authorization service did not answer in time. */
    public static final String AUTH_TIMEOUT = "auth_timeout";
    /** The authorization service could not be reached. */
    public static final String AUTH_UNAVAILABLE = "auth_unavailable";
    /** The authorization service answered with a body that is not a list of room names. */
    public static final String AUTH_INVALID_RESPONSE = "auth_invalid_response";
    /**
     * The authorization service failed several times in a row, so connects are refused at once for a
     * while without calling it (its circuit breaker is open); retry later, as for {@link #AUTH_UNAVAILABLE}.
     */
    public static final String AUTH_CIRCUIT_OPEN = "auth_circuit_open";
    /** The authorizer failed in an unexpected way (see the gateway's log). */
    public static final String AUTH_ERROR = "auth_error";

    private final String code;

    public AuthorizationDeniedException(String code, String message) {
        this(code, message, null);
    }

    public AuthorizationDeniedException(String code, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The refusal of a client that sent no token. */
    public static AuthorizationDeniedException tokenMissing() {
        return new AuthorizationDeniedException(TOKEN_MISSING, "A token is required");
    }

    /** A short machine-readable code such as {@link #UNAUTHORIZED}. */
    public String code() {
        return code;
    }
}
