package io.pushbridge.gateway;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The limits one site sets for itself; each one it leaves unset is the gateway's
 * ({@link GatewayOptions}). {@link #resolve} gives the values in force ({@link Limits}). Immutable;
 * build with {@link #builder()}, whose {@link Builder#build()} checks every value and names the bad
 * one.
 *
 * <pre>{@code
 * SiteOptions.builder("newsite")
 *     .limits(SiteLimits.builder().maxSendsPerSecond(200).maxConnections(5_000).build())
 *     ...
 * }</pre>
 */
public final class SiteLimits {

    private static final SiteLimits NONE = new Builder().build();

    private final @Nullable Integer maxMessageSize;
    private final @Nullable Integer maxRoomsPerSend;
    private final @Nullable Integer maxRoomNameLength;
    private final @Nullable Integer maxEventNameLength;
    private final @Nullable Integer maxSendsPerSecond;
    private final @Nullable Integer maxConnections;
    private final @Nullable Integer maxEventsPerSecond;
    private final @Nullable Integer maxBufferedBytes;

    private SiteLimits(Builder b) {
        this.maxMessageSize = b.maxMessageSize;
        this.maxRoomsPerSend = b.maxRoomsPerSend;
        this.maxRoomNameLength = b.maxRoomNameLength;
        this.maxEventNameLength = b.maxEventNameLength;
        this.maxSendsPerSecond = b.maxSendsPerSecond;
        this.maxConnections = b.maxConnections;
        this.maxEventsPerSecond = b.maxEventsPerSecond;
        this.maxBufferedBytes = b.maxBufferedBytes;
    }

    /** No limit of the site's own: the gateway's apply. */
    public static SiteLimits none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxMessageSize = maxMessageSize;
        b.maxRoomsPerSend = maxRoomsPerSend;
        b.maxRoomNameLength = maxRoomNameLength;
        b.maxEventNameLength = maxEventNameLength;
        b.maxSendsPerSecond = maxSendsPerSecond;
        b.maxConnections = maxConnections;
        b.maxEventsPerSecond = maxEventsPerSecond;
        b.maxBufferedBytes = maxBufferedBytes;
        return b;
    }

    /** The limits in force: each value the site sets, else the gateway's. */
    public Limits resolve(GatewayOptions gateway) {
        return new Limits(
                or(maxMessageSize, gateway.maxMessageSize()),
                or(maxRoomsPerSend, gateway.maxRoomsPerSend()),
                or(maxRoomNameLength, gateway.maxRoomNameLength()),
                or(maxEventNameLength, gateway.maxEventNameLength()),
                or(maxSendsPerSecond, gateway.maxSendsPerSecond()),
                or(maxConnections, gateway.maxConnectionsPerSite()),
                or(maxEventsPerSecond, gateway.maxEventsPerSecond()),
                or(maxBufferedBytes, gateway.maxBufferedBytes()));
    }

    private static int or(@Nullable Integer own, int gateway) {
        return own != null ? own : gateway;
    }

    public @Nullable Integer maxMessageSize() { return maxMessageSize; }
    public @Nullable Integer maxRoomsPerSend() { return maxRoomsPerSend; }
    public @Nullable Integer maxRoomNameLength() { return maxRoomNameLength; }
    public @Nullable Integer maxEventNameLength() { return maxEventNameLength; }
    public @Nullable Integer maxSendsPerSecond() { return maxSendsPerSecond; }
    public @Nullable Integer maxConnections() { return maxConnections; }
    public @Nullable Integer maxEventsPerSecond() { return maxEventsPerSecond; }
    public @Nullable Integer maxBufferedBytes() { return maxBufferedBytes; }

    /** Whether the site sets none of its own. */
    public boolean isEmpty() {
        return toString().isEmpty();
    }

    /** The values the site sets, such as {@code maxSendsPerSecond=200, maxConnections=5000}; empty if none. */
    @Override
    public String toString() {
        List<String> set = new ArrayList<>();
        add(set, "maxMessageSize", maxMessageSize);
        add(set, "maxRoomsPerSend", maxRoomsPerSend);
        add(set, "maxRoomNameLength", maxRoomNameLength);
        add(set, "maxEventNameLength", maxEventNameLength);
        add(set, "maxSendsPerSecond", maxSendsPerSecond);
        add(set, "maxConnections", maxConnections);
        add(set, "maxEventsPerSecond", maxEventsPerSecond);
        add(set, "maxBufferedBytes", maxBufferedBytes);
        return String.join(", ", set);
    }

    private static void add(List<String> out, String name, @Nullable Integer value) {
        if (value != null) {
            out.add(name + "=" + value);
        }
    }

    /** Builds {@link SiteLimits}; a value left unset (or set to {@code null}) is the gateway's. */
    public static final class Builder {

        private @Nullable Integer maxMessageSize;
        private @Nullable Integer maxRoomsPerSend;
        private @Nullable Integer maxRoomNameLength;
        private @Nullable Integer maxEventNameLength;
        private @Nullable Integer maxSendsPerSecond;
        private @Nullable Integer maxConnections;
        private @Nullable Integer maxEventsPerSecond;
        private @Nullable Integer maxBufferedBytes;

        private Builder() {
        }

        /** The largest message in bytes (its arguments' JSON plus its event name); at least 64. */
        public Builder maxMessageSize(@Nullable Integer bytes) { this.maxMessageSize = bytes; return this; }
        /** The most rooms one send, join or leave may name; at least 1. */
        public Builder maxRoomsPerSend(@Nullable Integer n) { this.maxRoomsPerSend = n; return this; }
        /** The longest room name in characters; at least 1. */
        public Builder maxRoomNameLength(@Nullable Integer n) { this.maxRoomNameLength = n; return this; }
        /** The longest event name in characters; at least 1. */
        public Builder maxEventNameLength(@Nullable Integer n) { this.maxEventNameLength = n; return this; }
        /** Sends per second of the site on each node, on average and in one burst; 0: no limit. */
        public Builder maxSendsPerSecond(@Nullable Integer n) { this.maxSendsPerSecond = n; return this; }
        /** Sockets of the site on each node; 0: no limit. */
        public Builder maxConnections(@Nullable Integer n) { this.maxConnections = n; return this; }
        /** Client events per second of one socket; 0: no limit. */
        public Builder maxEventsPerSecond(@Nullable Integer n) { this.maxEventsPerSecond = n; return this; }
        /** Bytes that may wait for one slow client; 0: no limit, else at least 1024. */
        public Builder maxBufferedBytes(@Nullable Integer bytes) { this.maxBufferedBytes = bytes; return this; }

        public SiteLimits build() {
            require(maxMessageSize == null || maxMessageSize >= 64,
                    "maxMessageSize must be at least 64 bytes, was " + maxMessageSize);
            require(maxRoomsPerSend == null || maxRoomsPerSend >= 1, "maxRoomsPerSend must be >= 1, was " + maxRoomsPerSend);
            require(maxRoomNameLength == null || maxRoomNameLength >= 1,
                    "maxRoomNameLength must be >= 1, was " + maxRoomNameLength);
            require(maxEventNameLength == null || maxEventNameLength >= 1,
                    "maxEventNameLength must be >= 1, was " + maxEventNameLength);
            require(maxSendsPerSecond == null || maxSendsPerSecond >= 0,
                    "maxSendsPerSecond must be >= 0 (0: no limit), was " + maxSendsPerSecond);
            require(maxConnections == null || maxConnections >= 0,
                    "maxConnections must be >= 0 (0: no limit), was " + maxConnections);
            require(maxEventsPerSecond == null || maxEventsPerSecond >= 0,
                    "maxEventsPerSecond must be >= 0 (0: no limit), was " + maxEventsPerSecond);
            require(maxBufferedBytes == null || maxBufferedBytes == 0 || maxBufferedBytes >= 1024,
                    "maxBufferedBytes must be 0 (no limit) or at least 1024 bytes, was " + maxBufferedBytes);
            return new SiteLimits(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
