package io.pushbridge.redis.bench;

import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisMessageStore;
import io.pushbridge.redis.testing.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@link RedisMessageStore#siteQueues} costs: the time of one walk over a key space holding
 * many queues of several sites, and what Redis spent on it (its {@code INFO commandstats}). Starts
 * its own redis-server.
 *
 * <pre>
 * ./mvnw -B -q -o test-compile -pl pushbridge-redis -am
 * ./mvnw -B -q -o dependency:build-classpath -pl pushbridge-redis -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -cp pushbridge-redis/target/test-classes:pushbridge-redis/target/classes:pushbridge-core/target/classes:$(cat /tmp/cp.txt) \
 *     io.pushbridge.redis.bench.SiteQueuesBenchmark [queues]
 * </pre>
 */
public final class SiteQueuesBenchmark {

    private static final int SITES = 4;
    private static final int WINDOW = 256;

    public static void main(String[] args) throws Exception {
        int queues = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        try (RedisServer redis = RedisServer.start(); RedisConnector connector = RedisConnector.builder().uri(redis.uri()).build()) {
            RedisMessageStore store = RedisMessageStore.builder(connector.commands(), "bench").siteQueuesMaxAge(Duration.ZERO).build();
            long fill = System.nanoTime();
            List<CompletableFuture<?>> window = new ArrayList<>();
            for (int q = 0; q < queues; q++) {
                UserQueue queue = new UserQueue("site-" + (q % SITES), "user_" + q);
                for (int m = 0; m <= q % 3; m++) {
                    window.add(store.append(queue, new QueuedMessage(q * 4L + m, "news", List.of("payload " + q, q, List.of(true)),
                            false, 1_700_000_000_000L + q)).toCompletableFuture());
                }
                if (window.size() >= WINDOW) {
                    CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                    window.clear();
                }
            }
            CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            System.out.printf(Locale.ROOT, "filled %d queues of %d sites in %.1f s; %s keys%n", queues, SITES,
                    (System.nanoTime() - fill) / 1e9, redis.command("DBSIZE"));
            for (int round = 1; round <= 3; round++) {
                redis.command("CONFIG", "RESETSTAT");
                long start = System.nanoTime();
                MessageStore.SiteQueues totals = store.siteQueues("site-0").toCompletableFuture().get(120, TimeUnit.SECONDS);
                long elapsed = System.nanoTime() - start;
                System.out.printf(Locale.ROOT, "walk %d: %.0f ms, site-0 %s%n", round, elapsed / 1e6, totals);
                for (String line : redis.command("INFO", "commandstats").split("\\R")) {
                    if (line.startsWith("cmdstat_scan") || line.startsWith("cmdstat_evalsha")) {
                        System.out.println("  " + line);
                    }
                }
            }
        }
    }
}
