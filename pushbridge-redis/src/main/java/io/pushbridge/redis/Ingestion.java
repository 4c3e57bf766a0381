package io.pushbridge.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pushbridge.GatewayContext;
import io.pushbridge.gateway.RateLimitedLog;
import java.io.IOException;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * What the Redis ingestion channels of the Redis-driven sites share (the redis-handshake
 * {@code socket.io} channel, the redis-session {@code notifications} channel): reading a message as
 * a JSON object within a size limit, and dropping a bad one. A drop is counted here
 * ({@link #counts()}) and in the gateway's statistics as {@code ingestion.dropped.<reason>} (the
 * {@code pushbridge.bad.inputs} meter, entry point {@code redis_ingestion}: see
 * {@link io.pushbridge.metrics.BadInput}), and logged at most once per second, naming the site,
 * the channel and the problem, never the whole payload. Thread-safe.
 */
public final class Ingestion {

    /** Why a message was dropped; {@link #key()} is its name in counters and meters. */
    public enum Reason {
        /** Larger than the limit (checked before anything is parsed). */
        TOO_LARGE,
        /** Not JSON. */
        MALFORMED_JSON,
        /** JSON, but not an object. */
        NOT_AN_OBJECT,
        /** A required field is missing (or not of the type that names it). */
        MISSING_FIELD,
        /** A field has a bad value, or the gateway refused what the message asked for. */
        INVALID,
        /** No live node holds the socket the message names. */
        UNKNOWN_SOCKET,
        /** The registry could not be asked where the socket is. */
        UNAVAILABLE,
        /** Handling the message failed unexpectedly (logged with its stack trace). */
        ERROR;

        /** The reason's name in counters and meters, such as {@code malformed_json}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The statistics counter of this reason, {@code ingestion.dropped.<key>}: a {@link io.pushbridge.metrics.BadInput}'s. */
        public String statsKey() {
            return "ingestion.dropped." + key();
        }
    }

    /** A message that cannot be used, with the reason and a short detail for the log (never the payload). */
    public static final class Dropped extends Exception {

        private static final long serialVersionUID = 1L;

        private final Reason reason;

        public Dropped(Reason reason, String detail) {
            super(detail, null, false, false);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String site;
    private final String channel;
    private final Map<Reason, AtomicLong> dropped = new EnumMap<>(Reason.class);
    private final RateLimitedLog log;

    /** Drops of one channel of one site, logged to {@code log}. */
    public Ingestion(Logger log, String site, String channel) {
        this.site = site;
        this.channel = channel;
        this.log = new RateLimitedLog(log, 1000);
        for (Reason reason : Reason.values()) {
            dropped.put(reason, new AtomicLong());
        }
    }

    /**
     * Reads a message as a JSON object: its size first, then JSON, then an object.
     *
     * @throws Dropped {@code TOO_LARGE}, {@code MALFORMED_JSON} or {@code NOT_AN_OBJECT}
     */
    public static ObjectNode readObject(byte[] payload, int maxBytes) throws Dropped {
        if (payload.length > maxBytes) {
            throw new Dropped(Reason.TOO_LARGE, payload.length + " bytes, more than the limit of " + maxBytes);
        }
        JsonNode root;
        try {
            root = JSON.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new Dropped(Reason.MALFORMED_JSON, RateLimitedLog.excerpt(String.valueOf(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new Dropped(Reason.MALFORMED_JSON, RateLimitedLog.excerpt(e.toString()));
        }
        if (root == null || root.isMissingNode()) {
            throw new Dropped(Reason.MALFORMED_JSON, "no JSON value");
        }
        if (!(root instanceof ObjectNode object)) {
            throw new Dropped(Reason.NOT_AN_OBJECT, "a JSON " + root.getNodeType().name().toLowerCase(Locale.ROOT)
                    + ", not an object");
        }
        return object;
    }

    /** Drops a message: counts it and logs the detail (cut to 100 characters), at a bounded rate. */
    public void drop(GatewayContext ctx, String server, Reason reason, String detail) {
        count(ctx, reason);
        log.warn("[{}] Site '{}': dropped a message of channel '{}' on {} ({}): {}", ctx.nodeId(), site, channel, server,
                reason.key(), RateLimitedLog.excerpt(detail));
    }

    /** Drops a message whose handling failed unexpectedly: counted as {@code ERROR}, logged with the stack trace. */
    public void failed(GatewayContext ctx, String server, Throwable failure) {
        count(ctx, Reason.ERROR);
        log.warn("[{}] Site '{}': dropped a message of channel '{}' on {}: handling it failed", ctx.nodeId(), site, channel,
                server, failure);
    }

    private void count(GatewayContext ctx, Reason reason) {
        dropped.get(reason).incrementAndGet();
        ctx.count(reason.statsKey());
    }

    /** The drops so far, as {@code dropped.<reason>}. */
    public Map<String, Long> counts() {
        Map<String, Long> m = new LinkedHashMap<>();
        dropped.forEach((reason, n) -> m.put("dropped." + reason.key(), n.get()));
        return m;
    }
}
