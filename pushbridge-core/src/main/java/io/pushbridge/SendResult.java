package io.pushbridge;

import java.util.List;

/**
 * What an accepted send did.
 *
 * @param id the message id
 * @param rooms the target rooms as given (empty for a socket or whole-site send)
 * @param queued how many user queues took the message
 */
public record SendResult(long id, List<String> rooms, int queued) {

    public SendResult {
        rooms = List.copyOf(rooms);
    }

    /** The id as a decimal string: 64-bit ids do not fit a JavaScript number. */
    public String idString() {
        return Long.toUnsignedString(id);
    }
}
