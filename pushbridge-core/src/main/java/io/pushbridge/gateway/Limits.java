package io.pushbridge.gateway;

import org.jspecify.annotations.Nullable;

/**
 * The limits in force for one site on this node: the site's own values ({@link SiteLimits}) where it
 * sets them, else the gateway's ({@link GatewayOptions}). Every entry point that takes a send, a
 * connect or a client event for the site checks them; a hit is refused with a clear error and
 * counted ({@link Limit#counter}).
 *
 * <p><b>Names.</b> A room or event name is 1 to {@code maxRoomNameLength} / {@code maxEventNameLength}
 * characters (UTF-16 code units: an emoji counts as two) and holds no control character
 * (U+0000-U+001F, U+007F-U+009F), no line or paragraph separator (U+2028, U+2029), no unpaired
 * surrogate, and does not start or end with whitespace. Everything else is allowed: letters of any
 * script, digits, spaces inside the name, and punctuation such as {@code _ : / . - # @ |}, so the
 * names the older services used ({@code user_1}, {@code user:1}, {@code chat/42}, {@code staff},
 * numeric user ids) all keep working.
 *
 * @param maxMessageSize the largest message in bytes: its arguments' JSON plus its event name
 * @param maxRoomsPerSend the most rooms one send, join or leave may name
 * @param maxRoomNameLength the longest room name, in characters
 * @param maxEventNameLength the longest event name, in characters
 * @param maxSendsPerSecond sends (and custom commands) the site may make per second on this node, on
 *     average and in one burst; 0: no limit
 * @param maxConnections sockets the site may have on this node, counting those being authorized; 0:
 *     no limit
 * @param maxEventsPerSecond client events one socket may send per second, on average and in one
 *     burst; 0: no limit
 * @param maxBufferedBytes bytes that may wait for one slow client (its connection's outbound
 *     buffer and its long-polling queue) before the next message; beyond it the connection is
 *     closed; 0: no limit
 */
public record Limits(int maxMessageSize, int maxRoomsPerSend, int maxRoomNameLength, int maxEventNameLength,
        int maxSendsPerSecond, int maxConnections, int maxEventsPerSecond, int maxBufferedBytes) {

    /** The gateway-wide limits, which every site has unless it sets its own. */
    public static Limits of(GatewayOptions options) {
        return new Limits(options.maxMessageSize(), options.maxRoomsPerSend(), options.maxRoomNameLength(),
                options.maxEventNameLength(), options.maxSendsPerSecond(), options.maxConnectionsPerSite(),
                options.maxEventsPerSecond(), options.maxBufferedBytes());
    }

    /**
     * What is wrong with a room name, as one sentence for an error answer, or {@code null} when it
     * is a valid name (see the name rules above). The same as {@link #roomName}'s message.
     */
    public @Nullable String roomNameProblem(@Nullable String room) {
        NameProblem problem = roomName(room);
        return problem == null ? null : problem.message();
    }

    /** What is wrong with a room name, or {@code null} when it is a valid name (see the name rules above). */
    public @Nullable NameProblem roomName(@Nullable String room) {
        if (room == null || room.isEmpty()) {
            return new NameProblem(NameProblem.Kind.EMPTY, "rooms must not contain empty names",
                    "rooms must not contain empty names");
        }
        if (room.length() > maxRoomNameLength) {
            return new NameProblem(NameProblem.Kind.TOO_LONG, "room '" + room.substring(0, Math.min(20, room.length()))
                    + "...' is longer than " + maxRoomNameLength + " characters",
                    "a room name is longer than " + maxRoomNameLength + " characters");
        }
        String characters = switch (characters(room)) {
            case OK -> null;
            case CONTROL -> "room names must not contain control characters";
            case SEPARATOR -> "room names must not contain line or paragraph separators";
            case SURROGATE -> "room names must not contain unpaired surrogates";
            case WHITESPACE -> "room names must not start or end with whitespace";
        };
        return characters == null ? null : new NameProblem(NameProblem.Kind.CHARACTERS, characters, characters);
    }

    /**
     * What is wrong with a name.
     *
     * @param kind which rule it breaks
     * @param message one sentence for an error answer (a too long room name is quoted in part, so
     *     that its sender sees which)
     * @param loggable the same without any part of the name, for a log line (room names often hold
     *     user ids)
     */
    public record NameProblem(Kind kind, String message, String loggable) {

        /** The rule a name breaks. */
        public enum Kind {
            /** The name is missing or empty (not a limit hit: no name was given). */
            EMPTY,
            /** Longer than the limit. */
            TOO_LONG,
            /** Characters the name rules forbid. */
            CHARACTERS
        }

        /** Whether it counts as a hit of the name's limit: a name was given. */
        public boolean isLimitHit() {
            return kind != Kind.EMPTY;
        }
    }

    /**
     * What is wrong with an event name, as one sentence, or {@code null} when it is valid. Reserved
     * names ({@code connect}, {@code batch}, ...) are checked apart from this.
     */
    public @Nullable String eventNameProblem(@Nullable String event) {
        if (event == null || event.isEmpty()) {
            return "event is required";
        }
        if (event.length() > maxEventNameLength) {
            return "event is longer than " + maxEventNameLength + " characters";
        }
        return switch (characters(event)) {
            case OK -> null;
            case CONTROL -> "event contains control characters";
            case SEPARATOR -> "event contains line or paragraph separators";
            case SURROGATE -> "event contains unpaired surrogates";
            case WHITESPACE -> "event must not start or end with whitespace";
        };
    }

    /** What the name rules say about the characters of a name (its length aside). */
    enum Characters { OK, CONTROL, SEPARATOR, SURROGATE, WHITESPACE }

    /**
     * Whether a text has a control character (U+0000-U+001F, U+007F-U+009F): the one check of
     * settings' names (key prefixes, channels, events of integrations) and of routed events.
     */
    public static boolean hasControlCharacters(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    static Characters characters(String name) {
        int n = name.length();
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c)) {
                return Characters.CONTROL;
            }
            if (c == '\u2028' || c == '\u2029') {
                return Characters.SEPARATOR;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(name.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return Characters.SURROGATE;
            }
            if (Character.isLowSurrogate(c)) {
                return Characters.SURROGATE;
            }
        }
        if (n > 0 && (blank(name.charAt(0)) || blank(name.charAt(n - 1)))) {
            return Characters.WHITESPACE;
        }
        return Characters.OK;
    }

    private static boolean blank(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    @Override
    public String toString() {
        return "maxMessageSize=" + maxMessageSize + ", maxRoomsPerSend=" + maxRoomsPerSend + ", maxRoomNameLength="
                + maxRoomNameLength + ", maxEventNameLength=" + maxEventNameLength + ", maxSendsPerSecond="
                + off(maxSendsPerSecond) + ", maxConnections=" + off(maxConnections) + ", maxEventsPerSecond="
                + off(maxEventsPerSecond) + ", maxBufferedBytes=" + off(maxBufferedBytes);
    }

    private static String off(int value) {
        return value == 0 ? "unlimited" : Integer.toString(value);
    }
}
