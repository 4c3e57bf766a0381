package io.pushbridge.id;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link FlakeIdGenerator#nextId()}: ids per second from one thread, and from 2 threads sharing
 * one generator (as a node's send API threads do), which contend for its lock. Above 4,096 ids per
 * millisecond the generator borrows the next millisecond instead of waiting, so neither figure is
 * capped by the clock. Run with {@code -Pjmh -Djmh.args=FlakeIdGenerator} (docs/performance.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FlakeIdGeneratorBenchmark {

    private final FlakeIdGenerator ids = new FlakeIdGenerator(1, 1);

    @Benchmark
    @Threads(1)
    public long nextId() {
        return ids.nextId();
    }

    /** The total of both threads. */
    @Benchmark
    @Threads(2)
    public long nextIdContended() {
        return ids.nextId();
    }
}
