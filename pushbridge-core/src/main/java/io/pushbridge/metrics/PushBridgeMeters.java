package io.pushbridge.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Set;
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
 * meters they hold and never look meters up by their tags. Thread-safe.
 */
public final class PushBridgeMeters implements AutoCloseable {

    private final MeterRegistry registry;
    private final boolean recording;
    private final Set<Meter> registered = ConcurrentHashMap.newKeySet();

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
        return keep(meter.counter(registry, tags));
    }

    /** {@link PushBridgeMeter#functionCounter}, remembered for {@link #close()}. */
    public <T> FunctionCounter functionCounter(PushBridgeMeter meter, T source, ToDoubleFunction<T> count, String... tags) {
        return keep(meter.functionCounter(registry, source, count, tags));
    }

    /** {@link PushBridgeMeter#gauge}, remembered for {@link #close()}. */
    public <T> Gauge gauge(PushBridgeMeter meter, T source, ToDoubleFunction<T> value, String... tags) {
        return keep(meter.gauge(registry, source, value, tags));
    }

    /** {@link PushBridgeMeter#timer}, remembered for {@link #close()}. */
    public Timer timer(PushBridgeMeter meter, String... tags) {
        return keep(meter.timer(registry, tags));
    }

    /** Removes every meter registered through this from the registry; safe to call twice. */
    @Override
    public void close() {
        for (Meter meter : registered) {
            registry.remove(meter);
        }
        registered.clear();
    }

    private <M extends Meter> M keep(M meter) {
        registered.add(meter);
        return meter;
    }

    @Override
    public String toString() {
        return "PushBridgeMeters[" + (recording ? registry.getClass().getSimpleName() : "not recording") + ", "
                + registered.size() + " meters]";
    }
}
