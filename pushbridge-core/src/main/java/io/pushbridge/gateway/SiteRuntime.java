package io.pushbridge.gateway;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A configured site at run time: its options and the index of its local sockets by id and room. */
final class SiteRuntime {

    private final io.pushbridge.gateway.SiteOptions options;
    private final ConcurrentHashMap<String, SiteSocket> socketsById = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<SiteSocket>> socketsByRoom = new ConcurrentHashMap<>();

    SiteRuntime(SiteOptions options) {
        this.options = options;
    }

    SiteOptions options() {
        return options;
    }

    boolean isRoot() {
        return "/".equals(options.namespace());
    }

    void register(SiteSocket socket) {
        socketsById.put(socket.id(), socket);
        for (String room : socket.rooms()) {
            socketsByRoom.compute(room, (r, set) -> {
                Set<SiteSocket> s = set != null ? set : ConcurrentHashMap.newKeySet();
                s.add(socket);
                return s;
            });
        }
    }

    void unregister(SiteSocket socket) {
        socketsById.remove(socket.id(), socket);
        for (String room : socket.rooms()) {
            socketsByRoom.computeIfPresent(room, (r, set) -> {
                set.remove(socket);
                return set.isEmpty() ? null : set;
            });
        }
    }

    SiteSocket socket(String id) {
        return socketsById.get(id);
    }

    Collection<SiteSocket> sockets() {
        return socketsById.values();
    }

    Set<SiteSocket> members(String room) {
        Set<SiteSocket> set = socketsByRoom.get(room);
        return set == null ? Set.of() : set;
    }

    int connectionCount() {
        return socketsById.size();
    }
}
