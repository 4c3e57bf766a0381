package io.pushbridge.id;

import java.time.Clock;
import java.time.Instant;

/**
 * Makes 64-bit message ids that are unique across a cluster and ordered by time, laid out like npm
 * {@code flake-idgen}'s: from the most significant bit, 1 bit always zero, 41 bits of milliseconds
 * since {@link #EPOCH}, 5 bits of datacenter id, 5 bits of worker id, 12 bits of sequence. Each node
 * of a cluster needs its own (datacenter id, worker id) pair; ids are then unique across the
 * cluster, positive, and sort by the time they were made (to the millisecond; across nodes, as well
 * as their clocks agree).
 *
 * <p>The ids of one generator strictly increase, even if its clock goes backwards: the generator
 * then keeps the last timestamp it used and counts up its sequence. Up to 4096 ids are made per
 * millisecond; past that, the generator borrows the next millisecond rather than wait for it, and
 * real time catches up later.
 *
 * <p><b>Threading.</b> Thread-safe; share one instance per node. {@link #nextId()} takes a short
 * lock, reads the clock once and never waits. Ids run out in 2089 (41 bits of milliseconds after
 * 2020), when {@link #nextId()} starts to throw.
 */
public final class FlakeIdGenerator {

    /** The start of the ids' time: 2020-01-01T00:00:00Z. */
    public static final Instant EPOCH = Instant.parse("2020-01-01T00:00:00Z");

    /** The largest datacenter id, 31. */
    public static final int MAX_DATACENTER_ID = 31;

    /** The largest worker id, 31. */
    public static final int MAX_WORKER_ID = 31;

    private static final long EPOCH_MILLIS = EPOCH.toEpochMilli();
    private static final int SEQUENCE_BITS = 12;
    private static final int WORKER_BITS = 5;
    private static final int DATACENTER_BITS = 5;
    private static final int WORKER_SHIFT = SEQUENCE_BITS;
    private static final int DATACENTER_SHIFT = SEQUENCE_BITS + WORKER_BITS;
    private static final int TIMESTAMP_SHIFT = SEQUENCE_BITS + WORKER_BITS + DATACENTER_BITS;
    private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
    private static final long MAX_TIMESTAMP = (1L << (63 - TIMESTAMP_SHIFT)) - 1;

    private final long nodeBits;
    private final int datacenterId;
    private final int workerId;
    private final Clock clock;

    /** The timestamp (milliseconds since {@link #EPOCH}) of the last id; -1 before the first. */
    private long lastTimestamp = -1;
    private long sequence;

    /** A generator on the system clock. */
    public FlakeIdGenerator(int datacenterId, int workerId) {
        this(datacenterId, workerId, Clock.systemUTC());
    }

    /**
     * A generator for one node.
     *
     * @param datacenterId 0..31
     * @param workerId 0..31
     * @param clock the time source; tests pass one they can move
     * @throws IllegalArgumentException naming the setting when a value is out of range
     */
    public FlakeIdGenerator(int datacenterId, int workerId, Clock clock) {
        require(datacenterId >= 0 && datacenterId <= MAX_DATACENTER_ID,
                "datacenterId must be 0.." + MAX_DATACENTER_ID + ", was " + datacenterId);
        require(workerId >= 0 && workerId <= MAX_WORKER_ID,
                "workerId must be 0.." + MAX_WORKER_ID + ", was " + workerId);
        require(clock != null, "clock must not be null");
        this.datacenterId = datacenterId;
        this.workerId = workerId;
        this.nodeBits = ((long) datacenterId << DATACENTER_SHIFT) | ((long) workerId << WORKER_SHIFT);
        this.clock = clock;
    }

    /**
     * The next id: greater than every id this generator made before.
     *
     * @throws IllegalStateException once the 41 bits of time are used up (in 2089)
     */
    public synchronized long nextId() {
        // a clock before the epoch counts as the epoch itself; ids still increase
        long now = Math.max(0, clock.millis() - EPOCH_MILLIS);
        if (now > lastTimestamp) {
            lastTimestamp = now;
            sequence = 0;
        } else {
            // same millisecond, or the clock went back: go on from the last timestamp
            sequence = (sequence + 1) & SEQUENCE_MASK;
            if (sequence == 0) {
                lastTimestamp++; // this millisecond is used up: borrow the next one
            }
        }
        if (lastTimestamp > MAX_TIMESTAMP) {
            throw new IllegalStateException("flake ids ran out: more than 41 bits of milliseconds since " + EPOCH);
        }
        return (lastTimestamp << TIMESTAMP_SHIFT) | nodeBits | sequence;
    }

    /** This generator's datacenter id. */
    public int datacenterId() {
        return datacenterId;
    }

    /** This generator's worker id. */
    public int workerId() {
        return workerId;
    }

    /** When an id was made, in milliseconds since 1970-01-01T00:00:00Z. */
    public static long timestampMillis(long id) {
        return (id >>> TIMESTAMP_SHIFT) + EPOCH_MILLIS;
    }

    /** The datacenter id of the generator that made an id. */
    public static int datacenterId(long id) {
        return (int) ((id >>> DATACENTER_SHIFT) & MAX_DATACENTER_ID);
    }

    /** The worker id of the generator that made an id. */
    public static int workerId(long id) {
        return (int) ((id >>> WORKER_SHIFT) & MAX_WORKER_ID);
    }

    /** The sequence number of an id within its millisecond. */
    public static int sequence(long id) {
        return (int) (id & SEQUENCE_MASK);
    }

    @Override
    public String toString() {
        return "FlakeIdGenerator[datacenterId=" + datacenterId + ", workerId=" + workerId + "]";
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
