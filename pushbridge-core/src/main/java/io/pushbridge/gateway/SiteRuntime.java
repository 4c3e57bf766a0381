package io.pushbridge.gateway;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A configured site at run time: its options, the limits in force, the budget of its sends and
 * connections on this node, and the index of its local sockets by id and room.
 */
final class SiteRuntime {

    private final io.pushbridge.gateway.SiteOptions options;
    private final Limits limits;
    private final @org.jspecify.annotations.Nullable TokenBucket sends;
    /** Sockets of this site on this node, plus connects being authorized (see {@link #reserveConnection}). */
    private final java.util.concurrent.atomic.AtomicInteger connectionSlots = new java.util.concurrent.atomic.AtomicInteger();
    private final ConcurrentHashMap<String, SiteSocket> socketsById = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<SiteSocket>> socketsByRoom = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<SiteSocket>> socketsBySession = new ConcurrentHashMap<>();

    private final GatewayMeters.Site meters;
    /** Whether the gateway's port speaks TLS: its clients' connections came over it. */
    private final boolean secure;

    private volatile java.util.concurrent.@org.jspecify.annotations.Nullable Executor commands;

    /** A site with the default gateway's limits, without meters (for tests). */
    SiteRuntime(SiteOptions options) {
        this(options, GatewayOptions.builder().build());
    }

    /** A site without meters (for tests). */
    SiteRuntime(SiteOptions options, GatewayOptions gateway) {
        this(options, gateway, GatewayMeters.none());
    }

    /** A site whose meters (its {@code pushbridge.connections} gauge among them) are registered through {@code meters}. */
    SiteRuntime(SiteOptions options, GatewayOptions gateway, GatewayMeters meters) {
        this.options = options;
        this.limits = options.limits().resolve(gateway);
        this.sends = limits.maxSendsPerSecond() > 0 ? new TokenBucket(limits.maxSendsPerSecond()) : null;
        this.meters = meters.site(options.name(), this, SiteRuntime::connectionCount);
        this.secure = gateway.tls() != null;
    }

    /** Whether this site's clients connect over TLS (the gateway terminates it on its port). */
    boolean secure() {
        return secure;
    }

    /** The site's meters, resolved once. */
    GatewayMeters.Site meters() {
        return meters;
    }

    /** The limits in force for this site. */
    Limits limits() {
        return limits;
    }

    /**
     * Takes one send from the site's budget on this node.
     *
     * @return 0 if the send may go on; else how many nanoseconds until it could
     */
    long takeSend(long nowNanos) {
        return sends == null ? 0 : sends.take(nowNanos);
    }

