package io.pushbridge.gateway;

import com.corundumstudio.socketio.HandshakeData;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.AsciiString;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each session's handshake (netty-socketio's {@link HandshakeData}, which the gateway reads
 * for the whole life of a connection: origin checks, {@code ConnectRequest}s, the admin view) in
 * less heap, with the same content: the request's headers in one read-only array instead of a hash
 * table of entries, the query parameters in an immutable map, and the strings that are the same for
 * most clients (header names, the values of the headers listed in {@link #SHARED_VALUES}, the
 * query's {@code EIO} and {@code transport}, a URL with nothing else) shared between sessions. At
 * 10,000 idle connections that is about a kilobyte per connection. Header names are shared as
 * {@link AsciiString}s, whose hash is computed once: a lookup in the read-only array hashes every
 * name it passes, and netty-socketio looks up {@code Origin} for each message it writes to a session.
 *
 * <p>Values that identify a client or a request ({@code Sec-WebSocket-Key}, cookies, tokens (also
 * in {@code Sec-WebSocket-Protocol}, where some clients carry one), the
 * addresses in {@code X-Forwarded-For}, a cache-busting {@code t}) are kept as they are and never
 * shared: sharing them would only fill the table. The table is bounded ({@link #MAX_SHARED}
 * strings of at most {@link #MAX_SHARED_LENGTH} characters); once full, later strings are kept
 * unshared.
 *
 * <p>netty-socketio offers no way to set those fields: they are reached by reflection, probed once;
 * if that fails, handshakes are kept as netty-socketio made them (one log line at start).
 *
 * <p>Thread-safe. {@link #compact} runs on the session's event loop, before the session is
 * published to other threads.
 */
final class CompactHandshake {

    private static final Logger log = LoggerFactory.getLogger(CompactHandshake.class);

    /** Most strings shared by one gateway. */
    static final int MAX_SHARED = 4096;
    /** Longest string shared, in characters (a browser's {@code User-Agent} fits). */
    static final int MAX_SHARED_LENGTH = 512;
    /** Headers whose values are the same for many clients (lower case). */
    static final Set<String> SHARED_VALUES = Set.of("host", "connection", "upgrade", "sec-websocket-version",
            "sec-websocket-extensions", "user-agent", "accept", "accept-encoding",
            "accept-language", "origin", "cache-control", "pragma", "content-type", "sec-fetch-site",
            "sec-fetch-mode", "sec-fetch-dest", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform");
    /** Query parameters whose values are the same for many clients. */
    private static final Set<String> SHARED_PARAMS = Set.of("EIO", "transport");

    private static final @Nullable Field HEADERS;
    private static final @Nullable Field URL_PARAMS;
    private static final @Nullable Field URL;
    /** Why handshakes cannot be compacted, or {@code null}. */
    private static final @Nullable String PROBLEM;

    static {
        Field headers = null;
        Field urlParams = null;
        Field url = null;
        String problem = null;
        try {
            headers = field("headers", HttpHeaders.class);
            urlParams = field("urlParams", Map.class);
            url = field("url", String.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            problem = "netty-socketio's HandshakeData has no reachable field: " + e;
            headers = urlParams = url = null;
        }
        HEADERS = headers;
        URL_PARAMS = urlParams;
        URL = url;
        PROBLEM = problem;
    }

    private final ConcurrentHashMap<String, String> shared = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AsciiString> names = new ConcurrentHashMap<>();
    /**
     * Whole query parameter maps of nothing but {@link #SHARED_PARAMS} ({@code EIO=4&transport=websocket},
     * the same for nearly every client: its map and lists, about 110 bytes), shared as the strings are;
     * at most {@link #MAX_SHARED_PARAM_MAPS}.
     */
    private final ConcurrentHashMap<Map<String, List<String>>, Map<String, List<String>>> sharedParams = new ConcurrentHashMap<>();
    /** Most query parameter maps shared by one gateway (EIO and transport take a few values). */
    static final int MAX_SHARED_PARAM_MAPS = 64;

    /**
     * Why this netty-socketio's handshakes are kept as they are ({@code null}: they are compacted),
     * for the gateway to log once.
     */
    static @Nullable String unavailable() {
        return PROBLEM;
    }

    /**
     * Replaces a handshake's headers, query parameters and URL with compact equals.
     * Silent: a handshake that cannot be compacted stays as it is.
     */
    void compact(@Nullable HandshakeData handshake) {
        if (handshake == null || PROBLEM != null) {
            return;
        }
        try {
            HttpHeaders headers = handshake.getHttpHeaders();
            if (headers != null && !(headers instanceof ReadOnlyHttpHeaders)) {
                HEADERS.set(handshake, compact(headers));
            }
            Map<String, List<String>> params = handshake.getUrlParams();
            boolean plainUrl = true;
            if (params != null) {
                URL_PARAMS.set(handshake, compact(params));
                plainUrl = SHARED_PARAMS.containsAll(params.keySet());
            }
            String url = handshake.getUrl();
            if (url != null && plainUrl) {
                URL.set(handshake, share(url));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Could not compact a handshake: {}", e.toString());
        }
    }

    /** The same headers in order, names and values as strings, in one array. */
    private HttpHeaders compact(HttpHeaders headers) {
        List<CharSequence> pairs = new ArrayList<>(headers.size() * 2);
        for (Map.Entry<String, String> header : headers) {
            String name = header.getKey();
            String value = header.getValue();
            pairs.add(shareName(name));
            pairs.add(SHARED_VALUES.contains(name.toLowerCase(Locale.ROOT)) ? share(value) : value);
        }
        return new ReadOnlyHttpHeaders(false, pairs.toArray(CharSequence[]::new));
    }

    /** The same parameters, immutable, their names and the values of {@link #SHARED_PARAMS} shared. */
    private Map<String, List<String>> compact(Map<String, List<String>> params) {
        Map<String, List<String>> out = new HashMap<>(params.size() * 2);
        params.forEach((name, values) -> {
            List<String> copy = new ArrayList<>(values.size());
            for (String value : values) {
                copy.add(SHARED_PARAMS.contains(name) && value != null ? share(value) : value);
            }
            out.put(share(name), List.copyOf(copy));
        });
        Map<String, List<String>> compacted = Map.copyOf(out);
        if (!SHARED_PARAMS.containsAll(compacted.keySet())) {
            return compacted;
        }
        return intern(sharedParams, MAX_SHARED_PARAM_MAPS, compacted, compacted, compacted);
    }

    /** An equal string this gateway shares, or {@code value} itself (too long, or the table is full). */
    String share(String value) {
        if (value.length() > MAX_SHARED_LENGTH) {
            return value;
        }
        return intern(shared, MAX_SHARED, value, value, value);
    }

    /**
     * An equal header name this gateway shares, as an {@link AsciiString} (its hash kept), or
     * {@code name} itself (too long, not ASCII, or the table is full).
     */
    CharSequence shareName(String name) {
        if (name.length() > MAX_SHARED_LENGTH || !isAscii(name)) {
            return name;
        }
        AsciiString known = names.get(name);
        return known != null ? known : intern(names, MAX_SHARED, name, new AsciiString(name), name);
    }

    /**
     * The value {@code table} holds for {@code key}, or {@code value} put there; {@code unshared}
     * once the table holds {@code max} entries.
     */
    private static <K, V extends R, R> R intern(ConcurrentHashMap<K, V> table, int max, K key, V value, R unshared) {
        V known = table.get(key);
        if (known != null) {
            return known;
        }
        if (table.size() >= max) {
            return unshared;
        }
        known = table.putIfAbsent(key, value);
        return known == null ? value : known;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 127) {
                return false;
            }
        }
        return true;
    }

    private static Field field(String name, Class<?> type) throws NoSuchFieldException {
        Field field = HandshakeData.class.getDeclaredField(name);
        if (!type.isAssignableFrom(field.getType())) {
            throw new NoSuchFieldException(name + " is a " + field.getType().getName() + ", not a " + type.getName());
        }
        field.setAccessible(true);
        return field;
    }
}
