package io.pushbridge.boot;

import io.lettuce.core.RedisURI;
import io.pushbridge.PushBridgeException;
import io.pushbridge.UpstreamListener;
import io.pushbridge.boot.PushBridgeProperties.Redis;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps {@code pushbridge.redis.*} (and the node id and flake id properties) onto pushbridge-redis'
 * connector, registry and store, the way {@link PushBridgeOptionsMapper} does for core: values are
 * checked here, or by the builders whose {@link IllegalArgumentException}s are translated into
 * {@link InvalidPushBridgePropertyException}s naming the property. No message ever shows a Redis
 * password: URIs are shown with their user info replaced by {@code ***}.
 *
 * <p>Only {@link PushBridgeRedisAutoConfiguration} uses this class, so it is only loaded when
 * pushbridge-redis is on the classpath.
 */
final class PushBridgeRedisSupport {

    private static final Logger log = LoggerFactory.getLogger(PushBridgeRedisSupport.class);

    static final String GROUP = PushBridgeProperties.PREFIX + ".redis";
    static final String URL = GROUP + ".url";
    static final String CLUSTER_NODES = GROUP + ".cluster.nodes";

    /** pushbridge-redis' setting names to property names under {@code pushbridge.}. */
    private static final Map<String, String> SETTINGS = Map.ofEntries(
            Map.entry("prefix", "redis.prefix"),
            Map.entry("commandTimeout", "redis.command-timeout"),
            Map.entry("connectTimeout", "redis.connect-timeout"),
            Map.entry("heartbeatInterval", "redis.heartbeat-interval"),
            Map.entry("nodeTimeout", "redis.node-timeout"),
            Map.entry("nodeId", "node-id"),
            Map.entry("maxPendingPerUser", "max-pending-per-user"),
            Map.entry("clientTtl", "client-ttl"),
            Map.entry("resyncMemory", "resync-memory"),
            Map.entry("siteQueuesMaxAge", "redis.queue-totals-max-age"));

    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://");
    /** The user info of every URI in a text: from {@code ://} to the last {@code @} before a path or space. */
    private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^/\\s]*@");
    /** The user info of one URI, which may contain spaces (it should not, but a password might). */
    private static final Pattern URI_USER_INFO = Pattern.compile("(?<=://)[^/]*@");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._%-]+");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?");
    private static final Set<String> SCHEMES = Set.of("redis", "rediss", "redis-sentinel", "rediss-sentinel");
    private static final SecureRandom RANDOM = new SecureRandom();

    private PushBridgeRedisSupport() {
    }

    // ---- checks --------------------------------------------------------------------------------

    /** Checks every {@code pushbridge.redis.*} value; throws naming the first bad one. */
    static void validate(Redis r) {
        String url = r.getUrl();
        boolean hasUrl = url != null && !url.isBlank();
        List<String> nodes = r.getCluster().getNodes();
        if (hasUrl && !nodes.isEmpty()) {
            throw new InvalidPushBridgePropertyException(URL, "set either " + URL + " (standalone Redis or Sentinel) or "
                    + CLUSTER_NODES + " (Redis Cluster), not both");
        }
        if (hasUrl) {
            checkUri(URL, url.trim(), true);
        }
        for (int i = 0; i < nodes.size(); i++) {
            String node = nodes.get(i);
            String property = CLUSTER_NODES + "[" + i + "]";
            if (node == null || node.isBlank()) {
                throw new InvalidPushBridgePropertyException(property, "must not be blank");
            }
            checkUri(property, node.trim(), false);
        }
        positive(r.getCommandTimeout(), "command-timeout");
        positive(r.getConnectTimeout(), "connect-timeout");
        positive(r.getHeartbeatInterval(), "heartbeat-interval");
        positive(r.getNodeTimeout(), "node-timeout");
        if (r.getHeartbeatInterval().toMillis() < 10) {
            throw new InvalidPushBridgePropertyException(GROUP + ".heartbeat-interval",
                    "must be at least 10ms, was " + format(r.getHeartbeatInterval()));
        }
        if (r.getNodeTimeout().compareTo(r.getHeartbeatInterval().multipliedBy(2)) < 0) {
            throw new InvalidPushBridgePropertyException(GROUP + ".node-timeout", "must be at least twice " + GROUP
                    + ".heartbeat-interval (" + format(r.getHeartbeatInterval()) + "), so that one late heartbeat does "
                    + "not make a live node count as dead; was " + format(r.getNodeTimeout()));
        }
        keys(r);
        String clientName = r.getClientName();
        if (clientName != null && (clientName.isBlank() || !clientName.chars().allMatch(c -> c > ' ' && c < 127))) {
            throw new InvalidPushBridgePropertyException(GROUP + ".client-name", "must be printable ASCII without "
                    + "spaces (Redis' CLIENT SETNAME refuses anything else), was '" + clientName + "'");
        }
    }

    /**
     * A {@code redis://}, {@code rediss://} or (where Sentinel is allowed) {@code redis-sentinel://}
     * URI with valid hosts and ports. Lettuce's own parsing is lenient (it takes
     * {@code host:notaport} for a host name), so the authority is checked here first.
     */
    private static void checkUri(String property, String text, boolean sentinelAllowed) {
        String shown = redact(text, List.of(text));
        Matcher m = SCHEME.matcher(text);
        String expected = sentinelAllowed ? "a redis://, rediss:// or redis-sentinel:// URI"
                : "a redis:// or rediss:// URI (each cluster node on its own)";
        if (!m.find()) {
            throw new InvalidPushBridgePropertyException(property, "must be " + expected + ", such as redis://host:6379, was '"
                    + shown + "'");
        }
        String scheme = m.group(1); // Lettuce takes lower case only
        boolean sentinel = scheme.endsWith("-sentinel");
        if (!SCHEMES.contains(scheme) || (sentinel && !sentinelAllowed)) {
            throw new InvalidPushBridgePropertyException(property, "must be " + expected + ", was '" + shown + "'");
        }
        String rest = text.substring(m.end());
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = rest.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        String authority = rest.substring(0, end);
        String hosts = authority.substring(authority.lastIndexOf('@') + 1);
        if (hosts.isEmpty()) {
            throw new InvalidPushBridgePropertyException(property, "has no host, was '" + shown + "'");
        }
        String[] list = hosts.split(",", -1);
        if (list.length > 1 && !sentinel) {
            throw new InvalidPushBridgePropertyException(property, "names several hosts, which only a redis-sentinel:// URI "
                    + "may" + (sentinelAllowed ? "" : " (list each cluster node as its own entry)") + ", was '" + shown + "'");
        }
        for (String hostPort : list) {
            checkHostPort(property, hostPort, shown);
        }
        String masterError = "must name the Sentinel master after '#', as in "
                + "redis-sentinel://host1:26379,host2:26379#mymaster, was '" + shown + "'";
        if (sentinel && !text.contains("#") && !text.contains("sentinelMasterId=")) {
            throw new InvalidPushBridgePropertyException(property, masterError);
        }
        RedisURI uri;
        try {
            uri = RedisURI.create(text);
        } catch (RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().replace(text, shown);
            throw new InvalidPushBridgePropertyException(property, "is not a valid Redis URI (" + redact(why, List.of(text))
                    + "), was '" + shown + "'");
        }
        if (sentinel && (uri.getSentinelMasterId() == null || uri.getSentinelMasterId().isBlank())) {
            throw new InvalidPushBridgePropertyException(property, masterError);
        }
    }

    private static void checkHostPort(String property, String hostPort, String shown) {
        String host;
        String port = null;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            String after = close < 0 ? "" : hostPort.substring(close + 1);
            if (close < 0 || (!after.isEmpty() && !after.startsWith(":"))) {
                throw new InvalidPushBridgePropertyException(property, "has an invalid host '" + hostPort + "', was '"
                        + shown + "'");
            }
            host = hostPort.substring(1, close);
            port = after.isEmpty() ? null : after.substring(1);
            if (!IPV6.matcher(host).matches()) {
                throw new InvalidPushBridgePropertyException(property, "has an invalid IPv6 address '" + host + "', was '"
                        + shown + "'");
            }
        } else {
            int colon = hostPort.indexOf(':');
            host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            port = colon < 0 ? null : hostPort.substring(colon + 1);
            if (host.isEmpty() || !HOST_NAME.matcher(host).matches()) {
                throw new InvalidPushBridgePropertyException(property, "has an invalid host '" + host + "' (an IPv6 address "
                        + "goes in brackets: [::1]:6379), was '" + shown + "'");
            }
        }
        if (port != null) {
            int value = -1;
            if (!port.isEmpty() && port.length() <= 5 && port.chars().allMatch(Character::isDigit)) {
                value = Integer.parseInt(port);
            }
            if (value < 1 || value > 65535) {
                throw new InvalidPushBridgePropertyException(property, "has an invalid port '" + port + "' (1..65535), was '"
                        + shown + "'");
            }
        }
    }

    private static void positive(@Nullable Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new InvalidPushBridgePropertyException(GROUP + "." + name, "must be positive, was "
                    + (d == null ? "null" : format(d)));
        }
    }

    /** A duration as in properties: {@code 5s}, {@code 250ms}. */
    static String format(Duration d) {
        long millis = d.toMillis();
        return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
    }

    // ---- the node id -----------------------------------------------------------------------------

    /**
     * {@code pushbridge.node-id}, checked for use in Redis key and channel names, or
     * {@code generated} when it is unset.
     */
    static String nodeId(@Nullable String configured, java.util.function.Supplier<String> generated) {
        String property = PushBridgeProperties.PREFIX + ".node-id";
        if (configured == null) {
            return generated.get();
        }
        if (configured.isBlank()) {
            throw new InvalidPushBridgePropertyException(property, "must not be blank (leave it unset for a generated id)");
        }
        if (!configured.chars().allMatch(c -> c > ' ' && c != 127 && c != '{' && c != '}')) {
            throw new InvalidPushBridgePropertyException(property, "must not contain '{', '}', spaces or control characters: "
                    + "with Redis it is part of key and channel names, was '" + configured + "'");
        }
        return configured;
    }

    /**
     * {@code <host name>-<8 random hex digits>}: readable in logs and {@code CLIENT LIST}, and new for
     * each start, so that two processes never share one id (which would corrupt the node registry),
     * not even two on one host or a restart while the old process is still being reaped.
     */
    static String generateNodeId() {
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        return hostName() + "-" + HexFormat.of().formatHex(random);
    }

    private static String hostName() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            name = System.getenv("COMPUTERNAME");
        }
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (Exception | Error e) {
                name = null;
            }
        }
        String clean = name == null ? "" : name.trim().replaceAll("[^A-Za-z0-9._-]", "-");
        if (clean.length() > 48) {
            clean = clean.substring(0, 48);
        }
        return clean.isEmpty() ? "pushbridge" : clean;
    }

    // ---- building ----------------------------------------------------------------------------------

    /**
     * Connects to Redis. Fails with {@link InvalidPushBridgePropertyException} for a bad value, and
     * with a {@link PushBridgeException} "Could not connect to Redis at ... (pushbridge.redis.url): ..."
     * when Redis cannot be reached.
     */
    static RedisConnector connector(Redis r, String nodeId) {
        validate(r);
        String clientName = r.getClientName() != null ? r.getClientName() : defaultClientName(nodeId);
        RedisConnector.Builder b = RedisConnector.builder()
                .commandTimeout(r.getCommandTimeout())
                .connectTimeout(r.getConnectTimeout())
                .clientName(clientName);
        String url = r.getUrl();
        String property;
        List<String> uris;
        if (url != null && !url.isBlank()) {
            property = URL;
            uris = List.of(url.trim());
            b.uri(url.trim());
        } else {
            property = CLUSTER_NODES;
            uris = r.getCluster().getNodes().stream().map(String::trim).toList();
            b.cluster(uris);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            // not expected after validate(); the message is redacted and the cause left out, as it may
            // quote the URI with its password
            InvalidPushBridgePropertyException translated = PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX,
                    SETTINGS, new IllegalArgumentException(redact(String.valueOf(e.getMessage()), uris)));
            throw translated.property().equals(PushBridgeProperties.PREFIX)
                    ? new InvalidPushBridgePropertyException(property, translated.reason()) : translated;
        } catch (RuntimeException e) {
            throw new PushBridgeException(PushBridgeStartFailureAnalyzer.REDIS_UNREACHABLE + redact(String.join(",", uris), uris) + " ("
                    + property + "): " + redact(describe(e), uris), e);
        }
    }

    /**
     * A connection to one more Redis server (an ingestion or session server of a site), with the
     * timeouts of {@code pushbridge.redis.*}; every problem names {@code property}.
     */
    static RedisConnector connector(String url, String property, Redis r, String clientName) {
        if (url == null || url.isBlank()) {
            throw new InvalidPushBridgePropertyException(property, "must not be blank");
        }
        String uri = url.trim();
        checkUri(property, uri, true);
        List<String> uris = List.of(uri);
        try {
            return RedisConnector.builder().commandTimeout(r.getCommandTimeout()).connectTimeout(r.getConnectTimeout())
                    .clientName(clientName).uri(uri).build();
        } catch (IllegalArgumentException e) {
            throw new InvalidPushBridgePropertyException(property, redact(String.valueOf(e.getMessage()), uris));
        } catch (RuntimeException e) {
            throw new PushBridgeException(PushBridgeStartFailureAnalyzer.REDIS_UNREACHABLE + redact(uri, uris) + " ("
                    + property + "): " + redact(describe(e), uris), e);
        }
    }

    /** The consumer of upstream records of an application node, for the sites with upstream enabled. */
    static RedisUpstreamConsumer upstreamConsumer(RedisConnector connector, PushBridgeProperties p, UpstreamListener listener) {
        List<String> sites = p.getSites().entrySet().stream().filter(e -> e.getValue().getUpstream().isEnabled())
                .map(Map.Entry::getKey).toList();
        if (sites.isEmpty()) {
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".sites",
                    "an UpstreamListener bean is defined, but no site sets upstream.enabled=true");
        }
        PushBridgeProperties.Upstream u = p.getUpstream();
        try {
            RedisUpstreamConsumer.Builder b = RedisUpstreamConsumer.builder(connector, keys(p.getRedis()), listener)
                    .sites(sites)
                    .partitions(u.getPartitions())
                    .idleTimeout(u.getIdleTimeout())
                    .maxDeliveries(u.getMaxDeliveries())
                    .batchSize(u.getBatchSize());
            if (u.getHandleTimeout() != null) {
                b.handleTimeout(u.getHandleTimeout());
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            for (Map.Entry<String, String> setting : UPSTREAM_SETTINGS.entrySet()) {
                if (Pattern.compile("\\b" + setting.getKey() + "\\b").matcher(message).find()) {
                    throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".upstream." + setting.getValue(),
                            message, e);
                }
            }
            throw new InvalidPushBridgePropertyException(PushBridgeProperties.PREFIX + ".upstream", message, e);
        }
    }

    private static final Map<String, String> UPSTREAM_SETTINGS = Map.of(
            "partitions", "partitions",
            "idleTimeout", "idle-timeout",
            "maxDeliveries", "max-deliveries",
            "batchSize", "batch-size",
            "handleTimeout", "handle-timeout");

    /** {@code pushbridge-<node id>}, with whatever CLIENT SETNAME would refuse replaced. */
    static String defaultClientName(String nodeId) {
        StringBuilder name = new StringBuilder("pushbridge-");
        nodeId.chars().forEach(c -> name.append(c > ' ' && c < 127 ? (char) c : '-'));
        return name.toString();
    }

    static RedisKeys keys(Redis r) {
        String prefix = r.getPrefix();
        if (prefix == null) {
            throw new InvalidPushBridgePropertyException(GROUP + ".prefix", "must not be null");
        }
        try {
            return new RedisKeys(prefix);
        } catch (IllegalArgumentException e) {
            throw PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX, SETTINGS, e);
        }
    }

    static RedisNodeRegistry registry(RedisConnector connector, String nodeId, PushBridgeProperties p) {
        Redis r = p.getRedis();
        validate(r);
        String publicUrl = p.getPublicUrl();
        try {
            return RedisNodeRegistry.builder(connector.commands(), nodeId)
                    .keys(keys(r))
                    .heartbeatInterval(r.getHeartbeatInterval())
                    .nodeTimeout(r.getNodeTimeout())
                    // the same URL as the gateway's options: the router checks they agree
                    .publicUrl(publicUrl == null || publicUrl.isBlank() ? null : publicUrl.trim())
                    .build();
        } catch (IllegalArgumentException e) {
            throw PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX, SETTINGS, e);
        }
    }

    /** The store, with the registry's node id and keys, and the in-memory store's properties. */
    static RedisMessageStore store(RedisConnector connector, RedisNodeRegistry registry, PushBridgeProperties p) {
        try {
            return RedisMessageStore.builder(connector.commands(), registry.nodeId())
                    .keys(registry.keys())
                    .maxPendingPerUser(p.getMaxPendingPerUser())
                    .clientTtl(p.getClientTtl())
                    .resyncMemory(p.getResyncMemory())
                    .siteQueuesMaxAge(p.getRedis().getQueueTotalsMaxAge())
                    .build();
        } catch (IllegalArgumentException e) {
            throw PushBridgeOptionsMapper.translate(PushBridgeProperties.PREFIX, SETTINGS, e);
        }
    }

    /**
     * Registers this node: hands the registry the stores whose connections it releases after dead
     * nodes (and after an earlier life of this node id), starts its heartbeat, and leases a flake id
     * slot, or reserves the one {@code pushbridge.flake-id.*} sets. Blocks until Redis answered.
     */
    static PushBridgeNodeIdentity register(RedisNodeRegistry registry, List<RedisMessageStore> stores,
            PushBridgeProperties p, String redisDescription) {
        Integer datacenter = p.getFlakeId().configuredDatacenter();
        Integer worker = p.getFlakeId().configuredWorker();
        String flake = PushBridgeProperties.PREFIX + ".flake-id.";
        if ((datacenter == null) != (worker == null)) {
            String missing = flake + (datacenter == null ? "datacenter" : "worker");
            String set = flake + (datacenter == null ? "worker" : "datacenter");
            throw new InvalidPushBridgePropertyException(missing, "must be set too when " + set + " is set; or leave both "
                    + "unset, and with Redis each node leases a free (datacenter, worker) pair");
        }
        stores.forEach(registry::cleanUp);
        try {
            registry.start();
        } catch (RuntimeException e) {
            throw new PushBridgeException("Could not register node " + registry.nodeId() + " in Redis (" + redisDescription
                    + "): " + describe(e), e);
        }
        if (datacenter != null && worker != null) {
            // reserved in Redis like a leased pair, so that a second node configured with the same
            // pair, or a node leasing one, cannot mint the same message ids
            try {
                registry.reserveWorkerSlot(datacenter * 32 + worker);
            } catch (IllegalStateException e) {
                throw new InvalidPushBridgePropertyException(flake + "worker", e.getMessage()
                        + "; every node needs its own (datacenter, worker) pair, or leave both unset to lease one", e);
            } catch (RuntimeException e) {
                throw new PushBridgeException("Could not reserve the flake id pair in Redis (" + redisDescription + "): "
                        + describe(e), e);
            }
            log.info("[{}] Message ids use datacenter {} and worker {} from {}*, reserved in Redis",
                    registry.nodeId(), datacenter, worker, flake);
            return new PushBridgeNodeIdentity(registry.nodeId(), datacenter, worker, false);
        }
        int slot;
        try {
            slot = registry.claimWorkerSlot();
        } catch (IllegalStateException e) {
            throw new PushBridgeException("Could not lease a flake id slot in Redis (" + redisDescription + "): "
                    + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new PushBridgeException("Could not lease a flake id slot in Redis (" + redisDescription + "): "
                    + describe(e), e);
        }
        return new PushBridgeNodeIdentity(registry.nodeId(), slot / 32, slot % 32, true);
    }

    // ---- messages ----------------------------------------------------------------------------------

    /** The messages along a failure's causes, without repeats: "Unable to connect to ...: Connection refused". */
    static String describe(Throwable failure) {
        Set<String> messages = new LinkedHashSet<>();
        for (Throwable t = failure; t != null && messages.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank() && messages.stream().noneMatch(seen -> seen.contains(m))) {
                messages.add(m);
            }
        }
        return messages.isEmpty() ? failure.getClass().getSimpleName() : String.join(": ", messages);
    }

    /**
     * {@code text} with the user info of every URI replaced by {@code ***} ({@code redis://***@host}),
     * and every password found in {@code uris} too, wherever it appears.
     */
    static String redact(String text, List<String> uris) {
        String out = USER_INFO.matcher(text).replaceAll("***@");
        List<String> secrets = new ArrayList<>();
        for (String uri : uris) {
            Matcher m = URI_USER_INFO.matcher(uri);
            if (m.find()) {
                String info = uri.substring(m.start(), m.end() - 1);
                String password = info.substring(info.indexOf(':') + 1);
                secrets.add(info);
                secrets.add(password);
                try {
                    secrets.add(URLDecoder.decode(password, StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    // not %-encoded after all
                }
            }
        }
        secrets.sort(Comparator.comparingInt(String::length).reversed());
        for (String secret : secrets) {
            if (secret.length() >= 3) {
                out = out.replace(secret, "***");
            }
        }
        return out;
    }
}
