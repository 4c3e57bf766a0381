package io.pushbridge.gateway;

import io.pushbridge.ClientEventHandler;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.SocketListener;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One site (tenant): its Socket.IO namespace, who may connect and to which rooms, the keys of its
 * send API, and which rooms are user rooms. Immutable; build with {@link #builder(String)}.
 */
public final class SiteOptions {

    /** The default prefix of user rooms. */
    public static final String DEFAULT_USER_ROOM_PREFIX = "user_";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final String name;
    private final String namespace;
    private final RoomAuthorizer authorizer;
    private final List<byte[]> apiKeyDigests;
    private final String userRoomPrefix;
    private final Map<String, ClientEventHandler> eventHandlers;
    private final @org.jspecify.annotations.Nullable ClientEventHandler anyEventHandler;
    private final List<SocketListener> listeners;
    private final Map<String, io.pushbridge.GatewayCommandHandler> commandHandlers;
    private final SiteLimits limits;
    private final List<String> allowedOrigins;
    private final boolean requireOrigin;

    private SiteOptions(Builder b) {
        this.name = b.name;
        this.namespace = b.namespace == null ? "/" + b.name : b.namespace;
        this.authorizer = Objects.requireNonNull(b.authorizer, () -> "site '" + b.name + "': an authorizer is required");
        this.apiKeyDigests = b.apiKeys.stream().map(SiteOptions::digest).toList();
        this.userRoomPrefix = b.userRoomPrefix;
        this.eventHandlers = Map.copyOf(b.eventHandlers);
        this.anyEventHandler = b.anyEventHandler;
        this.listeners = List.copyOf(b.listeners);
        this.commandHandlers = Map.copyOf(b.commandHandlers);
        this.limits = b.limits;
        this.allowedOrigins = List.copyOf(b.allowedOrigins);
        this.requireOrigin = b.requireOrigin;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** The site's name, as the send API's {@code site} parameter gives it. */
    public String name() {
        return name;
    }

    /** The Socket.IO namespace, {@code /<name>} unless configured ({@code /} is allowed). */
    public String namespace() {
        return namespace;
    }

    public RoomAuthorizer authorizer() {
        return authorizer;
    }

    public String userRoomPrefix() {
        return userRoomPrefix;
    }

    /** The handlers of client events, by event name. */
    public Map<String, ClientEventHandler> eventHandlers() {
        return eventHandlers;
    }

    /** The handler of the events no named handler takes, or {@code null}. */
    public @org.jspecify.annotations.Nullable ClientEventHandler anyEventHandler() {
        return anyEventHandler;
    }

    /** The handler of an event: its own, else the one for any event, else {@code null}. */
    public @org.jspecify.annotations.Nullable ClientEventHandler eventHandler(String event) {
        ClientEventHandler handler = eventHandlers.get(event);
        return handler != null ? handler : anyEventHandler;
    }

    /** The handlers of custom commands ({@code PushTemplate.command}), by type. */
    public Map<String, io.pushbridge.GatewayCommandHandler> commandHandlers() {
        return commandHandlers;
    }

    /** The listeners of the site's sockets coming and going. */
    public List<SocketListener> listeners() {
        return listeners;
    }

    /** The limits the site sets for itself; those it leaves unset are the gateway's (see {@link SiteLimits#resolve}). */
    public SiteLimits limits() {
        return limits;
    }

    /**
     * Whether an event name is reserved by Socket.IO or PushBridge ({@code connect}, {@code disconnect},
     * {@code batch}, {@code resync}, ...): no send may use it and no handler may take it.
     */
    public static boolean isReservedEvent(String event) {
        return Dispatcher.RESERVED_EVENTS.contains(event);
    }

    /**
     * The browser origins allowed to connect to this site ({@code scheme://host[:port]},
     * {@code scheme://*.domain[:port]} or {@code *}), checked against the {@code Origin} header of
     * the connection's handshake at the site's CONNECT; empty: the gateway's list
     * ({@link GatewayOptions#allowedOrigins()}) applies.
     */
    public List<String> allowedOrigins() {
        return allowedOrigins;
    }

    /**
     * Whether a connection whose handshake had no {@code Origin} header is refused. Browsers send
     * one on every WebSocket handshake and cross-origin request; other clients (apps, servers)
     * usually send none, so the default (false) admits them.
     */
    public boolean requireOrigin() {
        return requireOrigin;
    }

    /** Whether a room is a user room (has an ack queue). */
    public boolean isUserRoom(String room) {
        return !userRoomPrefix.isEmpty() && room.startsWith(userRoomPrefix) && room.length() > userRoomPrefix.length();
    }

    /** Whether the site has at least one send API key. */
    public boolean hasApiKeys() {
        return !apiKeyDigests.isEmpty();
    }

    /**
     * Whether {@code candidate} is one of the site's API keys. Compares digests in constant time and
     * looks at every key, so timing tells nothing about the keys.
     */
    public boolean acceptsApiKey(String candidate) {
        byte[] d = digest(candidate);
        boolean match = false;
        for (byte[] key : apiKeyDigests) {
            match |= MessageDigest.isEqual(key, d);
        }
        return match;
    }

    static byte[] digest(String key) {
        MessageDigest sha = SHA_256.get();
        sha.reset();
        return sha.digest(key.getBytes(StandardCharsets.UTF_8));
    }

    /** One digest per thread: looking one up in the security providers costs more than the hash of a key. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    });

    @Override
    public String toString() {
        // never the keys
        return "Site[" + name + " on " + namespace + ", " + apiKeyDigests.size() + " api key(s), user rooms '"
                + userRoomPrefix + "*'" + (limits.isEmpty() ? "" : ", limits " + limits)
                + (allowedOrigins.isEmpty() ? "" : ", origins " + allowedOrigins)
                + (requireOrigin ? ", origin required" : "") + "]";
    }

    /** Builds {@link SiteOptions}; {@link #build()} checks every value and names the bad one. */
    public static final class Builder {

        private final String name;
        private String namespace;
        private RoomAuthorizer authorizer;
        private final List<String> apiKeys = new ArrayList<>();
        private String userRoomPrefix = DEFAULT_USER_ROOM_PREFIX;
        private final Map<String, ClientEventHandler> eventHandlers = new LinkedHashMap<>();
        private @org.jspecify.annotations.Nullable ClientEventHandler anyEventHandler;
        private final List<SocketListener> listeners = new ArrayList<>();
        private final Map<String, io.pushbridge.GatewayCommandHandler> commandHandlers = new LinkedHashMap<>();
        private SiteLimits limits = SiteLimits.none();
        private List<String> allowedOrigins = new ArrayList<>();
        private boolean requireOrigin;

        private Builder(String name) {
            this.name = name;
        }

        /** The namespace; defaults to {@code /<name>}. Use {@code /} for clients that call {@code io(url)}. */
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder authorizer(RoomAuthorizer authorizer) {
            this.authorizer = authorizer;
            return this;
        }

        /** Adds an API key of the send API; several keys allow rotation. */
        public Builder apiKey(String apiKey) {
            this.apiKeys.add(apiKey);
            return this;
        }

        public Builder apiKeys(List<String> apiKeys) {
            this.apiKeys.addAll(apiKeys);
            return this;
        }

        /** Rooms starting with this prefix are user rooms (default {@code user_}; empty: none). */
        public Builder userRoomPrefix(String userRoomPrefix) {
            this.userRoomPrefix = userRoomPrefix;
            return this;
        }

        /**
         * Handles the client event {@code event} (for example {@code subscribe}); see
         * {@link ClientEventHandler}. Events no handler takes are dropped and counted
         * ({@code events.unhandled}); a client waiting for an answer gets an error.
         */
        public Builder onEvent(String event, ClientEventHandler handler) {
            if (event == null || event.isEmpty() || Limits.characters(event) != Limits.Characters.OK) {
                throw new IllegalArgumentException("site '" + name + "': event name '" + event + "' is invalid");
            }
            if (Dispatcher.RESERVED_EVENTS.contains(event)) {
                throw new IllegalArgumentException("site '" + name + "': event '" + event + "' is reserved");
            }
            if (eventHandlers.putIfAbsent(event, Objects.requireNonNull(handler, "handler")) != null) {
                throw new IllegalArgumentException("site '" + name + "': event '" + event + "' has two handlers");
            }
            return this;
        }

        /**
         * Handles every client event that no {@link #onEvent} handler takes (reserved names never
         * reach it). One per site.
         */
        public Builder onAnyEvent(ClientEventHandler handler) {
            if (anyEventHandler != null) {
                throw new IllegalArgumentException("site '" + name + "': onAnyEvent has two handlers");
            }
            this.anyEventHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /** Carries out the custom commands of {@code type} that reach this node (see {@code PushTemplate.command}). */
        public Builder onCommand(String type, io.pushbridge.GatewayCommandHandler handler) {
            if (type == null || type.isEmpty() || Limits.characters(type) != Limits.Characters.OK) {
                throw new IllegalArgumentException("site '" + name + "': command type '" + type + "' is invalid");
            }
            if (Dispatcher.RESERVED_EVENTS.contains(type)) {
                throw new IllegalArgumentException("site '" + name + "': command type '" + type + "' is reserved");
            }
            if (commandHandlers.putIfAbsent(type, Objects.requireNonNull(handler, "handler")) != null) {
                throw new IllegalArgumentException("site '" + name + "': command '" + type + "' has two handlers");
            }
            return this;
        }

        /** The site's own limits; those it leaves unset are the gateway's. */
        public Builder limits(SiteLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /** The browser origins allowed to connect (see {@link SiteOptions#allowedOrigins()}); empty: the gateway's. */
        public Builder allowedOrigins(List<String> origins) {
            this.allowedOrigins = new ArrayList<>(origins);
            return this;
        }

        /** Refuse connections whose handshake had no {@code Origin} header (see {@link SiteOptions#requireOrigin()}). */
        public Builder requireOrigin(boolean require) {
            this.requireOrigin = require;
            return this;
        }

        /** Adds a listener of the site's sockets coming and going (see {@link SocketListener}). */
        public Builder listener(SocketListener listener) {
            this.listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public SiteOptions build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("site name '" + name
                        + "' is invalid: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit");
            }
            if (namespace != null && !(namespace.equals("/") || NAME.matcher(namespace.substring(Math.min(1, namespace.length()))).matches()
                    && namespace.startsWith("/"))) {
                throw new IllegalArgumentException("site '" + name + "': namespace '" + namespace
                        + "' is invalid: use '/' or '/' followed by letters, digits, '_', '.' or '-'");
            }
            if (authorizer == null) {
                throw new IllegalArgumentException("site '" + name + "': an authorizer is required");
            }
            for (String key : apiKeys) {
                if (key == null || key.isBlank()) {
                    throw new IllegalArgumentException("site '" + name + "': api keys must not be blank");
                }
            }
            for (String origin : allowedOrigins) {
                if (!Origins.valid(origin)) {
                    throw new IllegalArgumentException("site '" + name + "': allowedOrigins entries must look like"
                            + " scheme://host[:port], scheme://*.domain[:port] (a domain of two labels or more) or *, was '"
                            + origin + "'");
                }
            }
            if (userRoomPrefix == null) {
                throw new IllegalArgumentException("site '" + name + "': userRoomPrefix must not be null (use \"\" for none)");
            }
            for (int i = 0; i < userRoomPrefix.length(); i++) {
                if (Character.isISOControl(userRoomPrefix.charAt(i))) {
                    throw new IllegalArgumentException("site '" + name + "': userRoomPrefix must not contain control characters");
                }
            }
            return new SiteOptions(this);
        }
    }
}
