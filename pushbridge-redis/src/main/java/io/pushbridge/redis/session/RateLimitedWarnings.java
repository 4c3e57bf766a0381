package io.pushbridge.redis.session;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * At most one warning per second; the next one says how many were suppressed meanwhile, so that a
 * flood of bad input does not flood the log. Thread-safe.
 */
final class RateLimitedWarnings {

    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final Logger log;
    private final AtomicLong nextAllowed = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    RateLimitedWarnings(Logger log) {
        this.log = log;
    }

    void warn(String format, Object... args) {
        long now = System.nanoTime();
        long allowed = nextAllowed.get();
        if ((allowed == Long.MIN_VALUE || now - allowed >= 0) && nextAllowed.compareAndSet(allowed, now + INTERVAL_NANOS)) {
            long count = suppressed.getAndSet(0);
            if (count > 0) {
                Object[] withCount = Arrays.copyOf(args, args.length + 1);
                withCount[args.length] = count;
                log.warn(format + " ({} similar warnings suppressed)", withCount);
            } else {
                log.warn(format, args);
            }
        } else {
            suppressed.incrementAndGet();
        }
    }

    /** At most {@code 100} characters of a text, for logs that must not carry whole payloads. */
    static String excerpt(String text) {
        return text.length() <= 100 ? text : text.substring(0, 97) + "...";
    }
}