    /**
     * Reserves a connection slot for a connect about to be authorized; {@code false} when the site
     * has {@code maxConnections} already (then nothing is reserved). Each reservation is released
     * once: by {@link #releaseConnection} if the connect is not admitted, else when its socket closes.
     */
    boolean reserveConnection() {
        int max = limits.maxConnections();
        if (max <= 0) {
            connectionSlots.incrementAndGet();
            return true;
        }
        while (true) {
            int n = connectionSlots.get();
            if (n >= max) {
                return false;
            }
            if (connectionSlots.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void releaseConnection() {
        connectionSlots.decrementAndGet();
    }

    /** Runs the site's custom commands one after the other, on {@code workers}. */
    java.util.concurrent.Executor commands(java.util.concurrent.Executor workers) {
        java.util.concurrent.Executor c = commands;
        if (c == null) {
            synchronized (this) {
                c = commands;
                if (c == null) {
                    c = new SerialExecutor(workers);
                    commands = c;
                }
            }
        }
        return c;
    }

    SiteOptions options() {
        return options;
    }

    boolean isRoot() {
        return "/".equals(options.namespace());
    }

    /**
     * Makes a new socket findable: by room first, then by id, so that a command (which finds the
     * socket by id) never sees a socket whose initial rooms are not indexed yet.
     */
    void register(SiteSocket socket) {
        for (String room : socket.rooms()) {
            joined(socket, room);
        }
        socketsById.put(socket.id(), socket);
        if (socket.isClosed()) {
            // closed on another thread meanwhile: its unregister may have run before this register
            unregister(socket);
        }
    }

    /** Forgets a closed socket (its rooms no longer change once it is closed). */
    void unregister(SiteSocket socket) {
        socketsById.remove(socket.id(), socket);
        synchronized (socket) {
            unindexSession(socket, socket.sessionId());
        }
        for (String room : socket.rooms()) {
            left(socket, room);
        }
    }

    /** Indexes one more room of a socket; {@link SiteSocket} calls it under its lock when it joins. */
    void joined(SiteSocket socket, String room) {
        socketsByRoom.compute(room, (r, set) -> with(set, socket));
    }

    /** Drops one room of a socket from the index; {@link SiteSocket} calls it under its lock when it leaves. */
    void left(SiteSocket socket, String room) {
        socketsByRoom.computeIfPresent(room, (r, set) -> without(set, socket));
    }

    /**
     * Sets a socket's session and user, keeping the index by session in step. Nothing for a closed
     * socket (its unregister may have run).
     */
    void identify(SiteSocket socket, @org.jspecify.annotations.Nullable String sessionId,
            @org.jspecify.annotations.Nullable String userId) {
        synchronized (socket) {
            if (socket.isClosed()) {
                return;
            }
            String old = socket.sessionId();
            socket.identity(sessionId, userId);
            if (!java.util.Objects.equals(old, sessionId)) {
                unindexSession(socket, old);
                if (sessionId != null) {
                    socketsBySession.compute(sessionId, (k, set) -> with(set, socket));
                }
            }
        }
    }

    private void unindexSession(SiteSocket socket, @org.jspecify.annotations.Nullable String sessionId) {
        if (sessionId != null) {
            socketsBySession.computeIfPresent(sessionId, (k, set) -> without(set, socket));
        }
    }

    /** The local sockets that authenticated with a session. */
    Set<SiteSocket> ofSession(String sessionId) {
        Set<SiteSocket> set = socketsBySession.get(sessionId);
        return set == null ? Set.of() : set;
    }

    /**
     * Rooms and sessions with at most this many local sockets (a user's room, a session: one socket
     * or two) keep them in an immutable set, replaced on each change (24 to 40 bytes for one or two,
     * where a {@code ConcurrentHashMap.newKeySet()} costs about 200 with its first member); a larger
     * room moves to a concurrent set changed in place (a fan-out room with thousands of members must
     * not be copied on each join). Readers see a snapshot or a weakly consistent view, as before.
     */
    static final int SMALL_INDEX = 8;

    /** The index entry with {@code socket} added: called inside the map's {@code compute}, under its lock for the key. */
    static Set<SiteSocket> with(@org.jspecify.annotations.Nullable Set<SiteSocket> set, SiteSocket socket) {
        if (set == null) {
            return Set.of(socket);
        }
        if (set instanceof ConcurrentHashMap.KeySetView<?, ?>) {
            set.add(socket);
            return set;
        }
        if (set.contains(socket)) {
            return set;
        }
        if (set.size() >= SMALL_INDEX) {
            Set<SiteSocket> large = ConcurrentHashMap.newKeySet(SMALL_INDEX * 4);
            large.addAll(set);
            large.add(socket);
            return large;
        }
        SiteSocket[] members = set.toArray(new SiteSocket[set.size() + 1]);
        members[set.size()] = socket;
        return Set.of(members);
    }

    /** The index entry with {@code socket} removed, {@code null} once empty: called inside {@code compute}. */
    static @org.jspecify.annotations.Nullable Set<SiteSocket> without(Set<SiteSocket> set, SiteSocket socket) {
        if (set instanceof ConcurrentHashMap.KeySetView<?, ?>) {
            set.remove(socket);
            return set.isEmpty() ? null : set;
        }
        if (!set.contains(socket)) {
            return set;
        }
        if (set.size() == 1) {
            return null;
        }
        SiteSocket[] members = new SiteSocket[set.size() - 1];
        int i = 0;
        for (SiteSocket member : set) {
            if (member != socket) {
                members[i++] = member;
            }
        }
        return Set.of(members);
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
