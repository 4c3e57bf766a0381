package io.pushbridge.boot;

import io.pushbridge.RoomAuthorizer;
import io.pushbridge.auth.AllowAllAuthorizer;
import io.pushbridge.auth.StaticAuthorizer;
import io.pushbridge.auth.WebhookAuthorizer;
import io.pushbridge.boot.PushBridgeProperties.Authorizer;
import io.pushbridge.boot.PushBridgeProperties.Site;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TlsOptions;
import io.pushbridge.memory.InMemoryMessageStore;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.springframework.util.unit.DataSize;

/**
 * Maps {@link PushBridgeProperties} onto core's options and authorizers. Core's builders do the
 * checking; their {@link IllegalArgumentException}s, which name core's setting, are translated into
 * {@link InvalidPushBridgePropertyException}s that name the {@code pushbridge.*} property instead.
 * What core cannot know (which property a value came from, settings that conflict in the properties)
 * is checked here.
 */
final class PushBridgeOptionsMapper {

    /** Core's setting names (as its messages start) to property names under {@code pushbridge.}. */
    private static final Map<String, String> GATEWAY_SETTINGS = Map.ofEntries(
            Map.entry("host", "host"),
            Map.entry("port", "port"),
            Map.entry("path", "path"),
            Map.entry("pingInterval", "ping-interval"),
            Map.entry("pingTimeout", "ping-timeout"),
            Map.entry("connectTimeout", "connect-timeout"),
            Map.entry("maxPayload", "max-payload"),
            Map.entry("allowedOrigins", "allowed-origins"),
            Map.entry("workerThreads", "worker-threads"),
            Map.entry("maxMessageSize", "max-message-size"),
            Map.entry("maxRoomsPerSend", "max-rooms-per-send"),
            Map.entry("maxRoomNameLength", "max-room-name-length"),
            Map.entry("maxEventNameLength", "max-event-name-length"),
            Map.entry("datacenterId", "flake-id.datacenter"),
            Map.entry("workerId", "flake-id.worker"),
            Map.entry("nodeId", "node-id"),
            Map.entry("staticResources", "static-resources"),
            Map.entry("eventTimeout", "event-timeout"),
            Map.entry("maxPendingEvents", "max-pending-events"),
            Map.entry("maxEventsPerSecond", "max-events-per-second"),
            Map.entry("maxSendsPerSecond", "max-sends-per-second"),
            Map.entry("maxConnectionsPerSite", "max-connections-per-site"),
            Map.entry("maxBufferedBytes", "max-buffered-bytes"),
            Map.entry("adminKey", "admin.key"),
            Map.entry("adminPath", "admin.path"),
            Map.entry("adminPort", "admin.port"),
            Map.entry("adminMaxConnections", "admin.max-connections"),
            Map.entry("adminPagePath", "admin.page-path"),
            Map.entry("serve", "serve"),
            Map.entry("publicUrl", "public-url"),
            Map.entry("nodesPath", "nodes-path"),
            Map.entry("shutdownTimeout", "shutdown-timeout"),
            Map.entry("reconnectSpread", "reconnect-spread"),
            Map.entry("queueMetricsRefresh", "metrics.queue-refresh"));

    private static final Map<String, String> STORE_SETTINGS = Map.of(
            "maxPendingPerUser", "max-pending-per-user",
            "clientTtl", "client-ttl",
            "resyncMemory", "resync-memory");

    /** The same for one site, under {@code pushbridge.sites.<name>.}. */
    private static final Map<String, String> SITE_SETTINGS = Map.ofEntries(
            Map.entry("namespace", "namespace"),
            Map.entry("userRoomPrefix", "user-room-prefix"),
            Map.entry("api keys", "api-keys"),
            Map.entry("allowedOrigins", "allowed-origins"),
            Map.entry("maxResponseBytes", "auth-max-response-size"),
            Map.entry("redirects", "auth-redirects"),
            Map.entry("allowedRedirectHosts", "auth-redirect-hosts"),
            Map.entry("cacheTtl", "auth-cache-ttl"),
            Map.entry("cacheMaxEntries", "auth-cache-max-entries"),
            Map.entry("breakerFailures", "auth-breaker-failures"),
            Map.entry("breakerCoolDown", "auth-breaker-cool-down"),
            Map.entry("an authorizer", "authorizer"),
            Map.entry("authUrl", "auth-url"),
            Map.entry("authScheme", "auth-scheme"),
            Map.entry("auth timeout", "auth-timeout"),
            Map.entry("static authorizer: tokens", "tokens"));

