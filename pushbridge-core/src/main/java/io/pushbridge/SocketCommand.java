package io.pushbridge;

import java.util.Objects;
import java.util.Set;

/**
 * An order for one socket, carried by the {@link Router} to the node that holds the socket: join
 * rooms, leave rooms, or disconnect.
 *
 * @param site the site's name
 * @param socketId the socket's id (the id the client sees as {@code socket.id})
 * @param kind what to do
 * @param rooms the rooms to join or leave; empty for {@link Kind#DISCONNECT}
 */
public record SocketCommand(String site, String socketId, Kind kind, Set<String> rooms) {

    /** What a command does. */
    public enum Kind {
        /** The socket joins the rooms (a user room also opens that user's queue and sends its pending batch). */
        JOIN,
        /** The socket leaves the rooms. */
        LEAVE,
        /** The socket is disconnected by the server; its user queues keep their messages. */
        DISCONNECT
    }

    public SocketCommand {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(socketId, "socketId");
        Objects.requireNonNull(kind, "kind");
        rooms = Set.copyOf(rooms);
        if (kind == Kind.DISCONNECT && !rooms.isEmpty()) {
            throw new IllegalArgumentException("a disconnect names no rooms");
        }
    }

    public static SocketCommand join(String site, String socketId, Set<String> rooms) {
        return new SocketCommand(site, socketId, Kind.JOIN, rooms);
    }

    public static SocketCommand leave(String site, String socketId, Set<String> rooms) {
        return new SocketCommand(site, socketId, Kind.LEAVE, rooms);
    }

    public static SocketCommand disconnect(String site, String socketId) {
        return new SocketCommand(site, socketId, Kind.DISCONNECT, Set.of());
    }
}
