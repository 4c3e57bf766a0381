package io.pushbridge.redis.handshake;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * At most one warning per interval; the next line says how many were suppressed meanwhile. Keeps a
 * flood of bad messages from flooding the log. A trailing {@link Throwable} argument is logged with
 * its stack trace, as SLF4J does. Thread-safe.
 */
final class RateLimitedLog {

    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextAllowed = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    RateLimitedLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    void warn(String format, Object... args) {
        long now = System.nanoTime();
        long allowed = nextAllowed.get();
        if ((allowed == Long.MIN_VALUE || now - allowed >= 0) && nextAllowed.compareAndSet(allowed, now + intervalNanos)) {
            long dropped = suppressed.getAndSet(0);
            if (dropped > 0) {
                log.warn(format + " ({} similar lines suppressed)", withCount(args, dropped));
            } else {
                log.warn(format, args);
            }
        } else {
            suppressed.incrementAndGet();
        }
    }

    /** The arguments plus the count, before a trailing throwable (which SLF4J logs with its stack trace). */
    private static Object[] withCount(Object[] args, long count) {
        boolean throwable = args.length > 0 && args[args.length - 1] instanceof Throwable;
        int at = throwable ? args.length - 1 : args.length;
        Object[] out = Arrays.copyOf(args, args.length + 1);
        out[at] = count;
        if (throwable) {
            out[args.length] = args[args.length - 1];
        }
        return out;
    }
}
