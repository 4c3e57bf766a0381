package io.pushbridge.redis;

import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.id.FlakeIdGenerator;
import io.pushbridge.jmh.Payloads;
import io.pushbridge.redis.testing.RedisServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.IterationParams;

/**
 * {@link RedisMessageStore}'s append, takePending and ack against a real redis-server started for
 * the trial (the test harness's {@link RedisServer}, on loopback), with the store's own Lettuce
 * setup ({@link RedisConnector}: one connection, commands pipelined on it).
 *
 * <p><b>Concurrency: an async in-flight window.</b> One benchmark thread issues operations without
 * waiting for each: it takes a permit of a {@link Semaphore} of {@code window} permits, starts the
 * operation, and the operation's completion gives the permit back. So up to {@code window}
 * operations are in flight, as when the gateway's workers serve many users at once, and the
 * figure is operations completed per second. {@code window=1} waits for each reply before the next
 * request: one round trip at a time, which measures latency (1/latency), not what the store can
 * do. Every operation must succeed (and an ack must remove its message): a failure fails the trial.
 *
 * <p>The queues: {@value #USERS} connected users (each queue has an open connection, so appends set
 * no deadline), operations spread over them round robin, each message of {@link Payloads} (3
 * arguments of about 200 bytes of JSON). Redis runs on the same machine and its CPU is not in the
 * benchmark's: compare figures of one run only.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class RedisMessageStoreBenchmark {

    static final int USERS = 1_000;
    /**
     * Messages queued for the ack benchmark before each iteration, per second of iteration, at
     * least: about 2.5 times the most measured here (40,000 acks/s with window 64, 12,000 with
     * window 1). After the first iteration, 3 times what the last one acked, if more.
     */
    static final int ACK_SUPPLY_PER_SECOND = 100_000;
    /** Messages in each queue of the takePending benchmark. */
    static final int PENDING = 10;

    /** A redis-server, the store, the users' queues and the in-flight window. */
    @State(Scope.Benchmark)
    public static class Redis {
        @Param({"64", "1"})
        int window;

        RedisServer server;
        RedisConnector connector;
        RedisMessageStore store;
        final UserQueue[] queues = new UserQueue[USERS];
        final FlakeIdGenerator ids = new FlakeIdGenerator(1, 1);
        final List<Object> args = Payloads.args();
        Semaphore inFlight;
        final AtomicLong failures = new AtomicLong();
        final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        int next;

        /** Starts Redis and the store once (JMH runs a subclass's trial setup first or last). */
        @Setup(Level.Trial)
        public void start() {
            if (server != null) {
                return;
            }
            server = RedisServer.start();
            connector = RedisConnector.builder().uri(server.uri()).build();
            store = RedisMessageStore.builder(connector.commands(), "bench").build();
            inFlight = new Semaphore(window);
            List<CompletionStage<?>> opened = new ArrayList<>();
            for (int u = 0; u < USERS; u++) {
                queues[u] = new UserQueue("site", "user_" + u);
                opened.add(store.connectionOpened(queues[u]));
            }
            await(opened);
        }

        @TearDown(Level.Trial)
        public void stop() {
            if (connector != null) {
                connector.close();
            }
            if (server != null) {
                server.close();
            }
        }

        /** Waits until every operation in flight completed; fails the iteration if any failed. */
        @TearDown(Level.Iteration)
        public void drain() {
            quiesce();
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " store operations failed", firstFailure.get());
            }
        }

        /** Waits until no operation is in flight. */
        void quiesce() {
            inFlight.acquireUninterruptibly(window);
            inFlight.release(window);
        }

        UserQueue nextQueue() {
            UserQueue q = queues[next];
            next = next + 1 == USERS ? 0 : next + 1;
            return q;
        }

        QueuedMessage newMessage() {
            return new QueuedMessage(ids.nextId(), Payloads.EVENT, args, false, System.currentTimeMillis());
        }

        /** Starts an operation once a permit is free; its completion frees the permit. */
        <T> void issue(java.util.function.Supplier<CompletionStage<T>> operation,
                java.util.function.Predicate<T> ok) throws InterruptedException {
            inFlight.acquire();
            CompletionStage<T> stage;
            try {
                stage = operation.get();
            } catch (RuntimeException e) {
                inFlight.release();
                throw e;
            }
            stage.whenComplete((result, failure) -> {
                if (failure != null || !ok.test(result)) {
                    failures.incrementAndGet();
                    firstFailure.compareAndSet(null, failure != null ? failure
                            : new IllegalStateException("unexpected outcome " + result));
                }
                inFlight.release();
            });
        }

        /** Empties every queue (their connections stay open). */
        void purgeAll() {
            List<CompletionStage<?>> purged = new ArrayList<>();
            for (UserQueue q : queues) {
                purged.add(store.purge(q));
            }
            await(purged);
        }

        /** Appends {@code perUser} messages to each queue, 256 in flight; the ids, by user. */
        long[][] fill(int perUser) {
            long[][] filled = new long[USERS][perUser];
            Semaphore fillWindow = new Semaphore(256);
            List<CompletableFuture<?>> appended = new ArrayList<>();
            for (int i = 0; i < perUser; i++) {
                for (int u = 0; u < USERS; u++) {
                    QueuedMessage m = newMessage();
                    filled[u][i] = m.id();
                    fillWindow.acquireUninterruptibly();
                    CompletableFuture<?> f = store.append(queues[u], m).toCompletableFuture();
                    f.whenComplete((r, t) -> fillWindow.release());
                    appended.add(f);
                }
            }
            await(appended);
            return filled;
        }

        static void await(List<? extends CompletionStage<?>> stages) {
            CompletableFuture.allOf(stages.stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new))
                    .orTimeout(120, TimeUnit.SECONDS).join();
        }
    }

    /** Queues emptied after each iteration, so that appends do not pile up in Redis. */
    @State(Scope.Benchmark)
    public static class Appending extends Redis {
        @TearDown(Level.Iteration)
        public void empty() {
            quiesce(); // whichever teardown JMH runs first
            purgeAll();
        }
    }

    /** {@value #PENDING} messages in each queue, left there. */
    @State(Scope.Benchmark)
    public static class Pending extends Redis {
        @Setup(Level.Trial)
        public void pending() {
            start();
            fill(PENDING);
        }
    }

    /** Enough messages queued before each iteration, acked oldest first in each queue. */
    @State(Scope.Benchmark)
    public static class Acking extends Redis {
        long[][] supply;
        int[] acked;
        long ackedLastIteration;
        int user;

        @Setup(Level.Iteration)
        public void supply(IterationParams iteration) {
            quiesce();
            purgeAll();
            double seconds = Math.max(1, iteration.getTime().convertTo(TimeUnit.MILLISECONDS) / 1000.0);
            long wanted = Math.max((long) Math.ceil(seconds * ACK_SUPPLY_PER_SECOND), 3L * ackedLastIteration);
            supply = fill((int) Math.min(Integer.MAX_VALUE / USERS, (wanted + USERS - 1) / USERS));
            ackedLastIteration = 0;
            acked = new int[USERS];
            user = 0;
        }

        long nextHead() {
            int u = user;
            user = u + 1 == USERS ? 0 : u + 1;
            if (acked[u] == supply[u].length) {
                throw new IllegalStateException("acked all " + (long) USERS * supply[u].length
                        + " messages queued for this iteration before it ended: raise ACK_SUPPLY_PER_SECOND");
            }
            ackedLastIteration++;
            return supply[u][acked[u]++];
        }
    }

    @Benchmark
    public void append(Appending r) throws InterruptedException {
        UserQueue q = r.nextQueue();
        QueuedMessage m = r.newMessage();
        r.issue(() -> r.store.append(q, m), outcome -> outcome == MessageStore.AppendOutcome.APPENDED);
    }

    /** A take of a queue of {@value #PENDING} messages: one script, and the messages decoded. */
    @Benchmark
    public void takePending(Pending r) throws InterruptedException {
        UserQueue q = r.nextQueue();
        r.issue(() -> r.store.takePending(q), pending -> pending.messages().size() == PENDING);
    }

    /** An ack of the oldest message of a queue. */
    @Benchmark
    public void ack(Acking r) throws InterruptedException {
        int u = r.user;
        long id = r.nextHead();
        UserQueue q = r.queues[u];
        r.issue(() -> r.store.ack(q, id), outcome -> outcome == MessageStore.AckOutcome.REMOVED);
    }
}
