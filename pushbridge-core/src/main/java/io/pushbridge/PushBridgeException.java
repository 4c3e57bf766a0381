package io.pushbridge;

import org.jspecify.annotations.Nullable;

/**
 * Root of PushBridge's exceptions. Unchecked; subclasses tell the caller what to do:
 * {@link PushRefusedException} means "fix the request, retrying will not help",
 * {@link PushUnavailableException} means "a dependency is down, retry later".
 */
public class PushBridgeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PushBridgeException(String message) {
        super(message);
    }

    public PushBridgeException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
