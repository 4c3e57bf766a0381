package io.pushbridge;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore.AckOutcome;
import io.pushbridge.MessageStore.AppendOutcome;
import io.pushbridge.MessageStore.Pending;
import io.pushbridge.MessageStore.QueueSnapshot;
import io.pushbridge.MessageStore.ResyncCause;
import io.pushbridge.MessageStore.SiteQueues;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link MessageStore}: every implementation has a test class that extends this one
 * and says how to make a store. Shipped in the core test-jar.
 *
 * <p>Each test uses queues of its own (a random site name per test instance), so a store that keeps
 * state outside the JVM (Redis) needs no cleanup between tests. Every stage is awaited with a
 * timeout, so asynchronous stores run the same tests.
 */
public abstract class MessageStoreContractTests {

    /** The bound of the store most tests use. */
    protected static final int MAX_PENDING = 100;

    /** The ttl of the store most tests use. */
    protected static final Duration TTL = Duration.ofSeconds(60);

    /** The resync memory of the store most tests use. */
    protected static final Duration RESYNC_MEMORY = Duration.ofHours(1);

    private static final Duration SECOND = Duration.ofSeconds(1);

    private final String site = "/contract-" + UUID.randomUUID();

    protected MutableClock clock;

    protected MessageStore store;

    /**
     * A store with these settings that reads time from {@code clock}.
     *
     * @param maxPendingPerUser the bound of each queue
     * @param clientTtl the ttl after the last connection closed; zero keeps queues forever
     * @param resyncMemory how long after its deadline a queue that expired holding messages is
     *     remembered (its user's next take answers a resync); zero remembers none
     * @param clock the store's time source
     */
    protected abstract MessageStore createStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory,
            MutableClock clock);

    /** A store with these settings and {@link #RESYNC_MEMORY}. */
    protected MessageStore createStore(int maxPendingPerUser, Duration clientTtl, MutableClock clock) {
        return createStore(maxPendingPerUser, clientTtl, RESYNC_MEMORY, clock);
    }

    /**
     * Moves time forward by {@code d} as the store sees it. A store whose expiry does not follow the
     * clock alone (Redis key expiry) overrides this to also wait for it.
     */
    protected void advance(MutableClock clock, Duration d) {
        clock.advance(d);
    }

    @BeforeEach
    void createDefaultStore() {
        clock = new MutableClock();
        store = createStore(MAX_PENDING, TTL, clock);
    }

    // ---------------------------------------------------------------- order, take, ack

    @Test
    void appendKeepsOrder() throws Exception {
        UserQueue q = queue("alice");
        for (long id = 1; id <= 5; id++) {
            assertThat(await(store.append(q, message(id, "news")))).isEqualTo(AppendOutcome.APPENDED);
        }
        assertThat(await(store.append(q, message(6, "chat")))).isEqualTo(AppendOutcome.APPENDED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    }

    @Test
    void appendKeepsArrivalOrderNotIdOrder() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(30, "news")));
        await(store.append(q, message(10, "news")));
        await(store.append(q, message(20, "news")));

        assertThat(ids(await(store.takePending(q)))).containsExactly(30L, 10L, 20L);
    }

    @Test
    void takePendingOfUnknownQueueIsEmpty() throws Exception {
        Pending pending = await(store.takePending(queue("nobody")));

        assertThat(pending.messages()).isEmpty();
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void takePendingLeavesMessagesInTheQueue() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));

        await(store.takePending(q));

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 2L);
    }

    @Test
    void takePendingAnswersTheMessagesAsAppended() throws Exception {
        UserQueue q = queue("alice");
        QueuedMessage first = new QueuedMessage(1, "news", List.of("a", 1), false, 1_700_000_000_000L);
        QueuedMessage second = new QueuedMessage(2, "price", List.of(), true, 1_700_000_000_001L);
        await(store.append(q, first));
        await(store.append(q, second));

        assertThat(await(store.takePending(q)).messages()).containsExactly(first, second);
    }

    @Test
    void ackRemovesOnlyThatMessage() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.append(q, message(3, "news")));

        assertThat(await(store.ack(q, 2))).isEqualTo(AckOutcome.REMOVED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 3L);
    }

    @Test
    void ackOfUnknownIdIsNotFoundAndChangesNothing() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, resyncMessage(2, "price")));

        assertThat(await(store.ack(q, 99))).isEqualTo(AckOutcome.NOT_FOUND);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 2L);
    }

    @Test
    void ackOnUnknownQueueIsNotFound() throws Exception {
        assertThat(await(store.ack(queue("nobody"), 1))).isEqualTo(AckOutcome.NOT_FOUND);
    }

    @Test
    void secondAckOfTheSameMessageIsNotFound() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));

        assertThat(await(store.ack(q, 1))).isEqualTo(AckOutcome.REMOVED);
        assertThat(await(store.ack(q, 1))).isEqualTo(AckOutcome.NOT_FOUND);

        assertThat(ids(await(store.takePending(q)))).containsExactly(2L);
    }

    // ---------------------------------------------------------------- resync check

    @Test
    void resyncAckPassesWhenMessageIsFirstOfItsEvent() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "chat")));
        await(store.append(q, resyncMessage(2, "news")));
        await(store.append(q, message(3, "chat")));
        await(store.append(q, resyncMessage(4, "news")));

        // messages of other events before it, and of its own event after it, do not matter
        assertThat(await(store.ack(q, 2))).isEqualTo(AckOutcome.REMOVED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 3L, 4L);
    }

    @Test
    void resyncAckOfTheNextMessageOfItsEventPassesOnceTheEarlierOneIsAcked() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, resyncMessage(1, "news")));
        await(store.append(q, resyncMessage(2, "news")));

        assertThat(await(store.ack(q, 1))).isEqualTo(AckOutcome.REMOVED);
        assertThat(await(store.ack(q, 2))).isEqualTo(AckOutcome.REMOVED);

        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void resyncAckFailsWhenAnEarlierMessageOfItsEventIsPendingAndClearsTheQueue() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "chat")));
        await(store.append(q, resyncMessage(3, "news")));
        await(store.append(q, message(4, "chat")));

        assertThat(await(store.ack(q, 3))).isEqualTo(AckOutcome.RESYNC);

        assertThat(await(store.takePending(q)).messages()).isEmpty();
        assertThat(await(store.ack(q, 4))).isEqualTo(AckOutcome.NOT_FOUND);
    }

    @Test
    void nonResyncMessageAckedOutOfOrderIsJustRemoved() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.append(q, message(3, "news")));

        assertThat(await(store.ack(q, 3))).isEqualTo(AckOutcome.REMOVED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 2L);
    }

    // ---------------------------------------------------------------- remove, clear

    @Test
    void removeRemovesExactlyThoseAndReportsCount() throws Exception {
        UserQueue q = queue("alice");
        for (long id = 1; id <= 5; id++) {
            await(store.append(q, message(id, "news")));
        }

        int removed = await(store.remove(q, List.of(2L, 4L, 99L)));

        assertThat(removed).isEqualTo(2);
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 3L, 5L);
    }

    @Test
    void removeIgnoresTheResyncCheck() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, resyncMessage(1, "news")));
        await(store.append(q, resyncMessage(2, "news")));

        assertThat(await(store.remove(q, List.of(2L)))).isEqualTo(1);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
    }

    @Test
    void removeOfNothingOrFromUnknownQueueReportsZero() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));

        assertThat(await(store.remove(q, List.of()))).isZero();
        assertThat(await(store.remove(queue("nobody"), List.of(1L)))).isZero();
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
    }

    @Test
    void clearDropsEveryMessageAndTheResyncMark() throws Exception {
        store = createStore(2, TTL, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.append(q, message(3, "news"))); // overflows: marks the queue

        await(store.clear(q));

        Pending pending = await(store.takePending(q));
        assertThat(pending.messages()).isEmpty();
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void purgeDropsEveryMessageAndTheResyncMarkAndCountsWhatItDropped() throws Exception {
        store = createStore(3, TTL, clock);
        UserQueue q = queue("alice");
        for (int i = 1; i <= 5; i++) {
            await(store.append(q, message(i, "news"))); // the 4th overflows: the queue then holds 4 and 5
        }

        assertThat(await(store.purge(q))).isEqualTo(2);

        Pending pending = await(store.takePending(q));
        assertThat(pending.messages()).isEmpty();
        assertThat(pending.resyncRequired()).isFalse();
        assertThat(await(store.purge(q))).isZero();
        assertThat(await(store.purge(queue("nobody")))).isZero();
    }

    @Test
    void purgeOfAnExpiredQueueCountsNothing() throws Exception {
        UserQueue q = queue("gone");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.purge(q))).isZero();
    }

    @Test
    void clearOfUnknownQueueDoesNothing() throws Exception {
        await(store.clear(queue("nobody")));

        assertThat(await(store.takePending(queue("nobody"))).messages()).isEmpty();
    }

    @Test
    void queueTakesMessagesAgainAfterClear() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.clear(q));

        await(store.append(q, message(2, "news")));

        assertThat(ids(await(store.takePending(q)))).containsExactly(2L);
    }

    // ---------------------------------------------------------------- bound

    @Test
    void appendUpToTheBoundKeepsEveryMessage() throws Exception {
        store = createStore(3, TTL, clock);
        UserQueue q = queue("alice");
        for (long id = 1; id <= 3; id++) {
            assertThat(await(store.append(q, message(id, "news")))).isEqualTo(AppendOutcome.APPENDED);
        }

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(1L, 2L, 3L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void overflowClearsTheQueueKeepsTheNewMessageAndMarksResyncOnce() throws Exception {
        store = createStore(3, TTL, clock);
        UserQueue q = queue("alice");
        for (long id = 1; id <= 3; id++) {
            await(store.append(q, message(id, "news")));
        }

        assertThat(await(store.append(q, message(4, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);

        Pending first = await(store.takePending(q));
        assertThat(first.resyncCause()).isEqualTo(ResyncCause.OVERFLOW);
        assertThat(ids(first)).containsExactly(4L);
        assertThat(first.resyncRequired()).isTrue();
        Pending second = await(store.takePending(q));
        assertThat(ids(second)).containsExactly(4L);
        assertThat(second.resyncRequired()).isFalse();
    }

    @Test
    void queueFillsAgainAfterOverflow() throws Exception {
        store = createStore(2, TTL, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        assertThat(await(store.append(q, message(3, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);

        assertThat(await(store.append(q, message(4, "news")))).isEqualTo(AppendOutcome.APPENDED);
        assertThat(await(store.append(q, message(5, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(5L);
    }

    @Test
    void overflowOfABoundOfOneKeepsTheNewest() throws Exception {
        store = createStore(1, TTL, clock);
        UserQueue q = queue("alice");

        assertThat(await(store.append(q, message(1, "news")))).isEqualTo(AppendOutcome.APPENDED);
        assertThat(await(store.append(q, message(2, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(2L);
    }

    @Test
    void ackAfterOverflowFreesRoom() throws Exception {
        store = createStore(2, TTL, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.ack(q, 1));

        assertThat(await(store.append(q, message(3, "news")))).isEqualTo(AppendOutcome.APPENDED);

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(2L, 3L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    // ---------------------------------------------------------------- isolation

    @Test
    void queuesOfDifferentUsersAreIndependent() throws Exception {
        UserQueue alice = queue("alice");
        UserQueue bob = queue("bob");
        await(store.append(alice, message(1, "news")));
        await(store.append(bob, message(2, "news")));
        await(store.append(alice, message(3, "news")));

        assertThat(await(store.ack(bob, 1))).isEqualTo(AckOutcome.NOT_FOUND);
        assertThat(await(store.remove(bob, List.of(3L)))).isZero();
        await(store.clear(bob));

        assertThat(ids(await(store.takePending(alice)))).containsExactly(1L, 3L);
        assertThat(await(store.takePending(bob)).messages()).isEmpty();
    }

    @Test
    void queuesOfTheSameRoomOnDifferentSitesAreIndependent() throws Exception {
        UserQueue onA = new UserQueue(site + "-a", "user:alice");
        UserQueue onB = new UserQueue(site + "-b", "user:alice");
        await(store.append(onA, message(1, "news")));
        await(store.append(onB, message(2, "news")));

        await(store.ack(onB, 2));

        assertThat(ids(await(store.takePending(onA)))).containsExactly(1L);
        assertThat(await(store.takePending(onB)).messages()).isEmpty();
    }

    @Test
    void overflowOfOneQueueLeavesOthersAlone() throws Exception {
        store = createStore(1, TTL, clock);
        UserQueue alice = queue("alice");
        UserQueue bob = queue("bob");
        await(store.append(alice, message(1, "news")));
        await(store.append(bob, message(2, "news")));

        await(store.append(alice, message(3, "news")));

        Pending bobs = await(store.takePending(bob));
        assertThat(ids(bobs)).containsExactly(2L);
        assertThat(bobs.resyncRequired()).isFalse();
    }

    // ---------------------------------------------------------------- ttl

    // A connected user's queue is the common case, which a store may take a shorter way for: the
    // same outcomes as an offline user's queue.

    @Test
    void aConnectedUsersQueueKeepsOrderAcksAndChecksResyncAsAnOfflineOne() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(30, "news")));
        await(store.append(q, message(10, "chat")));
        await(store.append(q, resyncMessage(20, "news")));
        await(store.append(q, message(40, "chat")));

        assertThat(ids(await(store.takePending(q)))).containsExactly(30L, 10L, 20L, 40L);
        assertThat(await(store.ack(q, 10))).isEqualTo(AckOutcome.REMOVED);
        assertThat(await(store.ack(q, 10))).isEqualTo(AckOutcome.NOT_FOUND);
        assertThat(await(store.ack(q, 99))).isEqualTo(AckOutcome.NOT_FOUND);
        assertThat(ids(await(store.takePending(q)))).containsExactly(30L, 20L, 40L);
        assertThat(await(store.ack(q, 20))).isEqualTo(AckOutcome.RESYNC);
        assertThat(await(store.takePending(q)).messages()).isEmpty();
        // the queue takes messages again, and lives while its user is connected
        await(store.append(q, message(50, "news")));
        advance(clock, TTL.plus(SECOND));
        assertThat(ids(await(store.takePending(q)))).containsExactly(50L);
    }

    @Test
    void aConnectedUsersQueueOverflowsAsAnOfflineOne() throws Exception {
        store = createStore(3, TTL, clock);
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        for (long id = 1; id <= 3; id++) {
            assertThat(await(store.append(q, message(id, "news")))).isEqualTo(AppendOutcome.APPENDED);
        }

        assertThat(await(store.append(q, message(4, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);
        assertThat(await(store.append(q, message(5, "news")))).isEqualTo(AppendOutcome.APPENDED);

        Pending first = await(store.takePending(q));
        assertThat(first.resyncCause()).isEqualTo(ResyncCause.OVERFLOW);
        assertThat(ids(first)).containsExactly(4L, 5L);
        assertThat(await(store.takePending(q)).resyncRequired()).isFalse();
    }

    @Test
    void anAppendRetriedWithTheSameIdKeepsItsPlaceOnceConnectedOrNot() throws Exception {
        for (boolean connected : new boolean[] {false, true}) {
            UserQueue q = queue(connected ? "online" : "offline");
            if (connected) {
                await(store.connectionOpened(q));
            }
            await(store.append(q, message(1, "news")));
            await(store.append(q, message(2, "news")));
            assertThat(await(store.append(q, message(1, "news")))).isEqualTo(AppendOutcome.APPENDED);

            assertThat(ids(await(store.takePending(q)))).as("connected: " + connected).containsExactly(1L, 2L);
        }
    }

    @Test
    void queueIsKeptWhileAConnectionIsOpen() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));

        advance(clock, TTL.multipliedBy(10));

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
    }

    @Test
    void queueExpiresTtlAfterTheLastConnectionClosesNotBefore() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.multipliedBy(3));
        await(store.connectionClosed(q));

        advance(clock, TTL.minus(SECOND));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        advance(clock, SECOND.multipliedBy(2));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void reconnectBeforeExpiryCancelsIt() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.connectionClosed(q));
        advance(clock, TTL.minus(SECOND));

        await(store.connectionOpened(q));
        advance(clock, TTL.multipliedBy(3));

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
    }

    @Test
    void ttlStartsAfreshWhenTheReconnectedUserLeavesAgain() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.connectionClosed(q));
        advance(clock, TTL.minus(SECOND));
        await(store.connectionOpened(q));
        advance(clock, TTL);

        await(store.connectionClosed(q));
        advance(clock, TTL.minus(SECOND));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        advance(clock, SECOND.multipliedBy(2));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void queueIsKeptWhileAnotherConnectionOfTheUserIsOpen() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));

        await(store.connectionClosed(q));
        advance(clock, TTL.multipliedBy(3));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        await(store.connectionClosed(q));
        advance(clock, TTL.plus(SECOND));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void extraCloseDoesNotCountBelowZero() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.connectionClosed(q));
        await(store.connectionClosed(q)); // a close reported twice

        await(store.connectionOpened(q));
        advance(clock, TTL.multipliedBy(3));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        // one open and one close: the user has no connection and the ttl runs
        await(store.connectionClosed(q));
        advance(clock, TTL.plus(SECOND));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void appendForANeverConnectedUserExpiresAfterTtl() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));

        advance(clock, TTL.minus(SECOND));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        advance(clock, SECOND.multipliedBy(2));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void connectingCancelsTheExpiryStartedByAnAppend() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.minus(SECOND));

        await(store.connectionOpened(q));
        advance(clock, TTL.multipliedBy(3));

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
    }

    @Test
    void expiredQueueBehavesAsAbsent() throws Exception {
        store = createStore(2, TTL, Duration.ZERO, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.append(q, message(3, "news"))); // overflow: resync mark
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.ack(q, 3))).isEqualTo(AckOutcome.NOT_FOUND);
        assertThat(await(store.remove(q, List.of(3L)))).isZero();
        assertThat(await(store.append(q, message(4, "news")))).isEqualTo(AppendOutcome.APPENDED);

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(4L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void ttlZeroKeepsQueuesForever() throws Exception {
        store = createStore(MAX_PENDING, Duration.ZERO, clock);
        UserQueue offline = queue("alice");
        UserQueue left = queue("bob");
        await(store.append(offline, message(1, "news")));
        await(store.connectionOpened(left));
        await(store.append(left, message(2, "news")));
        await(store.connectionClosed(left));

        advance(clock, Duration.ofDays(400));

        assertThat(ids(await(store.takePending(offline)))).containsExactly(1L);
        assertThat(ids(await(store.takePending(left)))).containsExactly(2L);
    }

    @Test
    void connectionsOfOneUserDoNotKeepAnotherUsersQueue() throws Exception {
        UserQueue alice = queue("alice");
        UserQueue bob = queue("bob");
        await(store.connectionOpened(alice));
        await(store.append(bob, message(1, "news")));

        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.takePending(bob)).messages()).isEmpty();
    }

    // ---------------------------------------------------------------- expired queues remembered

    @Test
    void anOfflineUserWhoseQueueExpiredHoldingMessagesIsToldToResyncOnce() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        Pending first = await(store.takePending(q));
        assertThat(first.messages()).isEmpty();
        assertThat(first.resyncCause()).isEqualTo(ResyncCause.EXPIRY);
        assertThat(first.resyncRequired()).isTrue();
        assertThat(await(store.takePending(q))).as("told once").isEqualTo(Pending.NONE);
    }

    @Test
    void aUserWhoLeftAndCameBackAfterTheTtlIsToldToResyncOnConnecting() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.ack(q, 1));
        await(store.connectionClosed(q));
        advance(clock, TTL.plus(SECOND));

        // the gateway's order: the connection opens, then the queue is read
        await(store.connectionOpened(q));
        Pending pending = await(store.takePending(q));
        assertThat(pending.messages()).isEmpty();
        assertThat(pending.resyncCause()).isEqualTo(ResyncCause.EXPIRY);
        assertThat(await(store.takePending(q)).resyncRequired()).isFalse();
        await(store.connectionClosed(q));
    }

    @Test
    void aQueueThatExpiredEmptyAsksNoResync() throws Exception {
        UserQueue acked = queue("alice");
        UserQueue removed = queue("bob");
        UserQueue connectedOnly = queue("carol");
        await(store.connectionOpened(acked));
        await(store.append(acked, message(1, "news")));
        await(store.ack(acked, 1));
        await(store.connectionClosed(acked));
        await(store.append(removed, message(2, "news")));
        await(store.remove(removed, List.of(2L)));
        await(store.connectionOpened(connectedOnly));
        await(store.connectionClosed(connectedOnly));

        advance(clock, TTL.plus(SECOND));

        for (UserQueue q : List.of(acked, removed, connectedOnly)) {
            await(store.connectionOpened(q));
            assertThat(await(store.takePending(q))).as(q.room()).isEqualTo(Pending.NONE);
        }
    }

    @Test
    void aQueueEmptiedByAnAckAfterItsUserCameBackAsksNoResyncWhenItExpires() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.minus(SECOND));
        await(store.connectionOpened(q));
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);
        await(store.remove(q, List.of(1L)));
        await(store.connectionClosed(q));

        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.takePending(q))).isEqualTo(Pending.NONE);
    }

    @Test
    void aUserWhoReturnsBeforeTheDeadlineGetsTheMessagesAndNoResync() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.connectionClosed(q));
        advance(clock, TTL.minus(SECOND));

        await(store.connectionOpened(q));
        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(1L);
        assertThat(pending.resyncRequired()).isFalse();

        // long after the first deadline, still connected: nothing was lost
        advance(clock, TTL.multipliedBy(3));
        pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(1L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void aLossIsRememberedUntilResyncMemoryAfterTheDeadlineThenForgotten() throws Exception {
        UserQueue early = queue("alice");
        UserQueue late = queue("bob");
        await(store.append(early, message(1, "news")));
        await(store.append(late, message(2, "news")));

        advance(clock, TTL.plus(RESYNC_MEMORY).minus(SECOND));
        assertThat(await(store.takePending(early)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);

        advance(clock, SECOND.multipliedBy(2));
        assertThat(await(store.takePending(late))).as("forgotten").isEqualTo(Pending.NONE);
        assertThat(await(store.inspect(late))).isEqualTo(QueueSnapshot.EMPTY);
    }

    @Test
    void aResyncMemoryOfZeroRemembersNoExpiredQueue() throws Exception {
        store = createStore(MAX_PENDING, TTL, Duration.ZERO, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.inspect(q))).isEqualTo(QueueSnapshot.EMPTY);
        await(store.connectionOpened(q));
        assertThat(await(store.takePending(q))).isEqualTo(Pending.NONE);
    }

    @Test
    void aMessageQueuedAfterTheExpiryCarriesTheLossIntoTheNewQueue() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        await(store.append(q, message(2, "news")));

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(2L);
        assertThat(pending.resyncCause()).isEqualTo(ResyncCause.EXPIRY);
        pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(2L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    @Test
    void aLossSurvivesTheExpiryOfTheNextQueueToo() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));
        await(store.append(q, message(2, "news")));
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.takePending(q)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);
        assertThat(await(store.takePending(q))).isEqualTo(Pending.NONE);
    }

    @Test
    void anOverflowedQueueThatExpiresIsRememberedAndAnOverflowAfterAnExpiryKeepsTheFirstCause() throws Exception {
        store = createStore(1, TTL, clock);
        UserQueue overflowed = queue("alice");
        await(store.append(overflowed, message(1, "news")));
        assertThat(await(store.append(overflowed, message(2, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);
        advance(clock, TTL.plus(SECOND));
        assertThat(await(store.takePending(overflowed)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);

        UserQueue q = queue("bob");
        await(store.append(q, message(3, "news")));
        advance(clock, TTL.plus(SECOND));
        await(store.append(q, message(4, "news")));
        assertThat(await(store.append(q, message(5, "news")))).isEqualTo(AppendOutcome.OVERFLOWED);
        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(5L);
        assertThat(pending.resyncCause()).as("one resync covers both").isEqualTo(ResyncCause.EXPIRY);
    }

    @Test
    void acksRemovesAndClosesOnAnExpiredQueueLeaveItsLossRemembered() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.connectionClosed(q));
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.ack(q, 1))).isEqualTo(AckOutcome.NOT_FOUND);
        assertThat(await(store.remove(q, List.of(1L)))).isZero();
        await(store.connectionClosed(q)); // a late close of a connection the store no longer counts

        assertThat(await(store.takePending(q)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);
    }

    @Test
    void clearForgetsARememberedLoss() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        await(store.clear(q));

        assertThat(await(store.inspect(q))).isEqualTo(QueueSnapshot.EMPTY);
        assertThat(await(store.takePending(q))).isEqualTo(Pending.NONE);
    }

    @Test
    void inspectShowsARememberedLossAsAResyncMarkWithoutTakingIt() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        QueueSnapshot lost = new QueueSnapshot(0, 0, 0, true);
        assertThat(await(store.inspect(q))).isEqualTo(lost);
        assertThat(await(store.inspect(q))).isEqualTo(lost);
        assertThat(await(store.takePending(q)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);
        assertThat(await(store.inspect(q))).isEqualTo(QueueSnapshot.EMPTY);
    }

    @Test
    void aLossIsRememberedPerQueue() throws Exception {
        UserQueue alice = queue("alice");
        UserQueue bob = queue("bob");
        await(store.append(alice, message(1, "news")));
        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.takePending(bob))).isEqualTo(Pending.NONE);
        assertThat(await(store.takePending(new UserQueue(alice.site() + "-other", alice.room())))).isEqualTo(Pending.NONE);
        assertThat(await(store.takePending(alice)).resyncCause()).isEqualTo(ResyncCause.EXPIRY);
    }

    @Test
    void ttlZeroNeverExpiresSoNothingIsRemembered() throws Exception {
        store = createStore(MAX_PENDING, Duration.ZERO, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plus(RESYNC_MEMORY).multipliedBy(10));

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(1L);
        assertThat(pending.resyncRequired()).isFalse();
    }

    // ---------------------------------------------------------------- inspect

    @Test
    void inspectOfAnUnknownQueueIsEmpty() throws Exception {
        assertThat(await(store.inspect(queue("nobody")))).isEqualTo(QueueSnapshot.EMPTY);
    }

    @Test
    void inspectShowsDepthOldestMessageAndConnections() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "chat")));
        await(store.append(q, message(3, "news")));

        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(3, 1_001, 2, false));

        await(store.ack(q, 1));
        await(store.connectionClosed(q));
        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(2, 1_002, 1, false));
    }

    @Test
    void inspectOfAConnectedUserWithoutMessagesShowsTheConnections() throws Exception {
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));

        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(0, 0, 1, false));
    }

    @Test
    void inspectShowsTheResyncMarkWithoutClearingIt() throws Exception {
        store = createStore(2, TTL, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        await(store.append(q, message(3, "news"))); // overflows: marks the queue

        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(1, 1_003, 0, true));
        assertThat(await(store.inspect(q)).resyncRequired()).isTrue();

        Pending pending = await(store.takePending(q));
        assertThat(ids(pending)).containsExactly(3L);
        assertThat(pending.resyncRequired()).as("the mark is still there for the client").isTrue();
        assertThat(await(store.inspect(q)).resyncRequired()).isFalse();
    }

    @Test
    void inspectChangesNothingAndDoesNotMoveTheTtl() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.minus(SECOND));

        assertThat(await(store.inspect(q)).depth()).isEqualTo(1);
        assertThat(ids(await(store.takePending(q)))).containsExactly(1L);

        advance(clock, SECOND.multipliedBy(2));
        // expired holding a message: only the resync mark its user will get is left
        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(0, 0, 0, true));
        assertThat(await(store.takePending(q)).messages()).isEmpty();
    }

    @Test
    void inspectAfterClearShowsAnEmptyQueueAndItsConnections() throws Exception {
        store = createStore(1, TTL, clock);
        UserQueue q = queue("alice");
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news"))); // overflows: marks the queue

        await(store.clear(q));

        assertThat(await(store.inspect(q))).isEqualTo(new QueueSnapshot(0, 0, 1, false));
    }

    @Test
    void inspectSeesOnlyItsOwnSitesQueue() throws Exception {
        UserQueue onA = new UserQueue(site + "-a", "user:alice");
        await(store.append(onA, message(1, "news")));

        assertThat(await(store.inspect(new UserQueue(site + "-b", "user:alice")))).isEqualTo(QueueSnapshot.EMPTY);
        assertThat(await(store.inspect(new UserQueue(site + "-a", "user:alicex")))).isEqualTo(QueueSnapshot.EMPTY);
        assertThat(await(store.inspect(onA)).depth()).isEqualTo(1);
    }

    // ---------------------------------------------------------------- site totals

    @Test
    void siteQueuesOfASiteWithoutQueuesIsEmpty() throws Exception {
        assertThat(await(store.siteQueues(site))).isEqualTo(SiteQueues.EMPTY);
    }

    @Test
    void siteQueuesTotalsTheQueuesThatHoldMessages() throws Exception {
        UserQueue alice = queue("alice");
        UserQueue bob = queue("bob");
        UserQueue carol = queue("carol");
        await(store.append(alice, message(5, "news")));
        await(store.append(alice, message(6, "news")));
        await(store.append(bob, message(3, "news")));
        await(store.append(bob, message(7, "news")));
        await(store.append(bob, message(8, "news")));
        await(store.connectionOpened(carol)); // a queue without messages does not count

        assertThat(await(store.siteQueues(site))).isEqualTo(new SiteQueues(2, 5, 1_003));

        await(store.remove(bob, List.of(3L, 7L, 8L)));
        assertThat(await(store.siteQueues(site))).isEqualTo(new SiteQueues(1, 2, 1_005));
        await(store.clear(alice));
        assertThat(await(store.siteQueues(site))).isEqualTo(SiteQueues.EMPTY);
    }

    @Test
    void siteQueuesCountsOnlyThatSite() throws Exception {
        // names that share a beginning, or hold characters that are special to glob patterns
        List<String> sites = List.of(site, site + "-b", site + ":x", site + "*", site + "?", site + "[a]", site + "\\");
        for (int i = 0; i < sites.size(); i++) {
            for (int m = 0; m <= i; m++) {
                await(store.append(new UserQueue(sites.get(i), "user:" + m), message(100 * i + m, "news")));
            }
        }

        for (int i = 0; i < sites.size(); i++) {
            assertThat(await(store.siteQueues(sites.get(i)))).as(sites.get(i))
                    .isEqualTo(new SiteQueues(i + 1, i + 1, 1_000 + 100 * i));
        }
        assertThat(await(store.siteQueues(site + "-c"))).isEqualTo(SiteQueues.EMPTY);
    }

    @Test
    void siteQueuesLeavesOutExpiredQueues() throws Exception {
        UserQueue offline = queue("offline");
        UserQueue online = queue("online");
        await(store.append(offline, message(1, "news")));
        await(store.connectionOpened(online));
        await(store.append(online, message(2, "news")));
        assertThat(await(store.siteQueues(site))).isEqualTo(new SiteQueues(2, 2, 1_001));

        advance(clock, TTL.plus(SECOND));

        assertThat(await(store.siteQueues(site))).isEqualTo(new SiteQueues(1, 1, 1_002));
    }

    @Test
    void siteQueuesCountsEveryQueueOfABigSite() throws Exception {
        int users = 1_500;
        List<CompletionStage<AppendOutcome>> appends = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            appends.add(store.append(queue("many-" + u), message(10_000 + u, "news")));
        }
        for (CompletionStage<AppendOutcome> append : appends) {
            await(append);
        }

        assertThat(await(store.siteQueues(site))).isEqualTo(new SiteQueues(users, users, 11_000));
    }

    // ---------------------------------------------------------------- values

    @Test
    void argsOfEveryJsonKindRoundTripEqual() throws Exception {
        UserQueue q = queue("alice");
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("text", "héllo \"world\" \n ☃");
        nested.put("count", 42);
        nested.put("big", 9_007_199_254_740_993L);
        nested.put("ratio", 0.25);
        nested.put("negative", -7);
        nested.put("flag", false);
        nested.put("nothing", null);
        nested.put("list", Arrays.asList(1, "two", null, List.of(true), Map.of("k", "v")));
        nested.put("empty", Map.of());
        List<Object> args = Arrays.asList(
                null, true, false, 0, -1, Integer.MAX_VALUE, Long.MAX_VALUE, 3.5, "", "text",
                List.of(), new ArrayList<>(Arrays.asList("a", null)), nested);
        QueuedMessage sent = new QueuedMessage(1, "event:with:colons", args, true, 1_700_000_000_123L);

        await(store.append(q, sent));

        QueuedMessage received = await(store.takePending(q)).messages().get(0);
        assertThat(received).isEqualTo(sent);
        assertThat(received.args()).containsExactlyElementsOf(args);
    }

    @Test
    void binaryArgsRoundTrip() throws Exception {
        UserQueue q = queue("alice");
        byte[] bytes = {0, 1, 2, (byte) 0xff, (byte) 0x80, 127};
        await(store.append(q, new QueuedMessage(1, "file", Arrays.asList("name.bin", bytes), false, 1L)));

        List<Object> args = await(store.takePending(q)).messages().get(0).args();

        assertThat(args).hasSize(2);
        assertThat(args.get(0)).isEqualTo("name.bin");
        assertThat(args.get(1)).isInstanceOf(byte[].class);
        assertThat((byte[]) args.get(1)).containsExactly(bytes);
    }

    @Test
    void largeAndNegativeIdsRoundTrip() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(Long.MAX_VALUE, "news")));
        await(store.append(q, message(-5, "news")));

        assertThat(ids(await(store.takePending(q)))).containsExactly(Long.MAX_VALUE, -5L);
        assertThat(await(store.ack(q, Long.MAX_VALUE))).isEqualTo(AckOutcome.REMOVED);
        assertThat(ids(await(store.takePending(q)))).containsExactly(-5L);
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void concurrentAppendsToOneQueueAllLand() throws Exception {
        int threads = 8;
        int perThread = 200;
        store = createStore(threads * perThread, TTL, clock);
        UserQueue q = queue("alice");
        AtomicLong ids = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Long>>> sent = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                sent.add(pool.submit(() -> {
                    start.await();
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        long id = ids.incrementAndGet();
                        assertThat(await(store.append(q, message(id, "news")))).isEqualTo(AppendOutcome.APPENDED);
                        mine.add(id);
                    }
                    return mine;
                }));
            }
            start.countDown();
            List<List<Long>> perProducer = new ArrayList<>();
            for (Future<List<Long>> f : sent) {
                perProducer.add(f.get(30, SECONDS));
            }

            List<Long> stored = ids(await(store.takePending(q)));
            assertThat(stored).hasSize(threads * perThread);
            assertThat(new HashSet<>(stored)).hasSize(threads * perThread);
            for (List<Long> mine : perProducer) {
                // each producer waited for its appends one by one: its messages keep its order
                assertThat(stored.stream().filter(new HashSet<>(mine)::contains).toList()).isEqualTo(mine);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentAcksRemoveEachMessageOnce() throws Exception {
        int threads = 4;
        int count = 400;
        UserQueue q = queue("alice");
        store = createStore(count, TTL, clock);
        for (long id = 1; id <= count; id++) {
            await(store.append(q, message(id, "news")));
        }
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> removed = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                removed.add(pool.submit(() -> {
                    start.await();
                    int mine = 0;
                    for (long id = 1; id <= count; id++) {
                        if (await(store.ack(q, id)) == AckOutcome.REMOVED) {
                            mine++;
                        }
                    }
                    return mine;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : removed) {
                total += f.get(30, SECONDS);
            }

            assertThat(total).isEqualTo(count);
            assertThat(await(store.takePending(q)).messages()).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- helpers

    /** A queue of this test's own site. */
    protected UserQueue queue(String user) {
        return new UserQueue(site, "user:" + user);
    }

    protected static QueuedMessage message(long id, String event) {
        return new QueuedMessage(id, event, List.of("payload-" + id), false, 1_000 + id);
    }

    protected static QueuedMessage resyncMessage(long id, String event) {
        return new QueuedMessage(id, event, List.of("payload-" + id), true, 1_000 + id);
    }

    protected static List<Long> ids(Pending pending) {
        return pending.messages().stream().map(QueuedMessage::id).toList();
    }

    /** Waits for a stage, at most five seconds. */
    protected static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(5, SECONDS);
    }

    /** A clock that stands still until a test moves it. Thread-safe. */
    public static final class MutableClock extends Clock {

        private final AtomicReference<Instant> instant;
        private final ZoneId zone;

        /** A clock at 2025-01-01T00:00:00Z. */
        public MutableClock() {
            this(Instant.parse("2025-01-01T00:00:00Z"));
        }

        public MutableClock(Instant instant) {
            this(new AtomicReference<>(instant), ZoneOffset.UTC);
        }

        private MutableClock(AtomicReference<Instant> instant, ZoneId zone) {
            this.instant = instant;
            this.zone = zone;
        }

        /** Moves the clock forward (or back, for a negative duration). */
        public void advance(Duration d) {
            instant.updateAndGet(i -> i.plus(d));
        }

        public void set(Instant to) {
            instant.set(to);
        }

        @Override
        public Instant instant() {
            return instant.get();
        }

        @Override
        public ZoneId getZone() {
            return zone;
        }

        /** The same clock (moving one moves the other) seen in another zone. */
        @Override
        public Clock withZone(ZoneId zone) {
            return new MutableClock(instant, zone);
        }

        @Override
        public String toString() {
            return "MutableClock[" + instant.get() + "]";
        }
    }
}
