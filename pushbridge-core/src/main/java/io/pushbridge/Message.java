package io.pushbridge;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * A message on its way from a sender to the sockets of a site, as the {@link Router} carries it.
 *
 * @param id the flake id (unique across the cluster, time-ordered)
 * @param site the site's name
 * @param target who receives it
 * @param event the event name
 * @param args the event arguments (JSON values or {@code byte[]})
 * @param queuedRooms the user rooms whose queues hold this message: sockets of those users get it
 *     with an ack callback
 * @param resync whether its ack runs the resync check
 * @param createdAtMillis when it was accepted, epoch milliseconds
 */
public record Message(
        long id,
        String site,
        Target target,
        String event,
        List<Object> args,
        Set<String> queuedRooms,
        boolean resync,
        long createdAtMillis) {

    public Message {
        args = Collections.unmodifiableList(new ArrayList<>(args));
        queuedRooms = Set.copyOf(queuedRooms);
    }

    /** This message as it sits in a user's queue. */
    public QueuedMessage toQueued() {
        return new QueuedMessage(id, event, args, resync, createdAtMillis);
    }
}
