package io.pushbridge.memory;

import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The embedded {@link MessageStore}: ack queues in this JVM's heap, for a single gateway node
 * without Redis. Queues do not survive a restart of the node.
 *
 * <p><b>Threading.</b> Thread-safe; share one instance per gateway. Each queue has its own lock, so
 * every operation is atomic for its queue and operations on different queues do not contend. Every
 * method does its work on the calling thread and answers with an already completed stage; nothing
 * blocks beyond the queue's lock, and the store starts no threads.
 *
 * <p><b>Cost.</b> {@link #append}, {@link #ack} of a message without {@code resync},
 * {@link #connectionOpened} and {@link #connectionClosed} are O(1); {@link #remove} is O(k) for k
 * ids; {@link #takePending} copies the queue, O(n); an {@link #ack} with {@code resync} scans the
 * queue up to the acked message, O(n). A queue holds at most {@code maxPendingPerUser} messages.
 *
 * <p><b>Expiry.</b> Time comes from the injected {@link Clock}. A queue past its deadline behaves as
 * absent for every operation and is dropped when next touched; {@link #purgeExpired()} drops all of
 * them at once and is meant to be called now and then by the owner's scheduler, so that queues of
 * users who never come back do not stay in memory. A queue that holds no message, no resync mark
 * and no open connection is dropped at once.
 *
 * <p><b>Expired queues remembered.</b> When a queue is dropped past its deadline while it still held
 * messages (or a resync mark), the store remembers that user (one small map entry) until
 * {@code resyncMemory} after the deadline, so that the user's next {@link #takePending} answers a
 * resync ({@link ResyncCause#EXPIRY}). {@link #purgeExpired()} also forgets the entries whose time
 * is up; {@link #clear} forgets the queue's entry at once.
 */
public final class InMemoryMessageStore implements MessageStore {

    /** The default bound of one user's queue. */
    public static final int DEFAULT_MAX_PENDING_PER_USER = 10_000;

    /** The default of {@link Builder#siteQueuesMaxAge}. */
    public static final Duration DEFAULT_SITE_QUEUES_MAX_AGE = Duration.ofSeconds(1);

    /** The default time a queue is kept after its user's last connection closed. */
    public static final Duration DEFAULT_CLIENT_TTL = Duration.ofSeconds(3600);

    /** The default time a queue that expired holding messages is remembered after its deadline. */
    public static final Duration DEFAULT_RESYNC_MEMORY = Duration.ofDays(7);

    private static final CompletionStage<AppendOutcome> APPENDED = CompletableFuture.completedStage(AppendOutcome.APPENDED);
    private static final CompletionStage<AppendOutcome> OVERFLOWED = CompletableFuture.completedStage(AppendOutcome.OVERFLOWED);
    private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);
    private static final Pending EXPIRED = new Pending(List.of(), ResyncCause.EXPIRY);
    /** What {@link #inspect} shows of a queue remembered as lost: nothing but the resync mark. */
    private static final QueueSnapshot LOST = new QueueSnapshot(0, 0, 0, true);

    private final int maxPendingPerUser;
    private final Duration clientTtl;
    /** The ttl in milliseconds, at least 1 unless the ttl is zero (keep forever). */
    private final long clientTtlMillis;
    private final Duration resyncMemory;
    /** The memory in milliseconds, 0 when off. */
    private final long resyncMemoryMillis;
    private final Clock clock;
    private final ConcurrentHashMap<UserQueue, QueueState> queues = new ConcurrentHashMap<>();
    /**
     * Queues that expired holding messages: until when (epoch ms) their user's next take answers a
     * resync. At most one entry per such queue; an entry and a live queue never stand for the same
     * loss (a new queue takes the entry over as its resync mark).
     */
    private final ConcurrentHashMap<UserQueue, Long> lost = new ConcurrentHashMap<>();
    private final long siteQueuesMaxAgeNanos;
    private final Object totalsLock = new Object();
    /** The last pass of {@link #siteQueues}. */
    private volatile @org.jspecify.annotations.Nullable Totals lastTotals;
    /** Guarded by totalsLock. */
    private long totalsPasses;
    /** Queues dropped because their ttl ran out, by site. */
    private final ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> expired = new ConcurrentHashMap<>();

    /** A store with the default bound, ttl and resync memory, on the system clock. */
    public InMemoryMessageStore() {
        this(DEFAULT_MAX_PENDING_PER_USER, DEFAULT_CLIENT_TTL, Clock.systemUTC());
    }

    /**
     * A store with these settings and the {@link #DEFAULT_RESYNC_MEMORY}.
     *
     * @param maxPendingPerUser the most messages one queue holds, at least 1
     * @param clientTtl how long a queue is kept after its user's last connection closed, or after a
     *     message was appended for a user without connection; zero keeps queues forever
     * @param clock the time source of expiry
     * @throws IllegalArgumentException naming the setting when a value is out of range
     */
    public InMemoryMessageStore(int maxPendingPerUser, Duration clientTtl, Clock clock) {
        this(maxPendingPerUser, clientTtl, DEFAULT_RESYNC_MEMORY, clock);
    }

    /**
     * A store with these settings.
     *
     * @param maxPendingPerUser the most messages one queue holds, at least 1
     * @param clientTtl how long a queue is kept after its user's last connection closed, or after a
     *     message was appended for a user without connection; zero keeps queues forever
     * @param resyncMemory how long after its deadline a queue that expired holding messages is
     *     remembered, so that its user's next take answers a resync; zero remembers none
     * @param clock the time source of expiry
     * @throws IllegalArgumentException naming the setting when a value is out of range
     */
    public InMemoryMessageStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory, Clock clock) {
        this(maxPendingPerUser, clientTtl, resyncMemory, clock, DEFAULT_SITE_QUEUES_MAX_AGE);
    }

    private InMemoryMessageStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory, Clock clock,
            Duration siteQueuesMaxAge) {
        this.siteQueuesMaxAgeNanos = siteQueuesMaxAge.toNanos();
        checkMaxPendingPerUser(maxPendingPerUser);
        checkClientTtl(clientTtl);
        checkResyncMemory(resyncMemory);
        require(clock != null, "clock must not be null");
        this.maxPendingPerUser = maxPendingPerUser;
        this.clientTtl = clientTtl;
        this.clientTtlMillis = clientTtl.isZero() ? 0 : Math.max(1, saturatedMillis(clientTtl));
        this.resyncMemory = resyncMemory;
        this.resyncMemoryMillis = resyncMemory.isZero() ? 0 : Math.max(1, saturatedMillis(resyncMemory));
        this.clock = clock;
    }

    /** A builder that starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The most messages one queue holds. */
    public int maxPendingPerUser() {
        return maxPendingPerUser;
    }

    /** How long a queue is kept once its user has no connection; zero keeps queues forever. */
    public Duration clientTtl() {
        return clientTtl;
    }

    /** How long after its deadline a queue that expired holding messages is remembered; zero: none. */
    public Duration resyncMemory() {
        return resyncMemory;
    }

    @Override
    public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
        Objects.requireNonNull(message, "message");
        boolean overflowed = update(queue, true, state -> {
            if (state.connections == 0 && !state.hasDeadline) {
                state.startTtl(clock.millis(), clientTtlMillis);
            }
            boolean full = state.messages.size() >= maxPendingPerUser
                    && !state.messages.containsKey(message.id());
            if (full) {
                state.messages.clear();
                if (state.resyncCause == null) {
                    state.resyncCause = ResyncCause.OVERFLOW; // an earlier cause stays: one resync covers both
                }
            }
            // a repeated id (a retried append) keeps its place in the queue
            if (state.messages.isEmpty()) {
                state.messages = new LinkedHashMap<>();
            }
            state.messages.put(message.id(), message);
            return full;
        }, false);
        return overflowed ? OVERFLOWED : APPENDED;
    }

    @Override
    public CompletionStage<Pending> takePending(UserQueue queue) {
        Pending pending = update(queue, false, state -> {
            Pending p = new Pending(List.copyOf(state.messages.values()), state.resyncCause);
            state.resyncCause = null;
            return p;
        }, null);
        if (pending == null) {
            // no queue: maybe one that expired holding messages, remembered for this user's return
            pending = takeLost(queue, clock.millis()) ? EXPIRED : Pending.NONE;
        }
        return CompletableFuture.completedStage(pending);
    }

    @Override
    public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
        AckOutcome outcome = update(queue, false, state -> {
            QueuedMessage acked = state.messages.get(messageId);
            if (acked == null) {
                return AckOutcome.NOT_FOUND;
            }
            if (acked.resync() && firstIdOfEvent(state.messages, acked.event()) != messageId) {
                // the client missed an earlier message of this event; the resync mark is left as
                // it is (it only ever asks for one more resync)
                state.messages.clear();
                return AckOutcome.RESYNC;
            }
            state.messages.remove(messageId);
            return AckOutcome.REMOVED;
        }, AckOutcome.NOT_FOUND);
        return CompletableFuture.completedStage(outcome);
    }

    @Override
    public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
        Objects.requireNonNull(messageIds, "messageIds");
        int removed = update(queue, false, state -> {
            int n = 0;
            for (Long id : messageIds) {
                if (state.messages.remove(id) != null) {
                    n++;
                }
            }
            return n;
        }, 0);
        return CompletableFuture.completedStage(removed);
    }

    @Override
    public CompletionStage<Void> clear(UserQueue queue) {
        purge(queue);
        return DONE;
    }

    /** {@inheritDoc} Under the queue's lock: the count is that of the messages it removed. */
    @Override
    public CompletionStage<Integer> purge(UserQueue queue) {
        int dropped = update(queue, false, state -> {
            int n = state.messages.size();
            state.messages.clear();
            state.resyncCause = null;
            return n;
        }, 0);
        lost.remove(Objects.requireNonNull(queue, "queue"));
        return CompletableFuture.completedStage(dropped);
    }

    @Override
    public CompletionStage<Void> connectionOpened(UserQueue queue) {
        update(queue, true, state -> {
            if (state.connections < Integer.MAX_VALUE) {
                state.connections++;
            }
            state.hasDeadline = false;
            return Boolean.TRUE;
        }, Boolean.FALSE);
        return DONE;
    }

    @Override
    public CompletionStage<Void> connectionClosed(UserQueue queue) {
        update(queue, false, state -> {
            if (state.connections > 0) {
                state.connections--;
                if (state.connections == 0) {
                    state.startTtl(clock.millis(), clientTtlMillis);
                }
            }
            return Boolean.TRUE;
        }, Boolean.FALSE);
        return DONE;
    }

    /**
     * {@inheritDoc}
     *
     * <p>O(1), under the queue's lock; an expired queue answers {@link QueueSnapshot#EMPTY} (marked
     * for resync where it is remembered as lost) and is left for {@link #purgeExpired()}.
     */
    @Override
    public CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
        Objects.requireNonNull(queue, "queue");
        long now = clock.millis();
        QueueState state = queues.get(queue);
        if (state != null) {
            synchronized (state) {
                if (!state.retired) {
                    if (!state.isExpired(now)) {
                        return CompletableFuture.completedStage(new QueueSnapshot(state.messages.size(), oldestCreatedAt(state),
                                state.connections, state.resyncCause != null));
                    }
                    return CompletableFuture.completedStage(state.losesMessages() && now < forgetAt(state.deadlineMillis)
                            ? LOST : QueueSnapshot.EMPTY);
                }
            }
        }
        Long forget = lost.get(queue);
        return CompletableFuture.completedStage(forget != null && now < forget ? LOST : QueueSnapshot.EMPTY);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One pass over every queue held in memory totals every site at once, each queue locked only
     * for the moment it is looked at, on the calling thread; expired queues do not count. Calls for
     * any site within {@link Builder#siteQueuesMaxAge} of a pass (1 s by default, and as long as
     * the store's clock moved less than that) share its totals; a call while a pass runs waits for
     * it and shares it.
     */
    @Override
    public CompletionStage<SiteQueues> siteQueues(String site) {
        Objects.requireNonNull(site, "site");
        return CompletableFuture.completedStage(totals().getOrDefault(site, SiteQueues.EMPTY));
    }

    /** The totals of every site: the last pass when it is young enough, else a new one. */
    private Map<String, SiteQueues> totals() {
        Totals last = lastTotals;
        if (fresh(last)) {
            return last.sites();
        }
        synchronized (totalsLock) {
            last = lastTotals;
            if (fresh(last)) {
                return last.sites();
            }
            long now = clock.millis();
            Map<String, long[]> sums = new java.util.HashMap<>();
            for (Map.Entry<UserQueue, QueueState> entry : queues.entrySet()) {
                QueueState state = entry.getValue();
                synchronized (state) {
                    if (state.retired || state.isExpired(now) || state.messages.isEmpty()) {
                        continue;
                    }
                    long[] t = sums.computeIfAbsent(entry.getKey().site(), x -> new long[] {0, 0, Long.MAX_VALUE});
                    t[0]++;
                    t[1] += state.messages.size();
                    t[2] = Math.min(t[2], oldestCreatedAt(state));
                }
            }
            Map<String, SiteQueues> sites = new java.util.HashMap<>();
            sums.forEach((site, t) -> sites.put(site, new SiteQueues(t[0], t[1], t[2])));
            Totals fresh = new Totals(System.nanoTime(), now, Map.copyOf(sites));
            totalsPasses++;
            lastTotals = fresh;
            return fresh.sites();
        }
    }

    private boolean fresh(@org.jspecify.annotations.Nullable Totals totals) {
        if (totals == null || siteQueuesMaxAgeNanos == 0) {
            return false;
        }
        long moved = clock.millis() - totals.clockMillis();
        return System.nanoTime() - totals.nanos() < siteQueuesMaxAgeNanos && moved >= 0
                && moved < Duration.ofNanos(siteQueuesMaxAgeNanos).toMillis();
    }

    /** Passes over the queues made for {@link #siteQueues}; for tests. */
    long totalsPasses() {
        synchronized (totalsLock) {
            return totalsPasses;
        }
    }

    /** One pass of {@link #siteQueues}: when (both clocks) and what it found. */
    private record Totals(long nanos, long clockMillis, Map<String, SiteQueues> sites) {
    }

    /** The creation time of a queue's first message, 0 when it has none. Called holding its lock. */
    private static long oldestCreatedAt(QueueState state) {
        Iterator<QueuedMessage> it = state.messages.values().iterator();
        return it.hasNext() ? it.next().createdAtMillis() : 0;
    }

    /**
     * The number of messages pending in a queue; zero for an absent or expired queue. For tests and
     * administration; O(1).
     */
    public int depth(UserQueue queue) {
        return update(queue, false, state -> state.messages.size(), 0);
    }

    /**
     * Drops every queue whose ttl has run out (remembering those that held messages) and forgets
     * the expired queues whose {@code resyncMemory} is over. Cheap to call often: O(number of queues
     * + remembered ones), each queue locked only for the moment it is looked at.
     *
     * @return how many queues were dropped
     */
    public int purgeExpired() {
        long now = clock.millis();
        int purged = 0;
        for (Iterator<Map.Entry<UserQueue, QueueState>> it = queues.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<UserQueue, QueueState> entry = it.next();
            QueueState state = entry.getValue();
            synchronized (state) {
                if (!state.retired && state.isExpired(now)) {
                    expire(entry.getKey(), state);
                    purged++;
                }
            }
        }
        lost.entrySet().removeIf(e -> now >= e.getValue());
        return purged;
    }

    /**
     * How many queues of a site this store dropped because their ttl ran out (when a purge or an
     * operation found them expired), since it was made; for the {@code pushbridge.queues.expired}
     * meter. O(1).
     */
    public long expiredQueues(String site) {
        java.util.concurrent.atomic.LongAdder n = expired.get(site);
        return n == null ? 0 : n.sum();
    }

    private void countExpired(UserQueue queue) {
        expired.computeIfAbsent(queue.site(), k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    /** How many queues are held in memory (expired ones not yet dropped included); for tests. */
    int trackedQueues() {
        return queues.size();
    }

    /** How many expired queues are remembered as lost (forgotten ones not yet purged included); for tests. */
    int rememberedLosses() {
        return lost.size();
    }

    @Override
    public String toString() {
        return "InMemoryMessageStore[maxPendingPerUser=" + maxPendingPerUser + ", clientTtl=" + clientTtl
                + ", resyncMemory=" + resyncMemory + "]";
    }

    /**
     * Runs {@code op} on the live state of a queue under its lock. An expired queue is dropped first
     * and counts as absent: then, unless {@code create}, {@code absent} is answered; with
     * {@code create} a fresh queue is made, which takes over the user's remembered loss as its
     * resync mark. A queue left with nothing worth keeping is dropped.
     */
    private <R> R update(UserQueue queue, boolean create, Function<QueueState, R> op, R absent) {
        Objects.requireNonNull(queue, "queue");
        for (;;) {
            QueueState state = create ? queues.computeIfAbsent(queue, q -> new QueueState()) : queues.get(queue);
            if (state == null) {
                return absent;
            }
            synchronized (state) {
                if (state.retired) {
                    continue; // dropped by another thread meanwhile; look again
                }
                long now = clock.millis();
                if (state.isExpired(now)) {
                    expire(queue, state);
                    if (create) {
                        continue;
                    }
                    return absent;
                }
                if (state.fresh) {
                    // an entry is written before its expired queue leaves the map, so a queue made
                    // after that sees it here
                    state.fresh = false;
                    if (takeLost(queue, now)) {
                        state.resyncCause = ResyncCause.EXPIRY;
                    }
                }
                R result = op.apply(state);
                if (state.isIdle()) {
                    state.retired = true;
                    queues.remove(queue, state);
                }
                return result;
            }
        }
    }

    /** Drops an expired queue, remembering it when it held messages. Called holding its lock. */
    private void expire(UserQueue queue, QueueState state) {
        if (resyncMemoryMillis > 0 && state.losesMessages()) {
            long forget = forgetAt(state.deadlineMillis);
            if (clock.millis() < forget) {
                lost.merge(queue, forget, Math::max);
            }
        }
        state.retired = true;
        queues.remove(queue, state);
        countExpired(queue);
    }

    /** Until when a queue that expired at {@code deadlineMillis} is remembered. */
    private long forgetAt(long deadlineMillis) {
        long forget = deadlineMillis + resyncMemoryMillis;
        return forget < deadlineMillis ? Long.MAX_VALUE : forget; // overflowed: as good as never
    }

    /** Takes (removes) the queue's remembered loss; whether there was one not yet forgotten. */
    private boolean takeLost(UserQueue queue, long nowMillis) {
        Long forget = lost.remove(queue);
        return forget != null && nowMillis < forget;
    }

    private static long firstIdOfEvent(java.util.Map<Long, QueuedMessage> messages, String event) {
        for (QueuedMessage m : messages.values()) {
            if (m.event().equals(event)) {
                return m.id();
            }
        }
        throw new IllegalStateException("unreachable: the acked message is in the queue");
    }

    private static long saturatedMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static void checkMaxPendingPerUser(int value) {
        require(value >= 1, "maxPendingPerUser must be >= 1, was " + value);
    }

    private static void checkClientTtl(Duration value) {
        require(value != null, "clientTtl must not be null");
        require(!value.isNegative(), "clientTtl must be >= 0 (0 keeps queues forever), was " + value);
    }

    private static void checkResyncMemory(Duration value) {
        require(value != null, "resyncMemory must not be null");
        require(!value.isNegative(), "resyncMemory must be >= 0 (0 remembers no expired queue), was " + value);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** One queue; guarded by its own monitor. */
    private static final class QueueState {

        /**
         * The queue's messages in order; the JDK's shared empty map (whose remove and clear do
         * nothing) until the first append: most queues of connected users stay empty (56 bytes each).
         */
        java.util.Map<Long, QueuedMessage> messages = java.util.Collections.emptyMap();
        /** Why the user must resync at the next take, or null. */
        @Nullable ResyncCause resyncCause;
        int connections;
        boolean hasDeadline;
        long deadlineMillis;
        /** Set once the state has left the map; a thread that still holds it must look again. */
        boolean retired;
        /** Not yet looked at by any operation: it may have to take over a remembered loss. */
        boolean fresh = true;

        void startTtl(long nowMillis, long ttlMillis) {
            if (ttlMillis == 0) {
                hasDeadline = false; // zero keeps the queue forever
                return;
            }
            hasDeadline = true;
            deadlineMillis = nowMillis + ttlMillis;
            if (((nowMillis ^ deadlineMillis) & (ttlMillis ^ deadlineMillis)) < 0) {
                deadlineMillis = Long.MAX_VALUE; // overflowed: as good as never
            }
        }

        boolean isExpired(long nowMillis) {
            return hasDeadline && nowMillis >= deadlineMillis;
        }

        boolean isIdle() {
            return messages.isEmpty() && resyncCause == null && connections == 0;
        }

        /** Whether expiring now would lose something its user was to get: messages or a resync mark. */
        boolean losesMessages() {
            return !messages.isEmpty() || resyncCause != null;
        }
    }

    /**
     * Builds an {@link InMemoryMessageStore}; each setter checks its value at once and names it when
     * it is out of range. Starts from {@link #DEFAULT_MAX_PENDING_PER_USER},
     * {@link #DEFAULT_CLIENT_TTL}, {@link #DEFAULT_RESYNC_MEMORY} and the system clock.
     */
    public static final class Builder {

        private int maxPendingPerUser = DEFAULT_MAX_PENDING_PER_USER;
        private Duration clientTtl = DEFAULT_CLIENT_TTL;
        private Duration resyncMemory = DEFAULT_RESYNC_MEMORY;
        private Clock clock = Clock.systemUTC();
        private Duration siteQueuesMaxAge = DEFAULT_SITE_QUEUES_MAX_AGE;

        private Builder() {
        }

        /** The most messages one queue holds, at least 1. */
        public Builder maxPendingPerUser(int maxPendingPerUser) {
            checkMaxPendingPerUser(maxPendingPerUser);
            this.maxPendingPerUser = maxPendingPerUser;
            return this;
        }

        /** How long a queue is kept once its user has no connection, at least zero (forever). */
        public Builder clientTtl(Duration clientTtl) {
            checkClientTtl(clientTtl);
            this.clientTtl = clientTtl;
            return this;
        }

        /**
         * How long after its deadline a queue that expired holding messages is remembered, so that
         * its user's next connection is told to resync; at least zero (remember none). Costs one
         * small map entry per such queue for that time.
         */
        public Builder resyncMemory(Duration resyncMemory) {
            checkResyncMemory(resyncMemory);
            this.resyncMemory = resyncMemory;
            return this;
        }

        /** The time source of expiry; tests pass a clock they can move. */
        public Builder clock(Clock clock) {
            require(clock != null, "clock must not be null");
            this.clock = clock;
            return this;
        }

        /**
         * How long one pass over the queues answers {@link InMemoryMessageStore#siteQueues} for
         * every site; {@link #DEFAULT_SITE_QUEUES_MAX_AGE} by default, zero for a pass per call.
         */
        public Builder siteQueuesMaxAge(Duration maxAge) {
            require(maxAge != null && !maxAge.isNegative(), "siteQueuesMaxAge must be >= 0, was " + maxAge);
            this.siteQueuesMaxAge = maxAge;
            return this;
        }

        public InMemoryMessageStore build() {
            return new InMemoryMessageStore(maxPendingPerUser, clientTtl, resyncMemory, clock, siteQueuesMaxAge);
        }
    }
}
