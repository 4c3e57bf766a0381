package io.pushbridge;

import java.util.Objects;

/**
 * Names one user's ack queue: a user room of a site. A user on several devices has one queue,
 * shared by all of its connections.
 *
 * @param site the site's name
 * @param room the user room, a room name that starts with the site's user room prefix
 */
public record UserQueue(String site, String room) {

    public UserQueue {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(room, "room");
    }
}
