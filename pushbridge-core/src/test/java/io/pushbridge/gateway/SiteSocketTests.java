package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import com.corundumstudio.socketio.AckCallback;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import io.pushbridge.Target;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The socket's delivery order when rooms change at run time: a joined user room's live messages
 * wait for its batch and are never sent twice; membership and the room index follow joins and
 * leaves. The netty-socketio client is a mock that records the emits.
 */
class SiteSocketTests {

    /** One emit to the client: the event, its arguments, and its ack callback if any. */
    record Emit(String event, List<Object> args, AckCallback<?> ack) {
    }

    private final List<Emit> emits = new CopyOnWriteArrayList<>();
    private final List<List<Long>> batchAcks = new CopyOnWriteArrayList<>();
    private final List<Set<String>> acks = new CopyOnWriteArrayList<>();
    private final SiteRuntime site = new SiteRuntime(TestGateways.newsSite());
    private final NamespaceClient client = mock(NamespaceClient.class, invocation -> {
        switch (invocation.getMethod().getName()) {
            case "getSessionId" -> {
                return UUID.fromString("00000000-0000-0000-0000-000000000001");
            }
            case "sendEvent" -> {
                Object[] raw = invocation.getRawArguments();
                AckCallback<?> ack = raw.length == 3 ? (AckCallback<?>) raw[1] : null;
                Object[] args = (Object[]) raw[raw.length - 1];
                emits.add(new Emit((String) raw[0], Arrays.asList(args), ack));
                return null;
            }
            default -> {
                return null;
            }
        }
    });
    private final SiteSocket.AckSink ackSink = new SiteSocket.AckSink() {
        @Override
        public void acked(SiteSocket socket, long messageId, Set<String> queuedRooms) {
            acks.add(queuedRooms);
        }

        @Override
        public void batchAcked(SiteSocket socket, String room, List<Long> messageIds) {
            batchAcks.add(messageIds);
        }
    };
    private long nextId = 1;

    /** These tests never close a socket from the server side. */
    private static final SiteSocket.Closer NO_CLOSER = new SiteSocket.Closer() {
        @Override
        public void disconnectFromServer(SiteSocket socket) {
            throw new AssertionError("unexpected disconnect");
        }

        @Override
        public void closeTransport(SiteSocket socket) {
            throw new AssertionError("unexpected close");
        }
    };

    private SiteSocket socket(String... rooms) {
        SiteSocket socket = new SiteSocket(site, client, Set.of(rooms), ackSink, NO_CLOSER, ImmediateEventExecutor.INSTANCE);
        site.register(socket);
        return socket;
    }

    private Message toRooms(String... rooms) {
        Set<String> queued = new java.util.HashSet<>();
        for (String room : rooms) {
            if (site.options().isUserRoom(room)) {
                queued.add(room);
            }
        }
        return new Message(nextId++, "news", Target.rooms(Set.of(rooms)), "e", List.of("m" + (nextId - 1)), queued,
                false, 0);
    }

    private static SiteSocket.PendingBatch batch(String room, Message... messages) {
        return new SiteSocket.PendingBatch(room, Arrays.stream(messages).map(Message::toQueued).toList(), false);
    }

