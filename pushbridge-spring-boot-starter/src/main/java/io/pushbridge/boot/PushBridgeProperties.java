package io.pushbridge.boot;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.util.unit.DataSize;

/**
 * The {@code pushbridge.*} properties. They are only a binding surface: {@link PushBridgeAutoConfiguration}
 * maps them onto core's immutable {@code GatewayOptions}, {@code SiteOptions}, authorizers and
 * {@code InMemoryMessageStore} (and, with {@code pushbridge.redis.*}, {@link PushBridgeRedisAutoConfiguration}
 * onto pushbridge-redis' connector, registry, store and router), whose builders check every value; a
 * bad value fails start-up with a {@link InvalidPushBridgePropertyException} naming the property.
 *
 * <p>Defaults written here are those of core's {@code DEFAULT_*} constants (a test keeps them equal);
 * they are repeated so that the generated metadata shows them in IDEs.
 */
@ConfigurationProperties(PushBridgeProperties.PREFIX)
public class PushBridgeProperties {

    /** The prefix of every property. */
    public static final String PREFIX = "pushbridge";

    /** Whether to auto-configure the PushBridge gateway, its store, router and PushTemplate. */
    private boolean enabled = true;

    /**
     * Whether the gateway binds its port when the application context starts; false leaves that to
     * the application (PushBridgeGateway#start()). The context stops a running gateway either way.
     */
    private boolean autoStartup = true;

    /** Address the gateway binds to; 0.0.0.0 listens on every interface. */
    private String host = "0.0.0.0";

    /**
     * Port of the gateway: Socket.IO, the HTTP send API (POST /send) and static resources all share
     * it. 0 picks a free port (read it from PushBridgeGateway#port()).
     */
    private int port = 1337;

    /** Engine.IO path that Socket.IO clients connect to; must start with '/' and not end with '/'. */
    private String path = "/socket.io";

    /** How often the server pings each client (a plain number means milliseconds). */
    private Duration pingInterval = Duration.ofSeconds(25);

    /**
     * How long the server waits for a client's pong before closing the connection (a plain number
     * means milliseconds, as in the older services' io.pingTimeout).
     */
    private Duration pingTimeout = Duration.ofSeconds(20);

    /** How long an Engine.IO session may stay open without connecting to any site's namespace. */
    private Duration connectTimeout = Duration.ofSeconds(45);

    /** Largest Engine.IO payload a client may send (a plain number means bytes); at least 1KB. */
    private DataSize maxPayload = DataSize.ofBytes(1_000_000);

    /**
     * Largest message, as JSON, that may be sent through the send API or PushTemplate (a plain number
     * means bytes); at least 64B.
     */
    private DataSize maxMessageSize = DataSize.ofBytes(1_000_000);

    /** Most rooms a single send may target. */
    private int maxRoomsPerSend = 100;

    /** Longest room name, in characters, accepted from senders and authorizers. */
    private int maxRoomNameLength = 200;

    /** Longest event name, in characters. */
    private int maxEventNameLength = 100;

    /**
     * Browser origins allowed to connect to the sites that have no allowed-origins of their own:
     * scheme://host[:port], scheme://*.domain[:port] (its subdomains) or * (any); empty allows any.
     */
    private List<String> allowedOrigins = new ArrayList<>();

    /** Whether to negotiate permessage-deflate compression on WebSocket connections. */
    private boolean websocketCompression = false;

    /** Netty I/O threads; 0 lets Netty choose (twice the number of cores). */
    private int workerThreads = 0;

    /**
     * Whether the gateway's port uses Netty's native epoll transport on Linux where it loads (less CPU
     * per message than Java's NIO); false, or elsewhere, NIO.
     */
    private boolean nativeTransport = true;

    /**
     * This node's id, in logs and, with Redis, in the node registry, where it must be unique among
     * running nodes. Defaults to node-DATACENTER-WORKER from the flake-id settings; with Redis to the
     * host name followed by 8 random hex digits, new for each start.
     */
    private @Nullable String nodeId;

    /**
     * Classpath folder served over HTTP on the gateway's port (for example "public" for a demo page);
     * unset serves nothing.
     */
    private @Nullable String staticResources;

    /**
     * How long a user's queue of unacknowledged messages is kept after the user's last connection
     * closed (a plain number means seconds, as in the older services' client_ttl); 0 keeps queues
     * forever.
     */
    @DurationUnit(ChronoUnit.SECONDS)
    private Duration clientTtl = Duration.ofSeconds(3600);

    /**
     * Most unacknowledged messages kept for one user; on overflow the queue is cleared and marked for
     * resync (the client gets a resync event), never silently truncated.
     */
    private int maxPendingPerUser = 10_000;

    /**
     * How long after its client-ttl ran out a user's queue that expired holding unacknowledged
     * messages is remembered, so that the user's next connection gets a resync event (the client
     * missed those messages); 0 remembers none (the user then gets nothing). Costs one small entry
     * (a Redis key with the Redis store) per such queue for that time.
     */
    private Duration resyncMemory = Duration.ofDays(7);

    /** Parts of the time-ordered message ids that keep them unique across gateway nodes. */
    private final FlakeId flakeId = new FlakeId();

    /** Redis, for ack queues shared by several gateway nodes and routing between them. */
    private final Redis redis = new Redis();

    /**
     * Whether this node binds its port and holds client connections (a gateway node). false: an
     * application node, which only handles upstream records (an UpstreamListener bean) and sends
     * through the cluster; it needs pushbridge.redis.
     */
    private boolean serve = true;

    /**
     * The URL clients reach this gateway node at (e.g. https://io1.example.com), listed by the nodes
     * endpoint of every node for clients that pick a node themselves. Unset: this node is not listed
     * in a cluster.
     */
    private @Nullable String publicUrl;

    /** Whether the gateway serves the list of live gateway nodes (nodes-path as JSON, and /config.js). */
    private boolean nodesEndpoint = true;

    /** Where the list of live gateway nodes is served as JSON. */
    private String nodesPath = "/pushbridge/nodes";

    /** Upstream routing: client events to application nodes through Redis streams. */
    private final Upstream upstream = new Upstream();

