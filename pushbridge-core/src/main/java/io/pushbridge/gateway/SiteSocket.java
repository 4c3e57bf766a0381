package io.pushbridge.gateway;

import com.corundumstudio.socketio.AckCallback;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import java.util.ArrayList;
import java.util.HashSet;
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
 * nothing twice. Thread-safe: deliveries arrive from any thread, emits happen under this socket's
 * lock (they only enqueue to netty-socketio's per-session queue).
 */
final class SiteSocket {

    /** Receives acks from the client, on a Netty thread; implementations hand work off. */
    interface AckSink {
        void acked(SiteSocket socket, long messageId, Set<String> queuedRooms);

        void batchAcked(SiteSocket socket, String room, List<Long> messageIds);
    }

    private enum State { BATCHING, OPEN, CLOSED }

    private final SiteRuntime site;
    private final NamespaceClient client;
    private final String id;
    private final Set<String> rooms;
    private final Set<String> userRooms;
    private final AckSink ackSink;

    private State state = State.BATCHING;
    private Map<String, CompletableFuture<Boolean>> openedQueues = Map.of();
    private @Nullable List<Message> held = new ArrayList<>();
    private Set<Long> batchedIds = Set.of();

    SiteSocket(SiteRuntime site, NamespaceClient client, Set<String> rooms, AckSink ackSink) {
        this.site = site;
        this.client = client;
        this.id = client.getSessionId().toString();
        this.rooms = Set.copyOf(rooms);
        Set<String> users = new HashSet<>();
        for (String room : rooms) {
            if (site.options().isUserRoom(room)) {
                users.add(room);
            }
        }
        this.userRooms = Set.copyOf(users);
        this.ackSink = ackSink;
    }

    String id() {
        return id;
    }

    SiteRuntime site() {
        return site;
    }

    Set<String> rooms() {
        return rooms;
    }

    Set<String> userRooms() {
        return userRooms;
    }

    /**
     * The user queues this socket opened ({@code MessageStore.connectionOpened}), by room; each
     * completes with whether the open succeeded, so that a close is recorded only after its open.
     */
    synchronized void openedQueues(Map<String, CompletableFuture<Boolean>> opened) {
        this.openedQueues = Map.copyOf(opened);
    }

    synchronized Map<String, CompletableFuture<Boolean>> openedQueues() {
        return openedQueues;
    }

    /** Delivers a routed message, or holds it while batching. */
    synchronized void deliver(Message message) {
        switch (state) {
            case CLOSED -> {
                return;
            }
            case BATCHING -> {
                held.add(message);
                return;
            }
            case OPEN -> {
                if (!batchedIds.isEmpty() && batchedIds.contains(message.id())) {
                    return;
                }
                emit(message);
            }
        }
    }

    /**
     * Ends batching: sends {@code resync} where an overflow asked for it, one {@code batch} per user
     * room with pending messages, then the messages held meanwhile minus those in a batch.
     */
    synchronized void open(List<PendingBatch> batches) {
        if (state != State.BATCHING) {
            return;
        }
        Set<Long> ids = new HashSet<>();
        for (PendingBatch batch : batches) {
            if (batch.resync()) {
                client.sendEvent(Dispatcher.RESYNC_EVENT);
            }
            if (!batch.messages().isEmpty()) {
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
                ids.addAll(batchIds);
                String room = batch.room();
                client.sendEvent(Dispatcher.BATCH_EVENT, new AckCallback<>(Object.class) {
                    @Override
                    public void onSuccess(Object result) {
                        ackSink.batchAcked(SiteSocket.this, room, batchIds);
                    }
                }, events);
            }
        }
        batchedIds = ids.isEmpty() ? Set.of() : ids;
        state = State.OPEN;
        List<Message> pending = held;
        held = null;
        for (Message m : pending) {
            if (!batchedIds.contains(m.id())) {
                emit(m);
            }
        }
    }

    /** Stops all delivery; returns whether this call closed it. */
    synchronized boolean close() {
        if (state == State.CLOSED) {
            return false;
        }
        state = State.CLOSED;
        held = null;
        return true;
    }

    synchronized boolean isClosed() {
        return state == State.CLOSED;
    }

    private void emit(Message message) {
        Set<String> ackRooms = ackRooms(message);
        Object[] args = message.args().toArray();
        if (ackRooms.isEmpty()) {
            client.sendEvent(message.event(), args);
        } else {
            long messageId = message.id();
            client.sendEvent(message.event(), new AckCallback<>(Object.class) {
                @Override
                public void onSuccess(Object result) {
                    ackSink.acked(SiteSocket.this, messageId, ackRooms);
                }
            }, args);
        }
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

    /** The pending messages of one user room, read when the socket connected. */
    record PendingBatch(String room, List<QueuedMessage> messages, boolean resync) {
    }

    @Override
    public String toString() {
        return "Socket[" + id + " on " + site.options().name() + "]";
    }
}
