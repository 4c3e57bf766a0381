package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the queue meters ({@code pushbridge.queue.depth}, {@code .users}, {@code .oldest.age}) of
 * each site fed: {@link #refresh()}, called every refresh interval by the gateway's timer, asks the
 * store for each site's totals ({@link MessageStore#siteQueues}) on the workers, and the gauges read
 * the last answer; a gauge read never calls the store.
 *
 * <p>A site's next read starts only after its last one ended (or timed out after one interval). A
 * failed read keeps the last totals (NaN before the first), counts {@code queues.refresh_failed}
 * and logs at most once a minute. A store that cannot total its queues (the default of
 * {@code siteQueues}) is asked once: the gauges stay NaN, and one line says so.
 */
final class QueueMeters {

    private static final Logger log = LoggerFactory.getLogger(QueueMeters.class);

    private final MessageStore store;
    private final List<SiteRuntime> sites;
    private final Executor workers;
    private final GatewayStats stats;
    private final Duration timeout;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 60_000);
    private final java.util.Set<String> reading = ConcurrentHashMap.newKeySet();
    private volatile boolean unsupported;

    QueueMeters(MessageStore store, Collection<SiteRuntime> sites, Executor workers, GatewayStats stats, Duration interval) {
        this.store = store;
        this.sites = List.copyOf(sites);
        this.workers = workers;
        this.stats = stats;
        this.timeout = interval;
    }

    /** Starts a read of every site's totals (those whose last read ended). Does not block. */
    void refresh() {
        if (unsupported) {
            return;
        }
        for (SiteRuntime site : sites) {
            String name = site.options().name();
            if (!reading.add(name)) {
                continue;
            }
            CompletableFuture<MessageStore.SiteQueues> read;
            try {
                read = CompletableFuture.supplyAsync(() -> store.siteQueues(name), workers)
                        .thenCompose(stage -> stage);
            } catch (RuntimeException e) {
                read = CompletableFuture.failedFuture(e);
            }
            read.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((totals, failure) -> {
                reading.remove(name);
                if (failure == null && totals != null) {
                    site.meters().queues(totals);
                    return;
                }
                Throwable cause = failure == null ? new NullPointerException("no totals") : Dispatcher.unwrap(failure);
                if (cause instanceof UnsupportedOperationException) {
                    if (!unsupported) {
                        unsupported = true;
                        log.info("The message store {} cannot total its queues: the queue meters (pushbridge.queue.*)"
                                + " have no values", store.getClass().getSimpleName());
                    }
                    return;
                }
                stats.increment("queues.refresh_failed");
                failureLog.warn("Could not refresh the queue meters of site '{}' (they keep their last values): {}", name,
                        cause.toString());
            });
        }
    }

    @Override
    public String toString() {
        return "QueueMeters[" + store.getClass().getSimpleName() + ", " + sites.size() + " sites]";
    }
}