    /** The admin view: every connection of the cluster as JSON; off unless admin.key is set. */
    private final Admin admin = new Admin();

    /** PushBridge's meters (pushbridge.metrics.*), recorded in the application's MeterRegistry. */
    private final Metrics metrics = new Metrics();

    /**
     * TLS on the gateway's port (and on admin.port): on when tls.certificate (PEM) or tls.key-store
     * is set.
     */
    private final Tls tls = new Tls();

    /** How long the handler of a client event may take before the client's callback gets a "timeout" error. */
    private Duration eventTimeout = Duration.ofSeconds(10);

    /** Client events of one socket waiting for their handler; beyond it new ones are refused ("too_many_pending"). */
    private int maxPendingEvents = 32;

    /**
     * Client events one socket may send per second on average, and in a burst; beyond it they are
     * refused ("rate_limited"). 0: no limit.
     */
    private int maxEventsPerSecond = 100;

    /**
     * How long stopping the gateway (the application context closing) may drain: new connections and
     * HTTP sends are refused (503), sends and acks in flight finish, every client is closed so that
     * it reconnects to another node, then routing stops. Must be shorter than
     * spring.lifecycle.timeout-per-shutdown-phase (30s by default), which bounds the whole phase.
     */
    private Duration shutdownTimeout = Duration.ofSeconds(20);

    /**
     * The window over which a draining gateway closes its connections, evenly, so that their clients
     * do not all reconnect to the other nodes at once (up to 5,000 a second are closed at once, and
     * at most a quarter of shutdown-timeout is used). 0 closes them all at once.
     */
    private Duration reconnectSpread = Duration.ofSeconds(2);

    /**
     * Sends (send API and PushTemplate, custom commands included) one site may make per second on
     * each node, on average and in one burst; beyond it they are refused with HTTP 429 and
     * Retry-After (RATE_LIMITED for PushTemplate). Each node keeps its own budget. 0: no limit. A
     * site may set its own (sites.NAME.limits.max-sends-per-second).
     */
    private int maxSendsPerSecond = 0;

    /**
     * Sockets one site may have on each node, those being authorized included; beyond it a connect
     * is refused with connect_error code "too_many_connections". 0: no limit. A site may set its own
     * (sites.NAME.limits.max-connections).
     */
    private int maxConnectionsPerSite = 0;

    /**
     * Bytes that may wait for one client (unsent on its connection, or queued for its next
     * long-poll) when the next message for it comes; beyond it the client's connection is closed
     * (it reconnects and gets its user queues as a batch). 0: no limit, else at least 1KB. A site
     * may set its own (sites.NAME.limits.max-buffered-bytes).
     */
    private DataSize maxBufferedBytes = DataSize.ofMegabytes(16);

    /**
     * The sites (tenants), by name; at least one is required. Each site is a Socket.IO namespace with
     * its own room authorizer, send API keys and user room prefix. Keys of a site: namespace,
     * authorizer (WEBHOOK, STATIC, ALLOW_ALL, BEAN, REDIS_HANDSHAKE, REDIS_SESSION), auth-url,
     * auth-scheme, auth-timeout, auth-max-response-size, auth-redirects, auth-redirect-hosts,
     * auth-cache-ttl, auth-cache-max-entries, auth-coalesce, auth-breaker-failures,
     * auth-breaker-cool-down, api-key, api-keys, api-key-file, allowed-origins, require-origin,
     * user-room-prefix, tokens, rooms, authorizer-bean, redis-handshake.*, redis-session.*, upstream.*,
     * limits.*.
     */
    private Map<String, Site> sites = new LinkedHashMap<>();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isAutoStartup() {
        return autoStartup;
    }

    public void setAutoStartup(boolean autoStartup) {
        this.autoStartup = autoStartup;
    }

    public String getHost() {
        return host;
    }

    public void setHost(String host) {
        this.host = host;
    }

    public int getPort() {
        return port;
    }

