package io.pushbridge.boot;

import io.pushbridge.GatewayExtension;
import io.pushbridge.boot.PushBridgeProperties.Site;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.handshake.RedisHandshake;
import io.pushbridge.redis.session.RedisSessions;
import io.pushbridge.redis.upstream.RedisUpstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Sets up the sites whose authorizer is REDIS_HANDSHAKE or REDIS_SESSION (the two Redis-driven
 * services PushBridge replaces): connects to their Redis servers, builds {@link RedisHandshake} or
 * {@link RedisSessions} from {@code pushbridge.sites.NAME.redis-handshake.*} and
 * {@code redis-session.*}, and keeps them as gateway extensions. Closes its connections when the
 * context closes (after the gateway stopped). Every bad value fails start-up naming its property.
 */
final class PushBridgeRedisDrivenSites implements PushBridgeOptionsMapper.RedisDrivenSites, AutoCloseable {

    private static final Pattern SERVER_SEPARATOR = Pattern.compile(",(?=\\s*[A-Za-z][A-Za-z0-9+.-]*://)");

    private final PushBridgeProperties properties;
    private final org.springframework.beans.factory.ObjectProvider<RedisConnector> clusterConnector;
    private final List<RedisConnector> connectors = new ArrayList<>();
    private final List<GatewayExtension> extensions = new ArrayList<>();

    /** @param clusterConnector the cluster's connection (pushbridge.redis.*), when configured: upstream routing needs it */
    PushBridgeRedisDrivenSites(PushBridgeProperties properties,
            org.springframework.beans.factory.ObjectProvider<RedisConnector> clusterConnector) {
        this.properties = properties;
        this.clusterConnector = clusterConnector;
    }

    @Override
    public synchronized void configure(String group, String name, Site site, SiteOptions.Builder builder) {
        switch (site.getAuthorizer()) {
            case REDIS_HANDSHAKE -> handshake(group, name, site, builder);
            case REDIS_SESSION -> session(group, name, site, builder);
            default -> throw new IllegalArgumentException("not a Redis-driven authorizer: " + site.getAuthorizer());
        }
    }

