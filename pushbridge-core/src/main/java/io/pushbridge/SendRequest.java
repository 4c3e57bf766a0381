package io.pushbridge;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One send, as {@link PushTemplate#send(SendRequest)} takes it. {@link PushTemplate#site(String)}
 * builds these fluently.
 *
 * @param site the site's name
 * @param target who receives it
 * @param event the event name
 * @param args the event arguments: JSON values ({@code null}, booleans, numbers, strings, lists,
 *     maps with string keys, Jackson {@code JsonNode}s) or {@code byte[]} (sent as binary)
 * @param resync whether the client's ack runs the resync check (user rooms only)
 */
public record SendRequest(String site, Target target, String event, List<Object> args, boolean resync) {

    public SendRequest {
        args = Collections.unmodifiableList(new ArrayList<>(args));
    }
}
