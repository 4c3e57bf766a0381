package io.pushbridge.redis.upstream;

import static io.pushbridge.redis.CborFields.list;
import static io.pushbridge.redis.CborFields.multiMap;
import static io.pushbridge.redis.CborFields.number;
import static io.pushbridge.redis.CborFields.optionalString;
import static io.pushbridge.redis.CborFields.string;
import static io.pushbridge.redis.CborFields.stringOrEmpty;
import static io.pushbridge.redis.CborFields.strings;
import static io.pushbridge.redis.CborFields.write;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.pushbridge.PushBridgeException;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.redis.CborFields;
import io.pushbridge.redis.RedisKeys;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Where upstream records live in Redis and how they look, shared by the gateway side
 * ({@link RedisUpstream}) and the application side ({@link RedisUpstreamConsumer}).
 *
 * <p>Each site has {@code partitions} streams, {@code <prefix>up:{<site>:<p>}}; a client's records
 * all go to the partition of its socket id, so that one application node at a time reads them, in
 * order. A partition's reader holds its lease, {@code <prefix>up:{<site>:<p>}:owner}. Records that
 * keep failing go to {@code <prefix>up:<site>:dead}. Answers to clients' callbacks go to the
 * gateway node's channel {@code <prefix>up-reply:<node>}. Application nodes announce themselves in
 * {@code <prefix>up:<site>:apps} (a sorted set scored by when their announcement expires), and
 * tell each other to rebalance at once (a node joined, or gave partitions back) on the channel
 * {@code <prefix>up:<site>:rebalance}.
 *
 * <p>A stream entry has one field, {@code r}: a CBOR map with a format version {@code v}. Decoding
 * checks every field and throws {@link IllegalArgumentException} for anything malformed.
 */
public final class UpstreamStreams {

    /** The consumer group every application node reads with. */
    public static final String GROUP = "pushbridge-apps";
    /** The stream entry's one field. */
    public static final String FIELD = "r";

    static final int VERSION = 1;

    private final String prefix;
    private final int partitions;

    public UpstreamStreams(RedisKeys keys, int partitions) {
        if (partitions < 1 || partitions > 1024) {
            throw new IllegalArgumentException("partitions must be 1..1024, was " + partitions);
        }
        this.prefix = keys.prefix();
        this.partitions = partitions;
    }

    public int partitions() {
        return partitions;
    }

    /** The partition of a socket's records: the same on every node (String.hashCode is specified). */
    public int partition(String socketId) {
        return Math.floorMod(socketId.hashCode(), partitions);
    }

    public String stream(String site, int partition) {
        return prefix + "up:{" + site + ":" + partition + "}";
    }

    public String owner(String site, int partition) {
        return stream(site, partition) + ":owner";
    }

    public String deadLetters(String site) {
        return prefix + "up:" + site + ":dead";
    }

    public String apps(String site) {
        return prefix + "up:" + site + ":apps";
    }

    /** The channel on which application nodes of a site ask each other for a rebalancing round now. */
    public String rebalanceChannel(String site) {
        return prefix + "up:" + site + ":rebalance";
    }

    /** Where a site's partition count is recorded, so that every node can check it agrees. */
    public String partitionsKey(String site) {
        return prefix + "up:" + site + ":partitions";
    }

    /**
     * Records this node's partition count for the site if none is, and fails when another one is:
     * gateway and application nodes with different counts would leave partitions unread (records of
     * a client could go where no node reads). Blocks at most 5 s; for start-up.
     *
     * @throws PushBridgeException naming both counts and how to change the count everywhere
     */
    public void checkPartitions(RedisClusterAsyncCommands<byte[], byte[]> redis, String site) {
        byte[] key = partitionsKey(site).getBytes(StandardCharsets.UTF_8);
        byte[] mine = Integer.toString(partitions).getBytes(StandardCharsets.UTF_8);
        byte[] recorded;
        try {
            redis.setnx(key, mine).get(5, TimeUnit.SECONDS);
            recorded = redis.get(key).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PushBridgeException("interrupted while checking the upstream partitions of site '" + site + "'", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new PushBridgeException("could not check the upstream partitions of site '" + site + "' in Redis: "
                    + (e instanceof ExecutionException ? e.getCause() : e), e);
        }
        if (recorded != null && !Arrays.equals(recorded, mine)) {
            throw new PushBridgeException("site '" + site + "' uses " + new String(recorded, StandardCharsets.UTF_8)
                    + " upstream partitions in Redis, this node " + partitions + " (pushbridge.upstream.partitions): every "
                    + "gateway and application node must use the same number. To change it, stop every node, delete key "
                    + partitionsKey(site) + " once the streams are drained, and start them with the new number");
        }
    }

    public String replyChannel(String nodeId) {
        return prefix + "up-reply:" + nodeId;
    }

    // ---- records -------------------------------------------------------------------------------

    /**
     * A record as it sits in a stream, with where its answer goes.
     *
     * @param replyTo for an event whose client waits for an answer: {@code <node>|<reply id>} (split at
     *     the last {@code |}: node ids may hold one), else null
     */
    public record Entry(UpstreamRecord record, @Nullable String replyTo) {
    }

    public static byte[] encode(UpstreamRecord r, @Nullable String replyTo) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", VERSION);
        m.put("k", r.kind().name());
        m.put("s", r.site());
        m.put("sk", r.socketId());
        m.put("n", r.nodeId());
        putIfSet(m, "u", r.userId());
        putIfSet(m, "ss", r.sessionId());
        m.put("rm", List.copyOf(r.rooms()));
        m.put("a", r.address());
        m.put("q", r.query());
        putIfSet(m, "e", r.event());
        if (!r.args().isEmpty()) {
            m.put("ar", r.args());
        }
        if (r.ackRequested()) {
            m.put("ack", true);
        }
        putIfSet(m, "rs", r.reason());
        if (r.newToApp()) {
            m.put("new", true);
        }
        m.put("t", r.createdAt());
        putIfSet(m, "rp", replyTo);
        return write(m);
    }

