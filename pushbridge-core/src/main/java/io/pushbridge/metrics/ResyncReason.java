package io.pushbridge.metrics;

import java.util.Locale;

/** Why a user queue asked its user for a resync: the {@code reason} tag of {@link PushBridgeMeter#RESYNCS}. */
public enum ResyncReason {
    /**
     * A message sent with {@code resync} was acknowledged before an earlier message of its event:
     * the queue was cleared.
     */
    OUT_OF_ORDER,
    /** An append found the queue full: it was cleared and marked for resync. */
    OVERFLOW,
    /**
     * A queue expired holding messages its user never acknowledged: counted when the user's next
     * connection (within the store's resync memory) reads the queue and is told to resync.
     */
    EXPIRY;

    /** The tag value, such as {@code out_of_order}. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