    private void handshake(String group, String name, Site site, SiteOptions.Builder builder) {
        PushBridgeProperties.RedisHandshake p = site.getRedisHandshake();
        int maxMessageSize = PushBridgeOptionsMapper.maxMessageSize(properties, site);
        String property = group + ".redis-handshake.urls";
        List<String> urls = new ArrayList<>();
        // "a,b" (SOCKETIO_REDIS_URLS) binds as one entry or several depending on the source, and a
        // Sentinel URI has commas of its own (redis-sentinel://h1,h2/0#m): a new entry starts where a
        // scheme does
        for (String part : SERVER_SEPARATOR.split(String.join(",", p.getUrls()))) {
            if (!part.isBlank()) {
                urls.add(part.trim());
            }
        }
        if (urls.isEmpty()) {
            urls.add(defaultUrl(property));
        }
        List<RedisConnector> servers = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            servers.add(connect(urls.get(i), urls.size() == 1 && p.getUrls().isEmpty() ? PushBridgeRedisSupport.URL
                    : property + "[" + i + "]", name));
        }
        RedisHandshake handshake = build(group, "redis-handshake", () -> RedisHandshake.builder(name)
                .servers(servers)
                .event(p.getEvent())
                .authChannel(p.getAuthChannel())
                .channel(p.getChannel())
                .authorizeType(p.getAuthorizeType())
                .maxMessageSize(maxMessageSize)
                .build());
        applied(group, "redis-handshake", () -> handshake.applyTo(builder));
        extensions.add(handshake);
    }

    private void session(String group, String name, Site site, SiteOptions.Builder builder) {
        PushBridgeProperties.RedisSession p = site.getRedisSession();
        String g = group + ".redis-session";
        int maxMessageSize = PushBridgeOptionsMapper.maxMessageSize(properties, site);
        RedisConnector redis = p.getUrl() != null ? connect(p.getUrl(), g + ".url", name)
                : connect(defaultUrl(g + ".url"), PushBridgeRedisSupport.URL, name);
        RedisSessions sessions = build(group, "redis-session", () -> RedisSessions.builder(name)
                .redis(redis)
                .keyPrefix(p.getKeyPrefix())
                .event(p.getEvent())
                .roomPrefix(site.getUserRoomPrefix())
                .notificationsChannel(p.getNotificationsChannel())
                .notificationsEvent(p.getNotificationsEvent())
                .configureKeyspaceEvents(p.isConfigureKeyspaceEvents())
                .maxMessageSize(maxMessageSize)
                .build());
        applied(group, "redis-session", () -> sessions.applyTo(builder));
        extensions.add(sessions);
    }

    /** Sends the site's client events, connects and disconnects to the application nodes ({@link RedisUpstream}). */
    @Override
    public synchronized void upstream(String group, String name, Site site, SiteOptions.Builder builder) {
        RedisConnector cluster = clusterConnector.getIfUnique();
        if (cluster == null) {
            throw new InvalidPushBridgePropertyException(group + ".upstream.enabled", "upstream routing needs the cluster's "
                    + "Redis: set " + PushBridgeRedisSupport.URL + " (or " + PushBridgeRedisSupport.CLUSTER_NODES + ")");
        }
        PushBridgeProperties.SiteUpstream p = site.getUpstream();
        int maxMessageSize = PushBridgeOptionsMapper.maxMessageSize(properties, site);
        int partitions = properties.getUpstream().getPartitions();
        if (partitions < 1 || partitions > 1024) {
            // a setting of every node, not of the site
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".upstream.partitions",
                    "must be 1..1024, was " + partitions);
        }
        RedisUpstream upstream = build(group, "upstream", () -> RedisUpstream.builder(name, cluster,
                        PushBridgeRedisSupport.keys(properties.getRedis()))
                .partitions(properties.getUpstream().getPartitions())
                .events(new java.util.LinkedHashSet<>(p.getEvents()))
                .maxLength(p.getMaxLength())
                .maxRecordSize(maxMessageSize)
                .build());
        applied(group, "upstream", () -> upstream.applyTo(builder));
        extensions.add(upstream);
    }

    /** {@code pushbridge.redis.url}, which a site's own Redis setting defaults to. */
    private String defaultUrl(String property) {
        String url = properties.getRedis().getUrl();
        if (url == null || url.isBlank()) {
            throw new InvalidPushBridgePropertyException(property, "is required (or set " + PushBridgeRedisSupport.URL
                    + ", which it defaults to)");
        }
        return url;
    }

    private RedisConnector connect(String url, String property, String site) {
        String nodeId = properties.getNodeId() != null ? properties.getNodeId() : "node";
        RedisConnector connector = PushBridgeRedisSupport.connector(url, property, properties.getRedis(),
                PushBridgeRedisSupport.defaultClientName(nodeId + "-" + site));
        connectors.add(connector);
        return connector;
    }

    /**
     * The builders' setting names, as their messages quote them, and the properties under the
     * site's group that set them; longer names first, so that "authChannel" is not taken for
     * "channel".
     */
    private static final List<Map.Entry<String, String>> SETTINGS = List.of(
            Map.entry("notificationsChannel", "redis-session.notifications-channel"),
            Map.entry("notificationsEvent", "redis-session.notifications-event"),
            Map.entry("authorizeType", "redis-handshake.authorize-type"),
            Map.entry("authChannel", "redis-handshake.auth-channel"),
            Map.entry("keyPrefix", "redis-session.key-prefix"),
            Map.entry("roomPrefix", "user-room-prefix"),
            Map.entry("channel", "redis-handshake.channel"),
            Map.entry("maxLength", "upstream.max-length"),
            Map.entry("events", "upstream.events"));

    /** Builds, turning a builder's complaint into a failure naming the property it is about. */
    private static <T> T build(String group, String mode, Supplier<T> builder) {
        try {
            return builder.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            for (Map.Entry<String, String> setting : SETTINGS) {
                if (Pattern.compile("\\b" + setting.getKey() + "\\b").matcher(message).find()) {
                    throw new InvalidPushBridgePropertyException(group + "." + setting.getValue(), message, e);
                }
            }
            if (Pattern.compile("\\bevent\\b").matcher(message).find()) {
                throw new InvalidPushBridgePropertyException(group + "." + mode + ".event", message, e);
            }
            throw new InvalidPushBridgePropertyException(group + "." + mode, message, e);
        }
    }

    private static void applied(String group, String mode, Runnable apply) {
        build(group, mode, () -> {
            apply.run();
            return null;
        });
    }

    @Override
    public synchronized List<GatewayExtension> extensions() {
        return List.copyOf(extensions);
    }

    @Override
    public synchronized void close() {
        for (RedisConnector connector : connectors) {
            connector.close();
        }
        connectors.clear();
    }

    @Override
    public String toString() {
        return "PushBridgeRedisDrivenSites[" + extensions.size() + " site(s)]";
    }
}
