package io.pushbridge.redis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Writing and strictly reading the CBOR maps PushBridge keeps in Redis (routed messages, upstream
 * records and answers): every reader checks its field's type and throws
 * {@link IllegalArgumentException} naming the field, so that a malformed item is dropped and
 * counted, never half applied. For PushBridge's own codecs; not an API for applications.
 */
public final class CborFields {

    private static final ObjectMapper CBOR = new CBORMapper();

    private CborFields() {
    }

    public static byte[] write(Object value) {
        try {
            return CBOR.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Object read(byte[] bytes, int offset, int length) {
        try {
            return CBOR.readValue(bytes, offset, length, Object.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("not CBOR: " + e.getMessage(), e);
        }
    }

    /** A CBOR map whose field {@code v} is {@code version}. */
    public static Map<?, ?> versionedMap(byte[] bytes, int version) {
        if (!(read(bytes, 0, bytes.length) instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("not a map");
        }
        if (!(map.get("v") instanceof Number n) || n.intValue() != version) {
            throw new IllegalArgumentException("unsupported format version " + map.get("v"));
        }
        return map;
    }

    public static long number(@Nullable Object value, String field) {
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        throw new IllegalArgumentException("field " + field + " is not an integer");
    }

    public static String string(@Nullable Object value, String field) {
        if (value instanceof String s && !s.isEmpty()) {
            return s;
        }
        throw new IllegalArgumentException("field " + field + " is not a non-empty string");
    }

    public static @Nullable String optionalString(@Nullable Object value, String field) {
        return value == null ? null : string(value, field);
    }

    public static String stringOrEmpty(@Nullable Object value, String field) {
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("field " + field + " is not a string");
    }

    /** A list of non-empty strings, without duplicates; absent: empty. */
    public static Set<String> strings(@Nullable Object value, String field) {
        if (value == null) {
            return Set.of();
        }
        if (!(value instanceof Collection<?> list)) {
            throw new IllegalArgumentException("field " + field + " is not a list");
        }
        Set<String> out = new LinkedHashSet<>();
        for (Object o : list) {
            out.add(string(o, field));
        }
        return out;
    }

    /** A list of any values (nulls included); absent: empty. */
    public static List<Object> list(@Nullable Object value, String field) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("field " + field + " is not a list");
        }
        return new ArrayList<>(list);
    }

    /** A map of string lists (headers, query parameters). */
    public static Map<String, List<String>> multiMap(@Nullable Object value, String field) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("field " + field + " is not a map");
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (!(k instanceof String name) || !(v instanceof List<?> values)) {
                throw new IllegalArgumentException("field " + field + " is not a map of string lists");
            }
            List<String> strings = new ArrayList<>(values.size());
            for (Object o : values) {
                strings.add(stringOrEmpty(o, field));
            }
            out.put(name, strings);
        });
        return out;
    }
}
