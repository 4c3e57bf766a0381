package io.pushbridge.gateway;

import com.corundumstudio.socketio.HandshakeData;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.namespace.Namespace;
import com.corundumstudio.socketio.protocol.ConnPacket;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import com.corundumstudio.socketio.transport.NamespaceClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.ConnectRequest;
import io.pushbridge.Router;
import io.pushbridge.UserQueue;
import io.pushbridge.metrics.ConnectRefusal;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection state machine, owned by PushBridge rather than netty-socketio: sessions, namespace
 * CONNECTs (authorized asynchronously), admission with the pending batches, and cleanup.
 *
 * <p>netty-socketio joins every session to {@code /} at the Engine.IO handshake and lets events
 * through after a refused CONNECT. Here a socket exists for a site only after its authorizer said
 * yes, CONNECT packets never reach netty-socketio, and a session that joins no site within the
 * connect timeout, or leaves its last one, is closed.
 *
 * <p>An admitted socket is recorded with the router ({@link Router#socketConnected}) while its
 * pending messages are read, before the client learns it is connected; its close, whichever way it
 * happens (the client leaves, the transport drops, a {@code disconnect} command), undoes that once.
 */
final class Connections implements SiteSocket.Closer {

    private static final Logger log = LoggerFactory.getLogger(Connections.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why a socket closed, as Socket.IO names it (see {@link io.pushbridge.SocketListener#disconnected}). */
    static final String CLIENT_DISCONNECT = "client namespace disconnect";
    static final String SERVER_DISCONNECT = "server namespace disconnect";
    static final String TRANSPORT_CLOSE = "transport close";
    static final String SHUTTING_DOWN = "server shutting down";
    /** The connection was closed because more than the site's {@code maxBufferedBytes} waited for its client. */
    static final String TOO_SLOW = "client too slow";

    /**
     * Per Engine.IO session: its sockets by namespace, and the namespaces it is connecting to. Sized
     * for a session on one site or two: its map of sockets and its sets of namespaces are copied on
     * change (40 bytes for one socket, 16 for an empty set).
     */
    static final class Session {
        final ClientHead head;
        final Map<String, SiteSocket> sockets = new SmallConcurrentMap<>();
        final Set<String> connecting = new SmallConcurrentSet<>();
        /** Namespaces the client sent a DISCONNECT for, until netty-socketio reports it. */
        final Set<String> leaving = new SmallConcurrentSet<>();
        volatile boolean everAdmitted;
        /** The pending check that the session joins a site in time, cancelled once it did. */
        volatile java.util.concurrent.@Nullable ScheduledFuture<?> connectCheck;
        /** The client completed its upgrade to WebSocket (its UPGRADE packet arrived). */
        volatile boolean upgraded;
        /** Being closed so that its client reconnects: nothing is admitted on it any more. */
        volatile boolean closing;
        /** What waits to reach the client, metered from the handshake on. */
        final OutboundBacklog backlog;

        /**
         * Made on the session's event loop, before anything but the handshake was sent to it.
         *
         * @param meter whether to meter what waits for the client (some site has a {@code maxBufferedBytes})
         */
        Session(ClientHead head, boolean meter) {
            this.head = head;
            this.backlog = meter ? OutboundBacklog.attach(head) : OutboundBacklog.NONE;
        }

        boolean idle() {
            return sockets.isEmpty() && connecting.isEmpty();
        }
    }

    private final GatewayOptions options;
    private final Map<String, SiteRuntime> sitesByNamespace;
    private final Router router;
    private final QueueConnections queues;
    private final SiteSocket.AckSink ackSink;
    private final Executor executor;
    private final ScheduledExecutorService timer;
    private final GatewayStats stats;
    private final InFlight inFlight;
    private final ClientEvents events;
    private final ConcurrentHashMap<UUID, Session> sessions = new ConcurrentHashMap<>();
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);
    private final RateLimitedLog limitLog = new RateLimitedLog(log, 1000);
    private final Map<String, Namespace> namespaces = new ConcurrentHashMap<>();
    /** Keeps the sessions' handshakes in less heap. */
    private final CompactHandshake handshakes = new CompactHandshake();
    /** The origins each site admits, by namespace. */
    private final Map<String, Origins> siteOrigins;
    private volatile boolean accepting = true;
    /** Whether any site limits what may wait for a client: else nothing is metered (it costs a little per packet). */
    private final boolean meterBacklog;
    /** Why no site's {@code maxBufferedBytes} can be enforced in this netty-socketio, or {@code null}. */
    private final @Nullable String backlogUnavailable;

    /**
     * @param executor the workers (a refused task runs on the caller)
     * @param eventExecutor the pool behind them, for client events' handlers, which must never run on
     *     the caller (an I/O thread)
     */
    Connections(GatewayOptions options, Map<String, SiteRuntime> sitesByNamespace, Router router,
            QueueConnections queues, SiteSocket.AckSink ackSink, Executor executor, Executor eventExecutor,
            ScheduledExecutorService timer, GatewayStats stats, InFlight inFlight) {
        this.options = options;
        this.sitesByNamespace = sitesByNamespace;
        this.router = router;
        this.queues = queues;
        this.ackSink = ackSink;
        this.executor = executor;
        this.timer = timer;
        this.stats = stats;
        this.inFlight = inFlight;
        this.events = new ClientEvents(eventExecutor, stats, options);
        boolean limited = sitesByNamespace.values().stream().anyMatch(site -> site.limits().maxBufferedBytes() > 0);
        // probed once: if netty-socketio's sessions cannot be metered, said here and in the start line, not per session
        this.backlogUnavailable = limited ? OutboundBacklog.unavailable() : null;
        if (backlogUnavailable != null) {
            stats.increment("limits.buffered_bytes_unavailable");
            log.warn("[{}] max-buffered-bytes is not enforced (slow clients are never disconnected): {}",
                    options.nodeId(), backlogUnavailable);
        }
        this.meterBacklog = limited && backlogUnavailable == null;
        if (CompactHandshake.unavailable() != null) {
            log.info("[{}] Handshakes are kept as netty-socketio made them (more heap per connection): {}",
                    options.nodeId(), CompactHandshake.unavailable());
        }
        Map<String, Origins> origins = new LinkedHashMap<>();
        sitesByNamespace.forEach((nsp, site) -> origins.put(nsp, Origins.forSite(site.options(), options)));
        this.siteOrigins = Map.copyOf(origins);
    }

    /**
     * Why no site's {@code maxBufferedBytes} is enforced although some site sets one (netty-socketio's
     * sessions cannot be metered), for the start line; {@code null} when it is or none sets one.
     */
    @Nullable String backlogUnavailable() {
        return backlogUnavailable;
    }

    /**
     * A new session's record; meters it when a site limits what may wait for a client. A session
     * that cannot be metered is counted ({@code sessions.unmetered}), not logged.
     */
    private Session newSession(ClientHead head) {
        compactClientHead(head);
        Session session = new Session(head, meterBacklog);
        if (meterBacklog && !session.backlog.isMetered()) {
            stats.increment("sessions.unmetered");
        }
        return session;
    }

    /** netty-socketio's {@code ClientHead.namespaceClients}, or {@code null} (said once) when it cannot be reached. */
    private static final java.lang.reflect.@Nullable Field NAMESPACE_CLIENTS = clientHeadMap("namespaceClients");
    /** netty-socketio's {@code ClientHead.channels} (transport states), or {@code null} (said once). */
    private static final java.lang.reflect.@Nullable Field TRANSPORTS = clientHeadMap("channels");

    private static java.lang.reflect.@Nullable Field clientHeadMap(String name) {
        try {
            java.lang.reflect.Field field = ClientHead.class.getDeclaredField(name);
            field.setAccessible(true);
            if (field.getType() != Map.class) {
                throw new IllegalStateException("it is no Map");
            }
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("Cannot reach netty-socketio's table {} of a session ({}): about 100 bytes more per connection",
                    name, e.toString());
            return null;
        }
    }

    /**
     * Gives a new session's netty-socketio record two smaller tables, same content:
     * <ul>
     *   <li>a {@link SmallConcurrentMap} for its namespace clients in place of the
     *       {@code ConcurrentHashMap} it makes for each (16 slots, its key set view and a node:
     *       about 200 bytes for the one or two namespaces a session is on, 60 now). netty-socketio
     *       only gets, puts, removes, asks whether it is empty or holds a namespace, and iterates
     *       it, which the copy-on-change map does atomically or on a snapshot;</li>
     *   <li>an {@code EnumMap} for its two transport states in place of a {@code HashMap} (136
     *       bytes, 56 now): filled in its constructor, only read after.</li>
     * </ul>
     * Called on the session's event loop right after its handshake; the namespace table is
     * replaced only for a WebSocket session, whose client sends nothing on another loop meanwhile
     * (a long-polling client may POST on another connection at once), and other threads reach the session later
     * through a hand-off from this loop. The release fence orders the new tables' contents before
     * their references, as a final field's would be.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void compactClientHead(ClientHead head) {
        try {
            // only a WebSocket session's: everything its client sends arrives on this loop. A
            // polling client holds its sid already and may POST a CONNECT on another loop while
            // the table is copied, whose put the copy would lose
            if (NAMESPACE_CLIENTS != null && head.getCurrentTransport() == com.corundumstudio.socketio.Transport.WEBSOCKET) {
                Map<Object, Object> current = (Map<Object, Object>) NAMESPACE_CLIENTS.get(head);
                if (!(current instanceof SmallConcurrentMap)) {
                    SmallConcurrentMap<Object, Object> compact = new SmallConcurrentMap<>();
                    compact.putAll(current);
                    java.lang.invoke.VarHandle.releaseFence();
                    NAMESPACE_CLIENTS.set(head, compact);
                }
            }
            if (TRANSPORTS != null) {
                Map current = (Map) TRANSPORTS.get(head);
                if (current instanceof java.util.HashMap && !current.isEmpty()) {
                    Map compact = new java.util.EnumMap(current);
                    java.lang.invoke.VarHandle.releaseFence();
                    TRANSPORTS.set(head, compact);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Kept netty-socketio's tables of session {}: {}", head.getSessionId(), e.toString());
        }
    }

    /** The origins the Engine.IO handshake admits: those of every site. */
    Origins engineIoOrigins() {
        return Origins.union(siteOrigins.values());
    }

    /** The {@code Origin} header of a live session's handshake, or {@code null}. */
    @Nullable String sessionOrigin(UUID sessionId) {
        Session session = sessions.get(sessionId);
        return session == null ? null : session.head.getOrigin();
    }

    void bindNamespace(String name, Namespace namespace) {
        namespaces.put(name, namespace);
        if ("/".equals(name)) {
            keepRootRoom(namespace);
        }
    }

    /**
     * Each session leaves netty-socketio's room of "/" as it opens ({@link #leaveRootRoom}). A room
     * left empty is removed, and netty-socketio's connect of the next session reads that room twice
     * (it checks, then gets it): a member that never leaves keeps it from ever being empty.
     */
    static void keepRootRoom(Namespace root) {
        root.join(root.getName(), ROOT_ROOM_KEEPER);
    }

    /** Takes a session out of netty-socketio's room of "/", kept by {@link #keepRootRoom}. */
    static void leaveRootRoom(Namespace root, UUID sessionId) {
        root.leave(root.getName(), sessionId);
    }

    /** Not a session: the member that keeps netty-socketio's room of "/" from being removed (see bindNamespace). */
    static final UUID ROOT_ROOM_KEEPER = new UUID(0, 0);

    /**
     * Admits no socket from now on (the gateway is draining): a CONNECT closes its session, so that
     * the client reconnects, to another node.
     */
    void stopAccepting() {
        accepting = false;
    }

    int sessionCount() {
        return sessions.size();
    }

    /** The live sessions, for a drain to close one after the other. */
    List<Session> sessions() {
        return new ArrayList<>(sessions.values());
    }

    // ---- session lifecycle (netty-socketio's implicit "/" connect marks a new session) ----------

    /** A new Engine.IO session (netty-socketio's implicit "/" connect). Runs on an I/O thread. */
    void sessionOpened(SocketIOClient rootClient) {
        ClientHead head = ((NamespaceClient) rootClient).getBaseClient();
        UUID sessionId = head.getSessionId();
        // netty-socketio put the session in its room of "/" (a set per session); PushBridge keeps its
        // own rooms (SiteRuntime) and never broadcasts through netty-socketio's (see bindNamespace)
        leaveRootRoom((Namespace) rootClient.getNamespace(), sessionId);
        // before anything reads it, and before the session is published to other threads
        handshakes.compact(head.getHandshakeData());
        Session session = sessions.computeIfAbsent(sessionId, id -> newSession(head));
        stats.increment("sessions.opened");
        // the id only: a session that closes sooner is not kept until the check
        session.connectCheck = timer.schedule(() -> checkConnectTimeout(sessionId), options.connectTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void checkConnectTimeout(UUID sessionId) {
        Session session = sessions.get(sessionId);
        if (session == null) {
            return;
        }
        if (!session.head.isConnected()) {
            sessions.remove(sessionId);
        } else if (!session.everAdmitted && session.idle()) {
            stats.increment("sessions.connect_timeout");
            log.debug("Session {} joined no site within {} ms; closing it", sessionId, options.connectTimeout().toMillis());
            closeSession(session);
        } else if (!session.everAdmitted) {
            session.connectCheck = timer.schedule(() -> checkConnectTimeout(sessionId), options.connectTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Closes a whole Engine.IO session and its transport. */
    void closeSession(Session session) {
        // netty-socketio disconnects each namespace client, which unregisters its socket through
        // namespaceDisconnected; the session entry must still be there for that
        session.head.disconnect();
        forget(session);
    }

    /** Drops a session whose transport is gone, closing whatever sockets it still has. */
    private void forget(Session session) {
        forget(session, TRANSPORT_CLOSE);
    }

    /** Drops a session, closing whatever sockets it still has with that reason. */
    private void forget(Session session, String reason) {
        sessions.remove(session.head.getSessionId(), session);
        for (SiteSocket left : session.sockets.values()) {
            socketClosed(left, reason);
        }
        session.sockets.clear();
        session.connecting.clear();
    }

    /**
     * The transport of a live session of this gateway ({@code WEBSOCKET} once its upgrade completed),
     * or {@code null} for an unknown id.
     */
    com.corundumstudio.socketio.@Nullable Transport sessionTransport(UUID sessionId) {
        Session session = sessions.get(sessionId);
        if (session == null || !session.head.isConnected()) {
            return null;
        }
        return session.upgraded ? com.corundumstudio.socketio.Transport.WEBSOCKET : session.head.getCurrentTransport();
    }

    /** The session's UPGRADE packet arrived over WebSocket: it no longer polls. */
    void upgraded(UUID sessionId) {
        Session session = sessions.get(sessionId);
        if (session != null) {
            session.upgraded = true;
        }
    }

    @Nullable Session session(UUID sessionId) {
        return sessions.get(sessionId);
    }

    /** Whether the session has an admitted socket on that namespace. */
    boolean isAdmitted(UUID sessionId, String namespace) {
        Session session = sessions.get(sessionId);
        return session != null && session.sockets.containsKey(namespace);
    }

    /** A client's DISCONNECT for a namespace, before netty-socketio handles it. Runs on the session's I/O thread. */
    void clientLeaving(ClientHead head, String nsp) {
        Session session = sessions.get(head.getSessionId());
        if (session != null) {
            session.leaving.add(nsp);
        }
    }

    /** A client's EVENT for a namespace it was admitted to. Runs on the session's I/O thread. */
    void clientEvent(ClientHead head, SioPacket packet) {
        Session session = sessions.get(head.getSessionId());
        SiteSocket socket = session == null ? null : session.sockets.get(packet.nsp());
        if (socket == null) {
            stats.increment("dropped.not_connected");
            return;
        }
        events.received(socket, packet);
    }

    /** A client's BINARY_EVENT for a namespace it was admitted to: refused. Runs on the session's I/O thread. */
    void clientBinaryEvent(ClientHead head, SioPacket packet) {
        Session session = sessions.get(head.getSessionId());
        SiteSocket socket = session == null ? null : session.sockets.get(packet.nsp());
        if (socket != null) {
            events.binaryRefused(socket, packet);
        }
    }

    /** After a client's DISCONNECT for a namespace: close the session when it has no site left (no zombies). */
    void afterClientDisconnect(UUID sessionId) {
        Session session = sessions.get(sessionId);
        if (session != null && session.idle()) {
            log.debug("Session {} left its last site; closing it", sessionId);
            closeSession(session);
        }
    }

    /** netty-socketio's disconnect of a namespace client (any cause). Runs on an I/O or timer thread. */
    void namespaceDisconnected(SocketIOClient client) {
        NamespaceClient nc = (NamespaceClient) client;
        UUID sessionId = nc.getSessionId();
        Session session = sessions.get(sessionId);
        if (session == null) {
            return;
        }
        String nsp = ourName(nc.getNamespace().getName());
        SiteSocket socket = session.sockets.remove(nsp);
        if (socket != null) {
            socketClosed(socket, session.leaving.remove(nsp) ? CLIENT_DISCONNECT : TRANSPORT_CLOSE);
        }
        if (!nc.getBaseClient().isConnected()) {
            forget(session);
        }
    }

    /**
     * The one cleanup of a socket, whichever way it ends (once; later calls do nothing): stops its
     * delivery, unregisters it, closes the user queues it has open (each after its open completed),
     * and tells the router it is gone if the router had recorded it.
     */
    private void socketClosed(SiteSocket socket, String reason) {
        if (socket.close()) {
            closed(socket, reason);
        }
    }

    /** The rest of {@link #socketClosed}, after the socket's {@code close()} returned true. */
    private void closed(SiteSocket socket, String reason) {
        events.disconnected(socket, accepting ? reason : SHUTTING_DOWN);
        // the slot first: once the socket is no longer counted (connectionCount), a new connect must find its slot free
        socket.site().releaseConnection();
        socket.site().unregister(socket);
        stats.increment("disconnects");
        String site = socket.site().options().name();
        socket.openedQueues().forEach((room, opened) -> queues.close(new UserQueue(site, room), opened));
        int ticket = inFlight.enter(InFlight.Kind.CLEANUPS);
        socket.routed().thenAcceptAsync(recorded -> {
            if (!recorded) {
                return;
            }
            CompletableFuture<Void> gone;
            try {
                gone = router.socketDisconnected(site, socket.id()).toCompletableFuture();
            } catch (RuntimeException e) {
                gone = CompletableFuture.failedFuture(e);
            }
            inFlight.track(InFlight.Kind.CLEANUPS, gone).whenComplete((v, failure) -> {
                if (failure != null) {
                    stats.increment("router.disconnect_failed");
                    failureLog.warn("Could not tell the router that {} is gone: {}", socket, failure.toString());
                }
            });
        }, executor).whenComplete((v, failure) -> inFlight.exit(InFlight.Kind.CLEANUPS, ticket));
    }

    // ---- closing a connection so that the client reconnects ----------------------------------

    /**
     * Closes the Engine.IO session of a socket (and so every site it is on) so that its client
     * reconnects (see {@link #closeForReconnect}). Returns at once; runs on the socket's event loop.
     */
    @Override
    public void closeTransport(SiteSocket socket) {
        Session session = sessions.get(socket.client().getSessionId());
        if (session != null) {
            closeForReconnect(session, System.nanoTime() + options.pingInterval().toNanos() + options.pingTimeout().toNanos());
        }
    }

    /**
     * Closes a session without a Socket.IO disconnect, so that its client reconnects by itself (to
     * another node, behind a balancer): its sockets close at once (nothing more is emitted to them,
     * their user queues are kept), then an Engine.IO {@code close} packet goes out behind whatever
     * was emitted before, and the transport closes after it. Socket.IO clients take that as a
     * transport close and reconnect, as they do not after a server's DISCONNECT. A long-polling
     * client gets the packet with its next poll; its session is closed once the poll took it, or at
     * {@code deadlineNanos}. Returns at once; runs on the session's event loop when it has a socket.
     */
    void closeForReconnect(Session session, long deadlineNanos) {
        session.closing = true;
        Runnable close = () -> {
            if (sessions.get(session.head.getSessionId()) != session) {
                return;
            }
            stats.increment("sessions.closed_for_reconnect");
            for (Map.Entry<String, SiteSocket> entry : session.sockets.entrySet()) {
                if (session.sockets.remove(entry.getKey(), entry.getValue())) {
                    socketClosed(entry.getValue(), TRANSPORT_CLOSE);
                }
            }
            session.connecting.clear();
            io.netty.channel.ChannelFuture sent = session.head.send(new Packet(PacketType.CLOSE, EngineIOVersion.V4));
            if (sent != null) {
                // written behind what was queued before it; the transport closes once it is out
                sent.addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                forget(session);
            } else {
                // long-polling with no poll waiting: the next poll takes the packets and the close
                closeWhenFlushed(session.head.getSessionId(), deadlineNanos);
            }
        };
        SiteSocket any = session.sockets.values().stream().findFirst().orElse(null);
        if (any == null) {
            close.run();
            return;
        }
        try {
            any.loop().execute(close);
        } catch (RejectedExecutionException e) {
            log.debug("Could not close session {}: its event loop is stopping", session.head.getSessionId());
        }
    }

    /**
     * More than the site's {@code maxBufferedBytes} wait for a socket's client: its whole Engine.IO
     * session is closed (the waiting bytes are shared by the session's sites), its queued packets
     * dropped and its connections closed. A Socket.IO DISCONNECT would wait behind the very bytes
     * the client does not read, and socket.io clients do not reconnect after one; a closed
     * connection makes them reconnect by themselves, and their user queues, untouched, come back as
     * the {@code batch}. Counted as {@code limits.<site>.buffered_bytes} and
     * {@code sessions.closed_too_slow}, logged at most once a second; the site's listeners hear the
     * reason {@value #TOO_SLOW}. Runs on the socket's event loop.
     */
    @Override
    public void tooSlow(SiteSocket socket, long buffered, int limit) {
        String site = socket.site().options().name();
        stats.increment(Limit.BUFFERED_BYTES.counter(site));
        limitLog.warn("[{}] Site '{}': closed the connection of {}: {} bytes wait for its client, more than the "
                + "limit of {} (its user queues keep their messages)", options.nodeId(), site, socket, buffered, limit);
        try {
            socket.loop().execute(() -> {
                Session session = sessions.get(socket.client().getSessionId());
                if (session == null) {
                    return;
                }
                session.closing = true;
                stats.increment("sessions.closed_too_slow");
                forget(session, TOO_SLOW);
                session.head.onChannelDisconnect();
                session.backlog.discardAndClose();
            });
        } catch (RejectedExecutionException e) {
            log.debug("Could not close {}: its event loop is stopping", socket);
        }
    }

    // ---- disconnect by the server (a command) -------------------------------------------------

    /**
     * Disconnects a socket from the server side: the client gets a DISCONNECT packet for the
     * namespace (its {@code disconnect} reason is {@code "io server disconnect"}), the socket is
     * cleaned up as after a client's DISCONNECT, and the session is closed if that was its last
     * site. Returns at once; the work runs on the event loop the socket was admitted on, ordered
     * with its admission (a socket not yet acknowledged never gets its CONNECT ack).
     */
    @Override
    public void disconnectFromServer(SiteSocket socket) {
        try {
            socket.loop().execute(() -> disconnectNow(socket));
        } catch (RejectedExecutionException e) {
            // the I/O threads are stopping, and the gateway's stop closes every connection
            log.debug("Could not disconnect {}: its event loop is stopping", socket);
        }
    }

    private void disconnectNow(SiteSocket socket) {
        // closed first: nothing is emitted to the socket once its client may have the DISCONNECT
        if (!socket.close()) {
            return;
        }
        NamespaceClient client = socket.client();
        UUID sessionId = client.getSessionId();
        Session session = sessions.get(sessionId);
        stats.increment("disconnects.server");
        // the DISCONNECT packet for the namespace, before anything closes the transport
        client.disconnect();
        if (session != null) {
            session.sockets.remove(socket.site().options().namespace(), socket);
        }
        closed(socket, SERVER_DISCONNECT);
        if (!socket.site().isRoot() && client.getBaseClient().isConnected()
                && client.getBaseClient().getChildClient(client.getNamespace()) == client) {
            // netty-socketio's side, as for a client's DISCONNECT; its disconnect listener then finds
            // nothing left to clean up. netty-socketio's client on "/" stays: it is the session's
            // own (joined at the handshake), and Engine.IO pongs are dropped without it, so a
            // session keeping another site would time out; the session's close ends it
            client.onDisconnect();
        }
        closeWhenFlushed(sessionId, System.nanoTime()
                + options.pingInterval().toNanos() + options.pingTimeout().toNanos());
    }

    /**
     * After a server disconnect: closes the session if it has no site left (no zombies), but only
     * once the client can have the DISCONNECT packet. Over WebSocket it is written already; over
     * long-polling it waits in the session's queue for the client's next poll, and a session closed
     * before would answer that poll with an error instead. So a polling session is closed when its
     * queue is drained, or at the deadline. Runs on an I/O or timer thread.
     */
    private void closeWhenFlushed(UUID sessionId, long deadlineNanos) {
        Session session = sessions.get(sessionId);
        if (session == null || !session.idle()) {
            return;
        }
        boolean unsent = session.head.isConnected()
                && session.head.getCurrentTransport() == com.corundumstudio.socketio.Transport.POLLING
                && !session.head.getPacketsQueue(com.corundumstudio.socketio.Transport.POLLING).isEmpty();
        if (unsent && System.nanoTime() - deadlineNanos < 0) {
            try {
                timer.schedule(() -> closeWhenFlushed(sessionId, deadlineNanos), 20, TimeUnit.MILLISECONDS);
                return;
            } catch (RejectedExecutionException e) {
                // the gateway is stopping: close now
            }
        }
        log.debug("Session {} lost its last site to a server disconnect; closing it", sessionId);
        closeSession(session);
    }

    // ---- CONNECT -----------------------------------------------------------------------------

    /** A client's CONNECT packet for a namespace. Runs on the session's I/O thread. */
    void connect(EventExecutor loop, ClientHead head, SioPacket packet) {
        String nsp = packet.nsp();
        SiteRuntime site = sitesByNamespace.get(nsp);
        if (site == null) {
            stats.increment("refused.unknown_namespace");
            sendConnectError(head, nsp, "unknown_namespace", "Invalid namespace");
            return;
        }
        String origin = head.getOrigin();
        if (origin == null ? site.options().requireOrigin() : !siteOrigins.get(nsp).allows(origin)) {
            refuse(head, site, "origin_not_allowed", origin == null
                    ? "This site requires an Origin header (a browser's)"
                    : "Origin " + RateLimitedLog.excerpt(origin) + " is not allowed for this site");
            return;
        }
        Session session = sessions.computeIfAbsent(head.getSessionId(), id -> newSession(head));
        if (!accepting || session.closing) {
            // not a connect_error, after which Socket.IO clients give up: a transport close, after
            // which they reconnect by themselves (to another node, behind a balancer)
            stats.increment("refused.shutting_down");
            site.meters().refused(ConnectRefusal.SHUTTING_DOWN, transport(head));
            closeForReconnect(session, System.nanoTime() + options.pingInterval().toNanos() + options.pingTimeout().toNanos());
            return;
        }
        if (session.sockets.containsKey(nsp) || !session.connecting.add(nsp)) {
            stats.increment("dropped.duplicate_connect");
            return;
        }
        if (!site.reserveConnection()) {
            // the site has its maxConnections on this node already (those being authorized count)
            session.connecting.remove(nsp);
            stats.increment(Limit.CONNECTIONS.counter(site.options().name()));
            limitLog.warn("[{}] Site '{}': refused a connect from {}: {} connections on this node already",
                    options.nodeId(), site.options().name(), remoteAddress(head.getHandshakeData()),
                    site.limits().maxConnections());
            refuse(head, site, ConnectRefusal.TOO_MANY_CONNECTIONS.code(), "Too many connections to this site, retry later");
            return;
        }
        ConnectRequest request = connectRequest(site, head, packet.data());
        long asked = System.nanoTime();
        CompletableFuture<Set<String>> decision = CompletableFuture
                .supplyAsync(() -> site.options().authorizer().authorize(request), executor)
                .thenCompose(stage -> stage)
                .toCompletableFuture()
                .orTimeout(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        decision.whenComplete((rooms, failure) -> loop.execute(() -> authorized(loop, session, site, request, asked, rooms,
                failure)));
    }

    private ConnectRequest connectRequest(SiteRuntime site, ClientHead head, @Nullable JsonNode authNode) {
        Map<String, Object> auth = authNode == null ? Map.of() : nullSafe(JSON.convertValue(authNode, LinkedHashMap.class));
        return connectRequest(site.options().name(), head, auth);
    }

    /** What a client sent at its CONNECT: the token from {@code auth.token}, else from {@code ?token=}. */
    static ConnectRequest connectRequest(String site, ClientHead head, Map<String, Object> auth) {
        HandshakeData handshake = head.getHandshakeData();
        String token = null;
        Object tokenValue = auth.get("token");
        if (tokenValue instanceof String || tokenValue instanceof Number) {
            token = tokenValue.toString();
        }
        if (token == null || token.isEmpty()) {
            token = handshake.getSingleUrlParam("token");
        }
        return new ConnectRequest(site, head.getSessionId().toString(), token, auth,
                handshake.getUrlParams(), headers(handshake, Set.of()), remoteAddress(handshake),
                handshake.getHttpHeaders().get("X-Forwarded-For"));
    }

    private static Map<String, List<String>> headers(HandshakeData handshake, Set<String> leaveOut) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String name : handshake.getHttpHeaders().names()) {
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            if (!leaveOut.contains(lower)) {
                headers.put(lower, handshake.getHttpHeaders().getAll(name));
            }
        }
        return headers;
    }

    private static String remoteAddress(HandshakeData handshake) {
        InetSocketAddress address = handshake.getAddress();
        return address == null ? "" : address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
    }

    /**
     * The handshake as the admin view shows it: no secrets (see {@link io.pushbridge.ConnectionInfo});
     * {@code secure} when the gateway's port speaks TLS.
     */
    static io.pushbridge.ConnectionInfo.Handshake handshake(ClientHead head, boolean secure) {
        HandshakeData handshake = head.getHandshakeData();
        Map<String, List<String>> query = new LinkedHashMap<>(handshake.getUrlParams());
        query.keySet().removeAll(io.pushbridge.ConnectionInfo.SECRET_QUERY_PARAMETERS);
        return new io.pushbridge.ConnectionInfo.Handshake(headers(handshake, io.pushbridge.ConnectionInfo.SECRET_HEADERS),
                handshake.getTime() == null ? 0 : handshake.getTime().getTime(), remoteAddress(handshake),
                handshake.isXdomain(), secure, withoutSecrets(handshake.getUrl()), query);
    }

    /** A request URL without its {@code token} query parameter. */
    static String withoutSecrets(@Nullable String url) {
        if (url == null) {
            return "";
        }
        int q = url.indexOf('?');
        if (q < 0) {
            return url;
        }
        StringBuilder out = new StringBuilder(url.substring(0, q));
        char sep = '?';
        for (String pair : url.substring(q + 1).split("&")) {
            String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
            try {
                // as the query decoder reads it: ?tok%65n= is a token too
                name = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                continue; // not decodable: left out rather than shown
            }
            if (pair.isEmpty() || io.pushbridge.ConnectionInfo.SECRET_QUERY_PARAMETERS.contains(name)) {
                continue;
            }
            out.append(sep).append(pair);
            sep = '&';
        }
        return out.toString();
    }

    /** The auth payload without its null-valued keys (the request's map holds no nulls). */
    private static Map<String, Object> nullSafe(Map<?, ?> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (v != null) {
                out.put(String.valueOf(k), v);
            }
        });
        return out;
    }

    /**
     * The authorizer answered ({@code asked}: {@link System#nanoTime()} when it was asked). Runs on
     * the session's I/O thread.
     */
    private void authorized(EventExecutor loop, Session session, SiteRuntime site, ConnectRequest request, long asked,
            @Nullable Set<String> rooms,
            @Nullable Throwable failure) {
        String nsp = site.options().namespace();
        if (failure == null) {
            failure = checkRooms(site, rooms);
        }
        AuthorizationDeniedException denied = failure == null ? null : denial(failure);
        site.meters().authorized(System.nanoTime() - asked, denied == null ? null : ConnectRefusal.of(denied.code()));
        if (!session.head.isConnected() || session.closing || sessions.get(session.head.getSessionId()) != session) {
            session.connecting.remove(nsp);
            site.releaseConnection();
            return;
        }
        if (denied != null) {
            session.connecting.remove(nsp);
            site.releaseConnection();
            log.debug("Refused session {} on site {}: {} ({})", session.head.getSessionId(), site.options().name(),
                    denied.code(), denied.getMessage());
            refuse(session.head, site, denied.code(), denied.getMessage());
            return;
        }
        Namespace namespace = namespaces.get(nsp);
        NamespaceClient client = site.isRoot()
                ? session.head.getChildClient(namespace)
                : session.head.addNamespaceClient(namespace);
        if (client == null) {
            session.connecting.remove(nsp);
            site.releaseConnection();
            return;
        }
        // from here the connection slot is the socket's: its close releases it
        SiteSocket socket = new SiteSocket(site, client, rooms, ackSink, this, loop, request, session.backlog);
        session.sockets.put(nsp, socket);
        session.connecting.remove(nsp);
        session.everAdmitted = true;
        java.util.concurrent.ScheduledFuture<?> check = session.connectCheck;
        if (check != null) {
            // not needed any more: the timer drops it now (remove-on-cancel) rather than hold it for the connect timeout
            session.connectCheck = null;
            check.cancel(false);
        }
        site.register(socket);
        if (!session.head.isConnected() || session.closing) {
            // the transport closed (on another thread) while the namespace client was being added,
            // or the session is being closed for a reconnect (its close may have looked before)
            session.sockets.remove(nsp, socket);
            socketClosed(socket, TRANSPORT_CLOSE);
            return;
        }
        // in parallel: read the pending batches, and record the socket with the router
        CompletableFuture<List<SiteSocket.PendingBatch>> pending = readPending(socket);
        CompletableFuture<Void> routed = recordWithRouter(socket);
        CompletableFuture.allOf(pending, routed).whenComplete((v, ignored) -> loop.execute(() -> {
            if (socket.isClosed()) {
                // the transport dropped, or a disconnect command came, meanwhile
                return;
            }
            Throwable storeFailure = failureOf(pending);
            Throwable routerFailure = failureOf(routed);
            if (storeFailure != null || routerFailure != null) {
                String code;
                String message;
                if (storeFailure != null) {
                    failureLog.warn("Could not read the pending messages of {}: {}", socket, storeFailure.toString());
                    code = "store_unavailable";
                    message = "Message store is unavailable, retry later";
                } else {
                    failureLog.warn("Could not record {} with the router: {}", socket, routerFailure.toString());
                    code = "cluster_unavailable";
                    message = "Cluster registry is unavailable, retry later";
                }
                session.sockets.remove(nsp, socket);
                socketClosed(socket, TRANSPORT_CLOSE);
                if (!site.isRoot()) {
                    session.head.removeNamespaceClient(client);
                    namespace.onDisconnect(client);
                }
                refuse(session.head, site, code, message);
                return;
            }
            List<SiteSocket.PendingBatch> batches = pending.join();
            sendConnectAck(session.head, nsp);
            // no namespace.onConnect(client): it only joins netty-socketio's room of the namespace
            // (PushBridge keeps its own rooms, see SiteRuntime) and calls connect listeners, of which a
            // site's namespace has none; that room cost about 300 bytes per connection
            socket.open(batches);
            events.connected(socket);
            stats.increment("connects");
            site.meters().connected(transport(session.head));
        }));
    }

    /**
     * Refuses a CONNECT to a configured site: counts it ({@code refused.<code>} and the site's
     * {@code pushbridge.connect.refusals}, by {@link ConnectRefusal}) and sends the client its
     * {@code connect_error}. Every connect_error of a configured site goes through here (a CONNECT while
     * the node drains closes its session instead, counted where that happens).
     */
    private void refuse(ClientHead head, SiteRuntime site, String code, String message) {
        stats.increment("refused." + code);
        site.meters().refused(ConnectRefusal.of(code), transport(head));
        sendConnectError(head, site.options().namespace(), code, message);
    }

    /** The transport of a session: {@code WEBSOCKET} once its upgrade completed. */
    private com.corundumstudio.socketio.@Nullable Transport transport(ClientHead head) {
        Session session = sessions.get(head.getSessionId());
        return session != null && session.upgraded ? com.corundumstudio.socketio.Transport.WEBSOCKET
                : head.getCurrentTransport();
    }

    /** The rooms an authorizer answered must be valid names for the site (see {@link Limits#roomName}). */
    private @Nullable Throwable checkRooms(SiteRuntime site, @Nullable Set<String> rooms) {
        if (rooms == null) {
            return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_INVALID_RESPONSE, "No rooms");
        }
        for (Object room : rooms) {
            Limits.NameProblem problem = room instanceof String name ? site.limits().roomName(name)
                    : new Limits.NameProblem(Limits.NameProblem.Kind.EMPTY, "a room is not a string", "a room is not a string");
            if (problem != null) {
                if (problem.isLimitHit()) {
                    stats.increment(Limit.ROOM_NAME.counter(site.options().name()));
                }
                limitLog.warn("[{}] Site '{}': its authorizer answered an invalid room name: {}", options.nodeId(),
                        site.options().name(), problem.loggable());
                return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_INVALID_RESPONSE,
                        "Authorizer returned an invalid room name");
            }
        }
        return null;
    }

    private static AuthorizationDeniedException denial(Throwable failure) {
        Throwable cause = Dispatcher.unwrap(failure);
        if (cause instanceof AuthorizationDeniedException denied) {
            return denied;
        }
        if (cause instanceof java.util.concurrent.TimeoutException) {
            return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_TIMEOUT, "Authorization timed out");
        }
        log.warn("Authorizer failed: {}", cause.toString());
        return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_ERROR, "Authorization failed");
    }

    /** Opens the user queues a new socket was admitted with and reads what is pending in each. */
    private CompletableFuture<List<SiteSocket.PendingBatch>> readPending(SiteSocket socket) {
        List<CompletableFuture<SiteSocket.PendingBatch>> reads = new ArrayList<>();
        socket.initialQueues().forEach((room, opened) ->
                reads.add(queues.open(new UserQueue(socket.site().options().name(), room), opened)));
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                .thenApply(v -> reads.stream().map(CompletableFuture::join).toList());
    }

    /**
     * Records a new socket with the router ({@link Router#socketConnected}), on the workers, and
     * completes {@link SiteSocket#routed} with whether it succeeded.
     */
    private CompletableFuture<Void> recordWithRouter(SiteSocket socket) {
        String site = socket.site().options().name();
        CompletableFuture<Void> recorded = CompletableFuture
                .supplyAsync(() -> router.socketConnected(site, socket.id()), executor)
                .thenCompose(stage -> stage);
        recorded.whenComplete((v, failure) -> socket.routed().complete(failure == null));
        return recorded;
    }

    /** The failure of a completed future, or {@code null} if it succeeded. */
    private static @Nullable Throwable failureOf(CompletableFuture<?> done) {
        Throwable failure = done.handle((v, t) -> t).join();
        return failure == null ? null : Dispatcher.unwrap(failure);
    }

    // ---- packets to the client ----------------------------------------------------------------

    /** netty-socketio names the main namespace "" where Socket.IO says "/". */
    static String nettyName(String nsp) {
        return "/".equals(nsp) ? Namespace.DEFAULT_NAME : nsp;
    }

    static String ourName(String nettyName) {
        return nettyName.isEmpty() ? "/" : nettyName;
    }

    private static void sendConnectAck(ClientHead head, String nsp) {
        Packet packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        packet.setSubType(PacketType.CONNECT);
        packet.setNsp(nettyName(nsp));
        packet.setData(new ConnPacket(head.getSessionId()));
        head.send(packet);
    }

    static void sendConnectError(ClientHead head, String nsp, String code, String message) {
        Packet packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        packet.setSubType(PacketType.ERROR);
        packet.setNsp(nettyName(nsp));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("message", message);
        data.put("code", code);
        data.put("data", Map.of("message", message, "code", code));
        packet.setData(data);
        head.send(packet);
    }
}
