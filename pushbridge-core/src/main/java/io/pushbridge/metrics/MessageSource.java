package io.pushbridge.metrics;

import java.util.Locale;

/** Where a message the gateway accepted came from: the {@code source} tag of {@link PushBridgeMeter#MESSAGES_ACCEPTED}. */
public enum MessageSource {
    /** The HTTP send API ({@code POST /send}). */
    HTTP,
    /** {@code PushTemplate} in the application's process (application nodes' answers included). */
    TEMPLATE,
    /**
     * A Redis ingestion channel (redis-handshake's {@code socket.io}, redis-session's
     * {@code notifications}): each node emits what it receives there to its own sockets.
     */
    REDIS;

    /** The tag value, such as {@code http}. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
