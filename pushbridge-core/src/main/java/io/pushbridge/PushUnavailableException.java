package io.pushbridge;

/**
 * A send could not be accepted because a dependency (the message store, the router) failed or
 * timed out. Whether part of the message was stored is not known; retrying is safe, clients may
 * then see the message twice in the worst case (delivery is at least once).
 */
public class PushUnavailableException extends PushBridgeException {

    private static final long serialVersionUID = 1L;

    public PushUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
