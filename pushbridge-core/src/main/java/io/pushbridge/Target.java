package io.pushbridge;

import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who a message is for: rooms of a site, one socket, or every socket of the site; in each case
 * minus the excepted socket ids.
 *
 * @param rooms the target rooms (empty unless this targets rooms)
 * @param socketId the target socket id, or {@code null}
 * @param wholeSite whether every socket of the site is targeted
 * @param except socket ids that do not receive the message
 */
public record Target(Set<String> rooms, @Nullable String socketId, boolean wholeSite, Set<String> except) {

    public Target {
        rooms = Set.copyOf(rooms);
        except = Set.copyOf(except);
        int kinds = (rooms.isEmpty() ? 0 : 1) + (socketId == null ? 0 : 1) + (wholeSite ? 1 : 0);
        if (kinds != 1) {
            throw new IllegalArgumentException("a target names rooms, one socket, or the whole site: exactly one of them");
        }
    }

    public static Target rooms(Set<String> rooms) {
        return new Target(rooms, null, false, Set.of());
    }

    public static Target socket(String socketId) {
        return new Target(Set.of(), socketId, false, Set.of());
    }

    public static Target site() {
        return new Target(Set.of(), null, true, Set.of());
    }

    public Target except(Set<String> socketIds) {
        return new Target(rooms, socketId, wholeSite, socketIds);
    }
}
