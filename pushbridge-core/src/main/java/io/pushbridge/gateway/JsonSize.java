package io.pushbridge.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;

/**
 * The length in bytes of the JSON a default {@link ObjectMapper} writes for a message's args, as
 * {@code mapper.writeValueAsBytes(args).length}, without writing it: a send's size check runs once
 * per message. The values a JSON body decodes to (maps with string keys, lists, strings, integers,
 * booleans, null) are measured by a walk; anything else (floating-point numbers, other types, a
 * surrogate in a string (an emoji, say), nesting deeper than {@value #MAX_DEPTH}) is measured by writing it.
 */
final class JsonSize {

    private static final int MAX_DEPTH = 32;
    /** Marks a value the walk does not measure. */
    private static final long UNKNOWN = -1;

    private JsonSize() {
    }

    /**
     * The length of {@code value}'s JSON.
     *
     * @throws JsonProcessingException as {@code mapper.writeValueAsBytes} does, for a value it cannot write
     */
    static long of(Object value, ObjectMapper mapper) throws JsonProcessingException {
        long size = walk(value, 0);
        return size >= 0 ? size : mapper.writeValueAsBytes(value).length;
    }

    private static long walk(Object value, int depth) {
        if (value == null) {
            return 4;
        }
        if (value instanceof String s) {
            return string(s);
        }
        if (value instanceof Integer || value instanceof Long) {
            return decimalLength(((Number) value).longValue());
        }
        if (value instanceof Boolean b) {
            return b ? 4 : 5;
        }
        if (depth >= MAX_DEPTH) {
            return UNKNOWN;
        }
        if (value instanceof List<?> list) {
            long n = 2 + Math.max(0, list.size() - 1);
            for (Object item : list) {
                long m = walk(item, depth + 1);
                if (m < 0) {
                    return UNKNOWN;
                }
                n += m;
            }
            return n;
        }
        if (value instanceof Map<?, ?> map) {
            // {"k":v,"k2":v2}: a colon per entry, a comma between entries
            long n = 2 + Math.max(0, map.size() - 1);
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    return UNKNOWN;
                }
                long k = string(key);
                long v = walk(e.getValue(), depth + 1);
                if (k < 0 || v < 0) {
                    return UNKNOWN;
                }
                n += k + 1 + v;
            }
            return n;
        }
        return UNKNOWN;
    }

    /** A quoted, escaped string in UTF-8, as Jackson writes it by default; {@link #UNKNOWN} for a surrogate. */
    static long string(String s) {
        long n = 2;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c == '"' || c == '\\' || c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
                    n += 2;
                } else if (c < 0x20) {
                    n += 6; // \\u00XX
                } else {
                    n += 1;
                }
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isSurrogate(c)) {
                return UNKNOWN; // Jackson's way with surrogates (escaped, paired or not) is its own
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static int decimalLength(long v) {
        if (v == Long.MIN_VALUE) {
            return 20;
        }
        int n = v < 0 ? 1 : 0;
        long x = Math.abs(v);
        int digits = 1;
        while (x >= 10) {
            x /= 10;
            digits++;
        }
        return n + digits;
    }
}
