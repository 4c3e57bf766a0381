package io.pushbridge.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Every meter PushBridge registers: its name, type, base unit, tag keys and description. Nothing
 * registers a {@code pushbridge.*} meter other than through these constants, whose builders check
 * that a meter gets exactly its declared tag keys.
 *
 * <p>Tags are of low cardinality only, and their values come from configuration or fixed sets:
 * {@code site} (a configured site's name), {@code transport} ({@code websocket}, {@code polling}),
 * {@code outcome}, {@code reason}, {@code source} and {@code entry_point} (the enums of this
 * package). Never a user, room, socket, session or token.
 *
 * <p>Timers publish a histogram with the fixed buckets {@link #buckets()} (service level
 * objectives), so that quantiles can be computed across nodes (Prometheus' {@code
 * histogram_quantile}) at a bounded number of series. docs/operations.md lists every constant.
 */
public enum PushBridgeMeter {

    // ---- connections ------------------------------------------------------------------------------
    /** Sockets connected to this node, per site. */
    CONNECTIONS("pushbridge.connections", Type.GAUGE, null,
            "Sockets connected to this node", TagKey.SITE),
    /** Sockets admitted (the client got its CONNECT acknowledgement). */
    CONNECTS("pushbridge.connects", Type.COUNTER, null,
            "Sockets admitted to a site", TagKey.SITE, TagKey.TRANSPORT),
    /** CONNECTs to a configured site refused, by {@link ConnectRefusal}. */
    CONNECT_REFUSALS("pushbridge.connect.refusals", Type.COUNTER, null,
            "CONNECTs to a site refused, by reason", TagKey.SITE, TagKey.TRANSPORT, TagKey.REASON),
    /** Time from a CONNECT to the authorizer's answer; outcome {@code admitted} or a {@link ConnectRefusal} code. */
    AUTHORIZER("pushbridge.authorizer", Type.TIMER, null,
            "Time the site's authorizer took to answer a CONNECT, by outcome", TagKey.SITE, TagKey.OUTCOME) {
        @Override
        public List<Duration> buckets() {
            return millis(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000);
        }
    },

    // ---- messages ---------------------------------------------------------------------------------
    /** Messages accepted for sending, by {@link MessageSource}. */
    MESSAGES_ACCEPTED("pushbridge.messages.accepted", Type.COUNTER, null,
            "Messages accepted for sending, by source", TagKey.SITE, TagKey.SOURCE),
    /** Events emitted to sockets of this node: one per socket a message reached. */
    EMITS("pushbridge.emits", Type.COUNTER, null,
            "Events emitted to sockets of this node (one per socket reached)", TagKey.SITE),
    /** Messages of user queues acknowledged by clients of this node (each message of a batch counts). */
    ACKS("pushbridge.acks", Type.COUNTER, null,
            "Queued messages acknowledged by clients of this node", TagKey.SITE),
    /** Time from a message's creation to the client's ack that removed it from a user queue. */
    PUBLISH_TO_ACK("pushbridge.publish.to.ack", Type.TIMER, null,
            "Time from a message's creation to the ack that removed it from a user queue", TagKey.SITE) {
        @Override
        public List<Duration> buckets() {
            return millis(10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 1_800_000,
                    7_200_000, 43_200_000);
        }
    },

    // ---- queues -----------------------------------------------------------------------------------
    /** Messages waiting in the site's user queues (refreshed periodically, cluster-wide with a shared store). */
    QUEUE_DEPTH("pushbridge.queue.depth", Type.GAUGE, null,
            "Messages waiting in the site's user queues (refreshed periodically)", TagKey.SITE),
    /** User queues of the site holding at least one message (refreshed periodically). */
    QUEUE_USERS("pushbridge.queue.users", Type.GAUGE, null,
            "User queues of the site holding at least one message (refreshed periodically)", TagKey.SITE),
    /** Age of the oldest message waiting in any user queue of the site; 0 when none waits. */
    QUEUE_OLDEST_AGE("pushbridge.queue.oldest.age", Type.GAUGE, "seconds",
            "Age of the oldest message waiting in the site's user queues", TagKey.SITE),
    /** Resyncs asked of users, by {@link ResyncReason}. */
    RESYNCS("pushbridge.resyncs", Type.COUNTER, null,
            "Users asked to resync because their queue was cleared, overflowed or expired with messages, by reason",
            TagKey.SITE, TagKey.REASON),
    /** User queues the store dropped because their ttl ran out (stores that can tell). */
    QUEUES_EXPIRED("pushbridge.queues.expired", Type.COUNTER, null,
            "User queues dropped because their client-ttl ran out", TagKey.SITE),

