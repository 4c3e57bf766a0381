package io.pushbridge.gateway;

import com.corundumstudio.socketio.AckCallback;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.netty.util.concurrent.EventExecutor;
import io.pushbridge.ConnectRequest;
import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One admitted socket: a client's connection to one site, with its rooms.
 *
 * <p>Starts in the {@code batching} state, in which live messages are held back while the pending
 * queues are read; {@link #open} sends the batches first, then the held messages, skipping any that
 * a batch already carried. That ordering is what makes a reconnect lose nothing and deliver
 * nothing twice.
 *
 * <p>Rooms change at run time ({@link #join}, {@link #leave}). Joining a user room repeats that
 * ordering for the one room: from the moment the socket is a member, live messages for that room
 * are held back until the room's {@code batch} is sent ({@link #joined}); then they follow it,
 * minus those the batch carried. Messages for other rooms keep flowing meanwhile.
 *
 * <p>Thread-safe: deliveries and commands arrive from any thread; the state, the rooms and the
 * emits are guarded by this socket's lock (emits only enqueue to netty-socketio's per-session
 * queue).
 */
final class SiteSocket {

    /** Receives acks from the client, on a Netty thread; implementations hand work off. */
    interface AckSink {
        void acked(SiteSocket socket, long messageId, Set<String> queuedRooms);

        void batchAcked(SiteSocket socket, String room, List<Long> messageIds);
    }

    /** Ends a socket from the server side ({@link Connections} does it, on the session's event loop). */
    interface Closer {
        /** Disconnects the socket as a client disconnect would, and tells the client; must not block. */
        void disconnectFromServer(SiteSocket socket);

        /** Closes the socket's whole connection without a disconnect, so that its client reconnects; must not block. */
        void closeTransport(SiteSocket socket);

        /**
         * More than the site's {@code maxBufferedBytes} wait for the socket's client: closes its
         * connection (its user queues keep their messages), counted and logged; must not block.
         * Called once per socket, under its lock.
         */
        default void tooSlow(SiteSocket socket, long buffered, int limit) {
            closeTransport(socket);
        }
    }

    private enum State { BATCHING, OPEN, CLOSED }

    private final SiteRuntime site;
    private final NamespaceClient client;
    private final String id;
    private final AckSink ackSink;
    private final Closer closer;
    private final EventExecutor loop;
    /** The user queues of the rooms the authorizer gave, to open at admission. */
    private final Map<String, CompletableFuture<Boolean>> initialQueues;
    /** Completes with whether the router recorded this socket ({@code Router.socketConnected}). */
    private final CompletableFuture<Boolean> routed = new CompletableFuture<>();

    // guarded by this
    private State state = State.BATCHING;
    /*
     * rooms, userRooms and openedQueues hold a room or two for nearly every socket: each is an
     * immutable set or map replaced on change (24 bytes for one or two entries, where a HashSet or
     * LinkedHashMap with its table and entries cost 120-180), and a mutable one once it has more
     * than SMALL_COPY entries (see plus and minus). Their views (rooms(), userRooms(),
     * openedQueues()) are then the sets themselves, not copies.
     */
    private Set<String> rooms;
    private Set<String> userRooms = Set.of();
    /** Every user queue this socket opened and has not closed yet, by room. */
    private Map<String, CompletableFuture<Boolean>> openedQueues;
    /*
     * The next three are empty for nearly every socket: each starts as the JDK's shared empty map or
     * list (whose remove and clear do nothing) and gets a table of its own on its first entry
     * (joining, joinedWhileBatching, hold): about 130 bytes less per idle connection.
     */
    /** User rooms joined by command whose batch is not sent yet, with the open that is under way. */
    private Map<String, CompletableFuture<Boolean>> joining = Collections.emptyMap();
    /** Batches of joined rooms that arrived before {@link #open}; sent by it. */
    private Map<String, PendingBatch> joinedWhileBatching = Collections.emptyMap();
    /** Live messages held back: all of them while batching, then those for a room in {@link #joining}. */
    private List<Outgoing> held = Collections.emptyList();
    /** The ids of every message a batch carried: never emitted on their own. */
    private Set<Long> batchedIds = NO_IDS;
    /** Ids this socket was sent with an ack callback (live or in a batch) whose ack has not come. */
    private Set<Long> unacked = NO_IDS;
    /** Ids the client acked lately: their removal from the store may still be under way. */
    private Set<Long> ackedLately = NO_IDS;
    /** A resync mark was read by a resume while the first batches were being assembled. */
    private boolean resyncOnOpen;
    /** The session and user the socket authenticated as (set by an extension), for the admin view and lookups. */
    private volatile @Nullable String sessionId;
    private volatile @Nullable String userId;
    /** The auth payload of the CONNECT packet, when it had one (for {@link #request}). */
    private final @Nullable Map<String, Object> auth;
    private volatile @Nullable ConnectRequest request;
    /** Client events in flight, handled one after the other (guarded by {@code this}). */
    private CompletableFuture<Void> eventTail = NO_EVENTS;
    private int pendingEvents;
    /** Whether the socket was ever open (its client learned it is connected): listeners heard of it. */
    private boolean wasOpen;
    /** The client's event budget at the site's rate, made on its first event; guarded by {@code this}. */
    private @Nullable TokenBucket eventTokens;
    /** What waits to reach the client (its session's queues and connections); {@code null}: not metered. */
    private final @Nullable OutboundBacklog backlog;
    /** Too much waited for the client: nothing more is emitted, its connection is being closed (guarded by this). */
    private boolean tooSlow;
    /**
     * The bytes of the batches sent and not acked yet, which do not count against
     * {@code maxBufferedBytes} (their estimate, plus half of it for the estimate's error, plus 1 KB
     * each): a backlog larger than the limit goes out as one batch, and its client must be able to
     * read it while live messages follow. Guarded by this.
     */
    private long batchAllowance;
    /**
     * The gateway's encoder on the session's WebSocket connection, once known (see
     * {@link #webSocket}), which {@link Flushes} hands the session's queue to; guarded by this.
     */
    private @Nullable ChannelHandlerContext webSocket;
    /**
     * Emits since the backlog was last measured (see {@link #overBuffered(long)}); guarded by this.
     * A byte: it fills a gap in this object's layout (an idle connection costs no more for it).
     */
    private byte unmeasured;
    /** 1 while a write of the session's WebSocket queue is scheduled for this socket ({@link Flushes}). */
    private volatile int flushScheduled;
    private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<SiteSocket> FLUSH_SCHEDULED =
            java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(SiteSocket.class, "flushScheduled");

    /**
     * @param loop the event loop the socket was admitted on, where its netty-socketio state changes
     * @param closer what {@link #disconnectFromServer} calls
     */
    SiteSocket(SiteRuntime site, NamespaceClient client, Set<String> rooms, AckSink ackSink, Closer closer,
            EventExecutor loop) {
        this(site, client, rooms, ackSink, closer, loop, null);
    }

    /** @param request what the client sent with its CONNECT, kept for its events when it had an auth payload */
    SiteSocket(SiteRuntime site, NamespaceClient client, Set<String> rooms, AckSink ackSink, Closer closer,
            EventExecutor loop, @Nullable ConnectRequest request) {
        this(site, client, rooms, ackSink, closer, loop, request, null);
    }

    /** @param backlog what waits for the client, checked against the site's {@code maxBufferedBytes} before each emit */
    SiteSocket(SiteRuntime site, NamespaceClient client, Set<String> rooms, AckSink ackSink, Closer closer,
            EventExecutor loop, @Nullable ConnectRequest request, @Nullable OutboundBacklog backlog) {
        this.backlog = backlog;
        this.site = site;
        this.auth = request == null || request.auth().isEmpty() ? null : request.auth();
        this.client = client;
        this.id = client.getSessionId().toString();
        Set<String> initialRooms = Set.of();
        Set<String> initialUserRooms = Set.of();
        Map<String, CompletableFuture<Boolean>> initial = new LinkedHashMap<>();
        for (String room : rooms) {
            initialRooms = plus(initialRooms, room);
            if (site.options().isUserRoom(room)) {
                initialUserRooms = plus(initialUserRooms, room);
                initial.put(room, new CompletableFuture<>());
            }
        }
        this.rooms = initialRooms;
        this.userRooms = initialUserRooms;
        this.initialQueues = Map.copyOf(initial);
        this.openedQueues = initial.size() > SMALL_COPY ? new HashMap<>(initial) : initialQueues;
        this.ackSink = ackSink;
        this.closer = closer;
        this.loop = loop;
    }

    String id() {
        return id;
    }

    SiteRuntime site() {
        return site;
    }

    NamespaceClient client() {
        return client;
    }

    EventExecutor loop() {
        return loop;
    }

    /** A snapshot of the socket's rooms. */
    synchronized Set<String> rooms() {
        return Set.copyOf(rooms);
    }

    /** A snapshot of the socket's user rooms (those whose messages it gets with an ack callback). */
    synchronized Set<String> userRooms() {
        return Set.copyOf(userRooms);
    }

    /**
     * The user queues of the rooms the socket was admitted with, by room: the admission opens them
     * ({@code MessageStore.connectionOpened}) and completes each with whether the open succeeded.
     */
    Map<String, CompletableFuture<Boolean>> initialQueues() {
        return initialQueues;
    }

    /**
     * The user queues this socket opened (or is opening) and has not closed, by room; each completes
     * with whether the open succeeded, so that a close is recorded only after its open. Once the
     * socket is closed this no longer changes: its close records a close for each of them.
     */
    synchronized Map<String, CompletableFuture<Boolean>> openedQueues() {
        return Map.copyOf(openedQueues);
    }

    /** Completed by the admission with whether the router recorded the socket; its close then tells the router. */
    CompletableFuture<Boolean> routed() {
        return routed;
    }

    /** Disconnects the socket from the server side (a {@code disconnect} command). Does not block. */
    void disconnectFromServer() {
        closer.disconnectFromServer(this);
    }

    /** Closes the socket's connection so that its client reconnects by itself. Does not block. */
    void closeTransport() {
        closer.closeTransport(this);
    }

    /** Delivers a routed message, or holds it while batching (the socket, or a room it is joining). */
    void deliver(Message message) {
        deliver(new Outgoing(message, null), null);
    }

    /**
     * Delivers a routed message, or holds it while batching (the socket, or a room it is joining).
     *
     * @param out the message, with what is worked out once for all its recipients
     * @param flushes where a WebSocket session's write is collected, to be made with those of the
     *     other recipients; {@code null}: written at once
     */
    synchronized void deliver(Outgoing out, @Nullable Flushes flushes) {
        switch (state) {
            case CLOSED -> {
                return;
            }
            case BATCHING -> {
                hold(out);
                return;
            }
            case OPEN -> {
                Message message = out.message();
                if (!batchedIds.isEmpty() && batchedIds.contains(message.id())) {
                    return;
                }
                if (!joining.isEmpty() && concernsJoining(message)) {
                    hold(out);
                    return;
                }
                emit(out, flushes);
            }
        }
    }

    /**
     * Ends batching: sends {@code resync} where an overflow asked for it, one {@code batch} per user
     * room with pending messages (also those of rooms joined meanwhile), then the messages held
     * meanwhile minus those in a batch.
     */
    synchronized void open(List<PendingBatch> batches) {
        if (state != State.BATCHING) {
            return;
        }
        state = State.OPEN;
        wasOpen = true;
        if (resyncOnOpen && batches.stream().noneMatch(PendingBatch::resync)) {
            client.sendEvent(Dispatcher.RESYNC_EVENT);
        }
        resyncOnOpen = false;
        for (PendingBatch batch : batches) {
            // a room left (and maybe joined again) while batching has no batch of its admission
            if (openedQueues.get(batch.room()) == initialQueues.get(batch.room())) {
                sendBatch(batch);
            }
        }
        for (PendingBatch batch : joinedWhileBatching.values()) {
            sendBatch(batch);
        }
        joinedWhileBatching.clear();
        release();
    }

    /**
     * Joins rooms (those it has already are skipped) and indexes it in them. For each new user room,
     * acks are attached from now on and live messages for it are held until {@link #joined} (or
     * {@link #joinFailed}); the answer lists those rooms with a new open, to be completed with
     * whether the store recorded it and passed back to {@link #joined}. Nothing for a closed socket.
     */
    synchronized Map<String, CompletableFuture<Boolean>> join(Collection<String> newRooms) {
        if (state == State.CLOSED) {
            return Map.of();
        }
        Map<String, CompletableFuture<Boolean>> toOpen = new LinkedHashMap<>();
        for (String room : newRooms) {
            if (rooms.contains(room)) {
                continue;
            }
            rooms = plus(rooms, room);
            if (site.options().isUserRoom(room)) {
                CompletableFuture<Boolean> opened = new CompletableFuture<>();
                userRooms = plus(userRooms, room);
                openedQueues = plus(openedQueues, room, opened);
                if (joining.isEmpty()) {
                    joining = new HashMap<>(4);
                }
                joining.put(room, opened);
                toOpen.put(room, opened);
            }
            site.joined(this, room);
        }
        return toOpen;
    }

    /**
     * The pending messages of a joined user room were read: sends its {@code resync} (if asked) and
     * {@code batch} now (after {@link #open} if the socket is still batching), then the messages
     * held for the room minus those in the batch. Ignored if the room was left meanwhile.
     *
     * @param opened the open {@link #join} answered for the room
     */
    synchronized void joined(String room, CompletableFuture<Boolean> opened, PendingBatch batch) {
        if (state == State.CLOSED || joining.get(room) != opened) {
            return;
        }
        joining.remove(room);
        if (state == State.BATCHING) {
            if (joinedWhileBatching.isEmpty()) {
                joinedWhileBatching = new LinkedHashMap<>(4);
            }
            joinedWhileBatching.put(room, batch);
            return;
        }
        sendBatch(batch);
        release();
    }

    /**
     * Opening a joined user room's queue failed: the room stays joined without a batch, and the
     * messages held for it are sent.
     */
    synchronized void joinFailed(String room, CompletableFuture<Boolean> opened) {
        if (state == State.CLOSED || joining.get(room) != opened) {
            return;
        }
        joining.remove(room);
        if (state == State.OPEN) {
            release();
        }
    }

    /**
     * Leaves rooms (those it is not in are skipped) and drops it from their index; acks are no
     * longer attached for a user room left. Answers the user queues to close, by room, each with its
     * open; they are no longer the socket's, so its close will not close them again. Nothing for a
     * closed socket.
     */
    synchronized Map<String, CompletableFuture<Boolean>> leave(Collection<String> oldRooms) {
        if (state == State.CLOSED) {
            return Map.of();
        }
        Map<String, CompletableFuture<Boolean>> toClose = new LinkedHashMap<>();
        boolean wasJoining = false;
        for (String room : oldRooms) {
            if (!rooms.contains(room)) {
                continue;
            }
            rooms = minus(rooms, room);
            site.left(this, room);
            if (userRooms.contains(room)) {
                userRooms = minus(userRooms, room);
                wasJoining |= joining.remove(room) != null;
                joinedWhileBatching.remove(room);
                CompletableFuture<Boolean> opened = openedQueues.get(room);
                openedQueues = minus(openedQueues, room);
                if (opened != null) {
                    toClose.put(room, opened);
                }
            }
        }
        if (wasJoining && state == State.OPEN) {
            release();
        }
        return toClose;
    }

    /**
     * Routing was interrupted and is back: of what a user room's queue holds now, sends as one
     * {@code batch} what this socket was never sent (messages it was sent and has not acked yet are
     * its to ack, and a live copy arriving later is skipped as for any batch). Nothing while the
     * socket or that room is still assembling its first batch, which reads the queue anyway.
     *
     * @return how many messages the batch carried
     */
    synchronized int resumed(PendingBatch pending) {
        String room = pending.room();
        if (state != State.OPEN || !userRooms.contains(room) || joining.containsKey(room)) {
            if (pending.resync() && state != State.CLOSED && userRooms.contains(room)) {
                // this read took the queue's resync mark from under the batch being assembled
                resyncOnOpen = true;
            }
            return 0;
        }
        List<QueuedMessage> missed = new ArrayList<>();
        for (QueuedMessage m : pending.messages()) {
            if (!unacked.contains(m.id()) && !batchedIds.contains(m.id()) && !ackedLately.contains(m.id())) {
                missed.add(m);
            }
        }
        sendBatch(new PendingBatch(room, missed, pending.resync()));
        return missed.size();
    }

    @Nullable String sessionId() {
        return sessionId;
    }

    @Nullable String userId() {
        return userId;
    }

    /** Sets the session and user; {@link SiteRuntime#identify} keeps its index by session in step. */
    void identity(@Nullable String sessionId, @Nullable String userId) {
        this.sessionId = sessionId;
        this.userId = userId;
    }

    /**
     * What the client sent at its CONNECT, for the handlers of its events: built from the
     * handshake on first use (the socket keeps only the auth payload until then).
     */
    ConnectRequest request() {
        ConnectRequest r = request;
        if (r == null) {
            r = Connections.connectRequest(site.options().name(), client.getBaseClient(), auth == null ? Map.of() : auth);
            request = r;
        }
        return r;
    }

    /**
     * Queues a client event behind the ones still being handled, if fewer than {@code max} are.
     * Whatever happens to one event (its handler fails, throws an {@link Error}, or the executor
     * refuses it), the next one still runs and the count goes down.
     *
     * @param task runs on {@code executor} once the previous event's handling completed; returns the
     *     stage of its own
     * @param notRun runs (on the refusing thread) if the executor refused the task, which then never ran
     * @return whether the event was queued
     */
    synchronized boolean enqueueEvent(int max, java.util.function.Supplier<CompletableFuture<Void>> task, Runnable notRun,
            java.util.concurrent.Executor executor) {
        if (state == State.CLOSED || pendingEvents >= max) {
            return false;
        }
        pendingEvents++;
        chain(task, () -> {
            synchronized (this) {
                pendingEvents--;
            }
        }, notRun, executor);
        return true;
    }

    /**
     * Queues a listener call behind the socket's events, also once the socket is closed (its
     * {@code disconnected} comes after the events it sent).
     */
    synchronized void enqueueLifecycle(java.util.function.Supplier<CompletableFuture<Void>> task, Runnable notRun,
            java.util.concurrent.Executor executor) {
        chain(task, () -> { }, notRun, executor);
    }

    /** Whether the socket was ever open: its listeners heard {@code connected}, so they hear {@code disconnected}. */
    synchronized boolean wasOpen() {
        return wasOpen;
    }

    /**
     * Takes one event from the client's budget: at most {@code perSecond} events a second on average,
     * and as many at once (0: no limit). Returns whether the event may go on.
     */
    synchronized boolean takeEventToken(int perSecond, long nowNanos) {
        if (perSecond <= 0) {
            return true;
        }
        if (eventTokens == null) {
            eventTokens = new TokenBucket(perSecond);
        }
        return eventTokens.take(nowNanos) == 0;
    }

    /** Runs {@code task} after the previous one; {@code after} always runs; {@code notRun} if the executor refused it. */
    private void chain(java.util.function.Supplier<CompletableFuture<Void>> task, Runnable after, Runnable notRun,
            java.util.concurrent.Executor executor) {
        boolean[] ran = new boolean[1];
        CompletableFuture<Void> step = eventTail.thenComposeAsync(v -> {
            ran[0] = true;
            try {
                return task.get();
            } catch (Throwable e) {
                return CompletableFuture.failedFuture(e);
            }
        }, executor);
        eventTail = step.handle((v, failure) -> {
            after.run();
            if (!ran[0]) {
                notRun.run();
            }
            return null;
        });
    }

    /** The socket as the admin view and extensions see it. */
    io.pushbridge.ConnectionInfo info(String nodeId) {
        return new io.pushbridge.ConnectionInfo(site.options().name(), id, nodeId, sessionId, userId, rooms(),
                Connections.handshake(client.getBaseClient(), site.secure()));
    }

    /** Stops all delivery; returns whether this call closed it. */
    synchronized boolean close() {
        if (state == State.CLOSED) {
            return false;
        }
        state = State.CLOSED;
        held.clear();
        joining.clear();
        joinedWhileBatching.clear();
        unacked.clear();
        batchAllowance = 0;
        return true;
    }

    synchronized boolean isJoining(String room) {
        return joining.containsKey(room);
    }

    synchronized boolean isOpen() {
        return state == State.OPEN;
    }

    synchronized boolean isClosed() {
        return state == State.CLOSED;
    }

    /** One {@code resync} if the batch asks for it, one {@code batch} with an ack if it holds messages. */
    private void sendBatch(PendingBatch batch) {
        if (overBuffered(Long.MAX_VALUE)) {
            return;
        }
        if (batch.resync()) {
            client.sendEvent(Dispatcher.RESYNC_EVENT);
        }
        if (batch.messages().isEmpty()) {
            return;
        }
        // one entry per message: [event, ...args]
        List<Object> events = new ArrayList<>(batch.messages().size());
        List<Long> batchIds = new ArrayList<>(batch.messages().size());
        for (QueuedMessage m : batch.messages()) {
            List<Object> entry = new ArrayList<>(m.args().size() + 1);
            entry.add(m.event());
            entry.addAll(m.args());
            events.add(entry);
            batchIds.add(m.id());
        }
        batchedIds = ids(batchedIds, ID_MEMORY);
        batchedIds.addAll(batchIds);
        unacked = ids(unacked, ID_MEMORY);
        unacked.addAll(batchIds);
        String room = batch.room();
        // exempt from the limit until acked (see batchAllowance), with room for the estimate's error
        long dataBytes = metered() ? OutboundBacklog.estimateData(List.of(events)) : -1;
        long exempt = dataBytes < 0 ? 0 : dataBytes + dataBytes / 2 + 1024;
        batchAllowance += exempt;
        boolean[] acked = new boolean[1];
        OutboundBacklog.sendSized(dataBytes, () -> client.sendEvent(Dispatcher.BATCH_EVENT, new AckCallback<>(Object.class) {
            @Override
            public void onSuccess(Object result) {
                synchronized (SiteSocket.this) {
                    batchIds.forEach(unacked::remove);
                    ackedLately = ids(ackedLately, ACKED_MEMORY);
                    ackedLately.addAll(batchIds);
                    if (!acked[0]) {
                        acked[0] = true;
                        batchAllowance = Math.max(0, batchAllowance - exempt);
                    }
                }
                ackSink.batchAcked(SiteSocket.this, room, batchIds);
            }
        }, events));
    }

    /** Sends the held messages that no joining room holds back any more, minus those a batch carried. */
    private void release() {
        if (held.isEmpty()) {
            return;
        }
        List<Outgoing> pending = new ArrayList<>(held);
        held.clear();
        for (Outgoing out : pending) {
            if (batchedIds.contains(out.message().id())) {
                continue;
            }
            if (!joining.isEmpty() && concernsJoining(out.message())) {
                hold(out);
            } else {
                emit(out, null);
            }
        }
    }

    /** Whether the message is for a room whose join batch is not sent yet. */
    private boolean concernsJoining(Message message) {
        for (String room : joining.keySet()) {
            if (message.queuedRooms().contains(room) || message.target().rooms().contains(room)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether more than the site's {@code maxBufferedBytes} wait for the client; the first time,
     * hands the socket to {@link Closer#tooSlow}. Checked before each emit, so one message larger
     * than the limit still goes out to a client that keeps up. Its messages stay in its user queues.
     *
     * <p>The batches sent and not acked yet do not count ({@link #batchAllowance}): a backlog larger
     * than the limit goes out as one {@code batch}, and a client that reads it slowly must not be
     * cut off for it (it would get the same batch again on reconnect, forever). Live messages that
     * pile up behind the batch still count, so a client that stops reading is still cut off.
     *
     * <p>Measuring reads what other threads write (the connection's outbound buffer, the queue's
     * meter), a few cache misses per socket and message, which in a broadcast to a large room cost
     * more than the rest of the check. So a small message is checked against the backlog measured
     * before the last {@value #MEASURE_EVERY} emits at most: a message of {@code 1/}{@value
     * #MEASURE_LARGE} of the limit or more, a batch, and every {@value #MEASURE_EVERY}th message
     * measure again. A client that stops reading is cut off at most that many small messages
     * (under a quarter of the limit) later.
     *
     * @param size the message's size in bytes, as near as known
     */
    private boolean overBuffered(long size) {
        if (tooSlow) {
            return true;
        }
        if (!metered()) {
            return false;
        }
        int limit = site.limits().maxBufferedBytes();
        if (size < limit / MEASURE_LARGE && ++unmeasured < MEASURE_EVERY) {
            return false;
        }
        unmeasured = 0;
        long buffered = backlog.bytes();
        if (buffered - batchAllowance <= limit) {
            return false;
        }
        tooSlow = true;
        closer.tooSlow(this, buffered, limit);
        return true;
    }

    /** At most this many emits in a row are checked against an earlier measurement of the backlog. */
    static final int MEASURE_EVERY = 16;
    /** A message of at least {@code 1/MEASURE_LARGE} of the limit is always checked against a new measurement. */
    static final int MEASURE_LARGE = 64;

    /** Whether the site limits the bytes waiting for a client and this socket's are measured. */
    private boolean metered() {
        return site.limits().maxBufferedBytes() > 0 && backlog != null && backlog.isMetered();
    }

    private void emit(Outgoing out, @Nullable Flushes flushes) {
        EncodedEvent encoded = out.encoded(client);
        if (overBuffered(encoded != null ? encoded.size() : metered() ? out.dataBytes() : 0)) {
            return;
        }
        Message message = out.message();
        Set<String> ackRooms = ackRooms(message);
        if (encoded == null) {
            // binary arguments (or no encoder, in unit tests): netty-socketio encodes the packet
            emitEach(message, metered() ? out.dataBytes() : -1, ackRooms);
            return;
        }
        ClientHead head = client.getBaseClient();
        if (!head.isConnected()) {
            return; // as netty-socketio's sendEvent: nothing is queued for a closed session
        }
        EncodedEvent packet = encoded;
        if (!ackRooms.isEmpty()) {
            long messageId = message.id();
            unacked = ids(unacked, ID_MEMORY);
            unacked.add(messageId);
            packet = encoded.withAck(head.getAckManager().registerAck(head.getSessionId(), ackCallback(messageId, ackRooms)));
        }
        if (flushes != null && head.getCurrentTransport() == Transport.WEBSOCKET) {
            ChannelHandlerContext encoder = webSocket(head);
            if (encoder != null) {
                head.getPacketsQueue(Transport.WEBSOCKET).add(packet);
                flushes.add(this, encoder);
                return;
            }
        }
        head.send(packet);
    }

    /** Emits through netty-socketio's {@code sendEvent}, which encodes the packet for this socket alone. */
    private void emitEach(Message message, long dataBytes, Set<String> ackRooms) {
        Object[] args = message.args().toArray();
        if (ackRooms.isEmpty()) {
            OutboundBacklog.sendSized(dataBytes, () -> client.sendEvent(message.event(), args));
        } else {
            long messageId = message.id();
            unacked = ids(unacked, ID_MEMORY);
            unacked.add(messageId);
            OutboundBacklog.sendSized(dataBytes, () -> client.sendEvent(message.event(), ackCallback(messageId, ackRooms), args));
        }
    }

    private AckCallback<Object> ackCallback(long messageId, Set<String> ackRooms) {
        return new AckCallback<>(Object.class) {
            @Override
            public void onSuccess(Object result) {
                synchronized (SiteSocket.this) {
                    unacked.remove(messageId);
                    ackedLately = ids(ackedLately, ACKED_MEMORY);
                    ackedLately.add(messageId);
                }
                ackSink.acked(SiteSocket.this, messageId, ackRooms);
            }
        };
    }

    /**
     * The gateway's encoder on the session's WebSocket connection, once it has one ({@code null}
     * also when that pipeline has no {@link GatewayEncoder}); guarded by this.
     */
    private @Nullable ChannelHandlerContext webSocket(ClientHead head) {
        ChannelHandlerContext encoder = webSocket;
        if (encoder == null || encoder.isRemoved() || !head.isTransportChannel(encoder.channel(), Transport.WEBSOCKET)) {
            // first use, or netty-socketio bound the session to another connection since
            Channel channel = OutboundBacklog.channel(head, Transport.WEBSOCKET);
            encoder = channel == null ? null : channel.pipeline().context(GatewayEncoder.class);
            webSocket = encoder;
        }
        return encoder;
    }

    /** Marks a write of this socket's WebSocket queue as scheduled ({@link Flushes}); false if one already is. */
    boolean scheduleFlush() {
        return FLUSH_SCHEDULED.compareAndSet(this, 0, 1);
    }

    /** The scheduled write starts: a packet queued from now on needs a write of its own. */
    void flushStarted() {
        FLUSH_SCHEDULED.set(this, 0);
    }

    private Set<String> ackRooms(Message message) {
        if (userRooms.isEmpty() || message.queuedRooms().isEmpty()) {
            return Set.of();
        }
        Set<String> out = null;
        for (String room : userRooms) {
            if (message.queuedRooms().contains(room)) {
                if (out == null) {
                    out = new HashSet<>(2);
                }
                out.add(room);
            }
        }
        return out == null ? Set.of() : out;
    }

    /** Up to this many entries, a socket's room sets and queue map are immutable and copied on change. */
    static final int SMALL_COPY = 8;

    /** {@code set} with {@code element}: a copy while small (immutable), else {@code set} changed in place. */
    static <E> Set<E> plus(Set<E> set, E element) {
        if (set instanceof HashSet<E> large) {
            large.add(element);
            return large;
        }
        if (set.contains(element)) {
            return set;
        }
        if (set.size() >= SMALL_COPY) {
            Set<E> large = new HashSet<>(set);
            large.add(element);
            return large;
        }
        @SuppressWarnings("unchecked")
        E[] elements = (E[]) set.toArray(new Object[set.size() + 1]);
        elements[set.size()] = element;
        return Set.of(elements);
    }

    /** {@code set} without {@code element}: a copy while small (immutable), else {@code set} changed in place. */
    static <E> Set<E> minus(Set<E> set, E element) {
        if (set instanceof HashSet<E> large) {
            large.remove(element);
            return large;
        }
        if (!set.contains(element)) {
            return set;
        }
        @SuppressWarnings("unchecked")
        E[] elements = (E[]) new Object[set.size() - 1];
        int i = 0;
        for (E e : set) {
            if (!e.equals(element)) {
                elements[i++] = e;
            }
        }
        return Set.of(elements);
    }

    /** {@code map} with {@code key} set to {@code value}: a copy while small (immutable), else {@code map} changed in place. */
    static <K, V> Map<K, V> plus(Map<K, V> map, K key, V value) {
        if (map instanceof HashMap<K, V> large) {
            large.put(key, value);
            return large;
        }
        if (map.size() >= SMALL_COPY) {
            Map<K, V> large = new HashMap<>(map);
            large.put(key, value);
            return large;
        }
        Map<K, V> copy = new HashMap<>(map);
        copy.put(key, value);
        return Map.copyOf(copy);
    }

    /** {@code map} without {@code key}: a copy while small (immutable), else {@code map} changed in place. */
    static <K, V> Map<K, V> minus(Map<K, V> map, K key) {
        if (map instanceof HashMap<K, V> large) {
            large.remove(key);
            return large;
        }
        if (!map.containsKey(key)) {
            return map;
        }
        Map<K, V> copy = new HashMap<>(map);
        copy.remove(key);
        return Map.copyOf(copy);
    }

    /** How many acked ids a socket remembers ({@link #ackedLately}). */
    private static final int ACKED_MEMORY = 1024;

    /**
     * What the three id memories ({@link #batchedIds}, {@link #unacked}, {@link #ackedLately})
     * hold until their first id: the JDK's shared empty set (its remove and clear do nothing).
     */
    private static final Set<Long> NO_IDS = Collections.emptySet();

    /** {@code ids}, or a new memory of at most {@code max} ids in place of {@link #NO_IDS}; guarded by this. */
    private static Set<Long> ids(Set<Long> ids, int max) {
        return ids == NO_IDS ? new BoundedIdSet(max) : ids;
    }

    /** Holds a live message back (guarded by this); the list is made on the first. */
    private void hold(Outgoing out) {
        if (held.isEmpty()) {
            held = new ArrayList<>();
        }
        held.add(out);
    }

    /** What {@link #eventTail} starts with: no event in flight. Shared: nothing completes it again. */
    private static final CompletableFuture<Void> NO_EVENTS = CompletableFuture.completedFuture(null);

    /**
     * How many ids a socket remembers per kind (batched, unacked). Beyond it the oldest are
     * forgotten: the only cost is a possible second copy of an old message.
     */
    static final int ID_MEMORY = 20_000;

    /**
     * An insertion-ordered set of ids that forgets its oldest beyond a bound. Its table is made on
     * the first add: most sockets never get an ack-ed message, and each socket has three of these.
     * Not thread-safe.
     */
    static final class BoundedIdSet extends java.util.AbstractSet<Long> {
        private java.util.@Nullable LinkedHashSet<Long> ids;
        private final int max;

        BoundedIdSet(int max) {
            this.max = max;
        }

        @Override
        public boolean add(Long id) {
            if (ids == null) {
                ids = new java.util.LinkedHashSet<>();
            }
            boolean added = ids.add(id);
            if (added && ids.size() > max) {
                java.util.Iterator<Long> oldest = ids.iterator();
                oldest.next();
                oldest.remove();
            }
            return added;
        }

        @Override
        public boolean contains(Object id) {
            return ids != null && ids.contains(id);
        }

        @Override
        public boolean remove(Object id) {
            return ids != null && ids.remove(id);
        }

        @Override
        public java.util.Iterator<Long> iterator() {
            return ids == null ? java.util.Collections.emptyIterator() : ids.iterator();
        }

        @Override
        public int size() {
            return ids == null ? 0 : ids.size();
        }

        @Override
        public boolean isEmpty() {
            return ids == null || ids.isEmpty();
        }

        @Override
        public void clear() {
            // dropped, not emptied: a socket whose acks all came back goes back to no table
            ids = null;
        }
    }

    /** A live message held back, with the estimate of its arguments (-1: none yet). */

    /** The pending messages of one user room, read when the socket connected or joined the room. */
    record PendingBatch(String room, List<QueuedMessage> messages, boolean resync) {
    }

    @Override
    public String toString() {
        return "Socket[" + id + " on " + site.options().name() + "]";
    }
}
