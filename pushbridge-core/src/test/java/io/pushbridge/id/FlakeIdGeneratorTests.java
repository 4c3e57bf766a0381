package io.pushbridge.id;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class FlakeIdGeneratorTests {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00.123Z");

    private final TestClock clock = new TestClock(NOW);

    @Test
    void idsStrictlyIncreaseOverManyCalls() {
        FlakeIdGenerator generator = new FlakeIdGenerator(3, 7, Clock.systemUTC());
        long previous = generator.nextId();
        for (int i = 0; i < 200_000; i++) {
            long id = generator.nextId();
            assertThat(id).isGreaterThan(previous);
            previous = id;
        }
    }

    @Test
    void idsStrictlyIncreaseWhileTimeMoves() {
        FlakeIdGenerator generator = new FlakeIdGenerator(0, 0, clock);
        long previous = generator.nextId();
        for (int i = 0; i < 10_000; i++) {
            if (i % 7 == 0) {
                clock.advance(Duration.ofMillis(1));
            }
            long id = generator.nextId();
            assertThat(id).isGreaterThan(previous);
            previous = id;
        }
    }

    @Test
    void fieldsDecode() {
        FlakeIdGenerator generator = new FlakeIdGenerator(21, 9, clock);

        long id = generator.nextId();

        assertThat(id).isPositive();
        assertThat(FlakeIdGenerator.timestampMillis(id)).isEqualTo(NOW.toEpochMilli());
        assertThat(FlakeIdGenerator.datacenterId(id)).isEqualTo(21);
        assertThat(FlakeIdGenerator.workerId(id)).isEqualTo(9);
        assertThat(FlakeIdGenerator.sequence(id)).isZero();
        assertThat(generator.datacenterId()).isEqualTo(21);
        assertThat(generator.workerId()).isEqualTo(9);
    }

    @Test
    void layoutIsFortyOneBitsOfTimeFiveOfDatacenterFiveOfWorkerTwelveOfSequence() {
        clock.set(FlakeIdGenerator.EPOCH.plusMillis(1));
        FlakeIdGenerator generator = new FlakeIdGenerator(31, 31, clock);

        assertThat(generator.nextId()).isEqualTo((1L << 22) | (31L << 17) | (31L << 12));
        assertThat(generator.nextId()).isEqualTo((1L << 22) | (31L << 17) | (31L << 12) | 1);
        assertThat(FlakeIdGenerator.EPOCH).isEqualTo(Instant.parse("2020-01-01T00:00:00Z"));
    }

    @Test
    void extremeNodeIdsDecode() {
        for (int dc : new int[] {0, 31}) {
            for (int worker : new int[] {0, 31}) {
                long id = new FlakeIdGenerator(dc, worker, clock).nextId();
                assertThat(FlakeIdGenerator.datacenterId(id)).isEqualTo(dc);
                assertThat(FlakeIdGenerator.workerId(id)).isEqualTo(worker);
                assertThat(FlakeIdGenerator.timestampMillis(id)).isEqualTo(NOW.toEpochMilli());
            }
        }
    }

    @Test
    void sequenceCountsWithinOneMillisecondAndRestartsInTheNext() {
        FlakeIdGenerator generator = new FlakeIdGenerator(1, 1, clock);

        assertThat(FlakeIdGenerator.sequence(generator.nextId())).isZero();
        assertThat(FlakeIdGenerator.sequence(generator.nextId())).isEqualTo(1);
        assertThat(FlakeIdGenerator.sequence(generator.nextId())).isEqualTo(2);
        clock.advance(Duration.ofMillis(1));
        long next = generator.nextId();
        assertThat(FlakeIdGenerator.sequence(next)).isZero();
        assertThat(FlakeIdGenerator.timestampMillis(next)).isEqualTo(NOW.toEpochMilli() + 1);
    }

    @Test
    void idsKeepIncreasingWhenTheClockGoesBackwards() {
        FlakeIdGenerator generator = new FlakeIdGenerator(1, 2, clock);
        long before = generator.nextId();

        clock.advance(Duration.ofSeconds(-30));
        long after1 = generator.nextId();
        long after2 = generator.nextId();

        assertThat(after1).isGreaterThan(before);
        assertThat(after2).isGreaterThan(after1);
        assertThat(FlakeIdGenerator.timestampMillis(after1)).isEqualTo(NOW.toEpochMilli());
        assertThat(FlakeIdGenerator.workerId(after2)).isEqualTo(2);
    }

    @Test
    void idsFollowTheClockAgainOnceItPassesTheLastTimestamp() {
        FlakeIdGenerator generator = new FlakeIdGenerator(1, 2, clock);
        generator.nextId();
        clock.advance(Duration.ofSeconds(-30));
        generator.nextId();

        clock.advance(Duration.ofSeconds(31));
        long id = generator.nextId();

        assertThat(FlakeIdGenerator.timestampMillis(id)).isEqualTo(NOW.plusSeconds(1).toEpochMilli());
        assertThat(FlakeIdGenerator.sequence(id)).isZero();
    }

    @Test
    void sequenceOverflowWithinOneMillisecondStaysUniqueAndIncreasing() {
        FlakeIdGenerator generator = new FlakeIdGenerator(5, 6, clock);
        int count = 3 * 4096 + 10;
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(generator.nextId());
        }

        assertThat(new HashSet<>(ids)).hasSize(count);
        assertThat(ids).isSorted();
        // the generator borrowed later milliseconds instead of waiting
        assertThat(FlakeIdGenerator.timestampMillis(ids.get(4095))).isEqualTo(NOW.toEpochMilli());
        assertThat(FlakeIdGenerator.timestampMillis(ids.get(4096))).isEqualTo(NOW.toEpochMilli() + 1);
        assertThat(FlakeIdGenerator.timestampMillis(ids.get(count - 1))).isEqualTo(NOW.toEpochMilli() + 3);
        assertThat(ids).allSatisfy(id -> {
            assertThat(FlakeIdGenerator.datacenterId(id)).isEqualTo(5);
            assertThat(FlakeIdGenerator.workerId(id)).isEqualTo(6);
        });
    }

    @Test
    void clockBeforeTheEpochStillGivesIncreasingIds() {
        clock.set(Instant.parse("1999-12-31T23:59:59Z"));
        FlakeIdGenerator generator = new FlakeIdGenerator(0, 1, clock);

        long first = generator.nextId();
        long second = generator.nextId();

        assertThat(first).isNotNegative();
        assertThat(second).isGreaterThan(first);
    }

    @Test
    void idsRunOutAfterFortyOneBitsOfMilliseconds() {
        clock.set(FlakeIdGenerator.EPOCH.plusMillis(1L << 41));
        FlakeIdGenerator generator = new FlakeIdGenerator(0, 0, clock);

        assertThatIllegalStateException().isThrownBy(generator::nextId);
    }

    @Test
    void concurrentCallersGetUniqueIncreasingIds() throws Exception {
        FlakeIdGenerator generator = new FlakeIdGenerator(2, 3, Clock.systemUTC());
        int threads = 8;
        int perThread = 20_000;
        Set<Long> all = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    long previous = -1;
                    for (int i = 0; i < perThread; i++) {
                        long id = generator.nextId();
                        assertThat(id).isGreaterThan(previous);
                        previous = id;
                        all.add(id);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(all).hasSize(threads * perThread);
    }

    @Test
    void datacenterIdOutOfRangeIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new FlakeIdGenerator(32, 0, clock))
                .withMessage("datacenterId must be 0..31, was 32");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new FlakeIdGenerator(-1, 0, clock))
                .withMessage("datacenterId must be 0..31, was -1");
    }

    @Test
    void workerIdOutOfRangeIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new FlakeIdGenerator(0, 32, clock))
                .withMessage("workerId must be 0..31, was 32");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new FlakeIdGenerator(0, -1, clock))
                .withMessage("workerId must be 0..31, was -1");
    }

    @Test
    void missingClockIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new FlakeIdGenerator(0, 0, nullClock()))
                .withMessage("clock must not be null");
    }

    @SuppressWarnings("NullAway")
    private static Clock nullClock() {
        return null;
    }

    /** A clock that moves only when told to. */
    private static final class TestClock extends Clock {

        private final AtomicReference<Instant> now;

        TestClock(Instant now) {
            this.now = new AtomicReference<>(now);
        }

        void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }

        void set(Instant instant) {
            now.set(instant);
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
