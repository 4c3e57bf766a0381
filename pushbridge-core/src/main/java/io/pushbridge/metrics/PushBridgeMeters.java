package io.pushbridge.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The meters one component (the gateway, a router, an extension) registered with a
 * {@link MeterRegistry}, each built from its {@link PushBridgeMeter}; {@link #close()} removes them
 * when the component stops, so that a stopped component leaves no gauge holding it and a new one
 * registers afresh.
 *
 * <p>Without a registry ({@link #none()}) the meters are Micrometer's no-op ones: recording costs a
 * call that does nothing.
 *
 * <p>Register meters once, when the component starts, and keep them: hot paths record into the
 * meters they hold and never look meters up by their tags. A meter asked for after {@link #close()}
 * (a late answer of a component that has stopped) is a no-op one and is not registered. Thread-safe.
 *
 * <p>Components that share a registry (two gateways in one process) share a meter of the same name
 * and tags: Micrometer hands both the same one. Such a meter is reference-counted across every
 * {@code PushBridgeMeters} of the registry and removed when the last of them closes, so that one
 * stopping does not take away the other's meters. Counters and timers then add up both components'
 * counts; a gauge or function counter reads the source of the component that registered it first
 * (give such components their own registries, or sites of their own names, to see each one's).
 */
public final class PushBridgeMeters implements AutoCloseable {

    private final MeterRegistry registry;
    private final boolean recording;
    private final Set<Meter> registered = ConcurrentHashMap.newKeySet();
    /** Set by {@link #close()}; guarded by {@link #SHARED}. */
    private boolean closed;

    /** A registry that registers nothing: the meters handed out after {@link #close()}. */
    private static final MeterRegistry NOOP = new CompositeMeterRegistry();
    /**
     * How many {@code PushBridgeMeters} hold each meter of a registry: a meter leaves its registry when
     * the last one closes. Also the lock of every registration and close (cold paths only).
     */
    private static final Map<MeterRegistry, Map<Meter.Id, Integer>> SHARED = new WeakHashMap<>();

    /** Registers with {@code registry}; {@code null}: nothing is recorded. */
    public PushBridgeMeters(@Nullable MeterRegistry registry) {
        this.recording = registry != null;
        // a composite without registries hands out meters that record nothing
        this.registry = registry != null ? registry : new CompositeMeterRegistry();
    }

    /** Meters that record nothing. */
    public static PushBridgeMeters none() {
        return new PushBridgeMeters(null);
    }

    /** The registry meters go to (one that records nothing when none was given). */
    public MeterRegistry registry() {
        return registry;
    }

    /** Whether a registry was given: meters record. */
    public boolean isRecording() {
        return recording;
    }

    /** {@link PushBridgeMeter#counter}, remembered for {@link #close()}. */
    public Counter counter(PushBridgeMeter meter, String... tags) {
        synchronized (SHARED) {
            return closed ? meter.counter(NOOP, tags) : keep(meter.counter(registry, tags));
        }
    }

    /** {@link PushBridgeMeter#functionCounter}, remembered for {@link #close()}. */
    public <T> FunctionCounter functionCounter(PushBridgeMeter meter, T source, ToDoubleFunction<T> count, String... tags) {
        synchronized (SHARED) {
            return closed ? meter.functionCounter(NOOP, source, count, tags) : keep(meter.functionCounter(registry, source, count, tags));
        }
    }

    /** {@link PushBridgeMeter#gauge}, remembered for {@link #close()}. */
    public <T> Gauge gauge(PushBridgeMeter meter, T source, ToDoubleFunction<T> value, String... tags) {
        synchronized (SHARED) {
            return closed ? meter.gauge(NOOP, source, value, tags) : keep(meter.gauge(registry, source, value, tags));
        }
    }

    /** {@link PushBridgeMeter#timer}, remembered for {@link #close()}. */
    public Timer timer(PushBridgeMeter meter, String... tags) {
        synchronized (SHARED) {
            return closed ? meter.timer(NOOP, tags) : keep(meter.timer(registry, tags));
        }
    }

    /** Removes every meter registered through this from the registry; safe to call twice. */
    @Override
    public void close() {
        synchronized (SHARED) {
            closed = true;
            Map<Meter.Id, Integer> holders = SHARED.get(registry);
            for (Meter meter : registered) {
                Integer left = holders == null ? null : holders.computeIfPresent(meter.getId(), (id, n) -> n > 1 ? n - 1 : null);
                if (left == null) {
                    registry.remove(meter);
                }
            }
            if (holders != null && holders.isEmpty()) {
                SHARED.remove(registry);
            }
            registered.clear();
        }
    }

    /** Remembers a meter, once per meter; the caller holds {@link #SHARED}. */
    private <M extends Meter> M keep(M meter) {
        if (registered.add(meter) && recording) {
            SHARED.computeIfAbsent(registry, r -> new HashMap<>()).merge(meter.getId(), 1, Integer::sum);
        }
        return meter;
    }

    @Override
    public String toString() {
        return "PushBridgeMeters[" + (recording ? registry.getClass().getSimpleName() : "not recording") + ", "
                + registered.size() + " meters]";
    }
}