    /** Core's {@code SiteLimits} settings to property names under {@code pushbridge.sites.<name>.limits.}. */
    private static final Map<String, String> LIMIT_SETTINGS = Map.of(
            "maxMessageSize", "max-message-size",
            "maxRoomsPerSend", "max-rooms-per-send",
            "maxRoomNameLength", "max-room-name-length",
            "maxEventNameLength", "max-event-name-length",
            "maxSendsPerSecond", "max-sends-per-second",
            "maxConnections", "max-connections",
            "maxEventsPerSecond", "max-events-per-second",
            "maxBufferedBytes", "max-buffered-bytes");

    private static final Pattern SIMPLE_KEY = Pattern.compile("[a-z0-9][a-z0-9-]*");

    private PushBridgeOptionsMapper() {
    }

    static GatewayOptions gatewayOptions(PushBridgeProperties p) {
        return gatewayOptions(p, null);
    }

    /**
     * The gateway's options; with an {@code identity} (Redis), its node id and flake ids replace
     * {@code pushbridge.node-id} and {@code pushbridge.flake-id.*}.
     */
    static GatewayOptions gatewayOptions(PushBridgeProperties p, @Nullable PushBridgeNodeIdentity identity) {
        GatewayOptions.Builder b = GatewayOptions.builder()
                .host(p.getHost())
                .port(p.getPort())
                .path(p.getPath())
                .pingInterval(p.getPingInterval())
                .pingTimeout(p.getPingTimeout())
                .connectTimeout(p.getConnectTimeout())
                .maxPayload(bytes(p.getMaxPayload(), "max-payload"))
                .maxMessageSize(bytes(p.getMaxMessageSize(), "max-message-size"))
                .maxRoomsPerSend(p.getMaxRoomsPerSend())
                .maxRoomNameLength(p.getMaxRoomNameLength())
                .maxEventNameLength(p.getMaxEventNameLength())
                .allowedOrigins(p.getAllowedOrigins())
                .websocketCompression(p.isWebsocketCompression())
                .workerThreads(p.getWorkerThreads())
                .nativeTransport(p.isNativeTransport())
                .datacenterId(p.getFlakeId().getDatacenter())
                .workerId(p.getFlakeId().getWorker());
        String nodeId = p.getNodeId();
        if (nodeId != null) {
            if (nodeId.isBlank()) {
                throw invalid("node-id", "must not be blank (leave it unset for node-DATACENTER-WORKER)");
            }
            b.nodeId(nodeId);
        }
        if (identity != null) {
            b.nodeId(identity.nodeId()).datacenterId(identity.datacenterId()).workerId(identity.workerId());
        }
        b.serve(p.isServe());
        if (!p.isServe() && !redisConfigured(p)) {
            throw invalid("serve", "is false (an application node), which needs the cluster's Redis: set "
                    + PushBridgeProperties.PREFIX + ".redis.url or " + PushBridgeProperties.PREFIX + ".redis.cluster.nodes");
        }
        String publicUrl = p.getPublicUrl();
        if (publicUrl != null && !publicUrl.isBlank()) {
            b.publicUrl(publicUrl.trim());
        }
        b.nodesEndpoint(p.isNodesEndpoint()).nodesPath(p.getNodesPath());
        b.eventTimeout(p.getEventTimeout()).maxPendingEvents(p.getMaxPendingEvents())
                .maxEventsPerSecond(p.getMaxEventsPerSecond())
                .maxSendsPerSecond(p.getMaxSendsPerSecond())
                .maxConnectionsPerSite(p.getMaxConnectionsPerSite())
                .maxBufferedBytes(bytes(p.getMaxBufferedBytes(), "max-buffered-bytes"));
        b.shutdownTimeout(p.getShutdownTimeout()).reconnectSpread(p.getReconnectSpread());
        PushBridgeProperties.Admin admin = p.getAdmin();
        String adminKey = secret(admin.getKey(), admin.getKeyFile(), "admin.key");
        if (admin.getKeyFile() != null && adminKey != null && adminKey.length() < 16) {
            throw invalid("admin.key-file", "the key in '" + admin.getKeyFile().trim() + "' must have at least 16 characters,"
                    + " has " + adminKey.length());
        }
        if (adminKey != null && !adminKey.isEmpty()) {
            b.adminKey(adminKey);
        }
        b.tls(tls(p.getTls()));
        b.adminPath(admin.getPath()).adminMaxConnections(admin.getMaxConnections()).adminPagePath(admin.getPagePath())
                .queueInspector(admin.isQueueInspector());
        if (admin.getPort() != null) {
            if (admin.getPort() < 0) {
                throw invalid("admin.port", "must be 0..65535 (0 picks a free port), was " + admin.getPort()
                        + "; leave it unset to serve the admin view on the gateway's port only");
            }
            b.adminPort(admin.getPort());
        }
        String staticResources = p.getStaticResources();
        if (staticResources != null && !staticResources.isBlank()) {
            b.staticResources(staticResources);
        }
        b.queueMetricsRefresh(p.getMetrics().getQueueRefresh());
        return build(PushBridgeProperties.PREFIX, GATEWAY_SETTINGS, b::build);
    }