    /** Decodes a stream entry's field; {@code id} is the entry's id. */
    public static Entry decode(byte[] bytes, String id) {
        Map<?, ?> m = CborFields.versionedMap(bytes, VERSION);
        UpstreamRecord.Kind kind;
        try {
            kind = UpstreamRecord.Kind.valueOf(string(m.get("k"), "k"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown record kind " + m.get("k"));
        }
        String event = optionalString(m.get("e"), "e");
        if (kind == UpstreamRecord.Kind.EVENT && event == null) {
            throw new IllegalArgumentException("an EVENT record names no event");
        }
        UpstreamRecord record = new UpstreamRecord(kind, id, string(m.get("s"), "s"), string(m.get("sk"), "sk"),
                string(m.get("n"), "n"), optionalString(m.get("u"), "u"), optionalString(m.get("ss"), "ss"),
                strings(m.get("rm"), "rm"), stringOrEmpty(m.get("a"), "a"), (m.get("q") == null ? Map.of() : multiMap(m.get("q"), "q")), event,
                list(m.get("ar"), "ar"), Boolean.TRUE.equals(m.get("ack")), optionalString(m.get("rs"), "rs"),
                Boolean.TRUE.equals(m.get("new")), number(m.get("t"), "t"));
        return new Entry(record, optionalString(m.get("rp"), "rp"));
    }

    // ---- answers to clients' callbacks --------------------------------------------------------

    /**
     * An application node's answer to an event whose client waits for one.
     *
     * @param replyId the reply id of the record's {@code replyTo}
     * @param args the answer's arguments, when {@code errorCode} is null
     * @param errorCode why there is no answer, or null: {@code "error"} (the listener failed), or the
     *     reason of a {@code PushRefusedException} the listener refused the event with ({@code invalid},
     *     {@code too_large}, {@code unknown_site}, {@code rate_limited})
     * @param message for an error, what to tell the client (a refusal's problems), or null
     */
    public record Reply(String replyId, List<Object> args, @Nullable String errorCode, @Nullable String message) {

        /** An answer, or an error without a message. */
        public Reply(String replyId, List<Object> args, @Nullable String errorCode) {
            this(replyId, args, errorCode, null);
        }

        public Reply {
            Objects.requireNonNull(replyId, "replyId");
            // null arguments are answers too (callback(null, data))
            args = java.util.Collections.unmodifiableList(new ArrayList<>(args == null ? List.of() : args));
        }
    }

    public static byte[] encode(Reply reply) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("v", VERSION);
        m.put("id", reply.replyId());
        m.put("ar", reply.args());
        putIfSet(m, "err", reply.errorCode());
        putIfSet(m, "msg", reply.message());
        return write(m);
    }

    public static Reply decodeReply(byte[] bytes) {
        Map<?, ?> m = CborFields.versionedMap(bytes, VERSION);
        return new Reply(string(m.get("id"), "id"), list(m.get("ar"), "ar"), optionalString(m.get("err"), "err"),
                optionalString(m.get("msg"), "msg"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Leaves out what is unset, and empty strings (an empty user or session id is none). */
    private static void putIfSet(Map<String, Object> m, String key, @Nullable Object value) {
        if (value != null && !"".equals(value)) {
            m.put(key, value);
        }
    }
}
