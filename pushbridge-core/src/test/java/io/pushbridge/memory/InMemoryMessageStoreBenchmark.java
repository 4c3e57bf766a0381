package io.pushbridge.memory;

import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.id.FlakeIdGenerator;
import io.pushbridge.jmh.Payloads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The in-memory store's operations on one user's queue, for a connected user (the queue has an
 * open connection, so it is neither dropped when emptied nor given a deadline) and a realistic
 * message ({@link Payloads}: 3 arguments of about 200 bytes of JSON each; the store keeps
 * references, so their size matters little here). Every operation runs on the calling thread and
 * answers a completed stage; the figures are operations per second of one thread.
 *
 * <p>Operations that consume the queue (append, ack, remove) work on a queue prepared before each
 * invocation (not measured) and do 1,000 appends, 1,000 acks or 100 removes per invocation, so
 * that JMH's per-invocation timing stays small beside the work measured.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class InMemoryMessageStoreBenchmark {

    static final int QUEUE = 1_000;
    static final int BATCH = 10;

    /** A store with one connected user and {@link #QUEUE} messages ready to append. */
    @State(Scope.Thread)
    public static class Store {
        final InMemoryMessageStore store = new InMemoryMessageStore();
        final UserQueue queue = new UserQueue("site", "user_42");
        final QueuedMessage[] messages = new QueuedMessage[QUEUE];
        final List<List<Long>> batches = new ArrayList<>();

        private boolean opened;

        /** Opens the user's connection and makes the messages, once (JMH may run a subclass's trial setup first). */
        @Setup(Level.Trial)
        public void open() {
            if (opened) {
                return;
            }
            opened = true;
            store.connectionOpened(queue);
            FlakeIdGenerator ids = new FlakeIdGenerator(1, 1);
            List<Object> args = Payloads.args();
            long now = System.currentTimeMillis();
            for (int i = 0; i < QUEUE; i++) {
                messages[i] = new QueuedMessage(ids.nextId(), Payloads.EVENT, args, false, now);
            }
            for (int i = 0; i < QUEUE; i += BATCH) {
                List<Long> batch = new ArrayList<>(BATCH);
                for (int j = i; j < i + BATCH; j++) {
                    batch.add(messages[j].id());
                }
                batches.add(List.copyOf(batch));
            }
        }

        void fill(int n) {
            store.purge(queue);
            for (int i = 0; i < n; i++) {
                store.append(queue, messages[i]);
            }
        }
    }

    /** The store with an empty queue before each invocation. */
    @State(Scope.Thread)
    public static class Empty extends Store {
        @Setup(Level.Invocation)
        public void empty() {
            store.purge(queue);
        }
    }

    /** The store with {@link #QUEUE} messages queued before each invocation. */
    @State(Scope.Thread)
    public static class Full extends Store {
        @Setup(Level.Invocation)
        public void full() {
            fill(QUEUE);
        }
    }

    /** The store with {@code depth} messages queued, left as they are. */
    @State(Scope.Thread)
    public static class Pending extends Store {
        @Param({"10", "100"})
        int depth;

        @Setup(Level.Trial)
        public void pending() {
            open();
            fill(depth);
        }
    }

    /** One append at the tail of a queue growing from 0 to 1,000 messages. */
    @Benchmark
    @OperationsPerInvocation(QUEUE)
    public void append(Empty s, Blackhole bh) {
        for (QueuedMessage m : s.messages) {
            bh.consume(s.store.append(s.queue, m));
        }
    }

    /** A copy of what is pending in a queue of 10 or 100 messages (a reconnecting user's take). */
    @Benchmark
    public MessageStore.Pending takePending(Pending s) {
        return s.store.takePending(s.queue).toCompletableFuture().join();
    }

    /** One ack of the oldest message, in a queue shrinking from 1,000 messages to 0. */
    @Benchmark
    @OperationsPerInvocation(QUEUE)
    public void ackHead(Full s, Blackhole bh) {
        for (QueuedMessage m : s.messages) {
            bh.consume(s.store.ack(s.queue, m.id()));
        }
    }

    /** One remove of a batch of 10 ids (a batch ack), in a queue shrinking from 1,000 messages to 0. */
    @Benchmark
    @OperationsPerInvocation(QUEUE / BATCH)
    public void removeBatch(Full s, Blackhole bh) {
        for (List<Long> batch : s.batches) {
            bh.consume(s.store.remove(s.queue, batch));
        }
    }
}
