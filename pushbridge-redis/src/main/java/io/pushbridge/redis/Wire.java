package io.pushbridge.redis;

import static io.pushbridge.redis.CborFields.list;
import static io.pushbridge.redis.CborFields.multiMap;
import static io.pushbridge.redis.CborFields.number;
import static io.pushbridge.redis.CborFields.read;
import static io.pushbridge.redis.CborFields.string;
import static io.pushbridge.redis.CborFields.stringOrEmpty;
import static io.pushbridge.redis.CborFields.strings;
import static io.pushbridge.redis.CborFields.write;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How messages look in Redis: queued messages in the store and routed messages and commands on
 * channels. The body is CBOR, which keeps {@code byte[]} arguments apart from strings.
 *
 * <p>A queued message is {@code <flag><event>\n<CBOR [id, args, createdAt]>}, where the flag is
 * {@code r} for a message with the resync check and {@code -} otherwise: the store's Lua scripts
 * read the flag and the event without decoding the body. A routed item is a CBOR map with a format
 * version {@code v}. Decoding checks every field and throws {@link IllegalArgumentException} for
 * anything malformed, so that a bad Redis message is dropped and counted, never half applied.
 *
 * <p>Routed messages and commands carry {@code pt}, when the publishing node sent them (epoch
 * milliseconds), for the receive lag meter. It is optional: items of nodes that did not write it
 * are read as before (without a lag sample), and nodes that do not know it ignore it.
 */
final class Wire {

    static final int VERSION = 1;
    /** The most connections a listing may ask one node for. */
    static final int MAX_LISTING = 1_000_000;

    private Wire() {
    }

    // ---- queued messages -----------------------------------------------------------------------

    static byte[] encodeQueued(QueuedMessage m) {
        byte[] header = ((m.resync() ? "r" : "-") + m.event() + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] body = write(List.of(m.id(), m.args(), m.createdAtMillis()));
        byte[] out = Arrays.copyOf(header, header.length + body.length);
        System.arraycopy(body, 0, out, header.length, body.length);
        return out;
    }

    static QueuedMessage decodeQueued(byte[] value) {
        int nl = indexOf(value, (byte) '\n');
        if (nl < 1) {
            throw new IllegalArgumentException("stored message has no header");
        }
        boolean resync = value[0] == 'r';
        String event = new String(value, 1, nl - 1, StandardCharsets.UTF_8);
        Object body = read(value, nl + 1, value.length - nl - 1);
        if (!(body instanceof List<?> list) || list.size() != 3) {
            throw new IllegalArgumentException("stored message body is not [id, args, createdAt]");
        }
        return new QueuedMessage(number(list.get(0), "id"), event, list(list.get(1), "args"), resync, number(list.get(2), "createdAt"));
    }

    /**
     * A CBOR integer at the start of {@code bytes} (what follows it is ignored): the creation time
     * the store's inspect script cuts out of a stored message.
     */
    static long cborInteger(byte[] bytes) {
        if (bytes.length == 0) {
            throw new IllegalArgumentException("no CBOR integer");
        }
        int head = bytes[0] & 0xff;
        int major = head >>> 5;
        int info = head & 0x1f;
        if (major > 1) {
            throw new IllegalArgumentException("not a CBOR integer (major type " + major + ")");
        }
        long value;
        if (info < 24) {
            value = info;
        } else if (info <= 27) {
            int size = 1 << (info - 24);
            if (bytes.length < 1 + size) {
                throw new IllegalArgumentException("truncated CBOR integer");
            }
            value = 0;
            for (int i = 1; i <= size; i++) {
                value = (value << 8) | (bytes[i] & 0xff);
            }
            if (value < 0) {
                throw new IllegalArgumentException("CBOR integer out of range");
            }
        } else {
            throw new IllegalArgumentException("malformed CBOR integer");
        }
        return major == 0 ? value : -1 - value;
    }

    // ---- routed messages and commands ----------------------------------------------------------

    static byte[] encode(Message m) {
        return encode(m, 0);
    }

