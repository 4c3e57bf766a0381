package io.pushbridge.gateway;

import java.util.Locale;

/**
 * The limits that protect a site (see {@link Limits}), as they are counted: every hit moves the
 * counter {@link #counter(String) limits.<site>.<key>} of {@link GatewayStats}, whichever entry
 * point it came through (the send API, {@code PushTemplate}, a Redis ingestion channel, a client's
 * connect or event).
 */
public enum Limit {

    /** A message (its arguments' JSON plus its event name) over {@link Limits#maxMessageSize()}. */
    MESSAGE_SIZE,
    /** A send, join or leave naming more than {@link Limits#maxRoomsPerSend()} rooms. */
    ROOMS_PER_SEND,
    /** A room name that is too long or breaks the name rules ({@link Limits#roomNameProblem}). */
    ROOM_NAME,
    /** An event name that is too long or breaks the name rules ({@link Limits#eventNameProblem}). */
    EVENT_NAME,
    /** A send beyond {@link Limits#maxSendsPerSecond()} of the site on this node. */
    SENDS_PER_SECOND,
    /** A connect beyond {@link Limits#maxConnections()} of the site on this node. */
    CONNECTIONS,
    /** A client event beyond {@link Limits#maxEventsPerSecond()} of its socket. */
    EVENTS_PER_SECOND,
    /** A socket disconnected with more than {@link Limits#maxBufferedBytes()} waiting for its client. */
    BUFFERED_BYTES;

    private final String key = name().toLowerCase(Locale.ROOT);

    /** The limit's name in counters and meters, such as {@code sends_per_second}. */
    public String key() {
        return key;
    }

    /** The name of this limit's counter for a site: {@code limits.<site>.<key>}. */
    public String counter(String site) {
        return "limits." + site + "." + key;
    }
}
