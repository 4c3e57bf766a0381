package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.cluster.SlotHash;
import io.pushbridge.MessageStore;
import io.pushbridge.MessageStoreContractTests;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.redis.testing.RedisExtension;
import io.pushbridge.redis.testing.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@link MessageStore} contract, and what is particular to Redis, against a real standalone server. */
class RedisMessageStoreIntegrationTests extends MessageStoreContractTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static RedisConnector connector;

    @BeforeAll
    static void connect() {
        connector = RedisConnector.builder().uri(redis.uri()).build();
    }

    @AfterAll
    static void disconnect() {
        connector.close();
    }

    @Override
    protected MessageStore createStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory, MutableClock clock) {
        return RedisMessageStore.builder(connector.commands(), "node-a")
                .maxPendingPerUser(maxPendingPerUser).clientTtl(clientTtl).resyncMemory(resyncMemory).clock(clock)
                .siteQueuesMaxAge(Duration.ZERO).build();
    }

    private static UserQueue someQueue() {
        return new UserQueue("/site-" + UUID.randomUUID(), "user_1");
    }

    @Test
    void binaryAndNestedArgumentsSurviveTheRoundTrip() throws Exception {
        UserQueue q = someQueue();
        QueuedMessage m = new QueuedMessage(7, "file", List.of(new byte[] {1, 2, 3}, "text", Map.of("n", 1, "list", List.of(true, 2.5)),
                Long.MAX_VALUE), false, 1_700_000_000_000L);
        await(store.append(q, m));

        QueuedMessage back = await(store.takePending(q)).messages().get(0);
        assertThat(back.args().get(0)).isEqualTo(new byte[] {1, 2, 3});
        assertThat(back.args().subList(1, 4)).containsExactly("text", Map.of("n", 1, "list", List.of(true, 2.5)), Long.MAX_VALUE);
    }

    @Test
    void eventNamesWithUnicodeAndSeparatorsKeepTheResyncCheckExact() throws Exception {
        UserQueue q = someQueue();
        await(store.append(q, new QueuedMessage(1, "prïce:a|b", List.of(), true, 1)));
        await(store.append(q, new QueuedMessage(2, "prïce:a", List.of(), true, 2)));

        // a different event, even with a common prefix, does not fail the check
        assertThat(await(store.ack(q, 2))).isEqualTo(MessageStore.AckOutcome.REMOVED);
    }

    @Test
    void aQueuesKeysShareOneClusterSlotWhateverTheNames() {
        RedisKeys keys = new RedisKeys("app:");
        for (UserQueue q : List.of(new UserQueue("/news", "user_1"), new UserQueue("/a}b", "user_{x}"), new UserQueue("/", "u}"))) {
            String meta = keys.queue(q);
            int slot = SlotHash.getSlot(meta);
            assertThat(SlotHash.getSlot(meta + ":i")).isEqualTo(slot);
            assertThat(SlotHash.getSlot(meta + ":m")).isEqualTo(slot);
            assertThat(SlotHash.getSlot(meta + ":lost")).isEqualTo(slot);
        }
        // the site name's length keeps (site, room) pairs apart
        assertThat(keys.queue(new UserQueue("a:b", "c"))).isNotEqualTo(keys.queue(new UserQueue("a", "b:c")));
    }

    @Test
    void prefixesKeepDeploymentsApart() throws Exception {
        UserQueue q = someQueue();
        MessageStore blue = RedisMessageStore.builder(connector.commands(), "n").keys(new RedisKeys("blue:")).build();
        MessageStore green = RedisMessageStore.builder(connector.commands(), "n").keys(new RedisKeys("green:")).build();
        await(blue.append(q, message(1, "news")));

        assertThat(await(green.takePending(q)).messages()).isEmpty();
        assertThat(await(blue.takePending(q)).messages()).hasSize(1);
        assertThat(redis.server().command("EXISTS", "blue:q:{" + q.site().length() + ":" + q.site() + ":user_1}:i")).isEqualTo("1");
    }

    @Test
    void inspectReadsTheCreationTimeOfTheOldestMessageWhateverItsArguments() throws Exception {
        StringBuilder big = new StringBuilder();
        while (big.length() < 200_000) {
            big.append("0123456789");
        }
        Map<String, Object> nested = Map.of("k", List.of(1, List.of(2.5, Map.of("deep", List.of(true))), new byte[300]));
        List<List<Object>> argsCases = List.of(List.of(), List.of(big.toString()), List.of(new byte[70_000], nested, Long.MIN_VALUE),
                List.of(nested, -1, 0.1f, "", List.of()));
        long[] times = {1, 23, 24, 255, 256, 65_535, 65_536, 4_294_967_295L, 4_294_967_296L, 1_700_000_000_123L, Long.MAX_VALUE, -1,
                -25, -1_700_000_000_000L, Long.MIN_VALUE};
        for (List<Object> args : argsCases) {
            for (long createdAt : times) {
                UserQueue q = someQueue();
                await(store.append(q, new QueuedMessage(1, "news", args, createdAt % 2 == 0, createdAt)));
                await(store.append(q, new QueuedMessage(2, "news", List.of(), false, 5)));

                assertThat(await(store.inspect(q))).as("createdAt %d, %d args", createdAt, args.size())
                        .isEqualTo(new MessageStore.QueueSnapshot(2, createdAt, 0, false));
            }
        }
    }

    @Test
    void anUnreadableStoredMessageDoesNotBreakInspectOrTheSiteTotals() throws Exception {
        UserQueue q = someQueue();
        await(store.append(q, message(1, "news")));
        await(store.append(q, message(2, "news")));
        String meta = new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q);
        // not written by this version: a body that is no CBOR array of three
        redis.server().command("HSET", meta + ":m", "1", "-news\n\u00ff\u00ff");

        assertThat(await(store.inspect(q))).isEqualTo(new MessageStore.QueueSnapshot(2, 0, 0, false));
        assertThat(await(store.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 2, 0));
    }

    @Test
    void theWalkBoundsItsWorkPerCallAndPerMessageAndStillCountsEveryQueue() throws Exception {
        String site = "/bounded-" + UUID.randomUUID();
        List<Object> thousands = java.util.stream.IntStream.range(0, 4_000).boxed().map(Object.class::cast).toList();
        for (int u = 0; u < 10; u++) {
            // 10 queues of 4,000 items each: more than one call's budget of 20,000 items
            await(store.append(new UserQueue(site, "user_" + u), new QueuedMessage(u, "news", thousands, false, 5_000 + u)));
        }
        List<Object> huge = java.util.stream.IntStream.range(0, 15_000).boxed().map(Object.class::cast).toList();
        UserQueue hugeQueue = new UserQueue(site + "-huge", "user_1");
        await(store.append(hugeQueue, new QueuedMessage(99, "news", huge, false, 42)));

        assertThat(await(store.siteQueues(site))).isEqualTo(new MessageStore.SiteQueues(10, 10, 5_000));
        // past the limit of one message: counted, without its age
        assertThat(await(store.siteQueues(site + "-huge"))).isEqualTo(new MessageStore.SiteQueues(1, 1, 0));
        // the inspector reads that one message whole
        assertThat(await(store.inspect(hugeQueue))).isEqualTo(new MessageStore.QueueSnapshot(1, 42, 0, false));
    }

    @Test
    void siteQueuesSharesOneWalkWhileItIsYoungerThanTheMaxAge() throws Exception {
        RedisMessageStore cached = RedisMessageStore.builder(connector.commands(), "node-a").clock(clock)
                .siteQueuesMaxAge(Duration.ofHours(1)).build();
        UserQueue a = someQueue();
        UserQueue b = someQueue();
        await(cached.append(a, message(1, "news")));
        assertThat(await(cached.siteQueues(a.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));

        await(cached.append(a, message(2, "news")));
        await(cached.append(b, message(3, "news")));

        // one walk answered for every site: b's queue was not there yet
        assertThat(await(cached.siteQueues(a.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));
        assertThat(await(cached.siteQueues(b.site()))).isEqualTo(MessageStore.SiteQueues.EMPTY);
        // a store without max age walks again
        assertThat(await(store.siteQueues(a.site()))).isEqualTo(new MessageStore.SiteQueues(1, 2, 1_001));
        assertThat(await(store.siteQueues(b.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_003));
    }

    @Test
    void oneNodeWalksForTheClusterAndTheOthersReadItsTotals() throws Exception {
        RedisKeys keys = new RedisKeys("shared-" + UUID.randomUUID() + ":");
        RedisMessageStore a = RedisMessageStore.builder(connector.commands(), "node-a").keys(keys).clock(clock)
                .siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        RedisMessageStore b = RedisMessageStore.builder(connector.commands(), "node-b").keys(keys).clock(clock)
                .siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        UserQueue q = someQueue();
        await(a.append(q, message(1, "news")));

        assertThat(await(a.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));
        assertThat(await(b.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_001));
        assertThat(await(b.siteQueues("/other"))).isEqualTo(MessageStore.SiteQueues.EMPTY);
        assertThat(a.walks() + b.walks()).as("walks of the key space").isEqualTo(1);
        assertThat(redis.server().command("GET", keys.queueTotalsWalker())).isIn("node-a", "node-b");
        assertThat(Long.parseLong(redis.server().command("PTTL", keys.queueTotals()))).isPositive();

        // older than the max age (the clock all nodes share moved): the node that wins the lease walks again
        await(a.append(q, message(2, "news")));
        clock.advance(Duration.ofMinutes(2));
        redis.server().command("DEL", keys.queueTotalsWalker()); // its lease ran out meanwhile
        RedisMessageStore c = RedisMessageStore.builder(connector.commands(), "node-c").keys(keys).clock(clock)
                .siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        assertThat(await(c.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 2, 1_001));
        assertThat(c.walks()).isEqualTo(1);
        // a node that loses the lease while the totals are old answers them rather than walking too
        clock.advance(Duration.ofMinutes(2));
        redis.server().command("SET", keys.queueTotalsWalker(), "node-x", "PX", "60000");
        RedisMessageStore d = RedisMessageStore.builder(connector.commands(), "node-d").keys(keys).clock(clock)
                .siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        assertThat(await(d.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 2, 1_001));
        assertThat(d.walks()).isZero();
    }

    @Test
    void aNodeThatLosesTheLeaseBeforeAnyTotalsExistWaitsForThem() throws Exception {
        RedisKeys keys = new RedisKeys("waiting-" + UUID.randomUUID() + ":");
        RedisMessageStore a = RedisMessageStore.builder(connector.commands(), "node-a").keys(keys).clock(clock)
                .siteQueuesMaxAge(Duration.ofMinutes(1)).build();
        UserQueue q = someQueue();
        await(a.append(q, message(1, "news")));
        redis.server().command("SET", keys.queueTotalsWalker(), "node-x", "PX", "60000");

        java.util.concurrent.CompletableFuture<MessageStore.SiteQueues> waiting = a.siteQueues(q.site()).toCompletableFuture();
        // node-x writes its totals
        redis.server().command("SET", keys.queueTotals(), new String(RedisMessageStore.SharedTotals.encode(clock.millis(),
                Map.of(q.site(), new MessageStore.SiteQueues(7, 8, 9))), java.nio.charset.StandardCharsets.UTF_8));

        assertThat(waiting.get(10, TimeUnit.SECONDS)).isEqualTo(new MessageStore.SiteQueues(7, 8, 9));
        assertThat(a.walks()).isZero();
    }

    @Test
    void sharedTotalsSurviveTheirEncodingWhateverTheSiteNames() {
        Map<String, MessageStore.SiteQueues> totals = Map.of("/news", new MessageStore.SiteQueues(1, 2, 3), "a b\n%c\u00e9",
                new MessageStore.SiteQueues(4, 5, 0), "", new MessageStore.SiteQueues(0, 0, Long.MIN_VALUE));
        RedisMessageStore.SharedTotals back = RedisMessageStore.SharedTotals.parse(RedisMessageStore.SharedTotals.encode(42, totals));
        assertThat(back).isEqualTo(new RedisMessageStore.SharedTotals(42, totals));
        for (String bad : List.of("", "v2\n1\n", "v1\nx\n", "v1\n1\n1 2 /news\n", "v1\n1\na b c /news\n")) {
            assertThat(RedisMessageStore.SharedTotals.parse(bad.getBytes(java.nio.charset.StandardCharsets.UTF_8))).as(bad).isNull();
        }
        assertThat(RedisMessageStore.SharedTotals.parse(null)).isNull();
    }

    @Test
    void aKeyThatScanReturnsTwiceCountsOnce() {
        RedisMessageStore.SiteWalk walk = new RedisMessageStore.SiteWalk();
        for (int i = 0; i < 2; i++) {
            if (walk.firstSeen("pushbridge:q:{5:/news:user_1}:i")) {
                walk.add("/news", new MessageStore.QueueSnapshot(3, 1_000, 0, false));
            }
        }
        assertThat(walk.firstSeen("pushbridge:q:{5:/news:user_2}:i")).isTrue();
        walk.finish();
        assertThat(walk.result.join()).isEqualTo(Map.of("/news", new MessageStore.SiteQueues(1, 3, 1_000)));
    }

    @Test
    void queuesWhoseKeysCannotBeReadAreLeftOutOfTheTotalsAndTheOthersStillCount() throws Exception {
        String site = "/bad-" + UUID.randomUUID();
        UserQueue good = new UserQueue(site, "user_good");
        UserQueue wrongType = new UserQueue(site, "user_wrong_type");
        UserQueue badExpiry = new UserQueue(site, "user_bad_exp");
        UserQueue badCount = new UserQueue(site, "user_bad_count");
        for (UserQueue q : List.of(good, wrongType, badExpiry, badCount)) {
            await(store.append(q, message(1, "news")));
        }
        RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
        redis.server().command("DEL", keys.queue(wrongType));
        redis.server().command("SET", keys.queue(wrongType), "not a hash");
        redis.server().command("HSET", keys.queue(badExpiry), "exp", "soon");
        redis.server().command("HSET", keys.queue(badCount), "n", "many");

        // the wrong type is skipped, the unreadable deadline counts as past, the unreadable count as none
        assertThat(await(store.siteQueues(site))).isEqualTo(new MessageStore.SiteQueues(2, 2, 1_001));
        assertThat(await(store.inspect(badCount))).isEqualTo(new MessageStore.QueueSnapshot(1, 1_001, 0, false));
        // past its deadline, as if expired holding messages (so it may show the resync mark of a lost queue)
        assertThat(await(store.inspect(badExpiry)).depth()).isZero();
        assertThatThrownBy(() -> await(store.inspect(wrongType))).hasMessageContaining("cannot be read");
    }

    @Test
    void aMessageTooLargeForTheScriptIsDecodedOnTheStoresExecutorNotOnLettucesThread() throws Exception {
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.Executor executor = task -> {
            threads.add("executor");
            new Thread(task, "decoder").start();
        };
        RedisMessageStore s = RedisMessageStore.builder(connector.commands(), "node-a").clock(clock).executor(executor).build();
        UserQueue q = someQueue();
        List<Object> huge = java.util.stream.IntStream.range(0, 15_000).boxed().map(Object.class::cast).toList();
        await(s.append(q, new QueuedMessage(1, "news", huge, false, 42)));

        // the decode is the task handed to the executor (the stage may then complete on whichever
        // thread attached last, so the caller's thread proves nothing)
        assertThat(await(s.inspect(q)).oldestCreatedAtMillis()).isEqualTo(42);
        assertThat(threads).containsExactly("executor");
        // a message the script can walk needs no executor
        UserQueue small = someQueue();
        await(s.append(small, message(2, "news")));
        assertThat(await(s.inspect(small)).depth()).isEqualTo(1);
        assertThat(threads).hasSize(1);
    }

    @Test
    void siteQueuesCountsOnlyItsOwnPrefixEvenWithPatternCharacters() throws Exception {
        UserQueue q = someQueue();
        MessageStore star = RedisMessageStore.builder(connector.commands(), "n").keys(new RedisKeys("a*b:"))
                .siteQueuesMaxAge(Duration.ZERO).build();
        MessageStore plain = RedisMessageStore.builder(connector.commands(), "n").keys(new RedisKeys("axb:"))
                .siteQueuesMaxAge(Duration.ZERO).build();
        await(plain.append(q, message(1, "news")));
        await(plain.append(q, message(2, "news")));
        await(star.append(q, message(3, "news")));

        assertThat(await(star.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 1, 1_003));
        assertThat(await(plain.siteQueues(q.site()))).isEqualTo(new MessageStore.SiteQueues(1, 2, 1_001));
        assertThat(await(store.siteQueues(q.site()))).isEqualTo(MessageStore.SiteQueues.EMPTY);
    }

    @Test
    void keysThatAreNotQueuesAreNotTakenForQueues() {
        RedisMessageStore s = (RedisMessageStore) store;
        assertThat(s.queueOfIdsKey("pushbridge:q:{5:/news:user_1}:i")).isEqualTo(new UserQueue("/news", "user_1"));
        assertThat(s.queueOfIdsKey("pushbridge:q:{3:a:b:c:d}:i")).isEqualTo(new UserQueue("a:b", "c:d"));
        assertThat(s.queueOfIdsKey("pushbridge:q:{1:a:x}:i}:i")).isEqualTo(new UserQueue("a", "x}:i"));
        for (String bad : List.of("pushbridge:q:{5:/news}:i", "pushbridge:q:{x:/news:u}:i", "pushbridge:q:{9:/news:u}:i",
                "pushbridge:q:{-1:/news:u}:i", "pushbridge:q:{5:/newsXu}:i", "pushbridge:q:{5:/news:u}:m",
                "other:q:{5:/news:u}:i", "pushbridge:q:{99999999999:/news:u}:i", "pushbridge:q:{")) {
            assertThat(s.queueOfIdsKey(bad)).as(bad).isNull();
        }
        assertThat(RedisMessageStore.globEscaped("a*b?[c]\\d:")).isEqualTo("a\\*b\\?\\[c\\]\\\\d:");
    }

    @Test
    void prefixWithHashTagBracesIsRefused() {
        assertThatThrownBy(() -> new RedisKeys("a{b}:")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prefix");
    }

    @Test
    void anAbandonedQueueAlsoGetsRedisExpirySoItsMemoryIsFreed() throws Exception {
        UserQueue q = someQueue();
        await(store.append(q, message(1, "news")));
        String meta = new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q);

        long pttl = Long.parseLong(redis.server().command("PTTL", meta + ":i"));
        assertThat(pttl).isBetween(TTL.toMillis(), TTL.plus(RedisMessageStore.EXPIRY_GRACE).toMillis());

        await(store.connectionOpened(q));
        assertThat(redis.server().command("PTTL", meta + ":i")).isEqualTo("-1");
    }

    @Test
    void anIdleQueueLeavesNoKeysBehind() throws Exception {
        UserQueue q = someQueue();
        await(store.connectionOpened(q));
        await(store.append(q, message(1, "news")));
        await(store.ack(q, 1));
        await(store.connectionClosed(q));

        String meta = new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q);
        assertThat(redis.server().command("EXISTS", meta, meta + ":i", meta + ":m", meta + ":lost")).isEqualTo("0");
        assertThat(redis.server().command("HEXISTS", RedisKeys.DEFAULT_PREFIX + "node:{node-a}:queues", meta)).isEqualTo("0");
    }

    @Test
    void aQueueThatMayExpireHoldingMessagesCarriesALostMarkerThatGoesWithItsDeadline() throws Exception {
        UserQueue q = someQueue();
        String lost = new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q) + ":lost";
        long deadline = clock.millis() + TTL.toMillis();
        await(store.append(q, message(1, "news")));

        assertThat(redis.server().command("GET", lost)).isEqualTo(Long.toString(deadline + RESYNC_MEMORY.toMillis()));
        long pttl = Long.parseLong(redis.server().command("PTTL", lost));
        assertThat(pttl).isBetween(TTL.plus(RESYNC_MEMORY).toMillis(), TTL.plus(RESYNC_MEMORY).plus(RedisMessageStore.EXPIRY_GRACE).toMillis());

        await(store.connectionOpened(q));
        assertThat(redis.server().command("EXISTS", lost)).as("no deadline, no marker").isEqualTo("0");
        await(store.connectionClosed(q));
        assertThat(redis.server().command("EXISTS", lost)).isEqualTo("1");
        await(store.remove(q, List.of(1L)));
        assertThat(redis.server().command("EXISTS", lost)).as("emptied: nothing to lose").isEqualTo("0");
    }

    @Test
    void aQueueThatRedisItselfDroppedIsToldAsLostWhileItsMarkerLives() throws Exception {
        UserQueue q = someQueue();
        String meta = new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q);
        await(store.append(q, message(1, "news")));
        advance(clock, TTL.plusSeconds(90));
        // what Redis' own expiry does a grace period after the deadline: no script sees it
        redis.server().command("DEL", meta, meta + ":i", meta + ":m");

        assertThat(await(store.inspect(q))).isEqualTo(new MessageStore.QueueSnapshot(0, 0, 0, true));
        MessageStore.Pending pending = await(store.takePending(q));
        assertThat(pending.resyncCause()).isEqualTo(MessageStore.ResyncCause.EXPIRY);
        assertThat(redis.server().command("EXISTS", meta + ":lost")).isEqualTo("0");
        assertThat(await(store.takePending(q))).isEqualTo(MessageStore.Pending.NONE);
    }

    @Test
    void aResyncMarkOfAnEarlierVersionReadsAsAnOverflowAndAStaleCauseIsIgnored() throws Exception {
        UserQueue marked = someQueue();
        UserQueue stale = someQueue();
        RedisKeys keys = new RedisKeys(RedisKeys.DEFAULT_PREFIX);
        await(store.connectionOpened(marked));
        await(store.connectionOpened(stale));
        // earlier versions wrote the mark without a cause, and leave a cause behind when they take it
        redis.server().command("HSET", keys.queue(marked), "rs", "1");
        redis.server().command("HSET", keys.queue(stale), "rc", "e");

        assertThat(await(store.takePending(marked)).resyncCause()).isEqualTo(MessageStore.ResyncCause.OVERFLOW);
        assertThat(await(store.takePending(stale)).resyncRequired()).isFalse();
        MessageStore small = createStore(1, TTL, clock);
        await(small.append(stale, message(1, "news")));
        await(small.append(stale, message(2, "news")));
        assertThat(await(store.takePending(stale)).resyncCause()).as("an overflow's mark").isEqualTo(MessageStore.ResyncCause.OVERFLOW);
    }

    @Test
    void resyncMemoryIsCheckedAndShown() {
        assertThatThrownBy(() -> RedisMessageStore.builder(connector.commands(), "n").resyncMemory(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("resyncMemory must be >= 0 (0 remembers no expired queue), was PT-1S");
        RedisMessageStore defaults = RedisMessageStore.builder(connector.commands(), "n").build();
        assertThat(defaults.resyncMemory()).isEqualTo(Duration.ofDays(7));
        assertThat(RedisMessageStore.builder(connector.commands(), "n").resyncMemory(Duration.ZERO).build())
                .hasToString("RedisMessageStore[node=n, prefix=pushbridge:, maxPendingPerUser=10000, clientTtl=PT1H, resyncMemory=PT0S]");
    }

    @Test
    void aHugeResyncMemoryStillRemembers() throws Exception {
        MessageStore huge = createStore(MAX_PENDING, TTL, Duration.ofSeconds(Long.MAX_VALUE), clock);
        UserQueue q = someQueue();
        await(huge.append(q, message(1, "news")));
        advance(clock, Duration.ofDays(365 * 50));

        assertThat(await(huge.takePending(q)).resyncCause()).isEqualTo(MessageStore.ResyncCause.EXPIRY);
    }

    @Test
    void connectionsAreCountedPerNodeAndADeadNodesAreReleased() throws Exception {
        UserQueue q = someQueue();
        RedisMessageStore a = (RedisMessageStore) store;
        RedisMessageStore b = RedisMessageStore.builder(connector.commands(), "node-b").clientTtl(TTL).clock(clock).build();
        await(a.connectionOpened(q));
        await(b.connectionOpened(q));
        await(b.connectionOpened(q));
        await(a.append(q, message(1, "news")));
        assertThat(await(a.info(q))).isEqualTo(new RedisMessageStore.QueueInfo(1, 3));

        // node-b dies: its two connections are released, node-a's one keeps the queue
        await(a.nodeGone(new RedisKeys(RedisKeys.DEFAULT_PREFIX).queue(q), "node-b"));
        assertThat(await(a.info(q))).isEqualTo(new RedisMessageStore.QueueInfo(1, 1));
        advance(clock, TTL.multipliedBy(2));
        assertThat(await(a.takePending(q)).messages()).hasSize(1);

        // node-a's last connection closes: the ttl runs
        await(a.connectionClosed(q));
        advance(clock, TTL.plusSeconds(1));
        assertThat(await(a.takePending(q)).messages()).isEmpty();
    }

    @Test
    void aCloseThatFailedWhileRedisWasDownIsRepairedSoTheTtlStillStarts() throws Exception {
        try (RedisServer own = RedisServer.start("--appendonly", "yes", "--appendfsync", "always");
                RedisConnector c = RedisConnector.builder().uri(own.uri()).build()) {
            RedisMessageStore s = RedisMessageStore.builder(c.commands(), "node-r").clientTtl(TTL).clock(clock).build();
            UserQueue q = someQueue();
            await(s.connectionOpened(q));
            await(s.connectionOpened(q));
            await(s.append(q, message(1, "news")));

            own.kill();
            assertThatThrownBy(() -> await(s.connectionClosed(q))).isInstanceOf(ExecutionException.class);
            assertThatThrownBy(() -> await(s.connectionClosed(q))).isInstanceOf(ExecutionException.class);
            assertThat(s.countsToRepair()).isEqualTo(1);
            own.restart();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (s.countsToRepair() != 0) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                s.repairCounts().toCompletableFuture().handle((n, f) -> n).get(5, TimeUnit.SECONDS);
                Thread.sleep(50);
            }
            assertThat(await(s.info(q)).connections()).as("both closes counted").isZero();
            advance(clock, TTL.plusSeconds(1));
            assertThat(await(s.takePending(q)).messages()).as("and the ttl ran").isEmpty();
        }
    }

    @Test
    void everyOperationFailsWithPushUnavailableWhileRedisIsDownAndWorksAgainAfterItReturns() throws Exception {
        try (RedisServer own = RedisServer.start("--appendonly", "yes", "--appendfsync", "always");
                RedisConnector c = RedisConnector.builder().uri(own.uri()).build()) {
            MessageStore s = RedisMessageStore.builder(c.commands(), "node-a").build();
            UserQueue q = someQueue();
            await(s.append(q, message(1, "news")));

            own.kill();
            for (java.util.function.Supplier<java.util.concurrent.CompletionStage<?>> op : List.<java.util.function.Supplier<java.util.concurrent.CompletionStage<?>>>of(
                    () -> s.append(q, message(2, "news")), () -> s.takePending(q), () -> s.ack(q, 1),
                    () -> s.remove(q, List.of(1L)), () -> s.clear(q), () -> s.connectionOpened(q), () -> s.connectionClosed(q),
                    () -> s.inspect(q), () -> s.siteQueues(q.site()))) {
                assertThatThrownBy(() -> op.get().toCompletableFuture().get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(PushUnavailableException.class).hasMessageContaining("Redis is unavailable");
            }

            own.restart();
            // Lettuce reconnects by itself; the message accepted before the crash is still there
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            MessageStore.Pending pending = null;
            while (pending == null) {
                try {
                    pending = s.takePending(q).toCompletableFuture().get(5, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
            assertThat(pending.messages()).extracting(QueuedMessage::id).containsExactly(1L);
        }
    }
}
