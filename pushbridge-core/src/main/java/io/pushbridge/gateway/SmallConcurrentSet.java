package io.pushbridge.gateway;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.AbstractSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * A thread-safe set for a few elements (the namespaces one session is connecting to, or leaving),
 * copied on each change: an immutable set in one volatile field, so that an empty one costs 16
 * bytes (a {@code ConcurrentHashMap.newKeySet()} costs 88, and keeps its table once it had an
 * element). Changes are atomic; iteration and reads see a snapshot. Not for large sets: each change
 * copies the set. Nulls are not allowed.
 */
final class SmallConcurrentSet<E> extends AbstractSet<E> {

    private static final VarHandle ELEMENTS;

    static {
        try {
            ELEMENTS = MethodHandles.lookup().findVarHandle(SmallConcurrentSet.class, "elements", Set.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile Set<E> elements = Set.of();

    @Override
    public boolean add(E element) {
        while (true) {
            Set<E> current = elements;
            if (current.contains(element)) {
                return false;
            }
            Set<E> next = new HashSet<>(current);
            next.add(element);
            if (ELEMENTS.compareAndSet(this, current, Set.copyOf(next))) {
                return true;
            }
        }
    }

    @Override
    public boolean remove(Object element) {
        while (true) {
            Set<E> current = elements;
            if (element == null || !current.contains(element)) {
                return false;
            }
            Set<E> next = new HashSet<>(current);
            next.remove(element);
            if (ELEMENTS.compareAndSet(this, current, next.isEmpty() ? Set.of() : Set.copyOf(next))) {
                return true;
            }
        }
    }

    @Override
    public boolean contains(Object element) {
        return element != null && elements.contains(element);
    }

    @Override
    public boolean isEmpty() {
        return elements.isEmpty();
    }

    @Override
    public int size() {
        return elements.size();
    }

    @Override
    public void clear() {
        elements = Set.of();
    }

    /** Over a snapshot; its {@code remove} is not supported. */
    @Override
    public Iterator<E> iterator() {
        return elements.iterator();
    }
}
