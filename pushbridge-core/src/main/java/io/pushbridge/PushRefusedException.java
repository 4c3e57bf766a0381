package io.pushbridge;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A send was refused: the request itself is wrong (unknown site, invalid rooms or event, a message
 * over the size limit), or the site is over its rate of sends. Nothing was stored or delivered.
 * Retrying the same request fails the same way, except after {@link #retryAfter()} for
 * {@link Reason#RATE_LIMITED}.
 */
public class PushRefusedException extends PushBridgeException {

    private static final long serialVersionUID = 1L;

    /** Why a request was refused; the HTTP send API maps each reason to a status code. */
    public enum Reason {
        /** The request has one or more invalid fields (HTTP 400). */
        INVALID,
        /** No site of that name is configured (HTTP 404). */
        UNKNOWN_SITE,
        /** The message is larger than the configured limit (HTTP 413). */
        TOO_LARGE,
        /**
         * The site made more sends per second on this node than its limit allows (HTTP 429 with
         * {@code Retry-After}); the same request succeeds after {@link PushRefusedException#retryAfter()}.
         */
        RATE_LIMITED
    }

    private final Reason reason;
    private final List<String> problems;
    private final @Nullable Duration retryAfter;

    public PushRefusedException(Reason reason, List<String> problems) {
        this(reason, problems, null);
    }

    /** @param retryAfter how long to wait before trying again ({@link Reason#RATE_LIMITED}), else {@code null} */
    public PushRefusedException(Reason reason, List<String> problems, @Nullable Duration retryAfter) {
        super(String.join("; ", problems));
        this.reason = reason;
        this.problems = List.copyOf(problems);
        this.retryAfter = retryAfter;
    }

    public Reason reason() {
        return reason;
    }

    /** Every problem found, one sentence each, naming the field. Never empty. */
    public List<String> problems() {
        return problems;
    }

    /**
     * How long to wait before the same request can succeed: set for {@link Reason#RATE_LIMITED},
     * {@code null} for the other reasons (retrying does not help).
     */
    public @Nullable Duration retryAfter() {
        return retryAfter;
    }
}
