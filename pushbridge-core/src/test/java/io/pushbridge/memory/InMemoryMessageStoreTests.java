package io.pushbridge.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.pushbridge.MessageStore;
import io.pushbridge.MessageStoreContractTests;
import io.pushbridge.UserQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

class InMemoryMessageStoreTests extends MessageStoreContractTests {

    @Override
    protected MessageStore createStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory, MutableClock clock) {
        return InMemoryMessageStore.builder().maxPendingPerUser(maxPendingPerUser).clientTtl(clientTtl).resyncMemory(resyncMemory)
                .clock(clock).siteQueuesMaxAge(Duration.ZERO).build();
    }

    private InMemoryMessageStore memoryStore() {
        return (InMemoryMessageStore) store;
    }

    // ---------------------------------------------------------------- purge and memory

    @Test
    void purgeExpiredDropsOnlyExpiredQueuesAndCountsThem() throws Exception {
        UserQueue offline1 = queue("offline1");
        UserQueue offline2 = queue("offline2");
        UserQueue online = queue("online");
        UserQueue fresh = queue("fresh");
        await(store.append(offline1, message(1, "news")));
        await(store.append(offline2, message(2, "news")));
        await(store.connectionOpened(online));
        await(store.append(online, message(3, "news")));
        clock.advance(TTL.minusSeconds(10));
        await(store.append(fresh, message(4, "news")));
        assertThat(memoryStore().purgeExpired()).isZero();

        clock.advance(Duration.ofSeconds(11));

        assertThat(memoryStore().purgeExpired()).isEqualTo(2);
        assertThat(memoryStore().trackedQueues()).isEqualTo(2);
        assertThat(memoryStore().depth(online)).isEqualTo(1);
        assertThat(memoryStore().depth(fresh)).isEqualTo(1);
        assertThat(memoryStore().purgeExpired()).isZero();
    }

    @Test
    void purgeRemembersTheExpiredQueuesThatHeldMessagesAndForgetsThemAfterTheResyncMemory() throws Exception {
        UserQueue held = queue("held");
        UserQueue emptied = queue("emptied");
        UserQueue taken = queue("taken");
        await(store.append(held, message(1, "news")));
        await(store.append(taken, message(2, "news")));
        await(store.connectionOpened(emptied));
        await(store.connectionClosed(emptied));
        clock.advance(TTL.plusSeconds(1));

        assertThat(memoryStore().purgeExpired()).isEqualTo(2);
        assertThat(memoryStore().trackedQueues()).isZero();
        assertThat(memoryStore().rememberedLosses()).isEqualTo(2);
        assertThat(await(store.takePending(taken)).resyncRequired()).isTrue();
        assertThat(memoryStore().rememberedLosses()).as("taken: forgotten at once").isEqualTo(1);

        clock.advance(RESYNC_MEMORY.minusSeconds(2));
        assertThat(memoryStore().purgeExpired()).isZero();
        assertThat(memoryStore().rememberedLosses()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(2));
        assertThat(memoryStore().purgeExpired()).isZero();
        assertThat(memoryStore().rememberedLosses()).isZero();
        assertThat(await(store.takePending(held)).resyncRequired()).isFalse();
    }

    @Test
    void aNewQueueTakesOverTheRememberedLossSoOnlyOneEntryIsKept() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        clock.advance(TTL.plusSeconds(1));
        assertThat(memoryStore().depth(q)).isZero();
        assertThat(memoryStore().rememberedLosses()).isEqualTo(1);

        await(store.append(q, message(2, "news")));

        assertThat(memoryStore().rememberedLosses()).isZero();
        assertThat(memoryStore().trackedQueues()).isEqualTo(1);
        assertThat(await(store.takePending(q)).resyncCause()).isEqualTo(MessageStore.ResyncCause.EXPIRY);
    }

    @Test
    void aHugeResyncMemoryIsAsGoodAsForever() throws Exception {
        store = createStore(MAX_PENDING, TTL, Duration.ofSeconds(Long.MAX_VALUE), clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        clock.advance(Duration.ofDays(365 * 100));

        assertThat(memoryStore().purgeExpired()).isEqualTo(1);
        assertThat(await(store.takePending(q)).resyncCause()).isEqualTo(MessageStore.ResyncCause.EXPIRY);
    }

    @Test
    void purgeExpiredWithTtlZeroDropsNothing() throws Exception {
        store = createStore(MAX_PENDING, Duration.ZERO, clock);
        await(store.append(queue("alice"), message(1, "news")));
        clock.advance(Duration.ofDays(1000));

        assertThat(memoryStore().purgeExpired()).isZero();
        assertThat(memoryStore().depth(queue("alice"))).isEqualTo(1);
    }

    @Test
    void expiredQueueIsDroppedWhenTouched() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        clock.advance(TTL.plusSeconds(1));
        assertThat(memoryStore().trackedQueues()).isEqualTo(1);

        assertThat(memoryStore().depth(q)).isZero();
        assertThat(memoryStore().trackedQueues()).isZero();
    }

    @Test
    void queueWithNothingLeftIsDropped() throws Exception {
        UserQueue acked = queue("acked");
        UserQueue removed = queue("removed");
        UserQueue cleared = queue("cleared");
        UserQueue left = queue("left");
        await(store.append(acked, message(1, "news")));
        await(store.ack(acked, 1));
        await(store.append(removed, message(2, "news")));
        await(store.remove(removed, List.of(2L)));
        await(store.append(cleared, message(3, "news")));
        await(store.clear(cleared));
        await(store.connectionOpened(left));
        await(store.connectionClosed(left));

        assertThat(memoryStore().trackedQueues()).isZero();
    }

    @Test
    void queueWithAnOpenConnectionOrAResyncMarkIsKeptWhenEmpty() throws Exception {
        store = createStore(1, TTL, clock);
        UserQueue online = queue("online");
        UserQueue marked = queue("marked");
        await(store.connectionOpened(online));
        await(store.append(marked, message(1, "news")));
        await(store.append(marked, message(2, "news"))); // overflow: marked
        await(store.ack(marked, 2));

        assertThat(memoryStore().trackedQueues()).isEqualTo(2);
        assertThat(await(store.takePending(marked)).resyncRequired()).isTrue();
        assertThat(memoryStore().trackedQueues()).isEqualTo(1);
    }

    @Test
    void unknownQueuesLeaveNoTrace() throws Exception {
        UserQueue q = queue("nobody");
        await(store.takePending(q));
        await(store.ack(q, 1));
        await(store.remove(q, List.of(1L)));
        await(store.clear(q));
        await(store.connectionClosed(q));
        memoryStore().depth(q);

        assertThat(memoryStore().trackedQueues()).isZero();
    }

    // ---------------------------------------------------------------- specifics of this store

    @Test
    void appendDoesNotExtendARunningTtl() throws Exception {
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        clock.advance(TTL.minusSeconds(1));
        await(store.append(q, message(2, "news")));

        clock.advance(Duration.ofSeconds(2));

        assertThat(memoryStore().depth(q)).isZero();
    }

    @Test
    void appendOfAnIdAlreadyQueuedKeepsItsPlaceAndDoesNotOverflow() throws Exception {
        store = createStore(2, TTL, clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));

        assertThat(await(store.append(q, message(1, "news")))).isEqualTo(MessageStore.AppendOutcome.APPENDED);

        assertThat(ids(await(store.takePending(q)))).containsExactly(1L, 2L);
    }

    @Test
    void depthCountsPendingMessages() throws Exception {
        UserQueue q = queue("alice");
        assertThat(memoryStore().depth(q)).isZero();
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));

        assertThat(memoryStore().depth(q)).isEqualTo(2);
    }

    @Test
    void everyAnswerIsAlreadyComplete() {
        UserQueue q = queue("alice");
        List<CompletionStage<?>> stages = List.of(
                store.connectionOpened(q),
                store.append(q, message(1, "news")),
                store.takePending(q),
                store.ack(q, 1),
                store.remove(q, List.of(1L)),
                store.clear(q),
                store.connectionClosed(q));

        assertThat(stages).allSatisfy(s -> assertThat(s.toCompletableFuture()).isCompleted());
    }

    // ---------------------------------------------------------------- options

    @Test
    void defaultsAreTheDocumentedOnes() {
        InMemoryMessageStore defaults = new InMemoryMessageStore();
        InMemoryMessageStore built = InMemoryMessageStore.builder().build();

        assertThat(InMemoryMessageStore.DEFAULT_MAX_PENDING_PER_USER).isEqualTo(10_000);
        assertThat(InMemoryMessageStore.DEFAULT_CLIENT_TTL).isEqualTo(Duration.ofHours(1));
        assertThat(InMemoryMessageStore.DEFAULT_RESYNC_MEMORY).isEqualTo(Duration.ofDays(7));
        assertThat(defaults.maxPendingPerUser()).isEqualTo(10_000);
        assertThat(defaults.clientTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(defaults.resyncMemory()).isEqualTo(Duration.ofDays(7));
        assertThat(built.maxPendingPerUser()).isEqualTo(10_000);
        assertThat(built.clientTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(built.resyncMemory()).isEqualTo(Duration.ofDays(7));
        assertThat(new InMemoryMessageStore(5, TTL, clock).resyncMemory()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void builderPassesItsSettings() throws Exception {
        InMemoryMessageStore built = InMemoryMessageStore.builder()
                .maxPendingPerUser(1)
                .clientTtl(Duration.ofSeconds(5))
                .resyncMemory(Duration.ofSeconds(10))
                .clock(clock)
                .build();
        UserQueue q = queue("alice");
        await(built.append(q, message(1, "news")));

        assertThat(await(built.append(q, message(2, "news")))).isEqualTo(MessageStore.AppendOutcome.OVERFLOWED);
        clock.advance(Duration.ofSeconds(6));
        assertThat(built.depth(q)).isZero();
        assertThat(built.resyncMemory()).isEqualTo(Duration.ofSeconds(10));
        assertThat(built).hasToString("InMemoryMessageStore[maxPendingPerUser=1, clientTtl=PT5S, resyncMemory=PT10S]");
        clock.advance(Duration.ofSeconds(10));
        assertThat(await(built.takePending(q)).resyncRequired()).as("forgotten 10 s after the deadline").isFalse();
    }

    @Test
    void negativeOrMissingResyncMemoryIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new InMemoryMessageStore(10, TTL, Duration.ofSeconds(-1), clock))
                .withMessage("resyncMemory must be >= 0 (0 remembers no expired queue), was PT-1S");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> InMemoryMessageStore.builder().resyncMemory(Duration.ofMillis(-5)))
                .withMessageStartingWith("resyncMemory must be >= 0");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> InMemoryMessageStore.builder().resyncMemory(nullDuration()))
                .withMessage("resyncMemory must not be null");
    }

    @Test
    void maxPendingPerUserBelowOneIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new InMemoryMessageStore(0, TTL, clock))
                .withMessage("maxPendingPerUser must be >= 1, was 0");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> InMemoryMessageStore.builder().maxPendingPerUser(-3))
                .withMessage("maxPendingPerUser must be >= 1, was -3");
    }

    @Test
    void negativeClientTtlIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new InMemoryMessageStore(10, Duration.ofSeconds(-1), clock))
                .withMessage("clientTtl must be >= 0 (0 keeps queues forever), was PT-1S");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> InMemoryMessageStore.builder().clientTtl(Duration.ofMillis(-5)))
                .withMessageStartingWith("clientTtl must be >= 0");
    }

    @Test
    void missingSettingsAreRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new InMemoryMessageStore(10, TTL, nullClock()))
                .withMessage("clock must not be null");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new InMemoryMessageStore(10, nullDuration(), clock))
                .withMessage("clientTtl must not be null");
    }

    @Test
    void hugeTtlIsAsGoodAsForever() throws Exception {
        store = createStore(MAX_PENDING, Duration.ofSeconds(Long.MAX_VALUE), clock);
        UserQueue q = queue("alice");
        await(store.append(q, message(1, "news")));
        clock.advance(Duration.ofDays(365 * 100));

        assertThat(memoryStore().depth(q)).isEqualTo(1);
    }

    @Test
    void onePassOverTheQueuesTotalsEverySiteAndIsSharedWhileItIsYoung() throws Exception {
        InMemoryMessageStore shared = InMemoryMessageStore.builder().clock(clock).siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        UserQueue a = new UserQueue("site-a", "user_1");
        UserQueue b = new UserQueue("site-b", "user_1");
        await(shared.append(a, message(1, "news")));
        await(shared.append(b, message(2, "news")));

        assertThat(await(shared.siteQueues("site-a"))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));
        assertThat(await(shared.siteQueues("site-b"))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_002));
        assertThat(await(shared.siteQueues("site-c"))).isEqualTo(MessageStore.SiteQueues.EMPTY);
        assertThat(shared.totalsPasses()).isEqualTo(1);

        // within the max age the pass answers, even after a change
        await(shared.append(a, message(3, "news")));
        assertThat(await(shared.siteQueues("site-a"))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));
        // the store's clock moved past the max age (expiry depends on it): a new pass
        clock.advance(Duration.ofMinutes(2));
        assertThat(await(shared.siteQueues("site-a"))).isEqualTo(new MessageStore.SiteQueues(1, 2, 1_001));
        assertThat(shared.totalsPasses()).isEqualTo(2);
        // without max age, a pass per call
        InMemoryMessageStore unshared = InMemoryMessageStore.builder().siteQueuesMaxAge(Duration.ZERO).build();
        await(unshared.siteQueues("site-a"));
        await(unshared.siteQueues("site-a"));
        assertThat(unshared.totalsPasses()).isEqualTo(2);
        assertThatIllegalArgumentException().isThrownBy(() -> InMemoryMessageStore.builder().siteQueuesMaxAge(Duration.ofSeconds(-1)))
                .withMessageContaining("siteQueuesMaxAge");
    }

    @SuppressWarnings("NullAway")
    private static Clock nullClock() {
        return null;
    }

    @SuppressWarnings("NullAway")
    private static Duration nullDuration() {
        return null;
    }
}