    private List<String> emitted() {
        List<String> out = new ArrayList<>();
        for (Emit e : emits) {
            out.add(e.event().equals("batch") ? "batch" + batchIds(e) : e.args().get(0) + (e.ack() == null ? "" : "+ack"));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<String> batchIds(Emit batch) {
        List<String> ids = new ArrayList<>();
        for (Object entry : (List<Object>) batch.args().get(0)) {
            ids.add((String) ((List<Object>) entry).get(1));
        }
        return ids;
    }

    @Test
    void aJoinedUserRoomHoldsItsLiveMessagesUntilItsBatchAndSkipsThoseTheBatchCarried() {
        SiteSocket socket = socket("staff");
        socket.open(List.of());
        Message queuedBefore = toRooms("user_1");
        Message publishedLate = toRooms("user_1");

        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_1"));
        assertThat(toOpen).containsOnlyKeys("user_1");
        assertThat(socket.userRooms()).contains("user_1");
        assertThat(site.members("user_1")).containsExactly(socket);

        socket.deliver(publishedLate);            // in the batch too: held, then skipped
        Message afterRead = toRooms("user_1");
        socket.deliver(afterRead);                // not in the batch: held, then sent after it
        socket.deliver(toRooms("staff"));         // another room: not held
        assertThat(emitted()).containsExactly("m4");

        socket.joined("user_1", toOpen.get("user_1"), batch("user_1", queuedBefore, publishedLate));
        assertThat(emitted()).containsExactly("m4", "batch[m1, m2]", "m3+ack");

        socket.deliver(queuedBefore);             // a late publish of a batched message
        socket.deliver(toRooms("user_1", "staff"));
        assertThat(emitted()).containsExactly("m4", "batch[m1, m2]", "m3+ack", "m5+ack");

        emits.get(1).ack().onSuccess(null);
        assertThat(batchAcks).containsExactly(List.of(1L, 2L));
        emits.get(2).ack().onSuccess(null);
        assertThat(acks).containsExactly(Set.of("user_1"));
    }

    @Test
    void aResyncMarkOfAJoinedRoomComesBeforeItsBatch() {
        SiteSocket socket = socket();
        socket.open(List.of());
        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_1"));
        Message kept = toRooms("user_1");
        socket.joined("user_1", toOpen.get("user_1"),
                new SiteSocket.PendingBatch("user_1", List.of(kept.toQueued()), true));
        assertThat(emits).extracting(Emit::event).containsExactly("resync", "batch");
    }

    @Test
    void aJoinWhileTheSocketIsStillBatchingSendsItsBatchWithTheOthersOnOpen() {
        SiteSocket socket = socket("user_a");
        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_b"));
        Message forA = toRooms("user_a");
        Message forB = toRooms("user_b");
        Message forBLater = toRooms("user_b");
        socket.deliver(forA);
        socket.deliver(forB);
        socket.deliver(forBLater);
        socket.joined("user_b", toOpen.get("user_b"), batch("user_b", forB));
        assertThat(emits).as("nothing before the CONNECT ack").isEmpty();

        socket.open(List.of(batch("user_a", forA)));
        assertThat(emitted()).containsExactly("batch[m1]", "batch[m2]", "m3+ack");
    }

    @Test
    void openKeepsHoldingMessagesOfARoomWhoseJoinBatchIsStillUnderWay() {
        SiteSocket socket = socket();
        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_b"));
        socket.deliver(toRooms("staff"));
        socket.deliver(toRooms("user_b"));
        socket.open(List.of());
        assertThat(emitted()).containsExactly("m1");
        socket.joined("user_b", toOpen.get("user_b"), batch("user_b"));
        assertThat(emitted()).containsExactly("m1", "m2+ack");
    }

    @Test
    void aFailedJoinReleasesTheHeldMessagesAndKeepsTheRoom() {
        SiteSocket socket = socket();
        socket.open(List.of());
        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_1"));
        socket.deliver(toRooms("user_1"));
        assertThat(emits).isEmpty();
        socket.joinFailed("user_1", toOpen.get("user_1"));
        assertThat(emitted()).containsExactly("m1+ack");
        assertThat(socket.rooms()).contains("user_1");
    }

    @Test
    void leavingARoomWhileItsBatchIsUnderWayDropsTheBatchAndReleasesTheHeldMessages() {
        SiteSocket socket = socket();
        socket.open(List.of());
        Map<String, CompletableFuture<Boolean>> toOpen = socket.join(Set.of("user_1"));
        Message held = toRooms("user_1");
        socket.deliver(held);

        Map<String, CompletableFuture<Boolean>> toClose = socket.leave(Set.of("user_1"));
        assertThat(toClose).containsExactlyEntriesOf(toOpen);
        assertThat(emitted()).as("sent while it was a member; no ack any more").containsExactly("m1");
        assertThat(socket.openedQueues()).isEmpty();
        assertThat(site.members("user_1")).isEmpty();

        socket.joined("user_1", toOpen.get("user_1"), batch("user_1", held));
        assertThat(emitted()).as("a stale batch is dropped").containsExactly("m1");

        // joined again: only the new join's batch counts
        Map<String, CompletableFuture<Boolean>> again = socket.join(Set.of("user_1"));
        assertThat(again.get("user_1")).isNotSameAs(toOpen.get("user_1"));
        socket.joined("user_1", toOpen.get("user_1"), batch("user_1", held));
        assertThat(emitted()).containsExactly("m1");
        socket.joined("user_1", again.get("user_1"), batch("user_1", held));
        assertThat(emitted()).containsExactly("m1", "batch[m1]");
    }

    @Test
    void joiningARoomItHasOrLeavingOneItHasNotChangesNothing() {
        SiteSocket socket = socket("user_1", "staff");
        socket.open(List.of());
        assertThat(socket.join(Set.of("user_1", "staff"))).isEmpty();
        assertThat(socket.leave(Set.of("user_2", "other"))).isEmpty();
        assertThat(socket.rooms()).containsExactlyInAnyOrder("user_1", "staff");
        assertThat(socket.openedQueues()).containsOnlyKeys("user_1");
        assertThat(socket.openedQueues().get("user_1")).isSameAs(socket.initialQueues().get("user_1"));
    }

    @Test
    void roomsBeyondTheSmallCopiesAreKeptAndLeftAsAFewAre() {
        SiteSocket socket = socket("user_1", "staff");
        socket.open(List.of());
        List<String> more = new ArrayList<>();
        for (int i = 2; i <= 12; i++) {
            more.add("user_" + i);
            more.add("group_" + i);
        }
        Map<String, CompletableFuture<Boolean>> opened = socket.join(more);
        assertThat(opened).hasSize(11);
        assertThat(socket.rooms()).hasSize(24).contains("user_12", "group_12", "staff");
        assertThat(socket.userRooms()).hasSize(12);
        assertThat(socket.openedQueues()).hasSize(12).containsEntry("user_7", opened.get("user_7"));
        assertThat(site.members("group_5")).containsExactly(socket);

        assertThat(socket.leave(more.subList(0, 20))).hasSize(10);
        assertThat(socket.rooms()).containsExactlyInAnyOrder("user_1", "staff", "user_12", "group_12");
        assertThat(socket.userRooms()).containsExactlyInAnyOrder("user_1", "user_12");
        assertThat(socket.openedQueues()).containsOnlyKeys("user_1", "user_12");
        assertThat(site.members("group_5")).isEmpty();
        assertThat(socket.leave(Set.of("user_1", "user_12", "group_12", "staff"))).hasSize(2);
        assertThat(socket.rooms()).isEmpty();
        assertThat(socket.openedQueues()).isEmpty();
    }

    @Test
    void aRoomIndexGrowsPastItsCopiesAndShrinksToNothing() {
        List<SiteSocket> sockets = new ArrayList<>();
        Set<SiteSocket> members = null;
        for (int i = 0; i < SiteRuntime.SMALL_INDEX * 3; i++) {
            SiteSocket member = new SiteSocket(site, client, Set.of(), ackSink, NO_CLOSER, ImmediateEventExecutor.INSTANCE);
            sockets.add(member);
            members = SiteRuntime.with(members, member);
            assertThat(SiteRuntime.with(members, member)).as("adding a member twice").hasSize(i + 1);
        }
        assertThat(members).containsExactlyInAnyOrderElementsOf(sockets);
        for (int i = 0; i < sockets.size(); i++) {
            members = SiteRuntime.without(members, sockets.get(i));
            if (i < sockets.size() - 1) {
                assertThat(members).hasSize(sockets.size() - i - 1).doesNotContain(sockets.get(i));
            }
        }
        assertThat(members).as("an empty room leaves the index").isNull();
        Set<SiteSocket> one = SiteRuntime.with(null, sockets.get(0));
        assertThat(SiteRuntime.without(one, sockets.get(1))).isSameAs(one);
    }

    @Test
    void anInitialUserRoomLeftWhileBatchingGetsNoBatchAndItsQueueIsHandedBackForClosing() {
        SiteSocket socket = socket("user_1", "staff");
        Map<String, CompletableFuture<Boolean>> toClose = socket.leave(Set.of("user_1"));
        assertThat(toClose).containsExactlyEntriesOf(socket.initialQueues());
        socket.open(List.of(batch("user_1", toRooms("user_1"))));
        assertThat(emits).isEmpty();
        assertThat(socket.openedQueues()).isEmpty();
    }

    @Test
    void aClosedSocketJoinsAndLeavesNothingAndItsIndexEntriesGoWithIt() {
        SiteSocket socket = socket("staff");
        socket.open(List.of());
        socket.join(Set.of("grp", "user_1"));
        assertThat(site.members("grp")).containsExactly(socket);
        assertThat(socket.close()).isTrue();
        site.unregister(socket);
        assertThat(socket.join(Set.of("late", "user_2"))).isEmpty();
        assertThat(socket.leave(Set.of("grp"))).isEmpty();
        assertThat(site.members("grp")).isEmpty();
        assertThat(site.members("user_1")).isEmpty();
        assertThat(site.members("staff")).isEmpty();
        assertThat(site.members("late")).isEmpty();
        assertThat(site.socket(socket.id())).isNull();
        assertThat(socket.openedQueues()).containsOnlyKeys("user_1");
        socket.deliver(toRooms("grp"));
        assertThat(emits).isEmpty();
    }

    @Test
    void anIdIsRememberedFromItsFirstAddUpToTheBoundAndForgottenOnClear() {
        SiteSocket.BoundedIdSet ids = new SiteSocket.BoundedIdSet(3);
        assertThat(ids).isEmpty();
        assertThat(ids.contains(1L)).isFalse();
        assertThat(ids.remove(1L)).isFalse();
        assertThat(ids.iterator().hasNext()).isFalse();
        for (long id = 1; id <= 5; id++) {
            assertThat(ids.add(id)).isTrue();
        }
        assertThat(ids.add(5L)).isFalse();
        // the oldest went beyond the bound, in order
        assertThat(ids).containsExactly(3L, 4L, 5L);
        assertThat(ids.remove(4L)).isTrue();
        assertThat(ids).hasSize(2).containsExactly(3L, 5L);
        ids.clear();
        assertThat(ids).isEmpty();
        assertThat(ids.contains(3L)).isFalse();
        assertThat(ids.add(3L)).isTrue();
        assertThat(ids).containsExactly(3L);
    }

    @Test
    void aSocketThatIdledGetsAcksBatchesAndJoinsLaterAsAnyOther() {
        // its ack and batch memories start without a table: the first ack-ed message, batch and join make them
        SiteSocket socket = socket("user_1", "staff");
        socket.open(List.of());
        socket.deliver(toRooms("staff"));
        assertThat(emitted()).containsExactly("m1");

        Message live = toRooms("user_1");
        socket.deliver(live);
        assertThat(emits.get(1).ack()).isNotNull();
        emits.get(1).ack().onSuccess(null);
        assertThat(acks).containsExactly(Set.of("user_1"));

        Map<String, CompletableFuture<Boolean>> opened = socket.join(Set.of("user_2", "grp", "grp2", "grp3"));
        assertThat(opened).containsOnlyKeys("user_2");
        assertThat(socket.rooms()).containsExactlyInAnyOrder("user_1", "staff", "user_2", "grp", "grp2", "grp3");
        Message queued = toRooms("user_2");
        socket.joined("user_2", opened.get("user_2"), batch("user_2", queued));
        // the batch's copy only: the live one arriving after it is skipped
        socket.deliver(queued);
        assertThat(emitted()).containsExactly("m1", "m2+ack", "batch[m3]");
        emits.get(2).ack().onSuccess(null);
        assertThat(batchAcks).containsExactly(List.of(queued.id()));
        assertThat(socket.openedQueues()).containsOnlyKeys("user_1", "user_2");
    }
}
