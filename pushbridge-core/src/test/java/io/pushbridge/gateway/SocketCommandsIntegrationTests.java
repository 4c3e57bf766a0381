package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.Message;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code PushTemplate.join/leave/disconnect} against real Java Socket.IO clients: membership,
 * user-room batches and acks, server disconnects, validation, and a router whose registry fails.
 */
class SocketCommandsIntegrationTests {

    /** The in-memory store, counting {@code connectionOpened}/{@code connectionClosed} per queue. */
    static final class CountingStore extends DelegatingStore {
        final InMemoryMessageStore delegate;
        final Map<UserQueue, AtomicInteger> opened = new ConcurrentHashMap<>();
        final Map<UserQueue, AtomicInteger> closed = new ConcurrentHashMap<>();

        CountingStore() {
            this(InMemoryMessageStore.builder().build());
        }

        private CountingStore(InMemoryMessageStore delegate) {
            super(delegate);
            this.delegate = delegate;
        }

        int opened(UserQueue queue) {
            AtomicInteger n = opened.get(queue);
            return n == null ? 0 : n.get();
        }

        int closed(UserQueue queue) {
            AtomicInteger n = closed.get(queue);
            return n == null ? 0 : n.get();
        }

        @Override
        public CompletionStage<Void> connectionOpened(UserQueue queue) {
            opened.computeIfAbsent(queue, q -> new AtomicInteger()).incrementAndGet();
            return super.connectionOpened(queue);
        }

        @Override
        public CompletionStage<Void> connectionClosed(UserQueue queue) {
            closed.computeIfAbsent(queue, q -> new AtomicInteger()).incrementAndGet();
            return super.connectionClosed(queue);
        }
    }

    /**
     * The local router, with a registry that can be switched off (as a cluster registry that is
     * down) and that counts registrations per socket id.
     */
    static final class RegistryRouter implements Router {
        final LocalRouter delegate = new LocalRouter();
        final Map<String, AtomicInteger> connected = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> disconnected = new ConcurrentHashMap<>();
        volatile boolean registryDown;
        volatile boolean commandsDown;

        int connected(String socketId) {
            AtomicInteger n = connected.get(socketId);
            return n == null ? 0 : n.get();
        }

        int disconnected(String socketId) {
            AtomicInteger n = disconnected.get(socketId);
            return n == null ? 0 : n.get();
        }

        @Override
        public void start(Receiver receiver) {
            delegate.start(receiver);
        }

        @Override
        public CompletionStage<Void> publish(Message message) {
            return delegate.publish(message);
        }

        @Override
        public CompletionStage<Void> command(SocketCommand command) {
            if (commandsDown) {
                return CompletableFuture.failedFuture(new IllegalStateException("bus is down (injected by the test)"));
            }
            return delegate.command(command);
        }

        @Override
        public CompletionStage<Void> socketConnected(String site, String socketId) {
            if (registryDown) {
                return CompletableFuture.failedFuture(new PushUnavailableException("registry is down",
                        new IllegalStateException("injected by the test")));
            }
            connected.computeIfAbsent(socketId, id -> new AtomicInteger()).incrementAndGet();
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> socketDisconnected(String site, String socketId) {
            disconnected.computeIfAbsent(socketId, id -> new AtomicInteger()).incrementAndGet();
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void stop() {
            delegate.stop();
        }
    }

    private static final Duration QUIET = Duration.ofMillis(400);

    private static final CountingStore STORE = new CountingStore();
    private static final RegistryRouter ROUTER = new RegistryRouter();
    private static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().build(),
                b -> b.site(TestGateways.newsSite()).store(STORE).router(ROUTER));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @BeforeEach
    void noConnectionsLeft() throws Exception {
        await(() -> gateway.connectionCount("news") == 0, "no connection left from an earlier test");
    }

    @AfterEach
    void routerBack() {
        ROUTER.registryDown = false;
        ROUTER.commandsDown = false;
    }

    // ---- join / leave of group rooms --------------------------------------------------------

    @Test
    void afterJoiningAGroupRoomItsSendsArriveAndAfterLeavingTheyNoLongerDo() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_g1", "news")) {
            String id = alice.awaitConnected();
            sendTo("news", "before", "grp_g1");
            assertThat(alice.poll(QUIET)).as("not a member yet").isNull();

