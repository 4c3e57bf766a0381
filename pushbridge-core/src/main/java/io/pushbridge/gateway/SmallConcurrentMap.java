package io.pushbridge.gateway;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.AbstractMap;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A thread-safe map for a few entries (a session's sockets, one per site it joined), copied on
 * each change: an immutable map in one volatile field, 16 bytes when empty and 40 with one entry
 * (a {@code ConcurrentHashMap} with room for one costs about 120 with its entry). Changes are
 * atomic ({@code put}, {@code remove}, {@code remove(key, value)}, {@code clear}); reads and
 * iteration ({@code entrySet}, {@code keySet}, {@code values}) see a snapshot, whose own changes
 * are not supported. Not for large maps: each change copies the map. Nulls are not allowed.
 */
final class SmallConcurrentMap<K, V> extends AbstractMap<K, V> {

    private static final VarHandle ENTRIES;

    static {
        try {
            ENTRIES = MethodHandles.lookup().findVarHandle(SmallConcurrentMap.class, "entries", Map.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile Map<K, V> entries = Map.of();

    @Override
    public @Nullable V put(K key, V value) {
        Objects.requireNonNull(key);
        Objects.requireNonNull(value);
        while (true) {
            Map<K, V> current = entries;
            Map<K, V> next = new HashMap<>(current);
            V old = next.put(key, value);
            if (ENTRIES.compareAndSet(this, current, freeze(next))) {
                return old;
            }
        }
    }

    @Override
    public @Nullable V remove(Object key) {
        while (true) {
            Map<K, V> current = entries;
            if (key == null || !current.containsKey(key)) {
                return null;
            }
            Map<K, V> next = new HashMap<>(current);
            V old = next.remove(key);
            if (ENTRIES.compareAndSet(this, current, next.isEmpty() ? Map.of() : freeze(next))) {
                return old;
            }
        }
    }

    @Override
    public boolean remove(Object key, Object value) {
        while (true) {
            Map<K, V> current = entries;
            if (key == null || value == null || !value.equals(current.get(key))) {
                return false;
            }
            Map<K, V> next = new HashMap<>(current);
            next.remove(key);
            if (ENTRIES.compareAndSet(this, current, next.isEmpty() ? Map.of() : freeze(next))) {
                return true;
            }
        }
    }

    /**
     * An immutable copy: a {@link Two} for two entries (a session on a site and "/", 40 bytes where
     * the JDK's map of two takes 64 with its table), the JDK's otherwise.
     */
    private static <K, V> Map<K, V> freeze(Map<K, V> map) {
        if (map.size() == 2) {
            var it = map.entrySet().iterator();
            Entry<K, V> first = it.next();
            Entry<K, V> second = it.next();
            return new Two<>(first.getKey(), first.getValue(), second.getKey(), second.getValue());
        }
        return Map.copyOf(map);
    }

    /** An immutable map of two entries, without a table; its views are made on each call, not kept. */
    private static final class Two<K, V> extends AbstractMap<K, V> {
        private final K k1;
        private final V v1;
        private final K k2;
        private final V v2;

        Two(K k1, V v1, K k2, V v2) {
            this.k1 = k1;
            this.v1 = v1;
            this.k2 = k2;
            this.v2 = v2;
        }

        @Override
        public @Nullable V get(Object key) {
            return k1.equals(key) ? v1 : k2.equals(key) ? v2 : null;
        }

        @Override
        public boolean containsKey(Object key) {
            return k1.equals(key) || k2.equals(key);
        }

        @Override
        public int size() {
            return 2;
        }

        @Override
        public boolean isEmpty() {
            return false;
        }

        @Override
        public Set<Entry<K, V>> entrySet() {
            return Set.of(Map.entry(k1, v1), Map.entry(k2, v2));
        }

        @Override
        public Set<K> keySet() {
            return Set.of(k1, k2);
        }

        @Override
        public Collection<V> values() {
            return java.util.List.of(v1, v2);
        }
    }

    @Override
    public void clear() {
        entries = Map.of();
    }

    @Override
    public @Nullable V get(Object key) {
        return key == null ? null : entries.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return key != null && entries.containsKey(key);
    }

    @Override
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    @Override
    public int size() {
        return entries.size();
    }

    /** A snapshot. */
    @Override
    public Set<Entry<K, V>> entrySet() {
        return entries.entrySet();
    }

    /** A snapshot. */
    @Override
    public Collection<V> values() {
        return entries.values();
    }

    /** A snapshot. */
    @Override
    public Set<K> keySet() {
        return entries.keySet();
    }
}
