package io.pushbridge.gateway;

import io.micrometer.core.instrument.Counter;
import io.pushbridge.metrics.BadInput;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Counters of what the gateway did and refused, by name ({@code connects},
 * {@code refused.<code>}, {@code dropped.<reason>}, ...). Cheap to increment from any thread.
 *
 * <p>The counters that count a {@link BadInput} (its {@link BadInput#statsKeys()}) also move that
 * bad input's {@link PushBridgeMeter#BAD_INPUTS} meter, registered when the statistics are made, and
 * each site's limit counters ({@link Limit#counter}) its {@link PushBridgeMeter#LIMIT_HITS} meter.
 */
public final class GatewayStats {

    /** One counter, and the meter it moves too (if any). */
    private static final class Slot {
        final LongAdder count = new LongAdder();
        final @Nullable Counter meter;

        Slot(@Nullable Counter meter) {
            this.meter = meter;
        }
    }

    private final ConcurrentHashMap<String, Slot> counters = new ConcurrentHashMap<>();
    /** Counters that move a meter too, by name; complete before anything counts (see {@link #bind}). */
    private final Map<String, Counter> meters = new ConcurrentHashMap<>();

    /** Statistics without meters. */
    public GatewayStats() {
        this(PushBridgeMeters.none());
    }

    /** Statistics whose bad-input counters move the meters registered through {@code meters}. */
    GatewayStats(PushBridgeMeters meters) {
        for (BadInput input : BadInput.values()) {
            Counter counter = meters.counter(PushBridgeMeter.BAD_INPUTS,
                    PushBridgeMeter.TagKey.ENTRY_POINT.key(), input.entryPoint().tag(),
                    PushBridgeMeter.TagKey.REASON.key(), input.reason());
            for (String key : input.statsKeys()) {
                bind(key, counter);
            }
        }
    }

    /**
     * Makes a counter move a meter too. Only while the gateway is being built: a counter that has
     * counted already keeps the meter it had then.
     */
    void bind(String name, Counter meter) {
        meters.put(name, meter);
    }

    void increment(String name) {
        add(name, 1);
    }

    void add(String name, long n) {
        Slot slot = counters.computeIfAbsent(name, k -> new Slot(meters.get(k)));
        slot.count.add(n);
        if (slot.meter != null) {
            slot.meter.increment(n);
        }
    }

    /**
     * One counter by name, for a hot path: it counts as {@link #add} with that name does, without a
     * map lookup per count once it has counted (the lookup is made at its first count, so that a
     * meter {@link #bind bound} to the name while the gateway was being built moves too).
     */
    Handle handle(String name) {
        return new Handle(name);
    }

    /** See {@link #handle}. Thread-safe. */
    final class Handle {
        private final String name;
        private volatile @Nullable Slot slot;

        private Handle(String name) {
            this.name = name;
        }

        void increment() {
            add(1);
        }

        void add(long n) {
            Slot s = slot;
            if (s == null) {
                s = counters.computeIfAbsent(name, k -> new Slot(meters.get(k)));
                slot = s;
            }
            s.count.add(n);
            if (s.meter != null) {
                s.meter.increment(n);
            }
        }
    }

    /** The value of one counter (0 when it never moved). */
    public long get(String name) {
        Slot slot = counters.get(name);
        return slot == null ? 0 : slot.count.sum();
    }

    /** Every counter, sorted by name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.count.sum()));
        return out;
    }
}