            long accepted = gateway.stats().get("commands.accepted");
            done(gateway.pushTemplate().join("news", id, Set.of("grp_g1", "grp_g1b")));
            assertThat(gateway.stats().get("commands.accepted")).isEqualTo(accepted + 1);
            sendTo("news", "joined", "grp_g1");
            TestClient.Received got = alice.next();
            assertThat(got.args()).containsExactly("joined");
            assertThat(got.hasAck()).as("a group room keeps nothing").isFalse();
            sendTo("news", "other", "grp_g1b");
            assertThat(alice.next().args()).containsExactly("other");

            // joining a room it already has changes nothing: one copy
            done(gateway.pushTemplate().join("news", id, Set.of("grp_g1")));
            sendTo("news", "once", "grp_g1");
            assertThat(alice.next().args()).containsExactly("once");
            assertThat(alice.poll(QUIET)).isNull();

            done(gateway.pushTemplate().leave("news", id, Set.of("grp_g1")));
            sendTo("news", "left", "grp_g1");
            assertThat(alice.poll(QUIET)).as("left the room").isNull();
            sendTo("news", "still", "grp_g1b");
            assertThat(alice.next().args()).as("the other room is kept").containsExactly("still");

            // leaving a room it is not in changes nothing either
            done(gateway.pushTemplate().leave("news", id, Set.of("grp_never")));
            sendTo("news", "mine", "user_g1");
            assertThat(alice.next().args()).containsExactly("mine");
        }
    }

    @Test
    void leavingARoomTheAuthorizerGaveWorksToo() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:grp_l1,grp_l2", "news")) {
            String id = alice.awaitConnected();
            done(gateway.pushTemplate().leave("news", id, Set.of("grp_l1")));
            sendTo("news", "gone", "grp_l1");
            assertThat(alice.poll(QUIET)).isNull();
            sendTo("news", "kept", "grp_l2");
            assertThat(alice.next().args()).containsExactly("kept");
        }
    }

    // ---- user rooms --------------------------------------------------------------------------

    @Test
    void joiningAUserRoomSendsItsPendingBatchAndThenLiveMessagesWithAcks() throws Exception {
        UserQueue queue = new UserQueue("news", "user_j1");
        sendTo("news", "first", "user_j1");
        sendTo("news", "second", "user_j1");
        assertThat(STORE.delegate.depth(queue)).isEqualTo(2);
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:grp_j1", "news")) {
            String id = alice.awaitConnected();
            assertThat(alice.poll(QUIET)).as("no user room yet, no batch").isNull();

            done(gateway.pushTemplate().join("news", id, Set.of("user_j1")));
            TestClient.Received batch = alice.next();
            assertThat(batch.event()).isEqualTo("batch");
            JSONArray events = (JSONArray) batch.args().get(0);
            assertThat(events.length()).isEqualTo(2);
            assertThat(events.getJSONArray(0).getString(0)).isEqualTo("news");
            assertThat(events.getJSONArray(0).getString(1)).isEqualTo("first");
            assertThat(events.getJSONArray(1).getString(1)).isEqualTo("second");
            assertThat(batch.hasAck()).isTrue();
            assertThat(STORE.opened(queue)).isEqualTo(1);

            batch.ackNow();
            awaitDepth(queue, 0);

            sendTo("news", "live", "user_j1");
            TestClient.Received live = alice.next();
            assertThat(live.args()).containsExactly("live");
            assertThat(live.hasAck()).as("a joined user room's messages come with an ack").isTrue();
            assertThat(STORE.delegate.depth(queue)).isEqualTo(1);
            live.ackNow();
            awaitDepth(queue, 0);

            // joining it again opens nothing and sends no second batch
            sendTo("news", "pending", "user_j1");
            TestClient.Received pending = alice.next();
            done(gateway.pushTemplate().join("news", id, Set.of("user_j1")));
            assertThat(alice.poll(QUIET)).isNull();
            assertThat(STORE.opened(queue)).isEqualTo(1);

            done(gateway.pushTemplate().leave("news", id, Set.of("user_j1")));
            await(() -> STORE.closed(queue) == 1, "the left queue is closed");
            // an ack of a message received before the leave still removes it
            pending.ackNow();
            awaitDepth(queue, 0);
            sendTo("news", "after leave", "user_j1");
            assertThat(alice.poll(QUIET)).as("left the user room").isNull();
            assertThat(STORE.delegate.depth(queue)).as("queued for the user's next connection").isEqualTo(1);
        }
        awaitConnections(0);
        Thread.sleep(200);
        assertThat(STORE.closed(queue)).as("the close of the socket does not close the left queue again").isEqualTo(1);
        assertThat(STORE.opened(queue)).isEqualTo(1);
    }

    @Test
    void aJoinedUserQueueIsClosedOnceWhenTheSocketCloses() throws Exception {
        UserQueue joined = new UserQueue("news", "user_j2");
        UserQueue initial = new UserQueue("news", "user_j2a");
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_j2a", "news")) {
            String id = alice.awaitConnected();
            done(gateway.pushTemplate().join("news", id, Set.of("user_j2")));
            sendTo("news", "live", "user_j2");
            // the queue is read on the workers: the message is either live or, if it was queued
            // before the read, in the room's batch; it is never both
            TestClient.Received live = alice.next();
            if (live.event().equals("batch")) {
                JSONArray events = (JSONArray) live.args().get(0);
                assertThat(events.length()).isEqualTo(1);
                assertThat(events.getJSONArray(0).getString(1)).isEqualTo("live");
            } else {
                assertThat(live.event()).isEqualTo("news");
                assertThat(live.args()).containsExactly("live");
            }
            assertThat(live.hasAck()).isTrue();
            assertThat(alice.poll(QUIET)).isNull();
            assertThat(STORE.opened(joined)).isEqualTo(1);
            assertThat(STORE.closed(joined)).isZero();
        }
        awaitConnections(0);
        await(() -> STORE.closed(joined) == 1 && STORE.closed(initial) == 1, "both queues closed");
        Thread.sleep(200);
        assertThat(STORE.closed(joined)).isEqualTo(1);
        assertThat(STORE.closed(initial)).isEqualTo(1);
        assertThat(STORE.delegate.depth(joined)).as("unacked, kept for the user").isEqualTo(1);
    }

    @Test
    void messagesSentWhileAUserRoomIsJoinedArriveExactlyOnce() throws Exception {
        int total = 200;
        UserQueue queue = new UserQueue("news", "user_race");
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:grp_race", "m")) {
            String id = alice.awaitConnected();
            CompletableFuture<Void> joinedMidway = new CompletableFuture<>();
            Thread sender = new Thread(() -> {
                try {
                    for (int i = 0; i < total; i++) {
                        gateway.pushTemplate().site("news").to("user_race").event("m").args(i).send()
                                .toCompletableFuture().get(5, TimeUnit.SECONDS);
                        if (i == total / 4) {
                            gateway.pushTemplate().join("news", id, Set.of("user_race"));
                            joinedMidway.complete(null);
                        }
                    }
                } catch (Exception e) {
                    joinedMidway.completeExceptionally(e);
                    throw new IllegalStateException(e);
                }
            });
            sender.start();
            sender.join(TimeUnit.SECONDS.toMillis(30));
            joinedMidway.get(1, TimeUnit.SECONDS);

            Map<Integer, Integer> seen = new HashMap<>();
            List<TestClient.Received> toAck = new ArrayList<>();
            int batches = 0;
            TestClient.Received r;
            while ((r = alice.poll(Duration.ofSeconds(1))) != null) {
                if (r.event().equals("batch")) {
                    batches++;
                    JSONArray events = (JSONArray) r.args().get(0);
                    assertThat(events.length()).as("the messages queued before the join").isGreaterThan(total / 4);
                    for (int i = 0; i < events.length(); i++) {
                        seen.merge(events.getJSONArray(i).getInt(1), 1, Integer::sum);
                    }
                } else {
                    assertThat(r.event()).isEqualTo("m");
                    assertThat(r.hasAck()).isTrue();
                    seen.merge((Integer) r.args().get(0), 1, Integer::sum);
                }
                toAck.add(r);
            }
            assertThat(batches).isEqualTo(1);
            assertThat(seen.keySet()).as("every message arrives").hasSize(total);
            assertThat(seen.entrySet()).as("and only once").allSatisfy(e -> assertThat(e.getValue()).isEqualTo(1));
            toAck.forEach(TestClient.Received::ackNow);
            awaitDepth(queue, 0);
        }
    }

    // ---- disconnect --------------------------------------------------------------------------

    @Test
    void disconnectIsAServerDisconnectAndKeepsTheUsersQueue() throws Exception {
        UserQueue queue = new UserQueue("news", "user_d1");
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_d1,grp_d1", "news")) {
            String id = alice.awaitConnected();
            await(() -> ROUTER.connected(id) == 1, "registered with the router");
            sendTo("news", "unacked", "user_d1");
            assertThat(alice.next().hasAck()).isTrue();
            assertThat(gateway.connectionCount("news")).isEqualTo(1);

            done(gateway.pushTemplate().disconnect("news", id));
            assertThat(alice.disconnected.get(10, TimeUnit.SECONDS)).isEqualTo("io server disconnect");
            awaitConnections(0);
            await(() -> gateway.sessionCount() == 0, "the session, whose last site this was, is closed");
            await(() -> STORE.closed(queue) == 1, "the queue's connection is closed");
            await(() -> ROUTER.disconnected(id) == 1, "the router is told");
            assertThat(STORE.delegate.depth(queue)).as("kept for the user").isEqualTo(1);
            sendTo("news", "gone", "grp_d1");
            assertThat(alice.poll(QUIET)).isNull();

            // a second disconnect of the same socket finds nothing
            long unknown = gateway.stats().get("commands.unknown_socket");
            done(gateway.pushTemplate().disconnect("news", id));
            assertThat(gateway.stats().get("commands.unknown_socket")).isEqualTo(unknown + 1);
        }
        Thread.sleep(200);
        assertThat(STORE.closed(queue)).isEqualTo(1);
        assertThat(STORE.opened(queue)).isEqualTo(1);
        try (TestClient again = TestClient.connect(gateway.port(), "/news", "rooms:user_d1", "news")) {
            again.awaitConnected();
            TestClient.Received batch = again.next();
            assertThat(batch.event()).isEqualTo("batch");
            assertThat(((JSONArray) batch.args().get(0)).getJSONArray(0).getString(1)).isEqualTo("unacked");
            batch.ackNow();
            awaitDepth(queue, 0);
        }
    }

    @Test
    void disconnectOverLongPollingToo() throws Exception {
        try (TestClient alice = TestClient.connectPolling(gateway.port(), "/news", "rooms:user_d2", "news")) {
            String id = alice.awaitConnected();
            done(gateway.pushTemplate().disconnect("news", id));
            assertThat(alice.disconnected.get(10, TimeUnit.SECONDS)).isEqualTo("io server disconnect");
            awaitConnections(0);
            await(() -> gateway.sessionCount() == 0, "the session is closed");
            await(() -> STORE.closed(new UserQueue("news", "user_d2")) == 1, "the queue's connection is closed");
        }
    }

    @Test
    void disconnectOfOneSocketLeavesTheOthersOfTheUser() throws Exception {
        try (TestClient phone = TestClient.connect(gateway.port(), "/news", "rooms:user_d3", "news");
                TestClient laptop = TestClient.connect(gateway.port(), "/news", "rooms:user_d3", "news")) {
            String phoneId = phone.awaitConnected();
            laptop.awaitConnected();
            done(gateway.pushTemplate().disconnect("news", phoneId));
            assertThat(phone.disconnected.get(10, TimeUnit.SECONDS)).isEqualTo("io server disconnect");
            awaitConnections(1);
            sendTo("news", "to laptop", "user_d3");
            TestClient.Received got = laptop.next();
            assertThat(got.args()).containsExactly("to laptop");
            got.ackNow();
            awaitDepth(new UserQueue("news", "user_d3"), 0);
            assertThat(laptop.disconnected).isNotDone();
        }
    }

    // ---- validation ----------------------------------------------------------------------------

    @Test
    void badCommandsAreRefusedAndChangeNothing() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_v1", "news")) {
            String id = alice.awaitConnected();
            long accepted = gateway.stats().get("commands.accepted");
            long executed = gateway.stats().get("commands.executed");
            long invalid = gateway.stats().get("commands.refused.invalid");
            long unknownSite = gateway.stats().get("commands.refused.unknown_site");
            int tooLong = gateway.options().maxRoomNameLength() + 1;
            Set<String> tooMany = new LinkedHashSet<>();
            for (int i = 0; i <= gateway.options().maxRoomsPerSend(); i++) {
                tooMany.add("grp_v" + i);
            }
            Set<String> withNull = new HashSet<>(Arrays.asList("grp_v1", null));

            var template = gateway.pushTemplate();
            assertRefused(template.join("nosuchsite", id, Set.of("grp_v1")), PushRefusedException.Reason.UNKNOWN_SITE,
                    "site 'nosuchsite' is not configured");
            assertRefused(template.leave("nosuchsite", id, Set.of("grp_v1")), PushRefusedException.Reason.UNKNOWN_SITE);
            assertRefused(template.disconnect("nosuchsite", id), PushRefusedException.Reason.UNKNOWN_SITE);
            assertRefused(template.disconnect(null, id), PushRefusedException.Reason.UNKNOWN_SITE, "site is required");

            assertRefused(template.join("news", "", Set.of("grp_v1")), PushRefusedException.Reason.INVALID,
                    "socket id must not be empty");
            assertRefused(template.join("news", null, Set.of("grp_v1")), PushRefusedException.Reason.INVALID,
                    "socket id is required");
            assertRefused(template.disconnect("news", ""), PushRefusedException.Reason.INVALID,
                    "socket id must not be empty");
            assertRefused(template.join("news", id, Set.of()), PushRefusedException.Reason.INVALID,
                    "rooms must not be empty");
            assertRefused(template.leave("news", id, Set.of()), PushRefusedException.Reason.INVALID,
                    "rooms must not be empty");
            assertRefused(template.join("news", id, null), PushRefusedException.Reason.INVALID,
                    "rooms must not be empty");
            assertRefused(template.join("news", id, Set.of("")), PushRefusedException.Reason.INVALID,
                    "rooms must not contain empty names");
            assertRefused(template.join("news", id, withNull), PushRefusedException.Reason.INVALID,
                    "rooms must not contain empty names");
            assertRefused(template.join("news", id, Set.of("grp\nv1")), PushRefusedException.Reason.INVALID,
                    "room names must not contain control characters");
            assertRefused(template.leave("news", id, Set.of("user_v1\u0000")), PushRefusedException.Reason.INVALID,
                    "room names must not contain control characters");
            assertRefused(template.join("news", id, Set.of("g".repeat(tooLong))), PushRefusedException.Reason.INVALID,
                    "room 'gggggggggggggggggggg...' is longer than " + (tooLong - 1) + " characters");
            assertRefused(template.join("news", id, tooMany), PushRefusedException.Reason.INVALID,
                    "rooms has " + tooMany.size() + " entries, more than the limit of "
                            + gateway.options().maxRoomsPerSend());
            // every problem of one request is listed
            PushRefusedException all = refusal(template.join("news", "", Set.of("", "grp\tv", "fine")));
            assertThat(all.problems()).containsExactlyInAnyOrder("socket id must not be empty",
                    "rooms must not contain empty names", "room names must not contain control characters");

            assertThat(gateway.stats().get("commands.refused.unknown_site")).isEqualTo(unknownSite + 4);
            assertThat(gateway.stats().get("commands.refused.invalid")).isEqualTo(invalid + 13);
            assertThat(gateway.stats().get("commands.accepted")).isEqualTo(accepted);
            assertThat(gateway.stats().get("commands.executed")).isEqualTo(executed);

            // nothing changed: still connected, in its rooms only
            assertThat(alice.disconnected).isNotDone();
            assertThat(gateway.connectionCount("news")).isEqualTo(1);
            sendTo("news", "not joined", "grp_v1");
            assertThat(alice.poll(QUIET)).isNull();
            sendTo("news", "still here", "user_v1");
            TestClient.Received got = alice.next();
            assertThat(got.args()).containsExactly("still here");
            assertThat(got.hasAck()).isTrue();
            got.ackNow();
        }
    }

    @Test
    void aCommandForAnUnknownSocketCompletesAndIsCounted() throws Exception {
        long unknown = gateway.stats().get("commands.unknown_socket");
        long accepted = gateway.stats().get("commands.accepted");
        done(gateway.pushTemplate().join("news", "no-such-socket", Set.of("user_nobody", "grp_nobody")));
        done(gateway.pushTemplate().leave("news", "no-such-socket", Set.of("grp_nobody")));
        done(gateway.pushTemplate().disconnect("news", "no-such-socket"));
        assertThat(gateway.stats().get("commands.unknown_socket")).isEqualTo(unknown + 3);
        assertThat(gateway.stats().get("commands.accepted")).isEqualTo(accepted + 3);
        assertThat(STORE.opened(new UserQueue("news", "user_nobody"))).isZero();
    }

    @Test
    void aRouterThatCannotTakeTheCommandFailsItWithUnavailable() throws Exception {
        try (TestClient alice = TestClient.connect(gateway.port(), "/news", "rooms:user_f1", "news")) {
            String id = alice.awaitConnected();
            long failed = gateway.stats().get("commands.failed");
            ROUTER.commandsDown = true;
            for (CompletionStage<Void> stage : List.of(gateway.pushTemplate().join("news", id, Set.of("grp_f1")),
                    gateway.pushTemplate().leave("news", id, Set.of("user_f1")),
                    gateway.pushTemplate().disconnect("news", id))) {
                ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> stage.toCompletableFuture().get(5, TimeUnit.SECONDS));
                assertThat(failure.getCause()).isInstanceOf(PushUnavailableException.class)
                        .hasMessage("router is unavailable: bus is down (injected by the test)");
            }
            assertThat(gateway.stats().get("commands.failed")).isEqualTo(failed + 3);
            assertThat(alice.disconnected).isNotDone();
        }
    }

    // ---- the router's registry -----------------------------------------------------------------

    @Test
    void connectIsRefusedWhileTheRouterCannotRecordTheSocketAndNothingLeaks() throws Exception {
        UserQueue queue = new UserQueue("news", "user_r1");
        sendTo("news", "kept", "user_r1");
        long refused = gateway.stats().get("refused.cluster_unavailable");
        // the sockets of earlier tests are unregistered asynchronously: let that settle first
        await(() -> ROUTER.connected.keySet().stream().allMatch(socket -> ROUTER.disconnected(socket) >= ROUTER.connected(socket)),
                "earlier tests' sockets unregistered");
        int unregistered = ROUTER.disconnected.values().stream().mapToInt(AtomicInteger::get).sum();
        ROUTER.registryDown = true;
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_r1,grp_r1", "news")) {
            JSONObject error = client.awaitConnectError();
            assertThat(error.getString("code")).isEqualTo("cluster_unavailable");
            assertThat(error.getString("message")).isEqualTo("Cluster registry is unavailable, retry later");
            assertThat(client.connected).isNotDone();
        }
        assertThat(gateway.stats().get("refused.cluster_unavailable")).isEqualTo(refused + 1);
        assertThat(gateway.connectionCount("news")).isZero();
        await(() -> gateway.sessionCount() == 0, "no session left");
        await(() -> STORE.closed(queue) == STORE.opened(queue), "the queue opened for the refused socket is closed");
        assertThat(ROUTER.disconnected.values().stream().mapToInt(AtomicInteger::get).sum())
                .as("nothing to undo in the router").isEqualTo(unregistered);
        sendTo("news", "nobody", "grp_r1");
        assertThat(STORE.delegate.depth(queue)).as("nothing was taken from the queue").isEqualTo(1);

        ROUTER.registryDown = false;
        String id;
        try (TestClient client = TestClient.connect(gateway.port(), "/news", "rooms:user_r1", "news")) {
            id = client.awaitConnected();
            TestClient.Received batch = client.next();
            assertThat(batch.event()).isEqualTo("batch");
            batch.ackNow();
            awaitDepth(queue, 0);
            assertThat(ROUTER.connected(id)).isEqualTo(1);
        }
        await(() -> ROUTER.disconnected(id) == 1, "a socket the router recorded is unregistered once");
        Thread.sleep(200);
        assertThat(ROUTER.disconnected(id)).isEqualTo(1);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static void sendTo(String site, String arg, String... rooms) throws Exception {
        gateway.pushTemplate().site(site).to(rooms).event("news").args(arg).send().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    private static void done(CompletionStage<Void> stage) throws Exception {
        stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private static PushRefusedException refusal(CompletionStage<Void> stage) {
        ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> stage.toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertThat(failure.getCause()).isInstanceOf(PushRefusedException.class);
        return (PushRefusedException) failure.getCause();
    }

    private static void assertRefused(CompletionStage<Void> stage, PushRefusedException.Reason reason,
            String... problems) {
        PushRefusedException refused = refusal(stage);
        assertThat(refused.reason()).isEqualTo(reason);
        if (problems.length > 0) {
            assertThat(refused.problems()).containsExactly(problems);
        }
    }

    private static void awaitDepth(UserQueue queue, int depth) throws InterruptedException {
        await(() -> STORE.delegate.depth(queue) == depth, queue + " holds " + depth);
    }

    private static void awaitConnections(int n) throws InterruptedException {
        await(() -> gateway.connectionCount("news") == n, n + " connections");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(condition.getAsBoolean()).as(what).isTrue();
    }
}
