package io.pushbridge.gateway;

/**
 * A token bucket: {@code perSecond} tokens a second on average, and as many at once (it starts
 * full). Time comes from the caller (the gateway's ticker), so tests move it. Thread-safe; cheap.
 */
final class TokenBucket {

    private static final long SECOND = 1_000_000_000L;

    private final int perSecond;
    // guarded by this
    private double tokens;
    private long at;
    private boolean started;

    /** @param perSecond at least 1 */
    TokenBucket(int perSecond) {
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond must be >= 1, was " + perSecond);
        }
        this.perSecond = perSecond;
    }

    /**
     * Takes one token if there is one.
     *
     * @return 0 if a token was taken; else how many nanoseconds until one is there (at least 1)
     */
    synchronized long take(long nowNanos) {
        if (!started) {
            started = true;
            tokens = perSecond;
            at = nowNanos;
        } else {
            long elapsed = nowNanos - at;
            if (elapsed > 0) {
                tokens = Math.min(perSecond, tokens + (double) elapsed * perSecond / SECOND);
                at = nowNanos;
            }
        }
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) * SECOND / perSecond));
    }
}