    // ---- client events and bad inputs -------------------------------------------------------------
    /** Client events by how their handling ended. */
    EVENTS("pushbridge.events", Type.COUNTER, null,
            "Events clients emitted, by how their handling ended", TagKey.OUTCOME),
    /** Limit hits, by limit ({@code io.pushbridge.gateway.Limit}'s keys), per site. */
    LIMIT_HITS("pushbridge.limit.hits", Type.COUNTER, null,
            "Requests, events and connections that hit one of the site's limits, by limit", TagKey.SITE, TagKey.REASON),
    /** Bad inputs dropped or refused, by {@link BadInput}. */
    BAD_INPUTS("pushbridge.bad.inputs", Type.COUNTER, null,
            "Bad inputs dropped or refused, by entry point and reason", TagKey.ENTRY_POINT, TagKey.REASON),

    // ---- routing (Redis) --------------------------------------------------------------------------
    /** Messages and commands this node's router published to Redis. */
    ROUTER_PUBLISHED("pushbridge.router.published", Type.COUNTER, null,
            "Messages and commands published to other nodes"),
    /** Publishes that failed (Redis unreachable): the sender got an error. */
    ROUTER_PUBLISH_ERRORS("pushbridge.router.publish.errors", Type.COUNTER, null,
            "Publishes to other nodes that failed"),
    /** Routed messages and commands this node received. */
    ROUTER_RECEIVED("pushbridge.router.received", Type.COUNTER, null,
            "Routed messages and commands received"),
    /** Time from a publish (on any node) to its receipt on this node. */
    ROUTER_RECEIVE_LAG("pushbridge.router.receive.lag", Type.TIMER, null,
            "Time from a publish by any node to its receipt here") {
        @Override
        public List<Duration> buckets() {
            return millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000);
        }
    },
    /** Times routing resumed after a Redis reconnect (sockets were re-sent what they missed). */
    ROUTER_RESUMES("pushbridge.router.resumes", Type.COUNTER, null,
            "Times routing resumed after a reconnect to Redis"),
    /** Node registry heartbeats that did not reach Redis. */
    HEARTBEAT_FAILURES("pushbridge.redis.heartbeat.failures", Type.COUNTER, null,
            "Node registry heartbeats that did not reach Redis"),
    /** Dead nodes this node cleaned up after. */
    REAPED_NODES("pushbridge.redis.reaped.nodes", Type.COUNTER, null,
            "Dead gateway nodes this node cleaned up after"),

    // ---- upstream (Redis) ---------------------------------------------------------------------------
    /** Upstream records this gateway node appended to Redis. */
    UPSTREAM_APPENDED("pushbridge.upstream.appended", Type.COUNTER, null,
            "Upstream records this gateway node appended to Redis", TagKey.SITE),
    /** Upstream records Redis could not take. */
    UPSTREAM_APPEND_FAILURES("pushbridge.upstream.append.failures", Type.COUNTER, null,
            "Upstream records Redis could not take", TagKey.SITE),
    /** Application nodes' answers handed to clients' callbacks. */
    UPSTREAM_REPLIES("pushbridge.upstream.replies", Type.COUNTER, null,
            "Application nodes' answers handed to clients' callbacks", TagKey.SITE),
    /** Client events waiting for an application node's answer now. */
    UPSTREAM_PENDING("pushbridge.upstream.pending", Type.GAUGE, null,
            "Client events waiting for an application node's answer", TagKey.SITE),
    /** Time from handing a client event upstream to the application node's answer arriving. */
    UPSTREAM_ROUND_TRIP("pushbridge.upstream.round.trip", Type.TIMER, null,
            "Time from appending a client event to its answer from an application node", TagKey.SITE) {
        @Override
        public List<Duration> buckets() {
            return millis(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000);
        }
    },
    /** An application node's records, by outcome. */
    UPSTREAM_RECORDS("pushbridge.upstream.records", Type.COUNTER, null,
            "Upstream records this application node read, by outcome", TagKey.OUTCOME),
    /** Time from an upstream record's creation on a gateway node to an application node handing it to its listener. */
    UPSTREAM_LAG("pushbridge.upstream.lag", Type.TIMER, null,
            "Time from an upstream record's creation to its handling on this application node", TagKey.SITE) {
        @Override
        public List<Duration> buckets() {
            return millis(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000);
        }
    },
    /** The upstream partitions an application node reads now. */
    UPSTREAM_PARTITIONS_OWNED("pushbridge.upstream.partitions.owned", Type.GAUGE, null,
            "Upstream partitions this application node reads");

    /** How a meter is exposed. */
    public enum Type {
        /** A monotonic count (a Micrometer {@code Counter} or {@code FunctionCounter}). */
        COUNTER,
        /** A value that goes up and down. */
        GAUGE,
        /** Durations, with a histogram of fixed buckets (see {@link PushBridgeMeter#buckets()}). */
        TIMER;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The only tag keys PushBridge's meters use. */
    public enum TagKey {
        /** A configured site's name. */
        SITE,
        /** {@code websocket} or {@code polling}. */
        TRANSPORT,
        /** How something ended (a fixed set per meter). */
        OUTCOME,
        /** Why something was refused, dropped or resynced (a fixed set per meter). */
        REASON,
        /** A {@link MessageSource}. */
        SOURCE,
        /** A {@link BadInput.EntryPoint}. */
        ENTRY_POINT;

        /** The key, such as {@code entry_point}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Every tag key any PushBridge meter may have. */
    public static final Set<String> ALLOWED_TAG_KEYS = Arrays.stream(TagKey.values()).map(TagKey::key)
            .collect(Collectors.toUnmodifiableSet());

    private final String meterName;
    private final Type type;
    private final @Nullable String baseUnit;
    private final String description;
    private final List<TagKey> tagKeys;

    PushBridgeMeter(String meterName, Type type, @Nullable String baseUnit, String description, TagKey... tagKeys) {
        this.meterName = meterName;
        this.type = type;
        this.baseUnit = baseUnit;
        this.description = description;
        this.tagKeys = List.of(tagKeys);
    }

    /** The meter's name, such as {@code pushbridge.connections}. */
    public String meterName() {
        return meterName;
    }

    public Type type() {
        return type;
    }

    /**
     * The base unit, for a meter that measures in one ({@code seconds}); {@code null} for counts,
     * whose name says what they count, and for timers, whose unit the registry chooses (seconds in
     * Prometheus). So Prometheus names are the meter's name in snake case, plus {@code _total} for a
     * counter and {@code _seconds} for a timer or an age.
     */
    public @Nullable String baseUnit() {
        return baseUnit;
    }

    public String description() {
        return description;
    }

    /** The meter's tag keys, in order; a meter has exactly these. */
    public List<TagKey> tagKeys() {
        return tagKeys;
    }

    /** The histogram buckets of a timer; empty for other types. */
    public List<Duration> buckets() {
        return List.of();
    }

    // ---- builders ---------------------------------------------------------------------------------

    /**
     * Registers (or finds) this counter with these tags, given as key, value pairs in the order of
     * {@link #tagKeys()}.
     *
     * @throws IllegalArgumentException when this is not a counter or the tags are not its own
     */
    public Counter counter(MeterRegistry registry, String... tags) {
        require(Type.COUNTER);
        return Counter.builder(meterName).description(description).baseUnit(baseUnit).tags(tags(tags)).register(registry);
    }

    /** Registers (or finds) this counter, read from {@code source} at each scrape. */
    public <T> FunctionCounter functionCounter(MeterRegistry registry, T source, ToDoubleFunction<T> count, String... tags) {
        require(Type.COUNTER);
        return FunctionCounter.builder(meterName, source, count).description(description).baseUnit(baseUnit)
                .tags(tags(tags)).register(registry);
    }

    /**
     * Registers (or finds) this gauge, read from {@code source} at each scrape. The gauge holds
     * {@code source} strongly: remove the gauge when its owner stops (see {@link PushBridgeMeters}).
     * The function must be cheap and must not block (no store or network call).
     */
    public <T> Gauge gauge(MeterRegistry registry, T source, ToDoubleFunction<T> value, String... tags) {
        require(Type.GAUGE);
        return Gauge.builder(meterName, source, value).description(description).baseUnit(baseUnit).tags(tags(tags))
                .strongReference(true).register(registry);
    }

    /** Registers (or finds) this timer, with its histogram buckets. */
    public Timer timer(MeterRegistry registry, String... tags) {
        require(Type.TIMER);
        List<Duration> buckets = buckets();
        return Timer.builder(meterName).description(description).tags(tags(tags))
                .serviceLevelObjectives(buckets.toArray(Duration[]::new))
                .minimumExpectedValue(buckets.get(0))
                .maximumExpectedValue(buckets.get(buckets.size() - 1))
                .register(registry);
    }

    /**
     * The tags of one meter, checked against {@link #tagKeys()}: key, value pairs, keys in the
     * declared order, values not null.
     *
     * @throws IllegalArgumentException naming this meter otherwise
     */
    public Tags tags(String... keyValues) {
        if (keyValues.length != tagKeys.size() * 2) {
            throw new IllegalArgumentException(meterName + " takes the tags " + tagKeys + ", was given "
                    + Arrays.toString(keyValues));
        }
        for (int i = 0; i < tagKeys.size(); i++) {
            if (!tagKeys.get(i).key().equals(keyValues[2 * i]) || keyValues[2 * i + 1] == null) {
                throw new IllegalArgumentException(meterName + " takes the tags " + tagKeys + ", was given "
                        + Arrays.toString(keyValues));
            }
        }
        return Tags.of(keyValues);
    }

    private void require(Type wanted) {
        if (type != wanted) {
            throw new IllegalArgumentException(meterName + " is a " + type + ", not a " + wanted);
        }
    }

    private static List<Duration> millis(long... values) {
        return Arrays.stream(values).mapToObj(Duration::ofMillis).toList();
    }

    @Override
    public String toString() {
        return meterName;
    }
}
