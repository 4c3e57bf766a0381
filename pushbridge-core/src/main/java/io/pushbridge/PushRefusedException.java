package io.pushbridge;

import java.util.List;

/**
 * A send was refused because the request itself is wrong: unknown site, invalid rooms or event,
 * a message over the size limit. Nothing was stored or delivered. Retrying the same request fails
 * the same way.
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
        TOO_LARGE
    }

    private final Reason reason;
    private final List<String> problems;

    public PushRefusedException(Reason reason, List<String> problems) {
        super(String.join("; ", problems));
        this.reason = reason;
        this.problems = List.copyOf(problems);
    }

    public Reason reason() {
        return reason;
    }

    /** Every problem found, one sentence each, naming the field. Never empty. */
    public List<String> problems() {
        return problems;
    }
}
