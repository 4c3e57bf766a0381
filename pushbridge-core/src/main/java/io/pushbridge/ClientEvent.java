package io.pushbridge;

import java.util.List;
import java.util.Objects;

/**
 * An event a client emitted on a site ({@code socket.emit(event, ...args)}), as a
 * {@link ClientEventHandler} receives it.
 *
 * @param site the site's name
 * @param socketId the id the client sees as {@code socket.id}
 * @param event the event's name
 * @param args the event's arguments as JSON values ({@code Map}, {@code List}, {@code String},
 *     {@code Number}, {@code Boolean}, or {@code null})
 * @param ackRequested whether the client passed a callback, which the handler's answer completes
 * @param client what the client showed when it connected (address, headers, query, auth payload)
 */
public record ClientEvent(String site, String socketId, String event, List<Object> args, boolean ackRequested,
        ConnectRequest client) {

    public ClientEvent {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(socketId, "socketId");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(client, "client");
        args = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(args));
    }

    /** The first argument, or {@code null} when there is none. */
    public Object firstArg() {
        return args.isEmpty() ? null : args.get(0);
    }
}
