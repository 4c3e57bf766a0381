package io.pushbridge;

import java.util.List;

/**
 * A message as it sits in a user's ack queue until the client acknowledges it.
 *
 * @param id the message id (a flake id, unique and time-ordered)
 * @param event the event name
 * @param args the event arguments: JSON values ({@code null}, {@link Boolean}, {@link Number},
 *     {@link String}, {@link List}, {@link java.util.Map}) or {@code byte[]}
 * @param resync whether acknowledging this message checks that it is the first pending message of
 *     its event (see {@link MessageStore#ack})
 * @param createdAtMillis when the message was accepted, epoch milliseconds
 */
public record QueuedMessage(long id, String event, List<Object> args, boolean resync, long createdAtMillis) {

    public QueuedMessage {
        args = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(args));
    }
}
