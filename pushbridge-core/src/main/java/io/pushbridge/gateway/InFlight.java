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
 * <p>Counting costs one atomic add at each end and never blocks; only {@link #awaitIdle} waits,
 * on the thread that stops the gateway. Thread-safe.
 */
final class InFlight {

    enum Kind { SENDS, ACKS, CLEANUPS }

    private final AtomicInteger[] counts = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};

    void enter(Kind kind) {
        counts[kind.ordinal()].incrementAndGet();
    }

    void exit(Kind kind) {
        counts[kind.ordinal()].decrementAndGet();
    }

    /** Counts {@code work} until it completes; returns it. */
    <T> CompletableFuture<T> track(Kind kind, CompletableFuture<T> work) {
        enter(kind);
        work.whenComplete((v, failure) -> exit(kind));
        return work;
    }

    int count(Kind kind) {
        return counts[kind.ordinal()].get();
    }

    int total() {
        int n = 0;
        for (AtomicInteger count : counts) {
            n += count.get();
        }
        return n;
    }

    /**
     * Waits until nothing is in flight, or the deadline ({@link System#nanoTime()}) passes, polling
     * every few milliseconds.
     *
     * @return whether nothing was in flight
     */
    boolean awaitIdle(long deadlineNanos) {
        while (total() > 0) {
            if (deadlineNanos - System.nanoTime() <= 0 || Thread.currentThread().isInterrupted()) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }

    @Override
    public String toString() {
        return count(Kind.SENDS) + " sends, " + count(Kind.ACKS) + " acks, " + count(Kind.CLEANUPS) + " cleanups";
    }
}
