package io.pushbridge.redis.bench;

import io.pushbridge.Message;
import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.RedisNodeRegistry;
import io.pushbridge.redis.RedisRouter;
import io.pushbridge.redis.testing.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Throughput of the Redis adapters against the in-memory baseline, measured in one run on one
 * machine (figures are only comparable within a run). Starts its own redis-server.
 *
 * <pre>
 * ./mvnw -B -q -pl pushbridge-redis -am -DskipTests install
 * ./mvnw -B -q -pl pushbridge-redis exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.pushbridge.redis.bench.RedisThroughputBenchmark [-Dexec.args="rounds"]
 * </pre>
 *
 * Measures: append + ack through each store (64 in flight, 100 users); routing of room messages
 * from one node to another through Redis pub/sub, against the in-memory loop back; and, for the
 * routing design, what a node pays to receive and decode a message it has no member for, against
 * what one channel per room would cost in subscribe/unsubscribe round trips and Redis memory.
 */
public final class RedisThroughputBenchmark {

    private static final int WINDOW = 64;
    private static final int USERS = 100;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        try (RedisServer redis = RedisServer.start()) {
            System.out.printf(Locale.ROOT, "redis-server on port %d; %d rounds, best and median of each%n", redis.port(), rounds);
            storeThroughput(redis, rounds);
            routerThroughput(redis, rounds);
            routingDesign(redis);
            queueMemory(redis);
        }
    }

    // ---- store ---------------------------------------------------------------------------------

    private static void storeThroughput(RedisServer redis, int rounds) throws Exception {
        int n = 50_000;
        List<Double> memory = new ArrayList<>();
        List<Double> inRedis = new ArrayList<>();
        try (RedisConnector c = RedisConnector.builder().uri(redis.uri()).build()) {
            for (int r = 0; r < rounds; r++) {
                memory.add(appendAck(new InMemoryMessageStore(), n, "m" + r));
                inRedis.add(appendAck(RedisMessageStore.builder(c.commands(), "bench").build(), n / 5, "r" + r));
            }
        }
        report("store append+ack (messages/s)", "in-memory", memory, "redis", inRedis);
    }

    private static double appendAck(MessageStore store, int n, String site) throws Exception {
        List<Object> args = List.of("price", Map.of("symbol", "ACME", "bid", 101.25, "ask", 101.5));
        Semaphore window = new Semaphore(WINDOW);
        CountDownLatch done = new CountDownLatch(n);
        AtomicLong failures = new AtomicLong();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            window.acquire();
            UserQueue q = new UserQueue(site, "user_" + (i % USERS));
            long id = i + 1;
            store.append(q, new QueuedMessage(id, "update", args, false, System.currentTimeMillis()))
                    .thenCompose(o -> store.ack(q, id))
                    .whenComplete((o, f) -> {
                        if (f != null) {
                            failures.incrementAndGet();
                        }
                        window.release();
                        done.countDown();
                    });
        }
        done.await(120, TimeUnit.SECONDS);
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " store operations failed");
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    // ---- router --------------------------------------------------------------------------------

    private static void routerThroughput(RedisServer redis, int rounds) throws Exception {
        int n = 50_000;
        List<Double> local = new ArrayList<>();
        List<Double> twoNodes = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            local.add(localRouter(n));
            twoNodes.add(redisRouters(redis, n / 2));
        }
        report("room message routing (messages/s)", "in-memory loop back", local, "redis, node A to node B", twoNodes);
    }

    private static double localRouter(int n) throws Exception {
        LocalRouter router = new LocalRouter();
        CountDownLatch received = new CountDownLatch(n);
        router.start(counting(received));
        return publish(router, "bench", n, received);
    }

    private static double redisRouters(RedisServer redis, int n) throws Exception {
        try (RedisConnector ca = RedisConnector.builder().uri(redis.uri()).build();
                RedisConnector cb = RedisConnector.builder().uri(redis.uri()).build();
                RedisNodeRegistry ra = RedisNodeRegistry.builder(ca.commands(), "bench-a").build();
                RedisNodeRegistry rb = RedisNodeRegistry.builder(cb.commands(), "bench-b").build()) {
            RedisRouter a = new RedisRouter(ca, ra, List.of("bench"));
            RedisRouter b = new RedisRouter(cb, rb, List.of("bench"));
            CountDownLatch received = new CountDownLatch(n);
            a.start(counting(new CountDownLatch(n)));
            b.start(counting(received));
            try {
                return publish(a, "bench", n, received);
            } finally {
                a.stop();
                b.stop();
            }
        }
    }

    private static double publish(Router router, String site, int n, CountDownLatch received) throws Exception {
        List<Object> args = List.of("price", Map.of("symbol", "ACME", "bid", 101.25, "ask", 101.5));
        Semaphore window = new Semaphore(WINDOW);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            window.acquire();
            Message m = new Message(i + 1, site, Target.rooms(Set.of("room-" + (i % USERS))), "update", args, Set.of(), false, 0);
            router.publish(m).whenComplete((v, f) -> window.release());
        }
        if (!received.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException(received.getCount() + " messages did not arrive");
        }
        return n / ((System.nanoTime() - start) / 1e9);
    }

    private static Router.Receiver counting(CountDownLatch latch) {
        return new Router.Receiver() {
            @Override
            public void deliver(Message message) {
                latch.countDown();
            }

            @Override
            public void execute(SocketCommand command) {
            }
        };
    }

    // ---- the routing design: one channel per site, or one per room ------------------------------

    private static void routingDesign(RedisServer redis) throws Exception {
        // (1) what a node pays for a message it has no member for: receive and decode
        try (RedisConnector ca = RedisConnector.builder().uri(redis.uri()).build();
                RedisConnector cb = RedisConnector.builder().uri(redis.uri()).build();
                RedisNodeRegistry ra = RedisNodeRegistry.builder(ca.commands(), "design-a").build();
                RedisNodeRegistry rb = RedisNodeRegistry.builder(cb.commands(), "design-b").build()) {
            RedisRouter a = new RedisRouter(ca, ra, List.of("design"));
            RedisRouter b = new RedisRouter(cb, rb, List.of("design"));
            int n = 50_000;
            CountDownLatch received = new CountDownLatch(n);
            a.start(counting(new CountDownLatch(n)));
            ThreadCpu cpu = new ThreadCpu();
            b.start(new Router.Receiver() {
                @Override
                public void deliver(Message message) {
                    cpu.sample();
                    received.countDown();
                }

                @Override
                public void execute(SocketCommand command) {
                }
            });
            publish(a, "design", n, received);
            a.stop();
            b.stop();
            System.out.printf(Locale.ROOT, "site channel: receiving node's I/O thread CPU per message it has no member for: %.1f µs%n",
                    cpu.microsPerSample(n));
        }
        // (2) what one channel per room would pay: a SUBSCRIBE and an UNSUBSCRIBE per room a node
        // gains and loses (every connect and disconnect of a user with a room of its own), and
        // Redis memory per channel
        try (RedisConnector c = RedisConnector.builder().uri(redis.uri()).build()) {
            var pubSub = c.newPubSub();
            int rooms = 20_000;
            long before = usedMemory(redis);
            long start = System.nanoTime();
            List<CompletableFuture<Void>> subs = new ArrayList<>();
            for (int i = 0; i < rooms; i++) {
                subs.add(pubSub.async().subscribe(("pushbridge:room:design:user_" + i).getBytes()).toCompletableFuture());
            }
            CompletableFuture.allOf(subs.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            long subscribeNanos = System.nanoTime() - start;
            long after = usedMemory(redis);
            start = System.nanoTime();
            List<CompletableFuture<Void>> unsubs = new ArrayList<>();
            for (int i = 0; i < rooms; i++) {
                unsubs.add(pubSub.async().unsubscribe(("pushbridge:room:design:user_" + i).getBytes()).toCompletableFuture());
            }
            CompletableFuture.allOf(unsubs.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            long unsubscribeNanos = System.nanoTime() - start;
            System.out.printf(Locale.ROOT, "room channels: SUBSCRIBE %.1f µs and UNSUBSCRIBE %.1f µs per room (pipelined), "
                            + "Redis memory %d bytes per subscribed channel%n",
                    subscribeNanos / 1e3 / rooms, unsubscribeNanos / 1e3 / rooms, (after - before) / rooms);
            pubSub.close();
        }
    }

    // ---- memory per queued message ---------------------------------------------------------------

    private static void queueMemory(RedisServer redis) throws Exception {
        try (RedisConnector c = RedisConnector.builder().uri(redis.uri()).build()) {
            MessageStore store = RedisMessageStore.builder(c.commands(), "memory").build();
            List<Object> args = List.of("price", Map.of("symbol", "ACME", "bid", 101.25, "ask", 101.5));
            int users = 1_000;
            int perUser = 20;
            long before = usedMemory(redis);
            List<CompletableFuture<?>> appends = new ArrayList<>();
            long id = 1;
            for (int u = 0; u < users; u++) {
                UserQueue q = new UserQueue("memory", "user_" + u);
                for (int i = 0; i < perUser; i++) {
                    appends.add(store.append(q, new QueuedMessage(900_000_000_000_000_000L + id++, "update", args, false,
                            System.currentTimeMillis())).toCompletableFuture());
                }
            }
            CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            long after = usedMemory(redis);
            System.out.printf(Locale.ROOT, "memory: %d users x %d messages of ~%d bytes of args: %d bytes per queued message "
                            + "(queue keys included)%n", users, perUser,
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(args).length,
                    (after - before) / ((long) users * perUser));
        }
    }

    private static long usedMemory(RedisServer redis) {
        for (String line : redis.command("INFO", "memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("no used_memory in INFO");
    }

    /** CPU time of the thread that calls {@link #sample()}, from its first to its last call. */
    private static final class ThreadCpu {
        private final java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        private volatile long first = -1;
        private volatile long last;

        void sample() {
            long now = mx.getCurrentThreadCpuTime();
            if (first < 0) {
                first = now;
            }
            last = now;
        }

        double microsPerSample(int n) {
            return (last - first) / 1e3 / n;
        }
    }

    // ---- report --------------------------------------------------------------------------------

    private static void report(String what, String baseName, List<Double> base, String name, List<Double> values) {
        double b = median(base);
        double v = median(values);
        System.out.printf(Locale.ROOT, "%s: %s median %.0f (best %.0f); %s median %.0f (best %.0f); ratio %.3f%n", what, baseName, b,
                max(base), name, v, max(values), v / b);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }

    private RedisThroughputBenchmark() {
    }

}
