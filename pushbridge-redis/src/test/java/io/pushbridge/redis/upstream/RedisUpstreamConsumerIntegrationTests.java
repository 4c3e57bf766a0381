package io.pushbridge.redis.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import io.pushbridge.redis.testing.RedisExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Application nodes (headless gateways running a {@link RedisUpstreamConsumer}) on a real Redis,
 * fed with records appended the way gateway nodes append them (raw XADD of
 * {@link UpstreamStreams#encode}). Each test uses a key prefix of its own.
 */
class RedisUpstreamConsumerIntegrationTests {

    private static final String SITE = "chat";
    private static final int PARTITIONS = 8;
    private static final Duration IDLE = Duration.ofSeconds(1);
    private static final AtomicInteger TESTS = new AtomicInteger();

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    private static RedisConnector producer;

    private RedisKeys keys;
    private UpstreamStreams streams;
    /** Every listener call of every node of a test, in call order. */
    private final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<AppNode> nodes = new ArrayList<>();

    @BeforeAll
    static void connect() {
        producer = RedisConnector.builder().uri(redis.uri()).build();
    }

    @AfterAll
    static void disconnect() {
        producer.close();
    }

    @BeforeEach
    void keysOfThisTest() {
        keys = new RedisKeys("t" + TESTS.incrementAndGet() + ":");
        streams = new UpstreamStreams(keys, PARTITIONS);
    }

    @AfterEach
    void stopNodes() {
        nodes.forEach(AppNode::close);
    }

    @Test
    void twoNodesHandleEveryRecordOnceAndEachSocketInOrder() throws Exception {
        int sockets = 200;
        int total = 2_000;
        // records appended before any application node started are handled too (groups start at 0)
        for (int i = 0; i < 500; i++) {
            append(event("s-" + i % sockets, i / sockets), null);
        }
        AppNode a = start("app-a", new Recorder("app-a"), b -> b.batchSize(20));
        AppNode b = start("app-b", new Recorder("app-b"), c -> c.batchSize(20));
        await(() -> a.owned() == 4 && b.owned() == 4, "both nodes own half of the partitions");
        for (int i = 500; i < total; i++) {
            append(event("s-" + i % sockets, i / sockets), null);
        }
        await(() -> distinct(calls).size() == total, "every record handled");
        Thread.sleep(300); // room for a duplicate to show up

        assertThat(calls).as("each record once").hasSize(total);
        assertThat(calls).filteredOn(c -> c.node().equals("app-a")).isNotEmpty();
        assertThat(calls).filteredOn(c -> c.node().equals("app-b")).isNotEmpty();
        Map<String, List<Integer>> bySocket = bySocket(calls);
        assertThat(bySocket).hasSize(sockets);
        bySocket.forEach((socket, seqs) -> assertThat(seqs).as(socket).isEqualTo(range(total / sockets)));
        assertThat(a.stat("handled") + b.stat("handled")).isEqualTo(total);
        assertThat(pending()).isZero();

        b.gateway.stop();
        await(() -> a.owned() == PARTITIONS, "a node that stops gives its partitions back at once");
        assertThat(a.consumer.stats()).containsEntry("dead_lettered", 0L).containsEntry("errors", 0L);
    }

    /**
     * The abandoned node's records in flight at the crash (at most one per partition: a partition
     * runs one record at a time) are handled again by the node that takes over; everything it
     * acknowledged is not. So every record is handled at least once, a record handled twice is the
     * abandoned node's last record of its partition, and, as the abandoned node acknowledges nothing
     * after the crash, the two nodes' {@code handled} counts (acknowledged records) add up to the
     * number of records: none was acknowledged twice.
     */
    @Test
    void aNodeTakesOverTheRecordsOfAnAbandonedOne() throws Exception {
        int sockets = 40;
        int total = 400;
        AppNode a = start("app-a", new Recorder("app-a").slow(Duration.ofMillis(25)), b -> b.batchSize(10));
        AppNode b = start("app-b", new Recorder("app-b"), c -> c.batchSize(10));
        await(() -> a.owned() == 4 && b.owned() == 4, "both nodes own half of the partitions");
        for (int i = 0; i < total; i++) {
            append(event("s-" + i % sockets, i / sockets), null);
        }
        await(() -> callsOf("app-a").size() >= 30, "the slow node is busy");

        a.consumer.abandonForTests();
        List<Call> beforeCrash = callsOf("app-a");
        long crashedAt = System.nanoTime();
        await(() -> distinct(calls).size() == total, "every record handled");
        Thread.sleep(300);

        assertThat(b.owned()).isEqualTo(PARTITIONS);
        assertThat(callsOf("app-a")).as("the abandoned node calls nothing more").isEqualTo(beforeCrash);
        assertThat(Duration.ofNanos(System.nanoTime() - crashedAt)).isGreaterThanOrEqualTo(IDLE.dividedBy(2));
        Map<Record, List<Call>> byRecord = new HashMap<>();
        for (Call call : calls) {
            byRecord.computeIfAbsent(call.record(), r -> new ArrayList<>()).add(call);
        }
        Map<Integer, Call> lastOfA = new HashMap<>();
        for (Call call : beforeCrash) {
            lastOfA.put(streams.partition(call.socketId()), call);
        }
        Set<Integer> partitionsWithDuplicates = new HashSet<>();
        byRecord.forEach((record, handledBy) -> {
            if (handledBy.size() > 1) {
                assertThat(handledBy).extracting(Call::node).containsExactly("app-a", "app-b");
                int partition = streams.partition(record.socketId());
                assertThat(lastOfA.get(partition).record()).as("in flight at the crash").isEqualTo(record);
                assertThat(partitionsWithDuplicates.add(partition)).isTrue();
            }
        });
        assertThat(a.stat("handled") + b.stat("handled")).as("each record acknowledged once").isEqualTo(total);
        assertThat(pending()).isZero();
        bySocket(calls).forEach((socket, seqs) -> {
            List<Integer> withoutRepeats = new ArrayList<>();
            for (int seq : seqs) {
                if (withoutRepeats.isEmpty() || withoutRepeats.get(withoutRepeats.size() - 1) != seq) {
                    withoutRepeats.add(seq);
                }
            }
            assertThat(withoutRepeats).as(socket).isEqualTo(range(total / sockets));
        });
    }

    @Test
    void recordsThatKeepFailingGoToTheDeadLettersAndTheRestGoesOn() throws Exception {
        AtomicInteger flakyFailures = new AtomicInteger();
        Recorder recorder = new Recorder("app-a").failing(call -> {
            if (call.socketId().equals("bad") && call.seq() == 2) {
                throw new IllegalStateException("boom " + call.seq());
            }
            if (call.socketId().equals("flaky") && call.seq() == 1 && flakyFailures.getAndIncrement() == 0) {
                return CompletableFuture.failedFuture(new IllegalStateException("once"));
            }
            return null;
        });
        AppNode a = start("app-a", recorder, b -> b.maxDeliveries(3));
        await(() -> a.owned() == PARTITIONS, "the node owns every partition");
        Map<Integer, String> badIds = new HashMap<>();
        Map<Integer, byte[]> badBytes = new HashMap<>();
        for (int seq = 0; seq < 5; seq++) {
            UpstreamRecord record = event("bad", seq);
            badBytes.put(seq, UpstreamStreams.encode(record, null));
            badIds.put(seq, append(record, null));
            append(event("flaky", seq), null);
            for (int s = 0; s < 10; s++) {
                append(event("ok-" + s, seq), null);
            }
        }
        await(() -> distinct(calls).size() == 5 * 12, "every record tried");
        await(() -> a.stat("handled") == 5 * 12 - 1, "all but one handled");

        assertThat(seqsOf("bad")).isEqualTo(List.of(0, 1, 2, 2, 2, 3, 4));
        assertThat(seqsOf("flaky")).isEqualTo(List.of(0, 1, 1, 2, 3, 4));
        for (int s = 0; s < 10; s++) {
            assertThat(seqsOf("ok-" + s)).isEqualTo(range(5));
        }
        List<Map<String, byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(1);
        Map<String, byte[]> letter = dead.get(0);
        assertThat(letter.get(UpstreamStreams.FIELD)).isEqualTo(badBytes.get(2));
        assertThat(text(letter.get("error"))).contains("IllegalStateException").contains("boom 2");
        assertThat(text(letter.get("deliveries"))).isEqualTo("3");
        assertThat(text(letter.get("stream"))).isEqualTo(streams.stream(SITE, streams.partition("bad")));
        assertThat(text(letter.get("id"))).isEqualTo(badIds.get(2));
        assertThat(a.consumer.stats()).containsEntry("dead_lettered", 1L).containsEntry("failed_attempts", 4L)
                .containsEntry("malformed", 0L);
        assertThat(pending()).isZero();
    }

    @Test
    void eventsWhoseClientWaitsGetTheListenersAnswerOrAnError() throws Exception {
        BlockingQueue<UpstreamStreams.Reply> replies = new LinkedBlockingQueue<>();
        StatefulRedisPubSubConnection<byte[], byte[]> pubSub = producer.newPubSub();
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                replies.add(UpstreamStreams.decodeReply(message));
            }
        });
        pubSub.sync().subscribe(streams.replyChannel("gw-7").getBytes(StandardCharsets.UTF_8));
        Recorder recorder = new Recorder("app-a").answering(call -> switch (call.seq()) {
            case 1 -> CompletableFuture.completedFuture(List.of(Map.of("ok", true), "x"));
            case 2 -> CompletableFuture.failedFuture(new IllegalStateException("no"));
            default -> CompletableFuture.completedFuture(null);
        });
        AppNode a = start("app-a", recorder, b -> b.maxDeliveries(2));
        append(event("asker", 1), "gw-7|r-1");
        append(event("asker", 2), "gw-7|r-2");
        append(event("asker", 3), "gw-7|r-3");

        Map<String, UpstreamStreams.Reply> byId = new HashMap<>();
        for (int i = 0; i < 3; i++) {
            UpstreamStreams.Reply reply = replies.poll(10, TimeUnit.SECONDS);
            assertThat(reply).as("reply " + i).isNotNull();
            byId.put(reply.replyId(), reply);
        }
        assertThat(byId.get("r-1").args()).isEqualTo(List.of(Map.of("ok", true), "x"));
        assertThat(byId.get("r-1").errorCode()).isNull();
        assertThat(byId.get("r-2").args()).isEmpty();
        assertThat(byId.get("r-2").errorCode()).isEqualTo("error");
        assertThat(byId.get("r-3").args()).isEmpty();
        assertThat(byId.get("r-3").errorCode()).isNull();
        assertThat(seqsOf("asker")).isEqualTo(List.of(1, 2, 2, 3));
        assertThat(a.consumer.stats()).containsEntry("replies", 3L).containsEntry("dead_lettered", 1L);
        pubSub.close();
    }

    @Test
    void malformedEntriesGoToTheDeadLettersAndAreCounted() throws Exception {
        AppNode a = start("app-a", new Recorder("app-a"), b -> { });
        String stream = streams.stream(SITE, streams.partition("after"));
        byte[] garbage = {(byte) 0xff, 0x13, 0x37};
        String garbageId = producer.commands().xadd(bytes(stream), Map.of(bytes(UpstreamStreams.FIELD), garbage)).get();
        producer.commands().xadd(bytes(stream), Map.of(bytes("x"), bytes("y"))).get();
        append(event("after", 1), null);

        await(() -> seqsOf("after").equals(List.of(1)), "the record after them handled");
        await(() -> a.stat("malformed") == 2, "both counted");
        List<Map<String, byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(2);
        assertThat(dead).allSatisfy(letter -> assertThat(text(letter.get("error"))).startsWith("malformed: "));
        assertThat(dead.get(0).get(UpstreamStreams.FIELD)).isEqualTo(garbage);
        assertThat(text(dead.get(0).get("id"))).isEqualTo(garbageId);
        assertThat(a.consumer.stats()).containsEntry("dead_lettered", 2L).containsEntry("handled", 1L);
        assertThat(pending()).isZero();
    }

    @Test
    void aStoppingNodeFinishesItsRecordInFlightThenReleasesItsLeases() throws Exception {
        AppNode a = start("app-a", new Recorder("app-a").slow(Duration.ofMillis(300)), b -> { });
        await(() -> a.owned() == PARTITIONS, "the node owns every partition");
        append(event("s-1", 0), null);
        await(() -> seqsOf("s-1").equals(List.of(0)), "the record in flight");

        a.gateway.stop(Duration.ofSeconds(2));

        assertThat(a.stat("handled")).as("finished and acknowledged while stopping").isEqualTo(1);
        assertThat(a.owned()).isZero();
        assertThat(pending()).isZero();
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(producer.commands().exists(bytes(streams.owner(SITE, p))).get()).as("lease " + p).isZero();
        }
        assertThat(producer.commands().zcard(bytes(streams.apps(SITE))).get()).as("announcement withdrawn").isZero();
    }

    /** Fix: a node whose lease renewals fail stops its partitions before the lease expires, leaving the records pending. */
    @Test
    void aNodeWhoseRenewalsFailStopsHandlingBeforeItsLeaseExpires() throws Exception {
        int total = 60;
        AppNode a = start("app-a", new Recorder("app-a").slow(Duration.ofMillis(50)), b -> b.batchSize(100));
        await(() -> a.owned() == PARTITIONS, "the node owns every partition");
        for (int i = 0; i < total; i++) {
            append(event("s", i), null);
        }
        await(() -> seqsOf("s").size() >= 5, "the node is busy with the partition");

        a.consumer.failLeasesForTests();
        byte[] lease = bytes(streams.owner(SITE, streams.partition("s")));
        await(() -> {
            try {
                return producer.commands().exists(lease).get() == 0;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "the lease expired in Redis");
        int atExpiry = callsOf("app-a").size();
        Thread.sleep(300);
        assertThat(callsOf("app-a")).as("stopped before the lease expired").hasSize(atExpiry);
        assertThat(atExpiry).isLessThan(total);
        // what it did not finish stays unacknowledged (pending, or not read yet) for the next owner
        assertThat(a.stat("handled")).as("acknowledged only what it handled").isLessThanOrEqualTo(atExpiry);

        a.consumer.abandonForTests();
        AppNode b = start("app-b", new Recorder("app-b"), c -> { });
        await(() -> distinct(calls).size() == total, "every record handled");
        await(() -> b.stat("handled") + a.stat("handled") == total, "every record acknowledged");
        List<String> order = new ArrayList<>();
        synchronized (calls) {
            calls.stream().filter(c -> c.socketId().equals("s")).forEach(c -> order.add(c.node()));
        }
        assertThat(order.indexOf("app-b")).as("the new owner starts after the old one stopped")
                .isGreaterThan(order.lastIndexOf("app-a"));
        assertThat(seqsOf("s")).as("at most the record in flight twice").hasSizeLessThanOrEqualTo(total + 1);
        List<Integer> withoutRepeats = new ArrayList<>();
        for (int seq : seqsOf("s")) {
            if (withoutRepeats.isEmpty() || withoutRepeats.get(withoutRepeats.size() - 1) != seq) {
                withoutRepeats.add(seq);
            }
        }
        assertThat(withoutRepeats).isEqualTo(range(total));
        assertThat(pending()).isZero();
    }

    /** Fix: a stage that never completes times out (a failed attempt); a stage completing late neither answers nor acks. */
    @Test
    void aStageThatDoesNotCompleteInTimeIsAFailedAttemptAndItsLateCompletionIsIgnored() throws Exception {
        BlockingQueue<UpstreamStreams.Reply> replies = new LinkedBlockingQueue<>();
        StatefulRedisPubSubConnection<byte[], byte[]> pubSub = producer.newPubSub();
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                replies.add(UpstreamStreams.decodeReply(message));
            }
        });
        pubSub.sync().subscribe(streams.replyChannel("gw-7").getBytes(StandardCharsets.UTF_8));
        AtomicInteger lateCalls = new AtomicInteger();
        Recorder recorder = new Recorder("app-a").answering(call -> {
            if (call.socketId().equals("hang") && call.seq() == 1) {
                return new CompletableFuture<>(); // never completes
            }
            if (call.socketId().equals("late") && lateCalls.getAndIncrement() == 0) {
                return CompletableFuture.supplyAsync(() -> List.<Object>of("late"),
                        CompletableFuture.delayedExecutor(600, TimeUnit.MILLISECONDS));
            }
            return CompletableFuture.completedFuture(List.of("on time"));
        });
        AppNode a = start("app-a", recorder, b -> b.maxDeliveries(2).handleTimeout(Duration.ofMillis(200)));
        append(event("hang", 1), null);
        append(event("hang", 2), null);
        append(event("late", 1), "gw-7|r-late");

        await(() -> seqsOf("hang").equals(List.of(1, 1, 2)), "the hanging record given up, the next one handled");
        UpstreamStreams.Reply reply = replies.poll(10, TimeUnit.SECONDS);
        assertThat(reply).isNotNull();
        assertThat(reply.replyId()).isEqualTo("r-late");
        assertThat(reply.args()).isEqualTo(List.of("on time"));
        Thread.sleep(800); // the first stage of "late" completes meanwhile
        assertThat(replies).as("no answer from the timed-out stage").isEmpty();
        assertThat(seqsOf("late")).isEqualTo(List.of(1, 1));
        List<Map<String, byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(1);
        assertThat(text(dead.get(0).get("error"))).contains("TimeoutException").contains("200 ms");
        assertThat(a.consumer.stats()).containsEntry("handle_timeouts", 3L).containsEntry("failed_attempts", 3L)
                .containsEntry("dead_lettered", 1L).containsEntry("handled", 2L).containsEntry("replies", 1L);
        assertThat(pending()).isZero();
        pubSub.close();
    }

    /** Fix: stop() leaves the lease of a partition whose record is still being handled to expire. */
    @Test
    void aStoppingNodeDoesNotReleaseAPartitionWhoseRecordIsStillBeingHandled() throws Exception {
        AppNode a = start("app-a", new Recorder("app-a").slow(Duration.ofSeconds(3)), b -> b.handleTimeout(Duration.ofSeconds(5)));
        await(() -> a.owned() == PARTITIONS, "the node owns every partition");
        append(event("s-1", 0), null);
        await(() -> seqsOf("s-1").equals(List.of(0)), "the record in flight");

        a.gateway.stop(Duration.ofSeconds(2));

        int busy = streams.partition("s-1");
        for (int p = 0; p < PARTITIONS; p++) {
            assertThat(producer.commands().exists(bytes(streams.owner(SITE, p))).get()).as("lease " + p)
                    .isEqualTo(p == busy ? 1L : 0L);
        }
        assertThat(pending()).as("left for the next owner").isEqualTo(1);
        assertThat(a.stat("handled")).isZero();
    }

    /** Fix: a record Redis delivered maxDeliveries times already (its nodes died on it) is dead-lettered, not handled. */
    @Test
    void aRecordDeliveredMaxDeliveriesTimesAlreadyGoesToTheDeadLetters() throws Exception {
        String stream = streams.stream(SITE, streams.partition("poison"));
        String poisonId = append(event("poison", 0), null);
        append(event("poison", 1), null);
        // delivered to three nodes that died on it: a batch read, then two takeovers each reading it again
        var commands = producer.commands();
        commands.xgroupCreate(io.lettuce.core.XReadArgs.StreamOffset.from(bytes(stream), "0"), bytes(UpstreamStreams.GROUP),
                io.lettuce.core.XGroupCreateArgs.Builder.mkstream(true)).get();
        commands.xreadgroup(io.lettuce.core.Consumer.from(bytes(UpstreamStreams.GROUP), bytes("dead-1")),
                io.lettuce.core.XReadArgs.StreamOffset.lastConsumed(bytes(stream))).get();
        for (String node : List.of("dead-2", "dead-3")) {
            commands.xclaim(bytes(stream), io.lettuce.core.Consumer.from(bytes(UpstreamStreams.GROUP), bytes(node)),
                    io.lettuce.core.XClaimArgs.Builder.minIdleTime(0).justid(), poisonId).get();
            commands.xreadgroup(io.lettuce.core.Consumer.from(bytes(UpstreamStreams.GROUP), bytes(node)),
                    io.lettuce.core.XReadArgs.Builder.count(1), io.lettuce.core.XReadArgs.StreamOffset.from(bytes(stream), "0")).get();
        }
        AppNode a = start("app-a", new Recorder("app-a"), b -> b.maxDeliveries(3));

        await(() -> seqsOf("poison").equals(List.of(1)), "the record after it handled");
        await(() -> a.stat("dead_lettered") == 1, "the poison record dead-lettered");
        assertThat(seqsOf("poison")).as("the poison record never reached the listener").isEqualTo(List.of(1));
        List<Map<String, byte[]>> dead = deadLetters();
        assertThat(dead).hasSize(1);
        assertThat(text(dead.get(0).get("error"))).isEqualTo("gave up after 3 deliveries");
        assertThat(text(dead.get(0).get("deliveries"))).isEqualTo("3");
        assertThat(text(dead.get(0).get("id"))).isEqualTo(poisonId);
        assertThat(a.consumer.stats()).containsEntry("failed_attempts", 0L).containsEntry("handled", 1L);
        assertThat(pending()).isZero();
    }

    /** Fix: partitions given back (a node joins) or released (a node stops) are taken over at once, not at the next round. */
    @Test
    void partitionsMoveAtOnceWhenANodeJoinsOrStops() throws Exception {
        Duration longIdle = Duration.ofSeconds(30); // rounds every 10 s: only the rebalance messages make this quick
        AppNode a = start("app-a", new Recorder("app-a"), b -> b.idleTimeout(longIdle));
        await(() -> a.owned() == PARTITIONS, "the node owns every partition");
        AppNode b = start("app-b", new Recorder("app-b"), c -> c.idleTimeout(longIdle));
        long joined = System.nanoTime();
        await(() -> a.owned() == PARTITIONS / 2 && b.owned() == PARTITIONS / 2, "both nodes own half of the partitions");
        assertThat(Duration.ofNanos(System.nanoTime() - joined)).isLessThan(Duration.ofSeconds(3));

        b.gateway.stop(Duration.ofSeconds(2));
        long stopped = System.nanoTime();
        await(() -> a.owned() == PARTITIONS, "the remaining node owns every partition");
        assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(2));
        append(event("after", 1), null);
        await(() -> seqsOf("after").equals(List.of(1)), "records handled");
    }

    /** Fix: pending entries trimmed from the stream are acknowledged and counted, not dead-lettered as malformed. */
    @Test
    void pendingEntriesTrimmedFromTheStreamAreAcknowledgedAndCounted() throws Exception {
        String stream = streams.stream(SITE, streams.partition("gone"));
        for (int i = 0; i < 3; i++) {
            append(event("gone", i), null);
        }
        var commands = producer.commands();
        commands.xgroupCreate(io.lettuce.core.XReadArgs.StreamOffset.from(bytes(stream), "0"), bytes(UpstreamStreams.GROUP),
                io.lettuce.core.XGroupCreateArgs.Builder.mkstream(true)).get();
        commands.xreadgroup(io.lettuce.core.Consumer.from(bytes(UpstreamStreams.GROUP), bytes("dead-1")),
                io.lettuce.core.XReadArgs.StreamOffset.lastConsumed(bytes(stream))).get();
        commands.xtrim(bytes(stream), 0).get();
        AppNode a = start("app-a", new Recorder("app-a"), b -> { });
        append(event("after", 1), null);

        await(() -> seqsOf("after").equals(List.of(1)), "the record after them handled");
        await(() -> a.stat("trimmed") == 3, "the trimmed entries counted");
        assertThat(seqsOf("gone")).isEmpty();
        assertThat(deadLetters()).isEmpty();
        assertThat(a.consumer.stats()).containsEntry("malformed", 0L).containsEntry("dead_lettered", 0L)
                .containsEntry("handled", 1L);
        assertThat(pending()).isZero();
    }

    // ---- fixtures --------------------------------------------------------------------------------

    /** An application node: its own connection, a headless gateway, the consumer as its extension. */
    private final class AppNode implements AutoCloseable {

        final RedisConnector connector;
        final RedisUpstreamConsumer consumer;
        final PushBridgeGateway gateway;

        AppNode(String nodeId, UpstreamListener listener, Consumer<RedisUpstreamConsumer.Builder> settings) {
            connector = RedisConnector.builder().uri(redis.uri()).build();
            RedisUpstreamConsumer.Builder builder = RedisUpstreamConsumer.builder(connector, keys, listener)
                    .sites(List.of(SITE)).partitions(PARTITIONS).idleTimeout(IDLE);
            settings.accept(builder);
            consumer = builder.build();
            SiteOptions site = SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN).build();
            gateway = TestGateways.start(TestGateways.options().nodeId(nodeId).serve(false).build(),
                    b -> b.site(site).extension(consumer));
        }

        long owned() {
            return stat("partitions_owned");
        }

        long stat(String name) {
            return consumer.stats().get(name);
        }

        @Override
        public void close() {
            gateway.stop(Duration.ofSeconds(2));
            connector.close();
        }
    }

    private AppNode start(String nodeId, UpstreamListener listener, Consumer<RedisUpstreamConsumer.Builder> settings) {
        AppNode node = new AppNode(nodeId, listener, settings);
        nodes.add(node);
        return node;
    }

    private record Record(String socketId, int seq) {
    }

    private record Call(String node, String socketId, int seq) {
        Record record() {
            return new Record(socketId, seq);
        }
    }

    /** Records each call in {@link #calls}; optionally slow, failing or answering. */
    private final class Recorder implements UpstreamListener {

        private final String node;
        private Duration delay = Duration.ZERO;
        private Function<Call, CompletionStage<List<Object>>> failures = call -> null;
        private Function<Call, CompletionStage<List<Object>>> answers = call -> CompletableFuture.completedFuture(List.of());

        Recorder(String node) {
            this.node = node;
        }

        Recorder slow(Duration perRecord) {
            this.delay = perRecord;
            return this;
        }

        /** A stage that fails (or a throw) for some calls; null for the others. */
        Recorder failing(Function<Call, CompletionStage<List<Object>>> failures) {
            this.failures = failures;
            return this;
        }

        Recorder answering(Function<Call, CompletionStage<List<Object>>> answers) {
            this.answers = answers;
            return this;
        }

        @Override
        public CompletionStage<List<Object>> event(UpstreamRecord record) {
            Call call = new Call(node, record.socketId(), ((Number) record.firstArg()).intValue());
            calls.add(call);
            CompletionStage<List<Object>> failure = failures.apply(call);
            if (failure != null) {
                return failure;
            }
            if (delay.isZero()) {
                return answers.apply(call);
            }
            return CompletableFuture.supplyAsync(() -> List.<Object>of(),
                    CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    private static UpstreamRecord event(String socketId, int seq) {
        return new UpstreamRecord(UpstreamRecord.Kind.EVENT, "", SITE, socketId, "gw-7", null, null, Set.of(), "127.0.0.1",
                Map.of(), "msg", List.of(seq), false, null, false, System.currentTimeMillis());
    }

    /** Appends a record to its socket's partition, as a gateway node does; its entry id. */
    private String append(UpstreamRecord record, String replyTo) throws Exception {
        String stream = streams.stream(record.site(), streams.partition(record.socketId()));
        return producer.commands().xadd(bytes(stream), Map.of(bytes(UpstreamStreams.FIELD), UpstreamStreams.encode(record, replyTo)))
                .get();
    }

    private long pending() throws Exception {
        long pending = 0;
        for (int p = 0; p < PARTITIONS; p++) {
            pending += producer.commands().xpending(bytes(streams.stream(SITE, p)), bytes(UpstreamStreams.GROUP)).get().getCount();
        }
        return pending;
    }

    private List<Map<String, byte[]>> deadLetters() throws Exception {
        List<Map<String, byte[]>> out = new ArrayList<>();
        for (StreamMessage<byte[], byte[]> m : producer.commands().xrange(bytes(streams.deadLetters(SITE)), Range.create("-", "+")).get()) {
            Map<String, byte[]> fields = new LinkedHashMap<>();
            m.getBody().forEach((k, v) -> fields.put(text(k), v));
            out.add(fields);
        }
        return out;
    }

    private List<Call> callsOf(String node) {
        synchronized (calls) {
            return calls.stream().filter(c -> c.node().equals(node)).toList();
        }
    }

    private List<Integer> seqsOf(String socketId) {
        synchronized (calls) {
            return calls.stream().filter(c -> c.socketId().equals(socketId)).map(Call::seq).toList();
        }
    }

    private static Set<Record> distinct(List<Call> calls) {
        synchronized (calls) {
            Set<Record> out = new HashSet<>();
            calls.forEach(c -> out.add(c.record()));
            return out;
        }
    }

    private static Map<String, List<Integer>> bySocket(List<Call> calls) {
        synchronized (calls) {
            Map<String, List<Integer>> out = new HashMap<>();
            calls.forEach(c -> out.computeIfAbsent(c.socketId(), s -> new ArrayList<>()).add(c.seq()));
            return out;
        }
    }

    private static List<Integer> range(int n) {
        return Arrays.asList(java.util.stream.IntStream.range(0, n).boxed().toArray(Integer[]::new));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