    /** A routed message, with the time it is published ({@code pt}; 0 leaves it out). */
    static byte[] encode(Message m, long publishedAtMillis) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("v", VERSION);
        map.put("k", "m");
        map.put("id", m.id());
        map.put("s", m.site());
        Target t = m.target();
        if (t.socketId() != null) {
            map.put("sk", t.socketId());
        } else if (t.wholeSite()) {
            map.put("all", true);
        } else {
            map.put("r", List.copyOf(t.rooms()));
        }
        if (!t.except().isEmpty()) {
            map.put("x", List.copyOf(t.except()));
        }
        map.put("e", m.event());
        map.put("a", m.args());
        if (!m.queuedRooms().isEmpty()) {
            map.put("q", List.copyOf(m.queuedRooms()));
        }
        if (m.resync()) {
            map.put("rs", true);
        }
        map.put("t", m.createdAtMillis());
        if (publishedAtMillis > 0) {
            map.put("pt", publishedAtMillis);
        }
        return write(map);
    }

    static byte[] encode(SocketCommand c) {
        return encode(c, 0);
    }

    /** A routed command, with the time it is published ({@code pt}; 0 leaves it out). */
    static byte[] encode(SocketCommand c, long publishedAtMillis) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("v", VERSION);
        map.put("k", "c");
        map.put("s", c.site());
        map.put("sk", c.socketId());
        map.put("c", c.kind().name());
        if (!c.rooms().isEmpty()) {
            map.put("r", List.copyOf(c.rooms()));
        }
        if (publishedAtMillis > 0) {
            map.put("pt", publishedAtMillis);
        }
        return write(map);
    }

    /** A node asks every node for its connections of a site, to be written under {@code replyKey}. */
    record ListRequest(String site, String requestId, String from, int limit) {
    }

    /** A node's answer to a {@link ListRequest}: its connections are in {@code key}. */
    record ListReply(String requestId, String node, String key) {
    }

    static byte[] encode(ListRequest r) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("v", VERSION);
        map.put("k", "lq");
        map.put("s", r.site());
        map.put("id", r.requestId());
        map.put("from", r.from());
        map.put("n", r.limit());
        return write(map);
    }

    static byte[] encode(ListReply r) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("v", VERSION);
        map.put("k", "lr");
        map.put("s", "-");
        map.put("id", r.requestId());
        map.put("node", r.node());
        map.put("key", r.key());
        return write(map);
    }

    /** A node's connections, and whether it had more than it lists. */
    record Connections(List<ConnectionInfo> connections, boolean truncated) {
    }

    static byte[] encodeConnections(List<ConnectionInfo> connections, boolean truncated) {
        List<Object> list = new ArrayList<>(connections.size());
        for (ConnectionInfo c : connections) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("s", c.site());
            m.put("sk", c.socketId());
            m.put("n", c.nodeId());
            if (c.sessionId() != null) {
                m.put("ss", c.sessionId());
            }
            if (c.userId() != null) {
                m.put("u", c.userId());
            }
            m.put("r", List.copyOf(c.rooms()));
            ConnectionInfo.Handshake h = c.handshake();
            Map<String, Object> hm = new LinkedHashMap<>();
            hm.put("hd", h.headers());
            hm.put("i", h.issued());
            hm.put("a", h.address());
            hm.put("x", h.xdomain());
            hm.put("sc", h.secure());
            hm.put("url", h.url());
            hm.put("q", h.query());
            m.put("h", hm);
            list.add(m);
        }
        return write(Map.of("v", VERSION, "c", list, "t", truncated));
    }

    static Connections decodeConnections(byte[] bytes) {
        Object value = read(bytes, 0, bytes.length);
        if (!(value instanceof Map<?, ?> map) || !(map.get("v") instanceof Number n) || n.intValue() != VERSION
                || !(map.get("c") instanceof List<?> list)) {
            throw new IllegalArgumentException("not a connection list");
        }
        List<ConnectionInfo> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> m) || !(m.get("h") instanceof Map<?, ?> h)) {
                throw new IllegalArgumentException("not a connection");
            }
            ConnectionInfo.Handshake handshake = new ConnectionInfo.Handshake(multiMap(h.get("hd"), "hd"),
                    number(h.get("i"), "i"), stringOrEmpty(h.get("a"), "a"), Boolean.TRUE.equals(h.get("x")),
                    Boolean.TRUE.equals(h.get("sc")), stringOrEmpty(h.get("url"), "url"), multiMap(h.get("q"), "q"));
            out.add(new ConnectionInfo(string(m.get("s"), "s"), string(m.get("sk"), "sk"), string(m.get("n"), "n"),
                    m.get("ss") == null ? null : string(m.get("ss"), "ss"), m.get("u") == null ? null : string(m.get("u"), "u"),
                    strings(m.get("r"), "r"), handshake));
        }
        return new Connections(out, Boolean.TRUE.equals(map.get("t")));
    }

    /** A {@link Message}, a {@link SocketCommand}, a {@link ListRequest} or a {@link ListReply}. */
    static Object decode(byte[] bytes) {
        return decodeRouted(bytes).item();
    }

    /**
     * A routed item and when it was published.
     *
     * @param item a {@link Message}, a {@link SocketCommand}, a {@link ListRequest} or a {@link ListReply}
     * @param publishedAtMillis the item's {@code pt}, or 0 when it has none
     */
    record Routed(Object item, long publishedAtMillis) {
    }

    /** Decodes a routed item with its publish time. */
    static Routed decodeRouted(byte[] bytes) {
        Object value = read(bytes, 0, bytes.length);
        if (value instanceof Map<?, ?> map && map.get("pt") != null) {
            long publishedAt = number(map.get("pt"), "pt");
            return new Routed(decodeItem(map), Math.max(0, publishedAt));
        }
        return new Routed(decodeItem(value), 0);
    }

    private static Object decodeItem(Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("not a map");
        }
        Object v = map.get("v");
        if (!(v instanceof Number n) || n.intValue() != VERSION) {
            throw new IllegalArgumentException("unsupported format version " + v);
        }
        String kind = string(map.get("k"), "k");
        String site = string(map.get("s"), "s");
        if ("lq".equals(kind)) {
            long limit = number(map.get("n"), "n");
            if (limit < 1 || limit > MAX_LISTING) {
                throw new IllegalArgumentException("field n is out of range");
            }
            return new ListRequest(site, string(map.get("id"), "id"), string(map.get("from"), "from"), (int) limit);
        }
        if ("lr".equals(kind)) {
            return new ListReply(string(map.get("id"), "id"), string(map.get("node"), "node"), string(map.get("key"), "key"));
        }
        if ("c".equals(kind)) {
            SocketCommand.Kind ck;
            try {
                ck = SocketCommand.Kind.valueOf(string(map.get("c"), "c"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown command " + map.get("c"));
            }
            return new SocketCommand(site, string(map.get("sk"), "sk"), ck, strings(map.get("r"), "r"));
        }
        if (!"m".equals(kind)) {
            throw new IllegalArgumentException("unknown kind " + kind);
        }
        Target target;
        if (map.get("sk") != null) {
            target = Target.socket(string(map.get("sk"), "sk"));
        } else if (Boolean.TRUE.equals(map.get("all"))) {
            target = Target.site();
        } else {
            Set<String> rooms = strings(map.get("r"), "r");
            if (rooms.isEmpty()) {
                throw new IllegalArgumentException("message names no target");
            }
            target = Target.rooms(rooms);
        }
        Set<String> except = strings(map.get("x"), "x");
        if (!except.isEmpty()) {
            target = target.except(except);
        }
        return new Message(number(map.get("id"), "id"), site, target, string(map.get("e"), "e"), list(map.get("a"), "args"),
                strings(map.get("q"), "q"), Boolean.TRUE.equals(map.get("rs")), number(map.get("t"), "t"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
