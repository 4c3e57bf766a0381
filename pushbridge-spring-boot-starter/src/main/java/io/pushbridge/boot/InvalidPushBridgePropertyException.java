package io.pushbridge.boot;

import io.pushbridge.PushBridgeException;
import org.jspecify.annotations.Nullable;

/**
 * A {@code pushbridge.*} property has a value that PushBridge cannot start with. The message is
 * {@code "<property>: <reason>"}, for example
 * {@code "pushbridge.sites.newsite.auth-url: must be an absolute http(s) URL, was 'foo'"}; it never
 * contains an API key or token. Start-up reports it through
 * {@link InvalidPushBridgePropertyFailureAnalyzer}.
 */
public class InvalidPushBridgePropertyException extends PushBridgeException {

    private static final long serialVersionUID = 1L;

    private final String property;
    private final String reason;

    public InvalidPushBridgePropertyException(String property, String reason) {
        this(property, reason, null);
    }

    public InvalidPushBridgePropertyException(String property, String reason, @Nullable Throwable cause) {
        super(property + ": " + reason, cause);
        this.property = property;
        this.reason = reason;
    }

    /** The full name of the property, such as {@code pushbridge.sites.newsite.auth-url}. */
    public String property() {
        return property;
    }

    /** What is wrong with its value, without the property name. */
    public String reason() {
        return reason;
    }
}
