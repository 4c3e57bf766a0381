package io.pushbridge.gateway;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's settings: where it listens, Engine.IO timings, limits of the send API. Immutable;
 * build with {@link #builder()}, whose {@link Builder#build()} checks every value and names the bad
 * one. Defaults are the {@code DEFAULT_*} constants.
 */
public final class GatewayOptions {

    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 1337;
    public static final String DEFAULT_PATH = "/socket.io";
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(25);
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(20);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(45);
    public static final int DEFAULT_MAX_PAYLOAD = 1_000_000;
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 1_000_000;
    public static final int DEFAULT_MAX_ROOMS_PER_SEND = 100;
    public static final int DEFAULT_MAX_ROOM_NAME_LENGTH = 200;
    public static final int DEFAULT_MAX_EVENT_NAME_LENGTH = 100;
    public static final Duration DEFAULT_EVENT_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_PENDING_EVENTS = 32;
    public static final int DEFAULT_MAX_EVENTS_PER_SECOND = 100;
    /** Sends per second of one site on one node: no limit by default. */
    public static final int DEFAULT_MAX_SENDS_PER_SECOND = 0;
    /** Sockets of one site on one node: no limit by default. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_SITE = 0;
    /** Bytes that may wait for one slow client before its connection is closed: 16 MiB. */
    public static final int DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
    public static final String DEFAULT_ADMIN_PATH = "/pushbridge/admin/connections";
    public static final int DEFAULT_ADMIN_MAX_CONNECTIONS = 10_000;
    public static final String DEFAULT_ADMIN_PAGE_PATH = "/pushbridge/admin";
    public static final String DEFAULT_NODES_PATH = "/pushbridge/nodes";
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);
    public static final Duration DEFAULT_RECONNECT_SPREAD = Duration.ofSeconds(2);
    public static final Duration DEFAULT_QUEUE_METRICS_REFRESH = Duration.ofSeconds(30);
    /** Where the nodes endpoint serves its JavaScript form (the path socket.io-cluster served it at); fixed. */
    public static final String CONFIG_JS_PATH = "/config.js";

    private final String host;
    private final int port;
    private final String path;
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final Duration connectTimeout;
    private final int maxPayload;
    private final List<String> allowedOrigins;
    private final boolean websocketCompression;
    private final int workerThreads;
    private final boolean nativeTransport;
    private final int maxMessageSize;
    private final int maxRoomsPerSend;
    private final int maxRoomNameLength;
    private final int maxEventNameLength;
    private final int datacenterId;
    private final int workerId;
    private final String nodeId;
    private final @Nullable String staticResources;
    private final Clock clock;
    private final Duration eventTimeout;
    private final int maxPendingEvents;
    private final int maxEventsPerSecond;
    private final int maxSendsPerSecond;
    private final int maxConnectionsPerSite;
    private final int maxBufferedBytes;
    private final java.util.function.LongSupplier ticker;
    private final @Nullable String adminKey;
    private final String adminPath;
    private final int adminPort;
    private final int adminMaxConnections;
    private final String adminPagePath;
    private final boolean queueInspector;
    private final boolean serve;
    private final @Nullable String publicUrl;
    private final boolean nodesEndpoint;
    private final String nodesPath;
    private final Duration shutdownTimeout;
    private final Duration reconnectSpread;
    private final Duration queueMetricsRefresh;
    private final @Nullable TlsOptions tls;

    private GatewayOptions(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.path = b.path;
        this.pingInterval = b.pingInterval;
        this.pingTimeout = b.pingTimeout;
        this.connectTimeout = b.connectTimeout;
        this.maxPayload = b.maxPayload;
        this.allowedOrigins = List.copyOf(b.allowedOrigins);
        this.websocketCompression = b.websocketCompression;
        this.workerThreads = b.workerThreads;
        this.nativeTransport = b.nativeTransport;
        this.maxMessageSize = b.maxMessageSize;
        this.maxRoomsPerSend = b.maxRoomsPerSend;
        this.maxRoomNameLength = b.maxRoomNameLength;
        this.maxEventNameLength = b.maxEventNameLength;
        this.datacenterId = b.datacenterId;
        this.workerId = b.workerId;
        this.nodeId = b.nodeId != null ? b.nodeId : "node-" + b.datacenterId + "-" + b.workerId;
        this.staticResources = b.staticResources;
        this.clock = b.clock;
        this.eventTimeout = b.eventTimeout;
        this.maxPendingEvents = b.maxPendingEvents;
        this.maxEventsPerSecond = b.maxEventsPerSecond;
        this.maxSendsPerSecond = b.maxSendsPerSecond;
        this.maxConnectionsPerSite = b.maxConnectionsPerSite;
        this.maxBufferedBytes = b.maxBufferedBytes;
        this.ticker = b.ticker;
        this.adminKey = b.adminKey;
        this.adminPath = b.adminPath;
        this.adminPort = b.adminPort;
        this.adminMaxConnections = b.adminMaxConnections;
        this.adminPagePath = b.adminPagePath;
        this.queueInspector = b.queueInspector;
        this.serve = b.serve;
        this.publicUrl = b.publicUrl;
        this.nodesEndpoint = b.nodesEndpoint;
        this.nodesPath = b.nodesPath;
        this.shutdownTimeout = b.shutdownTimeout;
        this.reconnectSpread = b.reconnectSpread;
        this.queueMetricsRefresh = b.queueMetricsRefresh;
        this.tls = b.tls;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.path = path;
        b.pingInterval = pingInterval;
        b.pingTimeout = pingTimeout;
        b.connectTimeout = connectTimeout;
        b.maxPayload = maxPayload;
        b.allowedOrigins = new ArrayList<>(allowedOrigins);
        b.websocketCompression = websocketCompression;
        b.workerThreads = workerThreads;
        b.nativeTransport = nativeTransport;
        b.maxMessageSize = maxMessageSize;
        b.maxRoomsPerSend = maxRoomsPerSend;
        b.maxRoomNameLength = maxRoomNameLength;
        b.maxEventNameLength = maxEventNameLength;
        b.datacenterId = datacenterId;
        b.workerId = workerId;
        b.nodeId = nodeId;
        b.staticResources = staticResources;
        b.clock = clock;
        b.eventTimeout = eventTimeout;
        b.maxPendingEvents = maxPendingEvents;
        b.maxEventsPerSecond = maxEventsPerSecond;
        b.maxSendsPerSecond = maxSendsPerSecond;
        b.maxConnectionsPerSite = maxConnectionsPerSite;
        b.maxBufferedBytes = maxBufferedBytes;
        b.ticker = ticker;
        b.adminKey = adminKey;
        b.adminPath = adminPath;
        b.adminPort = adminPort;
        b.adminMaxConnections = adminMaxConnections;
        b.adminPagePath = adminPagePath;
        b.queueInspector = queueInspector;
        b.serve = serve;
        b.publicUrl = publicUrl;
        b.nodesEndpoint = nodesEndpoint;
        b.nodesPath = nodesPath;
        b.shutdownTimeout = shutdownTimeout;
        b.reconnectSpread = reconnectSpread;
        b.queueMetricsRefresh = queueMetricsRefresh;
        b.tls = tls;
        return b;
    }

    public String host() { return host; }
    /** The port; 0 picks a free one (read it back from {@link PushBridgeGateway#port()}). */
    public int port() { return port; }
    /** The Engine.IO path, {@code /socket.io} by default. */
    public String path() { return path; }
    public Duration pingInterval() { return pingInterval; }
    public Duration pingTimeout() { return pingTimeout; }
    /** How long a session may stay without joining any site before it is closed. */
    public Duration connectTimeout() { return connectTimeout; }
    /** The largest Engine.IO payload a client may send, in bytes. */
    public int maxPayload() { return maxPayload; }
    /**
     * Origins allowed to use the sites that have no list of their own ({@link SiteOptions#allowedOrigins()}):
     * {@code scheme://host[:port]}, {@code scheme://*.domain[:port]} or {@code *}; empty allows any.
     */
    public List<String> allowedOrigins() { return allowedOrigins; }
    public boolean websocketCompression() { return websocketCompression; }
    /** Netty worker (I/O) threads; 0 lets Netty choose (twice the cores). */
    public int workerThreads() { return workerThreads; }
    /**
     * Whether the gateway's port uses Netty's native epoll transport on Linux, where it loads (fewer
     * system calls and less garbage than Java's NIO selector); elsewhere, or off, NIO.
     */
    public boolean nativeTransport() { return nativeTransport; }
    /** The largest message (its JSON form, or a send API body) in bytes. */
    public int maxMessageSize() { return maxMessageSize; }
    public int maxRoomsPerSend() { return maxRoomsPerSend; }
    public int maxRoomNameLength() { return maxRoomNameLength; }
    public int maxEventNameLength() { return maxEventNameLength; }
    public int datacenterId() { return datacenterId; }
    public int workerId() { return workerId; }
    /** This node's name in logs. */
    public String nodeId() { return nodeId; }
    /** A classpath folder served over HTTP on the gateway's port (for a demo page), or null. */
    public @Nullable String staticResources() { return staticResources; }
    public Clock clock() { return clock; }
    /** How long a client event's handler may take before the client's callback gets a timeout error. */
    public Duration eventTimeout() { return eventTimeout; }
    /** Events of one socket waiting for their handler; beyond it new ones are refused. */
    public int maxPendingEvents() { return maxPendingEvents; }
    /** Events one socket may send per second on average, and in a burst; beyond it they are refused. 0: no limit. */
    public int maxEventsPerSecond() { return maxEventsPerSecond; }
    /**
     * Sends (and custom commands) one site may make per second on this node, on average and in one
     * burst; beyond it they are refused ({@code RATE_LIMITED}, HTTP 429). Each node keeps its own
     * budget. 0: no limit. A site may set its own ({@link SiteLimits}).
     */
    public int maxSendsPerSecond() { return maxSendsPerSecond; }
    /**
     * Sockets one site may have on this node (those being authorized count too); beyond it a
     * connect is refused ({@code too_many_connections}). 0: no limit. A site may set its own.
     */
    public int maxConnectionsPerSite() { return maxConnectionsPerSite; }
    /**
     * Bytes that may wait for one client (unsent in its connection's buffer or its long-polling
     * queue) when the next message for it comes; beyond it the connection is closed and its client
     * reconnects. 0: no limit. A site may set its own.
     */
    public int maxBufferedBytes() { return maxBufferedBytes; }
    /** The time source of the rate limits, in nanoseconds ({@code System::nanoTime} unless a test moves it). */
    public java.util.function.LongSupplier ticker() { return ticker; }
    /** The limits every site has unless it sets its own. */
    public Limits limits() { return Limits.of(this); }
    /** Whether the admin view is on (it is when it has a key). */
    public boolean adminEnabled() { return adminKey != null; }
    /** The key the admin view asks for; {@code null}: the admin view is off. */
    public @Nullable String adminKey() { return adminKey; }
    /** Where the admin view is served on the gateway's port (and on its own port, also at {@code /}). */
    public String adminPath() { return adminPath; }
    /** The admin view's own port: -1 serves it on the gateway's port only, 0 picks a free one. */
    public int adminPort() { return adminPort; }
    /** At most this many connections in one admin answer. */
    public int adminMaxConnections() { return adminMaxConnections; }
    /**
     * Where the admin page and its JSON ({@code overview}, {@code queue}, {@code queue/purge}) are
     * served when the admin view is on: the page at this path followed by {@code /}.
     */
    public String adminPagePath() { return adminPagePath; }
    /**
     * Whether the queue inspector answers (reading a user's queue and purging it, on the admin
     * surface and the actuator endpoint); off by default.
     */
    public boolean queueInspector() { return queueInspector; }
    /**
     * Whether the node binds its port and holds connections (a gateway node, the default), or only
     * sends and runs its extensions (an application node handling upstream records).
     */
    public boolean serve() { return serve; }
    /**
     * The URL clients reach this node at (such as {@code https://io1.example.com} or
     * {@code http://33.33.33.10:8081}), listed by the nodes endpoint; {@code null}: none configured.
     */
    public @Nullable String publicUrl() { return publicUrl; }
    /**
     * Whether the gateway's port serves the list of nodes, as JSON at {@link #nodesPath()} and as
     * JavaScript at {@value #CONFIG_JS_PATH}, for clients that pick a node themselves.
     */
    public boolean nodesEndpoint() { return nodesEndpoint; }
    /** Where the nodes endpoint serves its JSON form on the gateway's port. */
    public String nodesPath() { return nodesPath; }
    /**
     * How long {@link PushBridgeGateway#stop()} may take to drain: waiting for sends and acks in
     * flight, closing the connections, and again for what their close started, before routing stops.
     */
    public Duration shutdownTimeout() { return shutdownTimeout; }
    /**
     * The window over which a draining gateway closes its connections, so that their clients do not
     * all reconnect to the other nodes at once; at most a quarter of {@link #shutdownTimeout()} is used.
     * Zero closes them all at once.
     */
    public Duration reconnectSpread() { return reconnectSpread; }
    /**
     * How often the queue meters ({@code pushbridge.queue.*}) read the store's totals per site, off
     * the I/O threads; zero: no queue meters. Only with a meter registry, on nodes that serve.
     */
    public Duration queueMetricsRefresh() { return queueMetricsRefresh; }
    /**
     * TLS on the gateway's port and on the admin view's own port; {@code null}: plain HTTP and
     * WebSocket (TLS ends at a proxy in front, or nowhere).
     */
    public @Nullable TlsOptions tls() { return tls; }

    @Override
    public String toString() {
        return "host=" + host + ", port=" + port + ", tls=" + (tls == null ? "off" : tls) + ", path=" + path
                + ", pingInterval=" + pingInterval.toMillis()
                + "ms, pingTimeout=" + pingTimeout.toMillis() + "ms, connectTimeout=" + connectTimeout.toMillis()
                + "ms, maxPayload=" + maxPayload + ", maxMessageSize=" + maxMessageSize + ", allowedOrigins="
                + (allowedOrigins.isEmpty() ? "*" : allowedOrigins) + ", websocketCompression=" + websocketCompression
                + ", workerThreads=" + (workerThreads == 0 ? "auto" : workerThreads) + ", nativeTransport=" + nativeTransport + ", maxRoomsPerSend=" + maxRoomsPerSend
                + ", maxRoomNameLength=" + maxRoomNameLength + ", maxEventNameLength=" + maxEventNameLength
                + ", flakeId=" + datacenterId + "/" + workerId + ", nodeId=" + nodeId
                + ", staticResources=" + (staticResources == null ? "none" : staticResources)
                + ", eventTimeout=" + eventTimeout.toMillis() + "ms, maxPendingEvents=" + maxPendingEvents
                + ", maxEventsPerSecond=" + (maxEventsPerSecond == 0 ? "unlimited" : maxEventsPerSecond)
                + ", maxSendsPerSecond=" + (maxSendsPerSecond == 0 ? "unlimited" : maxSendsPerSecond)
                + ", maxConnectionsPerSite=" + (maxConnectionsPerSite == 0 ? "unlimited" : maxConnectionsPerSite)
                + ", maxBufferedBytes=" + (maxBufferedBytes == 0 ? "unlimited" : maxBufferedBytes)
                + (serve ? "" : ", serve=false")
                + ", publicUrl=" + (publicUrl == null ? "none" : publicUrl)
                + ", nodesEndpoint=" + (nodesEndpoint ? nodesPath + " and " + CONFIG_JS_PATH : "off")
                + ", queueMetricsRefresh=" + (queueMetricsRefresh.isZero() ? "off" : queueMetricsRefresh.toMillis() + "ms")
                + ", admin=" + (adminKey == null ? "off" : adminPath + " and page " + adminPagePath + "/"
                        + (adminPort >= 0 ? " (also on port " + adminPort + ")" : ""))
                + ", queueInspector=" + (queueInspector ? "on" : "off")
                + ", shutdownTimeout=" + shutdownTimeout.toMillis() + "ms, reconnectSpread=" + reconnectSpread.toMillis() + "ms";
    }

    /** Builds {@link GatewayOptions}. */
    public static final class Builder {

        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private String path = DEFAULT_PATH;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;
        private Duration pingTimeout = DEFAULT_PING_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int maxPayload = DEFAULT_MAX_PAYLOAD;
        private List<String> allowedOrigins = new ArrayList<>();
        private boolean websocketCompression;
        private int workerThreads;
        private boolean nativeTransport = true;
        private int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
        private int maxRoomsPerSend = DEFAULT_MAX_ROOMS_PER_SEND;
        private int maxRoomNameLength = DEFAULT_MAX_ROOM_NAME_LENGTH;
        private int maxEventNameLength = DEFAULT_MAX_EVENT_NAME_LENGTH;
        private int datacenterId;
        private int workerId;
        private @Nullable String nodeId;
        private @Nullable String staticResources;
        private Clock clock = Clock.systemUTC();
        private Duration eventTimeout = DEFAULT_EVENT_TIMEOUT;
        private int maxPendingEvents = DEFAULT_MAX_PENDING_EVENTS;
        private int maxEventsPerSecond = DEFAULT_MAX_EVENTS_PER_SECOND;
        private int maxSendsPerSecond = DEFAULT_MAX_SENDS_PER_SECOND;
        private int maxConnectionsPerSite = DEFAULT_MAX_CONNECTIONS_PER_SITE;
        private int maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES;
        private java.util.function.LongSupplier ticker = System::nanoTime;
        private @Nullable String adminKey;
        private String adminPath = DEFAULT_ADMIN_PATH;
        private int adminPort = -1;
        private int adminMaxConnections = DEFAULT_ADMIN_MAX_CONNECTIONS;
        private String adminPagePath = DEFAULT_ADMIN_PAGE_PATH;
        private boolean queueInspector;
        private boolean serve = true;
        private @Nullable String publicUrl;
        private boolean nodesEndpoint = true;
        private String nodesPath = DEFAULT_NODES_PATH;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private Duration reconnectSpread = DEFAULT_RECONNECT_SPREAD;
        private Duration queueMetricsRefresh = DEFAULT_QUEUE_METRICS_REFRESH;
        private @Nullable TlsOptions tls;

        private Builder() {
        }

        public Builder host(String host) { this.host = host; return this; }
        public Builder port(int port) { this.port = port; return this; }
        /** The Engine.IO path; a trailing '/' (as socket.io clients write it, {@code /socket/}) is dropped. */
        public Builder path(String path) {
            this.path = path != null && path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
            return this;
        }
        public Builder pingInterval(Duration d) { this.pingInterval = d; return this; }
        public Builder pingTimeout(Duration d) { this.pingTimeout = d; return this; }
        public Builder connectTimeout(Duration d) { this.connectTimeout = d; return this; }
        public Builder maxPayload(int bytes) { this.maxPayload = bytes; return this; }
        public Builder allowedOrigins(List<String> origins) { this.allowedOrigins = new ArrayList<>(origins); return this; }
        public Builder websocketCompression(boolean on) { this.websocketCompression = on; return this; }
        public Builder workerThreads(int n) { this.workerThreads = n; return this; }
        public Builder nativeTransport(boolean on) { this.nativeTransport = on; return this; }
        public Builder maxMessageSize(int bytes) { this.maxMessageSize = bytes; return this; }
        public Builder maxRoomsPerSend(int n) { this.maxRoomsPerSend = n; return this; }
        public Builder maxRoomNameLength(int n) { this.maxRoomNameLength = n; return this; }
        public Builder maxEventNameLength(int n) { this.maxEventNameLength = n; return this; }
        public Builder datacenterId(int id) { this.datacenterId = id; return this; }
        public Builder workerId(int id) { this.workerId = id; return this; }
        public Builder nodeId(String nodeId) { this.nodeId = nodeId; return this; }
        public Builder staticResources(@Nullable String classpathFolder) { this.staticResources = classpathFolder; return this; }
        public Builder clock(Clock clock) { this.clock = clock; return this; }
        public Builder eventTimeout(Duration d) { this.eventTimeout = d; return this; }
        public Builder maxPendingEvents(int n) { this.maxPendingEvents = n; return this; }
        public Builder maxEventsPerSecond(int n) { this.maxEventsPerSecond = n; return this; }
        public Builder maxSendsPerSecond(int n) { this.maxSendsPerSecond = n; return this; }
        public Builder maxConnectionsPerSite(int n) { this.maxConnectionsPerSite = n; return this; }
        public Builder maxBufferedBytes(int bytes) { this.maxBufferedBytes = bytes; return this; }
        /** The time source of the rate limits, in nanoseconds; tests pass one they move. */
        public Builder ticker(java.util.function.LongSupplier nanoTime) { this.ticker = nanoTime; return this; }
        /** Turns the admin view on, protected by this key; {@code null} turns it off. */
        public Builder adminKey(@Nullable String key) { this.adminKey = key; return this; }
        public Builder adminPath(String path) { this.adminPath = path; return this; }
        public Builder adminPort(int port) { this.adminPort = port; return this; }
        public Builder adminMaxConnections(int n) { this.adminMaxConnections = n; return this; }
        /** Where the admin page is served (without its trailing '/'); see {@link GatewayOptions#adminPagePath()}. */
        public Builder adminPagePath(String path) { this.adminPagePath = path; return this; }
        /** Turns the queue inspector on (see {@link GatewayOptions#queueInspector()}). */
        public Builder queueInspector(boolean on) { this.queueInspector = on; return this; }
        /** {@code false}: an application node, which binds no port (see {@link GatewayOptions#serve()}). */
        public Builder serve(boolean serve) { this.serve = serve; return this; }
        /**
         * The URL clients reach this node at: absolute, {@code http}, {@code https}, {@code ws} or
         * {@code wss}, without credentials, query or fragment; {@code null}: none. Only nodes that
         * serve a port have one.
         */
        public Builder publicUrl(@Nullable String url) { this.publicUrl = url; return this; }
        /** Turns the nodes endpoint (both its paths) on or off; on by default. */
        public Builder nodesEndpoint(boolean on) { this.nodesEndpoint = on; return this; }
        public Builder nodesPath(String path) { this.nodesPath = path; return this; }
        /** How long a stop may take to drain (see {@link GatewayOptions#shutdownTimeout()}); positive. */
        public Builder shutdownTimeout(Duration d) { this.shutdownTimeout = d; return this; }
        /** Over how long a drain closes the connections (see {@link GatewayOptions#reconnectSpread()}); 0 or more. */
        public Builder reconnectSpread(Duration d) { this.reconnectSpread = d; return this; }
        /** How often the queue meters are refreshed: zero (off), or at least 100 ms. */
        public Builder queueMetricsRefresh(Duration d) { this.queueMetricsRefresh = d; return this; }
        /** TLS on the gateway's port (and the admin view's own port); {@code null} (the default): none. */
        public Builder tls(@Nullable TlsOptions tls) { this.tls = tls; return this; }

        public GatewayOptions build() {
            require(host != null && !host.isBlank(), "host must not be blank");
            require(port >= 0 && port <= 65535, "port must be 0..65535, was " + port);
            require(path != null && path.startsWith("/") && path.length() > 1 && !path.endsWith("/"),
                    "path must start with '/' and not end with '/', was '" + path + "'");
            positive(pingInterval, "pingInterval");
            positive(pingTimeout, "pingTimeout");
            positive(connectTimeout, "connectTimeout");
            require(maxPayload >= 1024, "maxPayload must be at least 1024 bytes, was " + maxPayload);
            for (String origin : allowedOrigins) {
                require(Origins.valid(origin), "allowedOrigins entries must look like scheme://host[:port],"
                        + " scheme://*.domain[:port] (a domain of two labels or more) or *, was '" + origin + "'");
            }
            require(workerThreads >= 0, "workerThreads must be >= 0, was " + workerThreads);
            require(maxMessageSize >= 64, "maxMessageSize must be at least 64 bytes, was " + maxMessageSize);
            require(maxRoomsPerSend >= 1, "maxRoomsPerSend must be >= 1, was " + maxRoomsPerSend);
            require(maxRoomNameLength >= 1, "maxRoomNameLength must be >= 1, was " + maxRoomNameLength);
            require(maxEventNameLength >= 1, "maxEventNameLength must be >= 1, was " + maxEventNameLength);
            require(datacenterId >= 0 && datacenterId <= 31, "datacenterId must be 0..31, was " + datacenterId);
            require(workerId >= 0 && workerId <= 31, "workerId must be 0..31, was " + workerId);
            require(clock != null, "clock must not be null");
            positive(eventTimeout, "eventTimeout");
            require(maxPendingEvents >= 1, "maxPendingEvents must be >= 1, was " + maxPendingEvents);
            require(maxEventsPerSecond >= 0, "maxEventsPerSecond must be >= 0 (0: no limit), was " + maxEventsPerSecond);
            require(maxSendsPerSecond >= 0, "maxSendsPerSecond must be >= 0 (0: no limit), was " + maxSendsPerSecond);
            require(maxConnectionsPerSite >= 0,
                    "maxConnectionsPerSite must be >= 0 (0: no limit), was " + maxConnectionsPerSite);
            require(maxBufferedBytes == 0 || maxBufferedBytes >= 1024,
                    "maxBufferedBytes must be 0 (no limit) or at least 1024 bytes, was " + maxBufferedBytes);
            require(ticker != null, "ticker must not be null");
            require(adminKey == null || adminKey.length() >= 16, "adminKey must have at least 16 characters");
            require(adminPath != null && adminPath.startsWith("/") && adminPath.length() > 1 && !adminPath.endsWith("/")
                    && !adminPath.equals(path) && !adminPath.startsWith(path + "/"),
                    "adminPath must start with '/', not end with '/', and lie outside the Engine.IO path, was '" + adminPath + "'");
            require(adminPort >= -1 && adminPort <= 65535, "adminPort must be -1 (none), 0 (any) or a port, was " + adminPort);
            require(adminMaxConnections >= 1 && adminMaxConnections <= 1_000_000,
                    "adminMaxConnections must be 1..1000000, was " + adminMaxConnections);
            require(staticResources == null || !staticResources.replaceAll("[/\\s]", "").isEmpty(),
                    "staticResources must name a classpath folder (such as \"public\"), not the classpath root, was '"
                            + staticResources + "'");
            require(publicUrl == null || validUrl(publicUrl),
                    "publicUrl must be an absolute http, https, ws or wss URL with a host and without credentials, query"
                            + " or fragment, was '" + withoutCredentials(publicUrl) + "'");
            require(publicUrl == null || serve,
                    "publicUrl is for nodes that serve a port; it conflicts with serve=false, was '"
                            + withoutCredentials(publicUrl) + "'");
            require(nodesPath != null && nodesPath.startsWith("/") && nodesPath.length() > 1 && !nodesPath.endsWith("/")
                    && !nodesPath.equals(path) && !nodesPath.startsWith(path + "/"),
                    "nodesPath must start with '/', not end with '/', and lie outside the Engine.IO path, was '" + nodesPath + "'");
            require(!nodesPath.equals(adminPath) && !nodesPath.equals(CONFIG_JS_PATH)
                    && !nodesPath.equals(io.pushbridge.http.SendApiHandler.PATH),
                    "nodesPath must differ from adminPath, " + CONFIG_JS_PATH + " and " + io.pushbridge.http.SendApiHandler.PATH
                            + ", was '" + nodesPath + "'");
            positive(shutdownTimeout, "shutdownTimeout");
            require(reconnectSpread != null && !reconnectSpread.isNegative(),
                    "reconnectSpread must be zero or positive, was " + reconnectSpread);
            require(adminPagePath != null && adminPagePath.startsWith("/") && adminPagePath.length() > 1
                    && !adminPagePath.endsWith("/") && !adminPagePath.equals(path) && !adminPagePath.startsWith(path + "/")
                    && !adminPagePath.contains("//") && !adminPagePath.contains("?") && !adminPagePath.contains("#"),
                    "adminPagePath must start with '/', not end with '/', and lie outside the Engine.IO path, was '"
                            + adminPagePath + "'");
            require(!AdminPage.servesPath(adminPagePath, adminPath) && !adminPagePath.equals(nodesPath)
                    && !adminPagePath.equals(CONFIG_JS_PATH) && !adminPagePath.equals(io.pushbridge.http.SendApiHandler.PATH)
                    && !AdminPage.servesPath(adminPagePath, nodesPath),
                    "adminPagePath must not overlap adminPath, nodesPath, " + CONFIG_JS_PATH + " or "
                            + io.pushbridge.http.SendApiHandler.PATH + ", was '" + adminPagePath + "'");
            require(queueMetricsRefresh != null && (queueMetricsRefresh.isZero() || queueMetricsRefresh.compareTo(Duration.ofMillis(100)) >= 0),
                    "queueMetricsRefresh must be 0 (off) or at least 100 ms, was " + queueMetricsRefresh);
            return new GatewayOptions(this);
        }

        /** A URL as an error message may show it: credentials before an {@code @} replaced by {@code ***}. */
        static @Nullable String withoutCredentials(@Nullable String url) {
            return url == null ? null : url.replaceAll("(?<=//)[^/?#]*@", "***@");
        }

        private static boolean validUrl(String url) {
            java.net.URI uri;
            try {
                uri = new java.net.URI(url);
            } catch (java.net.URISyntaxException e) {
                return false;
            }
            String scheme = uri.getScheme();
            return scheme != null && List.of("http", "https", "ws", "wss").contains(scheme.toLowerCase(java.util.Locale.ROOT))
                    && uri.getHost() != null && uri.getRawUserInfo() == null && uri.getRawQuery() == null
                    && uri.getRawFragment() == null && !url.endsWith("?") && !url.endsWith("#");
        }

        private static void positive(Duration d, String name) {
            require(d != null && !d.isNegative() && !d.isZero(), name + " must be positive, was " + d);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
