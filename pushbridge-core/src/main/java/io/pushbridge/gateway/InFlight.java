package io.pushbridge.gateway;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The work a draining gateway waits for before it closes connections and stops routing: sends
 * accepted and not yet stored and published ({@link Kind#SENDS}, commands too), client acks whose
 * removal from the store has not completed ({@link Kind#ACKS}), and the bookkeeping a closed
 * socket leaves (its user queues' closes, its removal from the router: {@link Kind#CLEANUPS}).
 *
 * <p>Work is counted per <em>epoch</em>: {@link #mark()} starts a new one, and
 * {@link #awaitIdle(int, long, Kind...)} waits only for the work that entered before a mark. A busy
 * node never runs out of work while its clients are connected (they keep acking, messages keep
 * arriving), so a drain waits for what was accepted before it began, not for a moment when nothing
 * at all is in flight. {@link #enter} returns the entry's epoch, its ticket for {@link #exit}.
 *
 * <p>Counting costs an atomic add at each end (and a volatile read) and never blocks; only
 * {@link #awaitIdle} waits, on the thread that stops the gateway. Thread-safe.
 */
final class InFlight {

    enum Kind { SENDS, ACKS, CLEANUPS }

    /** A drain marks twice: when it begins, and after the connections are closed. */
    static final int EPOCHS = 3;

    /** Counts by kind, then epoch. */
    private final AtomicInteger[][] counts = new AtomicInteger[Kind.values().length][EPOCHS];
    private volatile int epoch;

    InFlight() {
        for (AtomicInteger[] byEpoch : counts) {
            for (int e = 0; e < EPOCHS; e++) {
                byEpoch[e] = new AtomicInteger();
            }
        }
    }

    /**
     * Counts one piece of work of {@code kind} until {@link #exit} with the ticket this returns.
     * An entry that races with {@link #mark()} is counted in the epoch the mark ended (and so awaited
     * by it) or in the new one, never lost between.
     */
    int enter(Kind kind) {
        AtomicInteger[] byEpoch = counts[kind.ordinal()];
        while (true) {
            int e = epoch;
            byEpoch[e].incrementAndGet();
            if (epoch == e) {
                return e; // a mark after this point sees the count
            }
            byEpoch[e].decrementAndGet(); // a mark came between: count in the new epoch
        }
    }

    void exit(Kind kind, int ticket) {
        counts[kind.ordinal()][ticket].decrementAndGet();
    }

    /** Counts {@code work} until it completes; returns it. */
    <T> CompletableFuture<T> track(Kind kind, CompletableFuture<T> work) {
        int ticket = enter(kind);
        work.whenComplete((v, failure) -> exit(kind, ticket));
        return work;
    }

    /**
     * Starts a new epoch: work that enters from now on is not awaited by
     * {@code awaitIdle(}the returned mark{@code , ...)}.
     *
     * @return the new epoch
     * @throws IllegalStateException after {@value #EPOCHS}{@code - 1} marks
     */
    synchronized int mark() {
        if (epoch + 1 >= EPOCHS) {
            throw new IllegalStateException("no epoch left: a gateway drains once");
        }
        epoch = epoch + 1;
        return epoch;
    }

    /** Work of {@code kind} in flight, of every epoch. */
    int count(Kind kind) {
        return count(kind, EPOCHS);
    }

    private int count(Kind kind, int beforeEpoch) {
        int n = 0;
        AtomicInteger[] byEpoch = counts[kind.ordinal()];
        for (int e = 0; e < beforeEpoch; e++) {
            n += byEpoch[e].get();
        }
        return n;
    }

    /** Waits until nothing of any kind is in flight; see {@link #awaitIdle(int, long, Kind...)}. */
    boolean awaitIdle(long deadlineNanos) {
        return awaitIdle(EPOCHS, deadlineNanos, Kind.values());
    }

    /**
     * Waits until no work of {@code kinds} that entered before the epoch {@code beforeEpoch} (a
     * {@link #mark()}) is in flight, or the deadline ({@link System#nanoTime()}) passes, polling every
     * few milliseconds. Work that entered later is not waited for, however much of it there is.
     *
     * @return whether none was in flight
     */
    boolean awaitIdle(int beforeEpoch, long deadlineNanos, Kind... kinds) {
        while (busy(beforeEpoch, kinds)) {
            if (deadlineNanos - System.nanoTime() <= 0 || Thread.currentThread().isInterrupted()) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }

    private boolean busy(int beforeEpoch, Kind... kinds) {
        for (Kind kind : kinds) {
            if (count(kind, beforeEpoch) > 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return count(Kind.SENDS) + " sends, " + count(Kind.ACKS) + " acks, " + count(Kind.CLEANUPS) + " cleanups";
    }

    /** What is in flight of the work that entered before {@code beforeEpoch}, for the drain's warnings. */
    String before(int beforeEpoch) {
        return count(Kind.SENDS, beforeEpoch) + " sends, " + count(Kind.ACKS, beforeEpoch) + " acks, "
                + count(Kind.CLEANUPS, beforeEpoch) + " cleanups accepted before";
    }
}