    /**
     * {@code pushbridge.tls.*} as core's {@link TlsOptions} (which reads and checks the files), or
     * {@code null} when neither a certificate nor a key store is set.
     */
    static @Nullable TlsOptions tls(PushBridgeProperties.Tls t) {
        boolean pem = hasText(t.getCertificate()) || hasText(t.getPrivateKey());
        boolean store = hasText(t.getKeyStore());
        if (!pem && !store) {
            Map<String, Boolean> strays = new LinkedHashMap<>();
            strays.put("private-key-password", t.getPrivateKeyPassword() != null);
            strays.put("private-key-password-file", t.getPrivateKeyPasswordFile() != null);
            strays.put("certificate-chain", t.getCertificateChain() != null);
            strays.put("key-store-password", t.getKeyStorePassword() != null);
            strays.put("key-store-password-file", t.getKeyStorePasswordFile() != null);
            strays.put("key-alias", t.getKeyAlias() != null);
            strays.put("key-password", t.getKeyPassword() != null);
            strays.put("key-password-file", t.getKeyPasswordFile() != null);
            for (Map.Entry<String, Boolean> stray : strays.entrySet()) {
                if (stray.getValue()) {
                    throw invalid("tls." + stray.getKey(), "is set, but TLS is off: set " + PushBridgeProperties.PREFIX
                            + ".tls.certificate and private-key (PEM) or " + PushBridgeProperties.PREFIX + ".tls.key-store");
                }
            }
            return null;
        }
        if (pem && store) {
            throw invalid("tls.key-store", "conflicts with tls.certificate/tls.private-key: use either PEM files or a key store");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("tlsCertificate", "tls.certificate");
        settings.put("tlsPrivateKey", "tls.private-key");
        settings.put("tlsCertificateChain", "tls.certificate-chain");
        settings.put("tlsKeyStore", "tls.key-store");
        settings.put("tlsKeyStoreType", "tls.key-store-type");
        settings.put("tlsKeyAlias", "tls.key-alias");
        settings.put("tlsKeyPassword", "tls.key-password");
        settings.put("tlsProtocols", "tls.protocols");
        TlsOptions.Builder b;
        if (pem) {
            if (!hasText(t.getCertificate())) {
                throw invalid("tls.certificate", "is required with tls.private-key");
            }
            if (!hasText(t.getPrivateKey())) {
                throw invalid("tls.private-key", "is required with tls.certificate");
            }
            String password = secret(t.getPrivateKeyPassword(), t.getPrivateKeyPasswordFile(), "tls.private-key-password");
            settings.put("tlsPrivateKeyPassword", t.getPrivateKeyPasswordFile() != null
                    ? "tls.private-key-password-file" : "tls.private-key-password");
            b = TlsOptions.pem(path(t.getCertificate(), "tls.certificate"), path(t.getPrivateKey(), "tls.private-key"))
                    .privateKeyPassword(password);
            if (hasText(t.getCertificateChain())) {
                b.certificateChain(path(t.getCertificateChain(), "tls.certificate-chain"));
            }
        } else {
            String password = secret(t.getKeyStorePassword(), t.getKeyStorePasswordFile(), "tls.key-store-password");
            if (password == null) {
                throw invalid("tls.key-store-password", "is required with tls.key-store (or set tls.key-store-password-file)");
            }
            settings.put("tlsKeyStorePassword", t.getKeyStorePasswordFile() != null
                    ? "tls.key-store-password-file" : "tls.key-store-password");
            String keyPassword = secret(t.getKeyPassword(), t.getKeyPasswordFile(), "tls.key-password");
            if (t.getKeyPasswordFile() != null) {
                settings.put("tlsKeyPassword", "tls.key-password-file");
            }
            b = TlsOptions.keyStore(path(t.getKeyStore(), "tls.key-store"), password)
                    .keyStoreType(t.getKeyStoreType())
                    .keyAlias(hasText(t.getKeyAlias()) ? t.getKeyAlias().trim() : null)
                    .keyPassword(keyPassword);
        }
        b.protocols(t.getProtocols());
        return build(PushBridgeProperties.PREFIX, settings.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                Map.Entry::getKey, Map.Entry::getValue)), b::build);
    }

    private static java.nio.file.Path path(String value, String property) {
        try {
            return java.nio.file.Path.of(value.trim());
        } catch (java.nio.file.InvalidPathException e) {
            throw invalid(property, "is not a valid file path, was '" + value + "'");
        }
    }

    private static boolean hasText(@Nullable String value) {
        return value != null && !value.isBlank();
    }

    /**
     * A secret given either directly ({@code pushbridge.<property>}, often a placeholder such as
     * {@code ${ADMIN_KEY}}) or in a file ({@code pushbridge.<property>-file}, read now, a UTF-8 byte
     * order mark and surrounding white space trimmed); {@code null} when neither is set. Messages name
     * the file, never its content.
     */
    static @Nullable String secret(@Nullable String value, @Nullable String file, String property) {
        if (file == null) {
            return value;
        }
        if (value != null && !value.isEmpty()) {
            throw invalid(property + "-file", "conflicts with " + PushBridgeProperties.PREFIX + "." + property
                    + ": set one of them");
        }
        String content = readSecretFile(file, property + "-file").trim();
        if (content.isEmpty()) {
            throw invalid(property + "-file", "file '" + file.trim() + "' is empty");
        }
        return content;
    }

    /** The text of a secret's file, without a leading UTF-8 byte order mark; fails naming {@code pushbridge.<property>} when it cannot be read. */
    private static String readSecretFile(String file, String property) {
        if (file.isBlank()) {
            throw invalid(property, "must name a file, was blank");
        }
        java.nio.file.Path path = path(file, property);
        try {
            String text = java.nio.file.Files.readString(path, java.nio.charset.StandardCharsets.UTF_8);
            // an editor's byte order mark is not part of the secret (trim() leaves it)
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (java.nio.charset.MalformedInputException e) {
            throw invalid(property, "file '" + path + "' is not UTF-8 text");
        } catch (java.io.IOException e) {
            throw invalid(property, "file '" + path + "' cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    static InMemoryMessageStore messageStore(PushBridgeProperties p) {
        return build(PushBridgeProperties.PREFIX, STORE_SETTINGS, () -> InMemoryMessageStore.builder()
                .maxPendingPerUser(p.getMaxPendingPerUser())
                .clientTtl(p.getClientTtl())
                .resyncMemory(p.getResyncMemory())
                .build());
    }

    /**
     * The sites, with their authorizers.
     *
     * @param beans looks up a {@link RoomAuthorizer} bean by name for the BEAN authorizer; gets the
     *     bean name and the property that named it, and throws {@link InvalidPushBridgePropertyException}
     *     when there is no such bean
     */
    static List<SiteOptions> sites(PushBridgeProperties p, BiFunction<String, String, RoomAuthorizer> beans) {
        return sites(p, beans, null, List.of());
    }

    /**
     * Sets up a site whose authorizer lives in {@code pushbridge-redis} (REDIS_HANDSHAKE,
     * REDIS_SESSION): its authorizer, event handlers and the extension that listens to Redis.
     */
    interface RedisDrivenSites {
        void configure(String group, String name, Site site, SiteOptions.Builder builder);

        /** Sends the site's client events upstream (pushbridge.sites.NAME.upstream.enabled). */
        void upstream(String group, String name, Site site, SiteOptions.Builder builder);

        /** The extensions of the sites set up, for the gateway to start and stop. */
        List<io.pushbridge.GatewayExtension> extensions();
    }

    /**
     * The sites, with their authorizers.
     *
     * @param redis sets up the REDIS_* authorizers; {@code null} when {@code pushbridge-redis} is not on
     *     the classpath, and then a site asking for one fails start-up naming its authorizer property
     */
    static List<SiteOptions> sites(PushBridgeProperties p, BiFunction<String, String, RoomAuthorizer> beans,
            @Nullable RedisDrivenSites redis, List<PushBridgeCommandHandler> commands) {
        requireSites(p);
        for (PushBridgeCommandHandler command : commands) {
            if (!p.getSites().containsKey(command.site())) {
                throw invalid("sites", "a PushBridgeCommandHandler bean names site '" + command.site()
                        + "', which is not configured");
            }
        }
        List<SiteOptions> sites = new ArrayList<>();
        p.getSites().forEach((name, site) -> sites.add(site(name, site, p, beans, redis,
                commands.stream().filter(c -> c.site().equals(name)).toList())));
        // what is left to check across sites (a namespace used twice) is checked when the gateway is built
        return sites;
    }

    /** Whether {@code pushbridge.redis.url} or {@code pushbridge.redis.cluster.nodes} is set. */
    /**
     * How Redis is deployed, for the gateway's start and stop lines: {@code cluster} with
     * {@code pushbridge.redis.cluster.nodes}, {@code sentinel} or {@code standalone} by the scheme
     * of {@code pushbridge.redis.url}, {@code none} without either.
     */
    static String redisMode(PushBridgeProperties p) {
        String url = p.getRedis().getUrl();
        if (url != null && !url.isBlank()) {
            String scheme = url.trim().toLowerCase(java.util.Locale.ROOT);
            return scheme.startsWith("redis-sentinel:") || scheme.startsWith("rediss-sentinel:") ? "sentinel" : "standalone";
        }
        return redisConfigured(p) ? "cluster" : "none";
    }

    static boolean redisConfigured(PushBridgeProperties p) {
        String url = p.getRedis().getUrl();
        return url != null && !url.isBlank()
                || p.getRedis().getCluster().getNodes().stream().anyMatch(n -> n != null && !n.isBlank());
    }

    /** Fails naming {@code pushbridge.sites} when no site is configured. */
    static void requireSites(PushBridgeProperties p) {
        if (p.getSites().isEmpty()) {
            throw invalid("sites", "at least one site is required, for example "
                    + "pushbridge.sites.mysite.auth-url=https://mysite.example/socketrooms");
        }
    }

    private static SiteOptions site(String name, Site site, PushBridgeProperties p,
            BiFunction<String, String, RoomAuthorizer> beans, @Nullable RedisDrivenSites redis,
            List<PushBridgeCommandHandler> commands) {
        String group = sitePath(name);
        io.pushbridge.gateway.SiteLimits limits = limits(group, site.getLimits());
        Integer siteRoomLength = limits.maxRoomNameLength();
        checkUserRoomPrefix(group, site.getUserRoomPrefix(), siteRoomLength != null ? siteRoomLength : p.getMaxRoomNameLength(),
                siteRoomLength != null ? group + ".limits.max-room-name-length"
                        : PushBridgeProperties.PREFIX + ".max-room-name-length");
        List<String> apiKeys = new ArrayList<>();
        String apiKey = site.getApiKey();
        if (apiKey != null) {
            if (apiKey.isBlank()) {
                throw new InvalidPushBridgePropertyException(group + ".api-key", "must not be blank");
            }
            apiKeys.add(apiKey);
        }
        for (int i = 0; i < site.getApiKeys().size(); i++) {
            String key = site.getApiKeys().get(i);
            if (key == null || key.isBlank()) {
                throw new InvalidPushBridgePropertyException(group + ".api-keys[" + i + "]", "must not be blank");
            }
            apiKeys.add(key);
        }
        if (site.getApiKeyFile() != null) {
            String property = group + ".api-key-file";
            String text = readSecretFile(site.getApiKeyFile(), property.substring(PushBridgeProperties.PREFIX.length() + 1));
            List<String> fromFile = text.lines().map(String::trim).filter(line -> !line.isEmpty()).toList();
            if (fromFile.isEmpty()) {
                throw new InvalidPushBridgePropertyException(property, "file '" + site.getApiKeyFile().trim()
                        + "' holds no key (one per line)");
            }
            apiKeys.addAll(fromFile);
        }
        SiteOptions.Builder b = SiteOptions.builder(name)
                .apiKeys(apiKeys)
                .userRoomPrefix(site.getUserRoomPrefix())
                .limits(limits)
                .allowedOrigins(site.getAllowedOrigins().stream().map(o -> o == null ? null : o.trim()).toList())
                .requireOrigin(site.isRequireOrigin());
        if (site.getNamespace() != null) {
            b.namespace(site.getNamespace());
        }
        RoomAuthorizer authorizer = authorizer(group, site, beans);
        if (authorizer != null) {
            b.authorizer(authorizer);
        } else if (redis == null) {
            throw new InvalidPushBridgePropertyException(group + ".authorizer", "the " + site.getAuthorizer()
                    + " authorizer needs io.pushbridge:pushbridge-redis on the classpath; add that dependency");
        } else {
            redis.configure(group, name, site, b);
        }
        if (site.getUpstream().isEnabled() && p.isServe()) {
            if (redis == null) {
                throw new InvalidPushBridgePropertyException(group + ".upstream.enabled",
                        "upstream routing needs io.pushbridge:pushbridge-redis on the classpath; add that dependency");
            }
            redis.upstream(group, name, site, b);
        }
        for (PushBridgeCommandHandler command : commands) {
            try {
                b.onCommand(command.type(), command.handler());
            } catch (IllegalArgumentException e) {
                throw new InvalidPushBridgePropertyException(group, "PushBridgeCommandHandler: " + e.getMessage(), e);
            }
        }
        return build(group, SITE_SETTINGS, b::build);
    }

    /** The site's own limits ({@code <group>.limits.*}); those left unset are the gateway's. */
    static io.pushbridge.gateway.SiteLimits limits(String group, PushBridgeProperties.SiteLimits p) {
        String limitsGroup = group + ".limits";
        Integer maxMessageSize = p.getMaxMessageSize() == null ? null
                : fullBytes(p.getMaxMessageSize(), limitsGroup + ".max-message-size");
        Integer maxBufferedBytes = p.getMaxBufferedBytes() == null ? null
                : fullBytes(p.getMaxBufferedBytes(), limitsGroup + ".max-buffered-bytes");
        return build(limitsGroup, LIMIT_SETTINGS, () -> io.pushbridge.gateway.SiteLimits.builder()
                .maxMessageSize(maxMessageSize)
                .maxRoomsPerSend(p.getMaxRoomsPerSend())
                .maxRoomNameLength(p.getMaxRoomNameLength())
                .maxEventNameLength(p.getMaxEventNameLength())
                .maxSendsPerSecond(p.getMaxSendsPerSecond())
                .maxConnections(p.getMaxConnections())
                .maxEventsPerSecond(p.getMaxEventsPerSecond())
                .maxBufferedBytes(maxBufferedBytes)
                .build());
    }

    /**
     * The largest message of a site in bytes: its {@code limits.max-message-size}, else
     * {@code pushbridge.max-message-size}. Bounds what its Redis channels read, too.
     */
    static int maxMessageSize(PushBridgeProperties p, PushBridgeProperties.Site site) {
        DataSize own = site.getLimits().getMaxMessageSize();
        return (int) Math.min(Integer.MAX_VALUE, (own != null ? own : p.getMaxMessageSize()).toBytes());
    }

    /** The authorizer; {@code null} for the REDIS_* ones, which {@link RedisDrivenSites} sets up. */
    private static @Nullable RoomAuthorizer authorizer(String group, Site site, BiFunction<String, String, RoomAuthorizer> beans) {
        Authorizer kind = site.getAuthorizer();
        if (kind == null) {
            if (site.getAuthUrl() == null) {
                throw new InvalidPushBridgePropertyException(group + ".auth-url", "is required: set it to the URL that "
                        + "answers with the rooms of a token, or set " + group
                        + ".authorizer to STATIC, ALLOW_ALL, BEAN, REDIS_HANDSHAKE or REDIS_SESSION");
            }
            kind = Authorizer.WEBHOOK;
        }
        conflict(group, kind, Authorizer.WEBHOOK, "auth-url", site.getAuthUrl() != null);
        conflict(group, kind, Authorizer.STATIC, "tokens", !site.getTokens().isEmpty());
        conflict(group, kind, Authorizer.ALLOW_ALL, "rooms", !site.getRooms().isEmpty());
        conflict(group, kind, Authorizer.BEAN, "authorizer-bean", site.getAuthorizerBean() != null);
        conflict(group, kind, Authorizer.REDIS_HANDSHAKE, "redis-handshake.urls", !site.getRedisHandshake().getUrls().isEmpty());
        conflict(group, kind, Authorizer.REDIS_SESSION, "redis-session.url", site.getRedisSession().getUrl() != null);
        return switch (kind) {
            case WEBHOOK -> webhook(group, site);
            case STATIC -> {
                if (site.getTokens().isEmpty()) {
                    throw new InvalidPushBridgePropertyException(group + ".tokens",
                            "the STATIC authorizer needs at least one token with its rooms");
                }
                Map<String, Set<String>> rooms = new LinkedHashMap<>();
                site.getTokens().forEach((token, list) -> rooms.put(token, new LinkedHashSet<>(list)));
                yield build(group, SITE_SETTINGS, () -> new StaticAuthorizer(rooms));
            }
            case ALLOW_ALL -> new AllowAllAuthorizer(new LinkedHashSet<>(site.getRooms()));
            case BEAN -> {
                String bean = site.getAuthorizerBean();
                if (bean == null || bean.isBlank()) {
                    throw new InvalidPushBridgePropertyException(group + ".authorizer-bean",
                            "is required when the authorizer is BEAN: name a RoomAuthorizer bean");
                }
                yield beans.apply(bean, group + ".authorizer-bean");
            }
            case REDIS_HANDSHAKE, REDIS_SESSION -> null;
        };
    }

    private static RoomAuthorizer webhook(String group, Site site) {
        String url = site.getAuthUrl();
        if (url == null || url.isBlank()) {
            throw new InvalidPushBridgePropertyException(group + ".auth-url", "is required when the authorizer is WEBHOOK");
        }
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new InvalidPushBridgePropertyException(group + ".auth-url",
                    "must be an absolute http(s) URL, was '" + url + "'", e);
        }
        long maxResponse = site.getAuthMaxResponseSize() == null ? -1 : site.getAuthMaxResponseSize().toBytes();
        if (maxResponse < 2 || maxResponse > Integer.MAX_VALUE) {
            throw new InvalidPushBridgePropertyException(group + ".auth-max-response-size", "must be 2B.."
                    + Integer.MAX_VALUE + "B, was " + site.getAuthMaxResponseSize());
        }
        WebhookAuthorizer.Redirects redirects = site.getAuthRedirects() == null ? null
                : WebhookAuthorizer.Redirects.valueOf(site.getAuthRedirects().name());
        return build(group, SITE_SETTINGS, () -> WebhookAuthorizer.builder(uri)
                .scheme(site.getAuthScheme())
                .timeout(site.getAuthTimeout())
                .maxResponseBytes((int) maxResponse)
                .redirects(redirects)
                .allowedRedirectHosts(new LinkedHashSet<>(site.getAuthRedirectHosts().stream()
                        .map(h -> h == null ? null : h.trim()).toList()))
                .cacheTtl(site.getAuthCacheTtl())
                .cacheMaxEntries(site.getAuthCacheMaxEntries())
                .coalesce(site.isAuthCoalesce())
                .breakerFailures(site.getAuthBreakerFailures())
                .breakerCoolDown(site.getAuthBreakerCoolDown())
                .build());
    }

    /** A property that only another authorizer reads is set: say which two conflict. */
    private static void conflict(String group, Authorizer kind, Authorizer owner, String property, boolean set) {
        if (set && kind != owner) {
            throw new InvalidPushBridgePropertyException(group + "." + property, "is only read by the " + owner
                    + " authorizer, but " + group + ".authorizer is " + kind + "; remove one of them");
        }
    }

    /**
     * A prefix that no room name could carry (as long as the room name limit) would silently turn
     * off the ack queues of the site, so it is refused here; core checks the prefix itself.
     */
    private static void checkUserRoomPrefix(String group, @Nullable String prefix, int maxRoomNameLength,
            String lengthProperty) {
        String property = group + ".user-room-prefix";
        if (prefix == null) {
            throw new InvalidPushBridgePropertyException(property, "must not be null (use \"\" for no user rooms)");
        }
        if (prefix.length() >= maxRoomNameLength) {
            throw new InvalidPushBridgePropertyException(property, "must be shorter than " + lengthProperty + " ("
                    + maxRoomNameLength + ") so that a user room name can follow it, was " + prefix.length() + " characters");
        }
    }

    /** A byte size, checked to fit an int, naming its property ({@code property} without {@code pushbridge.}). */
    private static int bytes(DataSize size, String property) {
        return fullBytes(size, PushBridgeProperties.PREFIX + "." + property);
    }

    /** A byte size, checked to fit an int, naming its full property (a site's). */
    private static int fullBytes(DataSize size, String fullProperty) {
        long bytes = size.toBytes();
        if (bytes > Integer.MAX_VALUE || bytes < Integer.MIN_VALUE) {
            throw new InvalidPushBridgePropertyException(fullProperty, "must be at most " + Integer.MAX_VALUE + "B, was " + size);
        }
        return (int) bytes;
    }

    /** Runs a core builder, translating its {@link IllegalArgumentException} into a property error. */
    private static <T> T build(String group, Map<String, String> settings, Supplier<T> builder) {
        try {
            return builder.get();
        } catch (IllegalArgumentException e) {
            throw translate(group, settings, e);
        }
    }

    /**
     * Turns core's {@code "<setting> <reason>"} (optionally after {@code "site '<name>': "}) into
     * {@code "<group>.<property>: <reason>"}; an unknown setting is reported on the group.
     */
    static InvalidPushBridgePropertyException translate(String group, Map<String, String> settings, IllegalArgumentException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        String text = message.replaceFirst("^site '[^']*': ", "");
        String match = null;
        for (String setting : settings.keySet()) {
            if (text.startsWith(setting + " ") && (match == null || setting.length() > match.length())) {
                match = setting;
            }
        }
        if (match == null) {
            return new InvalidPushBridgePropertyException(group, text, e);
        }
        return new InvalidPushBridgePropertyException(group + "." + settings.get(match),
                text.substring(match.length() + 1), e);
    }

    /** {@code pushbridge.sites.<name>}, or {@code pushbridge.sites[<name>]} for a name that needs brackets. */
    static String sitePath(String name) {
        String base = PushBridgeProperties.PREFIX + ".sites";
        return SIMPLE_KEY.matcher(name).matches() ? base + "." + name : base + "[" + name + "]";
    }

    private static InvalidPushBridgePropertyException invalid(String property, String reason) {
        return new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + "." + property, reason);
    }
}