    public void setPort(int port) {
        this.port = port;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public Duration getPingInterval() {
        return pingInterval;
    }

    public void setPingInterval(Duration pingInterval) {
        this.pingInterval = pingInterval;
    }

    public Duration getPingTimeout() {
        return pingTimeout;
    }

    public void setPingTimeout(Duration pingTimeout) {
        this.pingTimeout = pingTimeout;
    }

    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    public void setConnectTimeout(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    public DataSize getMaxPayload() {
        return maxPayload;
    }

    public void setMaxPayload(DataSize maxPayload) {
        this.maxPayload = maxPayload;
    }

    public DataSize getMaxMessageSize() {
        return maxMessageSize;
    }

    public void setMaxMessageSize(DataSize maxMessageSize) {
        this.maxMessageSize = maxMessageSize;
    }

    public int getMaxRoomsPerSend() {
        return maxRoomsPerSend;
    }

    public void setMaxRoomsPerSend(int maxRoomsPerSend) {
        this.maxRoomsPerSend = maxRoomsPerSend;
    }

    public int getMaxRoomNameLength() {
        return maxRoomNameLength;
    }

    public void setMaxRoomNameLength(int maxRoomNameLength) {
        this.maxRoomNameLength = maxRoomNameLength;
    }

    public int getMaxEventNameLength() {
        return maxEventNameLength;
    }

    public void setMaxEventNameLength(int maxEventNameLength) {
        this.maxEventNameLength = maxEventNameLength;
    }

    public List<String> getAllowedOrigins() {
        return allowedOrigins;
    }

    public void setAllowedOrigins(List<String> allowedOrigins) {
        this.allowedOrigins = allowedOrigins;
    }

    public boolean isWebsocketCompression() {
        return websocketCompression;
    }

    public void setWebsocketCompression(boolean websocketCompression) {
        this.websocketCompression = websocketCompression;
    }

    public boolean isNativeTransport() {
        return nativeTransport;
    }

    public void setNativeTransport(boolean nativeTransport) {
        this.nativeTransport = nativeTransport;
    }

    public int getWorkerThreads() {
        return workerThreads;
    }

    public void setWorkerThreads(int workerThreads) {
        this.workerThreads = workerThreads;
    }

    public @Nullable String getNodeId() {
        return nodeId;
    }

    public void setNodeId(@Nullable String nodeId) {
        this.nodeId = nodeId;
    }

    public @Nullable String getStaticResources() {
        return staticResources;
    }

    public void setStaticResources(@Nullable String staticResources) {
        this.staticResources = staticResources;
    }

    public Duration getClientTtl() {
        return clientTtl;
    }

    public void setClientTtl(Duration clientTtl) {
        this.clientTtl = clientTtl;
    }

    public int getMaxPendingPerUser() {
        return maxPendingPerUser;
    }

    public void setMaxPendingPerUser(int maxPendingPerUser) {
        this.maxPendingPerUser = maxPendingPerUser;
    }

    public Duration getResyncMemory() {
        return resyncMemory;
    }

    public void setResyncMemory(Duration resyncMemory) {
        this.resyncMemory = resyncMemory;
    }

    public FlakeId getFlakeId() {
        return flakeId;
    }

    public @Nullable String getPublicUrl() {
        return publicUrl;
    }

    public void setPublicUrl(@Nullable String publicUrl) {
        this.publicUrl = publicUrl;
    }

    public boolean isNodesEndpoint() {
        return nodesEndpoint;
    }

    public void setNodesEndpoint(boolean nodesEndpoint) {
        this.nodesEndpoint = nodesEndpoint;
    }

    public String getNodesPath() {
        return nodesPath;
    }

    public void setNodesPath(String nodesPath) {
        this.nodesPath = nodesPath;
    }

    public boolean isServe() {
        return serve;
    }

    public void setServe(boolean serve) {
        this.serve = serve;
    }

    public Upstream getUpstream() {
        return upstream;
    }

    public Tls getTls() {
        return tls;
    }

    public Admin getAdmin() {
        return admin;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    public Duration getEventTimeout() {
        return eventTimeout;
    }

    public Duration getShutdownTimeout() {
        return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    public Duration getReconnectSpread() {
        return reconnectSpread;
    }

    public void setReconnectSpread(Duration reconnectSpread) {
        this.reconnectSpread = reconnectSpread;
    }

    public void setEventTimeout(Duration eventTimeout) {
        this.eventTimeout = eventTimeout;
    }

    public int getMaxPendingEvents() {
        return maxPendingEvents;
    }

    public void setMaxPendingEvents(int maxPendingEvents) {
        this.maxPendingEvents = maxPendingEvents;
    }

    public int getMaxEventsPerSecond() {
        return maxEventsPerSecond;
    }

    public void setMaxEventsPerSecond(int maxEventsPerSecond) {
        this.maxEventsPerSecond = maxEventsPerSecond;
    }

    public Redis getRedis() {
        return redis;
    }

    public int getMaxSendsPerSecond() {
        return maxSendsPerSecond;
    }

    public void setMaxSendsPerSecond(int maxSendsPerSecond) {
        this.maxSendsPerSecond = maxSendsPerSecond;
    }

    public int getMaxConnectionsPerSite() {
        return maxConnectionsPerSite;
    }

    public void setMaxConnectionsPerSite(int maxConnectionsPerSite) {
        this.maxConnectionsPerSite = maxConnectionsPerSite;
    }

    public DataSize getMaxBufferedBytes() {
        return maxBufferedBytes;
    }

    public void setMaxBufferedBytes(DataSize maxBufferedBytes) {
        this.maxBufferedBytes = maxBufferedBytes;
    }

    public Map<String, Site> getSites() {
        return sites;
    }

    public void setSites(Map<String, Site> sites) {
        this.sites = sites;
    }

    /**
     * The {@code pushbridge.flake-id.*} properties. Unset, they mean 0 without Redis; with Redis
     * ({@code pushbridge.redis.*}) each node leases a free (datacenter, worker) pair instead, so
     * that nodes never mint the same message id. Set them both to choose the pair yourself.
     */
    public static class FlakeId {

        /**
         * Datacenter id in message ids, 0..31; give each datacenter its own. Unset: 0, or with Redis
         * leased together with the worker id.
         */
        private @Nullable Integer datacenter;

        /**
         * Worker id in message ids, 0..31; give each gateway node of a datacenter its own. Unset: 0,
         * or with Redis leased together with the datacenter id.
         */
        private @Nullable Integer worker;

        /** The datacenter id as configured, 0 when unset (see {@link #configuredDatacenter()}). */
        public int getDatacenter() {
            return datacenter == null ? 0 : datacenter;
        }

        public void setDatacenter(@Nullable Integer datacenter) {
            this.datacenter = datacenter;
        }

        /** The worker id as configured, 0 when unset (see {@link #configuredWorker()}). */
        public int getWorker() {
            return worker == null ? 0 : worker;
        }

        public void setWorker(@Nullable Integer worker) {
            this.worker = worker;
        }

        /** The datacenter id, or {@code null} when it was not set. */
        @Nullable Integer configuredDatacenter() {
            return datacenter;
        }

        /** The worker id, or {@code null} when it was not set. */
        @Nullable Integer configuredWorker() {
            return worker;
        }
    }

    /**
     * The {@code pushbridge.redis.*} properties. Setting {@code url} or {@code cluster.nodes}
     * switches the store, the router and the node registry to Redis (pushbridge-redis must be on the
     * classpath); without either, PushBridge runs as one node in memory.
     */
    public static class Redis {

        /**
         * Redis to use, as one URI: redis://[[user]:password@]host[:port][/database] for a standalone
         * server, rediss://... for TLS, or redis-sentinel://[:password@]host1:26379,host2:26379[/database]#master
         * for Sentinel. Mutually exclusive with cluster.nodes.
         */
        private @Nullable String url;

        /** Redis Cluster; mutually exclusive with url. */
        private final Cluster cluster = new Cluster();

        /**
         * Prefix of every Redis key and channel PushBridge uses; give each deployment sharing one Redis
         * its own. Must not contain '{' or '}' (they mark Redis Cluster hash tags), spaces or control
         * characters.
         */
        private String prefix = "pushbridge:";

        /** How long a Redis command may take before it fails (a plain number means milliseconds). */
        private Duration commandTimeout = Duration.ofSeconds(2);

        /** How long connecting to Redis may take (a plain number means milliseconds). */
        private Duration connectTimeout = Duration.ofSeconds(2);

        /**
         * How often this node renews its heartbeat in the node registry (a plain number means
         * milliseconds); at least 10ms.
         */
        private Duration heartbeatInterval = Duration.ofSeconds(5);

        /**
         * After how long without a heartbeat a node counts as dead, and the other nodes release its
         * connections and sockets (a plain number means milliseconds); at least twice
         * heartbeat-interval.
         */
        private Duration nodeTimeout = Duration.ofSeconds(15);

        /**
         * Name of PushBridge's connections in Redis' CLIENT LIST; defaults to "pushbridge-" followed by
         * the node id. No spaces.
         */
        private @Nullable String clientName;

        /**
         * How long one walk of the queues in Redis answers for the queue totals of every site (the
         * queue meters, the admin page): totals are at most this old. Each walk SCANs the whole key
         * space and reads each queue holding messages; 0 shares only a walk in flight.
         */
        private Duration queueTotalsMaxAge = Duration.ofSeconds(10);

        public Duration getQueueTotalsMaxAge() {
            return queueTotalsMaxAge;
        }

        public void setQueueTotalsMaxAge(Duration queueTotalsMaxAge) {
            this.queueTotalsMaxAge = queueTotalsMaxAge;
        }

        public @Nullable String getUrl() {
            return url;
        }

        public void setUrl(@Nullable String url) {
            this.url = url;
        }

        public Cluster getCluster() {
            return cluster;
        }

        public String getPrefix() {
            return prefix;
        }

        public void setPrefix(String prefix) {
            this.prefix = prefix;
        }

        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public Duration getHeartbeatInterval() {
            return heartbeatInterval;
        }

        public void setHeartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
        }

        public Duration getNodeTimeout() {
            return nodeTimeout;
        }

        public void setNodeTimeout(Duration nodeTimeout) {
            this.nodeTimeout = nodeTimeout;
        }

        public @Nullable String getClientName() {
            return clientName;
        }

        public void setClientName(@Nullable String clientName) {
            this.clientName = clientName;
        }
    }

    /** The {@code pushbridge.redis.cluster.*} properties. */
    public static class Cluster {

        /**
         * Seed nodes of a Redis Cluster, as redis:// or rediss:// URIs (with the password, if any); the
         * rest of the topology is discovered from them and followed through failovers and resharding.
         */
        private List<String> nodes = new ArrayList<>();

        public List<String> getNodes() {
            return nodes;
        }

        public void setNodes(List<String> nodes) {
            this.nodes = nodes;
        }
    }

    /** Which redirects of auth-url the WEBHOOK authorizer follows (pushbridge.sites.NAME.auth-redirects). */
    public enum WebhookRedirects {

        /** None: a 3xx answer refuses the client (auth_rejected). */
        NEVER,

        /** Those to the host of auth-url (any port), never from https to http. */
        SAME_HOST,

        /** Those to the host of auth-url or to a host of auth-redirect-hosts, never from https to http. */
        ALLOWED_HOSTS
    }

    /**
     * The {@code pushbridge.tls.*} properties: a PEM certificate and key, or a PKCS12/JKS key store.
     * Passwords may come from files (the *-file properties) or the environment (placeholders).
     */
    public static class Tls {

        /**
         * PEM file with the server certificate, optionally followed by its chain (fullchain.pem); with
         * private-key. Turns TLS on.
         */
        private @Nullable String certificate;

        /** PEM file with the certificate's private key: PKCS#8 (plain or encrypted) or PKCS#1 RSA. */
        private @Nullable String privateKey;

        /** Password of an encrypted private-key (BEGIN ENCRYPTED PRIVATE KEY); or private-key-password-file. */
        private @Nullable String privateKeyPassword;

        /** A file holding private-key-password (trimmed); instead of private-key-password. */
        private @Nullable String privateKeyPasswordFile;

        /** PEM file with intermediate certificates, sent after the certificate (when it is not in the certificate file). */
        private @Nullable String certificateChain;

        /** A PKCS12 or JKS key store with the certificate and its key, instead of PEM files. Turns TLS on. */
        private @Nullable String keyStore;

        /** Type of key-store: PKCS12 or JKS. */
        private String keyStoreType = "PKCS12";

        /** Password of key-store; or key-store-password-file. */
        private @Nullable String keyStorePassword;

        /** A file holding key-store-password (trimmed); instead of key-store-password. */
        private @Nullable String keyStorePasswordFile;

        /** Alias of the key entry in key-store; required when it holds several. */
        private @Nullable String keyAlias;

        /** Password of the key entry, when it differs from key-store-password (JKS); or key-password-file. */
        private @Nullable String keyPassword;

        /** A file holding key-password (trimmed); instead of key-password. */
        private @Nullable String keyPasswordFile;

        /** TLS protocols offered: TLSv1.3 and/or TLSv1.2. */
        private List<String> protocols = new ArrayList<>(List.of("TLSv1.3", "TLSv1.2"));

        public @Nullable String getCertificate() {
            return certificate;
        }

        public void setCertificate(@Nullable String certificate) {
            this.certificate = certificate;
        }

        public @Nullable String getPrivateKey() {
            return privateKey;
        }

        public void setPrivateKey(@Nullable String privateKey) {
            this.privateKey = privateKey;
        }

        public @Nullable String getPrivateKeyPassword() {
            return privateKeyPassword;
        }

        public void setPrivateKeyPassword(@Nullable String privateKeyPassword) {
            this.privateKeyPassword = privateKeyPassword;
        }

        public @Nullable String getPrivateKeyPasswordFile() {
            return privateKeyPasswordFile;
        }

        public void setPrivateKeyPasswordFile(@Nullable String privateKeyPasswordFile) {
            this.privateKeyPasswordFile = privateKeyPasswordFile;
        }

        public @Nullable String getCertificateChain() {
            return certificateChain;
        }

        public void setCertificateChain(@Nullable String certificateChain) {
            this.certificateChain = certificateChain;
        }

        public @Nullable String getKeyStore() {
            return keyStore;
        }

        public void setKeyStore(@Nullable String keyStore) {
            this.keyStore = keyStore;
        }

        public String getKeyStoreType() {
            return keyStoreType;
        }

        public void setKeyStoreType(String keyStoreType) {
            this.keyStoreType = keyStoreType;
        }

        public @Nullable String getKeyStorePassword() {
            return keyStorePassword;
        }

        public void setKeyStorePassword(@Nullable String keyStorePassword) {
            this.keyStorePassword = keyStorePassword;
        }

        public @Nullable String getKeyStorePasswordFile() {
            return keyStorePasswordFile;
        }

        public void setKeyStorePasswordFile(@Nullable String keyStorePasswordFile) {
            this.keyStorePasswordFile = keyStorePasswordFile;
        }

        public @Nullable String getKeyAlias() {
            return keyAlias;
        }

        public void setKeyAlias(@Nullable String keyAlias) {
            this.keyAlias = keyAlias;
        }

        public @Nullable String getKeyPassword() {
            return keyPassword;
        }

        public void setKeyPassword(@Nullable String keyPassword) {
            this.keyPassword = keyPassword;
        }

        public @Nullable String getKeyPasswordFile() {
            return keyPasswordFile;
        }

        public void setKeyPasswordFile(@Nullable String keyPasswordFile) {
            this.keyPasswordFile = keyPasswordFile;
        }

        public List<String> getProtocols() {
            return protocols;
        }

        public void setProtocols(List<String> protocols) {
            this.protocols = protocols;
        }
    }

    /** How a site decides which rooms a connecting client joins. */
    public enum Authorizer {

        /** Asks the site's auth-url with the client's token (the default when auth-url is set). */
        WEBHOOK,

        /** A fixed table of tokens and their rooms from the tokens property; for development and demos. */
        STATIC,

        /** Admits every client, without a token, to the rooms of the rooms property; for development. */
        ALLOW_ALL,

        /** A RoomAuthorizer bean of the application, named by authorizer-bean. */
        BEAN,

        /**
         * The redis-handshake service's protocol: a client's "subscribe" event is published to Redis,
         * an "authorize" message on the ingestion channel grants the room (redis-handshake.*).
         */
        REDIS_HANDSHAKE,

        /**
         * The redis-session service's protocol: a client's "authenticate" event names a session whose
         * Redis key holds the user id; membership follows the key (redis-session.*).
         */
        REDIS_SESSION
    }

    /** Upstream routing, shared by gateway and application nodes (pushbridge.upstream.*). */
    public static class Upstream {

        /** Streams per site; a client's records all go to one of them. Every node must use the same number. */
        private int partitions = 8;

        /** On application nodes: how long a silent node keeps its partitions before another node takes them and their unacknowledged records. */
        private Duration idleTimeout = Duration.ofSeconds(30);

        /** On application nodes: attempts at a record before it goes to the dead letters with its error. */
        private int maxDeliveries = 5;

        /**
         * On application nodes: how long a listener's stage may take before the attempt counts as
         * failed; unset: half of idle-timeout.
         */
        private @Nullable Duration handleTimeout;

        /** On application nodes: records read from a partition at once. */
        private int batchSize = 100;

        public int getPartitions() {
            return partitions;
        }

        public void setPartitions(int partitions) {
            this.partitions = partitions;
        }

        public Duration getIdleTimeout() {
            return idleTimeout;
        }

        public void setIdleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
        }

        public @Nullable Duration getHandleTimeout() {
            return handleTimeout;
        }

        public void setHandleTimeout(@Nullable Duration handleTimeout) {
            this.handleTimeout = handleTimeout;
        }

        public int getMaxDeliveries() {
            return maxDeliveries;
        }

        public void setMaxDeliveries(int maxDeliveries) {
            this.maxDeliveries = maxDeliveries;
        }

        public int getBatchSize() {
            return batchSize;
        }

        public void setBatchSize(int batchSize) {
            this.batchSize = batchSize;
        }
    }

    /** A site's upstream routing (pushbridge.sites.NAME.upstream.*). */
    public static class SiteUpstream {

        /** Whether this site's client events, connects and disconnects go to the application nodes. */
        private boolean enabled = false;

        /** The client events that go upstream; empty: every event. */
        private List<String> events = new ArrayList<>();

        /**
         * The most records kept per partition stream (approximately): when the application nodes fall
         * behind by more, the oldest records are dropped.
         */
        private long maxLength = 100_000;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public List<String> getEvents() {
            return events;
        }

        public void setEvents(List<String> events) {
            this.events = events;
        }

        public long getMaxLength() {
            return maxLength;
        }

        public void setMaxLength(long maxLength) {
            this.maxLength = maxLength;
        }
    }

    /** The admin view (pushbridge.admin.*). */
    public static class Admin {

        /**
         * The key the admin view asks for ("Authorization: Bearer KEY" or header X-PushBridge-Admin-Key),
         * at least 16 characters; the admin view is off while it is unset or empty. Take it from the
         * environment, e.g. ${PUSHBRIDGE_ADMIN_KEY:}.
         */
        private @Nullable String key;

        /**
         * A file holding the admin key (read once at start-up, surrounding white space trimmed), for
         * example a mounted secret; instead of key.
         */
        private @Nullable String keyFile;

        /** Path of the admin view on the gateway's port. */
        private String path = "/pushbridge/admin/connections";

        /** A port of its own for the admin view, where it is also served at "/" (0 picks a free one); unset: none. */
        private @Nullable Integer port;

        /** At most this many connections in one answer (the answer then says "truncated": true). */
        private int maxConnections = 10_000;

        /**
         * Where the admin page (PATH/) and its JSON (PATH/overview, PATH/queue, PATH/queue/purge) are
         * served, on the gateway's port and the admin port, while the admin view is on.
         */
        private String pagePath = "/pushbridge/admin";

        /**
         * Whether the queue inspector answers: reading a user's queue (depth, oldest message's age,
         * connections, resync mark) and purging it, on the admin page and the "pushbridge" actuator
         * endpoint. Off by default; every use is logged.
         */
        private boolean queueInspector;

        public String getPagePath() {
            return pagePath;
        }

        public void setPagePath(String pagePath) {
            this.pagePath = pagePath;
        }

        public boolean isQueueInspector() {
            return queueInspector;
        }

        public void setQueueInspector(boolean queueInspector) {
            this.queueInspector = queueInspector;
        }

        public @Nullable String getKey() {
            return key;
        }

        public void setKey(@Nullable String key) {
            this.key = key;
        }

        public @Nullable String getKeyFile() {
            return keyFile;
        }

        public void setKeyFile(@Nullable String keyFile) {
            this.keyFile = keyFile;
        }

        public String getPath() {
            return path;
        }

        public void setPath(String path) {
            this.path = path;
        }

        public @Nullable Integer getPort() {
            return port;
        }

        public void setPort(@Nullable Integer port) {
            this.port = port;
        }

        public int getMaxConnections() {
            return maxConnections;
        }

        public void setMaxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
        }
    }

    /** PushBridge's meters (pushbridge.metrics.*). */
    public static class Metrics {

        /**
         * How often each gateway node reads the totals of every site's user queues from the store for
         * the queue meters (pushbridge.queue.depth, .users, .oldest.age), off the I/O threads; 0 turns
         * those meters off. At least 100ms. With Redis one walk of the queues answers for
         * redis.queue-totals-max-age: refreshing more often only repeats its totals.
         */
        private Duration queueRefresh = Duration.ofSeconds(30);

        public Duration getQueueRefresh() {
            return queueRefresh;
        }

        public void setQueueRefresh(Duration queueRefresh) {
            this.queueRefresh = queueRefresh;
        }
    }

    /** The REDIS_HANDSHAKE authorizer of a site (pushbridge.sites.NAME.redis-handshake.*). */
    public static class RedisHandshake {

        /**
         * The Redis servers (comma list or YAML list, redis:// or rediss://) whose ingestion channel the
         * gateway subscribes to, and on each of which a client's request is published; defaults to
         * pushbridge.redis.url. The old service's SOCKETIO_REDIS_URLS.
         */
        private List<String> urls = new ArrayList<>();

        /** The client event that asks for a room, with {room, uid, sid}. */
        private String event = "subscribe";

        /** Where the request {room, uid, sid, socketId, ip} is published. */
        private String authChannel = "socket.io:auth";

        /** The ingestion channel: {room, type, ...} is emitted to the room as event "type". */
        private String channel = "socket.io";

        /** The ingestion message type that joins a socket to a room: {"socketId", "type", "room"}. */
        private String authorizeType = "authorize";

        public List<String> getUrls() {
            return urls;
        }

        public void setUrls(List<String> urls) {
            this.urls = urls;
        }

        public String getEvent() {
            return event;
        }

        public void setEvent(String event) {
            this.event = event;
        }

        public String getAuthChannel() {
            return authChannel;
        }

        public void setAuthChannel(String authChannel) {
            this.authChannel = authChannel;
        }

        public String getChannel() {
            return channel;
        }

        public void setChannel(String channel) {
            this.channel = channel;
        }

        public String getAuthorizeType() {
            return authorizeType;
        }

        public void setAuthorizeType(String authorizeType) {
            this.authorizeType = authorizeType;
        }
    }

    /** The REDIS_SESSION authorizer of a site (pushbridge.sites.NAME.redis-session.*). */
    public static class RedisSession {

        /** The Redis server holding the session keys (redis:// or rediss://); defaults to pushbridge.redis.url. */
        private @Nullable String url;

        /** Session keys are this prefix followed by the session id; their value is the user id. */
        private String keyPrefix = "session-store-";

        /** The client event that names a session, with {sessionId}. */
        private String event = "authenticate";

        /** The channel of {"users": [...], "data": ...} messages; empty turns it off. */
        private String notificationsChannel = "notifications";

        /** The event that carries a notification's data to the users' connections. */
        private String notificationsEvent = "message";

        /**
         * Whether PushBridge may run CONFIG SET notify-keyspace-events when Redis does not report the
         * session keys' changes; false fails start-up instead, naming the setting Redis needs.
         */
        private boolean configureKeyspaceEvents = false;

        public @Nullable String getUrl() {
            return url;
        }

        public void setUrl(@Nullable String url) {
            this.url = url;
        }

        public String getKeyPrefix() {
            return keyPrefix;
        }

        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        public String getEvent() {
            return event;
        }

        public void setEvent(String event) {
            this.event = event;
        }

        public String getNotificationsChannel() {
            return notificationsChannel;
        }

        public void setNotificationsChannel(String notificationsChannel) {
            this.notificationsChannel = notificationsChannel;
        }

        public String getNotificationsEvent() {
            return notificationsEvent;
        }

        public void setNotificationsEvent(String notificationsEvent) {
            this.notificationsEvent = notificationsEvent;
        }

        public boolean isConfigureKeyspaceEvents() {
            return configureKeyspaceEvents;
        }

        public void setConfigureKeyspaceEvents(boolean configureKeyspaceEvents) {
            this.configureKeyspaceEvents = configureKeyspaceEvents;
        }
    }

    /**
     * {@code pushbridge.sites.<name>.limits}: the limits of one site. Each one left unset is the
     * gateway-wide value of the same name ({@code pushbridge.max-*}).
     */
    public static class SiteLimits {

        /** Largest message of the site, as JSON (a plain number means bytes); at least 64B. Unset: pushbridge.max-message-size. */
        private @Nullable DataSize maxMessageSize;

        /** Most rooms one send, join or leave of the site may name; at least 1. Unset: pushbridge.max-rooms-per-send. */
        private @Nullable Integer maxRoomsPerSend;

        /** Longest room name of the site, in characters; at least 1. Unset: pushbridge.max-room-name-length. */
        private @Nullable Integer maxRoomNameLength;

        /** Longest event name of the site, in characters; at least 1. Unset: pushbridge.max-event-name-length. */
        private @Nullable Integer maxEventNameLength;

        /**
         * Sends the site may make per second on each node (HTTP 429 beyond it); 0: no limit. Unset:
         * pushbridge.max-sends-per-second.
         */
        private @Nullable Integer maxSendsPerSecond;

        /**
         * Sockets the site may have on each node (connect_error "too_many_connections" beyond it); 0:
         * no limit. Unset: pushbridge.max-connections-per-site.
         */
        private @Nullable Integer maxConnections;

        /**
         * Client events one socket of the site may send per second ("rate_limited" beyond it); 0: no
         * limit. Unset: pushbridge.max-events-per-second.
         */
        private @Nullable Integer maxEventsPerSecond;

        /**
         * Bytes that may wait for one client of the site before its connection is closed; 0: no
         * limit, else at least 1KB. Unset: pushbridge.max-buffered-bytes.
         */
        private @Nullable DataSize maxBufferedBytes;

        public @Nullable DataSize getMaxMessageSize() {
            return maxMessageSize;
        }

        public void setMaxMessageSize(@Nullable DataSize maxMessageSize) {
            this.maxMessageSize = maxMessageSize;
        }

        public @Nullable Integer getMaxRoomsPerSend() {
            return maxRoomsPerSend;
        }

        public void setMaxRoomsPerSend(@Nullable Integer maxRoomsPerSend) {
            this.maxRoomsPerSend = maxRoomsPerSend;
        }

        public @Nullable Integer getMaxRoomNameLength() {
            return maxRoomNameLength;
        }

        public void setMaxRoomNameLength(@Nullable Integer maxRoomNameLength) {
            this.maxRoomNameLength = maxRoomNameLength;
        }

        public @Nullable Integer getMaxEventNameLength() {
            return maxEventNameLength;
        }

        public void setMaxEventNameLength(@Nullable Integer maxEventNameLength) {
            this.maxEventNameLength = maxEventNameLength;
        }

        public @Nullable Integer getMaxSendsPerSecond() {
            return maxSendsPerSecond;
        }

        public void setMaxSendsPerSecond(@Nullable Integer maxSendsPerSecond) {
            this.maxSendsPerSecond = maxSendsPerSecond;
        }

        public @Nullable Integer getMaxConnections() {
            return maxConnections;
        }

        public void setMaxConnections(@Nullable Integer maxConnections) {
            this.maxConnections = maxConnections;
        }

        public @Nullable Integer getMaxEventsPerSecond() {
            return maxEventsPerSecond;
        }

        public void setMaxEventsPerSecond(@Nullable Integer maxEventsPerSecond) {
            this.maxEventsPerSecond = maxEventsPerSecond;
        }

        public @Nullable DataSize getMaxBufferedBytes() {
            return maxBufferedBytes;
        }

        public void setMaxBufferedBytes(@Nullable DataSize maxBufferedBytes) {
            this.maxBufferedBytes = maxBufferedBytes;
        }
    }

    /** One entry of {@code pushbridge.sites}: a site (tenant), keyed by its name. */
    public static class Site {

        /** Socket.IO namespace of the site; defaults to "/" followed by the site's name. "/" is allowed. */
        private @Nullable String namespace;

        /**
         * How clients are authorized: WEBHOOK, STATIC, ALLOW_ALL or BEAN. Defaults to WEBHOOK when
         * auth-url is set; without either, start-up fails.
         */
        private @Nullable Authorizer authorizer;

        /**
         * URL the WEBHOOK authorizer calls (GET, with "Authorization: SCHEME TOKEN") to learn the rooms
         * of a client's token; must be an absolute http(s) URL.
         */
        private @Nullable String authUrl;

        /** Word before the token in the Authorization header sent to auth-url; empty sends the token alone. */
        private String authScheme = "Bearer";

        /** How long the WEBHOOK authorizer waits for auth-url to answer. */
        private Duration authTimeout = Duration.ofSeconds(5);

        /**
         * Largest answer the WEBHOOK authorizer reads from auth-url; reading stops there and the
         * client is refused (auth_invalid_response).
         */
        private DataSize authMaxResponseSize = DataSize.ofKilobytes(64);

        /**
         * Which redirects of auth-url the WEBHOOK authorizer follows: NEVER (a 3xx answer refuses the
         * client), SAME_HOST (to the host of auth-url), ALLOWED_HOSTS (to it or to auth-redirect-hosts).
         * Never from https to http; the client's token goes along.
         */
        private WebhookRedirects authRedirects = WebhookRedirects.NEVER;

        /** Host names that auth-url may redirect to when auth-redirects is ALLOWED_HOSTS. */
        private List<String> authRedirectHosts = new ArrayList<>();

        /**
         * How long the WEBHOOK authorizer reuses a positive answer for the same token (keyed by a
         * hash, never the token); 0 turns the cache off. A revoked token keeps connecting until its
         * entry expires. Refusals are never cached.
         */
        private Duration authCacheTtl = Duration.ZERO;

        /** Most tokens the WEBHOOK authorizer's cache holds; the least recently used go first. */
        private int authCacheMaxEntries = 10_000;

        /**
         * Whether identical WEBHOOK calls under way at once (same token and client address) share one
         * call to auth-url.
         */
        private boolean authCoalesce = true;

        /**
         * Failures of auth-url in a row (timeouts, connection failures, 5xx) after which connects are
         * refused at once (auth_circuit_open) for auth-breaker-cool-down; 0 turns the breaker off.
         */
        private int authBreakerFailures = 5;

        /** How long connects are refused at once after auth-breaker-failures, before one trial call. */
        private Duration authBreakerCoolDown = Duration.ofSeconds(10);

        /**
         * Browser origins allowed to connect to this site (checked against the Origin header of the
         * connection's handshake; refused with connect_error origin_not_allowed): scheme://host[:port],
         * scheme://*.domain[:port] or *. Empty: pushbridge.allowed-origins applies.
         */
        private List<String> allowedOrigins = new ArrayList<>();

        /**
         * Whether a connection whose handshake had no Origin header (a client that is not a browser)
         * is refused (origin_not_allowed).
         */
        private boolean requireOrigin = false;

        /**
         * A file with API keys for the send API, one per line (read once at start-up, trimmed, blank
         * lines skipped), for example a mounted secret; merged with api-key and api-keys.
         */
        private @Nullable String apiKeyFile;

        /** API key for the HTTP send API (POST /send?site=NAME&apiKey=KEY); merged with api-keys. */
        private @Nullable String apiKey;

        /** More API keys for the send API, for example the old and the new one during a rotation. */
        private List<String> apiKeys = new ArrayList<>();

        /** Rooms starting with this prefix are user rooms, whose messages are queued until acked; empty: none. */
        private String userRoomPrefix = "user_";

        /** For the STATIC authorizer: each accepted token with the rooms it joins. */
        private Map<String, List<String>> tokens = new LinkedHashMap<>();

        /** For the ALLOW_ALL authorizer: the rooms every client joins (often none). */
        private List<String> rooms = new ArrayList<>();

        /** For the BEAN authorizer: the name of the RoomAuthorizer bean that authorizes this site's clients. */
        private @Nullable String authorizerBean;

        /** For the REDIS_HANDSHAKE authorizer: its servers, channels and event. */
        private final RedisHandshake redisHandshake = new RedisHandshake();

        /** For the REDIS_SESSION authorizer: its server, keys, channel and event. */
        private final RedisSession redisSession = new RedisSession();

        /** Upstream routing of this site's client events to application nodes. */
        private final SiteUpstream upstream = new SiteUpstream();

        /** The site's own limits; each one left unset is the gateway-wide pushbridge.max-* value. */
        private final SiteLimits limits = new SiteLimits();

        public SiteUpstream getUpstream() {
            return upstream;
        }

        public SiteLimits getLimits() {
            return limits;
        }

        public RedisHandshake getRedisHandshake() {
            return redisHandshake;
        }

        public RedisSession getRedisSession() {
            return redisSession;
        }

        public @Nullable String getNamespace() {
            return namespace;
        }

        public void setNamespace(@Nullable String namespace) {
            this.namespace = namespace;
        }

        public @Nullable Authorizer getAuthorizer() {
            return authorizer;
        }

        public void setAuthorizer(@Nullable Authorizer authorizer) {
            this.authorizer = authorizer;
        }

        public @Nullable String getAuthUrl() {
            return authUrl;
        }

        public void setAuthUrl(@Nullable String authUrl) {
            this.authUrl = authUrl;
        }

        public String getAuthScheme() {
            return authScheme;
        }

        public void setAuthScheme(String authScheme) {
            this.authScheme = authScheme;
        }

        public Duration getAuthTimeout() {
            return authTimeout;
        }

        public void setAuthTimeout(Duration authTimeout) {
            this.authTimeout = authTimeout;
        }

        public DataSize getAuthMaxResponseSize() {
            return authMaxResponseSize;
        }

        public void setAuthMaxResponseSize(DataSize authMaxResponseSize) {
            this.authMaxResponseSize = authMaxResponseSize;
        }

        public WebhookRedirects getAuthRedirects() {
            return authRedirects;
        }

        public void setAuthRedirects(WebhookRedirects authRedirects) {
            this.authRedirects = authRedirects;
        }

        public List<String> getAuthRedirectHosts() {
            return authRedirectHosts;
        }

        public void setAuthRedirectHosts(List<String> authRedirectHosts) {
            this.authRedirectHosts = authRedirectHosts;
        }

        public Duration getAuthCacheTtl() {
            return authCacheTtl;
        }

        public void setAuthCacheTtl(Duration authCacheTtl) {
            this.authCacheTtl = authCacheTtl;
        }

        public int getAuthCacheMaxEntries() {
            return authCacheMaxEntries;
        }

        public void setAuthCacheMaxEntries(int authCacheMaxEntries) {
            this.authCacheMaxEntries = authCacheMaxEntries;
        }

        public boolean isAuthCoalesce() {
            return authCoalesce;
        }

        public void setAuthCoalesce(boolean authCoalesce) {
            this.authCoalesce = authCoalesce;
        }

        public int getAuthBreakerFailures() {
            return authBreakerFailures;
        }

        public void setAuthBreakerFailures(int authBreakerFailures) {
            this.authBreakerFailures = authBreakerFailures;
        }

        public Duration getAuthBreakerCoolDown() {
            return authBreakerCoolDown;
        }

        public void setAuthBreakerCoolDown(Duration authBreakerCoolDown) {
            this.authBreakerCoolDown = authBreakerCoolDown;
        }

        public List<String> getAllowedOrigins() {
            return allowedOrigins;
        }

        public void setAllowedOrigins(List<String> allowedOrigins) {
            this.allowedOrigins = allowedOrigins;
        }

        public boolean isRequireOrigin() {
            return requireOrigin;
        }

        public void setRequireOrigin(boolean requireOrigin) {
            this.requireOrigin = requireOrigin;
        }

        public @Nullable String getApiKeyFile() {
            return apiKeyFile;
        }

        public void setApiKeyFile(@Nullable String apiKeyFile) {
            this.apiKeyFile = apiKeyFile;
        }

        public @Nullable String getApiKey() {
            return apiKey;
        }

        public void setApiKey(@Nullable String apiKey) {
            this.apiKey = apiKey;
        }

        public List<String> getApiKeys() {
            return apiKeys;
        }

        public void setApiKeys(List<String> apiKeys) {
            this.apiKeys = apiKeys;
        }

        public String getUserRoomPrefix() {
            return userRoomPrefix;
        }

        public void setUserRoomPrefix(String userRoomPrefix) {
            this.userRoomPrefix = userRoomPrefix;
        }

        public Map<String, List<String>> getTokens() {
            return tokens;
        }

        public void setTokens(Map<String, List<String>> tokens) {
            this.tokens = tokens;
        }

        public List<String> getRooms() {
            return rooms;
        }

        public void setRooms(List<String> rooms) {
            this.rooms = rooms;
        }

        public @Nullable String getAuthorizerBean() {
            return authorizerBean;
        }

        public void setAuthorizerBean(@Nullable String authorizerBean) {
            this.authorizerBean = authorizerBean;
        }
    }
}
