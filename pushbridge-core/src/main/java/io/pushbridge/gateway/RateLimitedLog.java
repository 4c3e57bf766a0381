package io.pushbridge.gateway;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * At most one warning per interval for a kind of bad input; the next line says how many were
 * suppressed meanwhile. Keeps a flood of bad packets or messages from flooding the log. A trailing
 * {@link Throwable} argument is logged with its stack trace, as SLF4J does. Thread-safe.
 */
public final class RateLimitedLog {

    private static final int EXCERPT_LENGTH = 100;

    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextAllowed = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    /** Logs to {@code log}, at most once per {@code intervalMillis}. */
    public RateLimitedLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** A warning, unless one was logged less than the interval ago (then it is counted). */
    public void warn(String format, Object... args) {
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

    /** At most 100 characters of a text, for log lines that must not carry whole payloads. */
    public static String excerpt(String text) {
        return text.length() <= EXCERPT_LENGTH ? text : text.substring(0, EXCERPT_LENGTH - 3) + "...";
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
