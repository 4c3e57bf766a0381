package io.pushbridge;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * The per-user ack queues: messages for a user room wait here until a client of that user
 * acknowledges them, so that nothing is lost while the user is offline.
 *
 * <p>Contract (held by {@code MessageStoreContractTests} for every implementation):
 * <ul>
 *   <li>{@link #append} keeps messages in append order; a queue holds at most
 *       {@code maxPending} messages. An append to a full queue never drops silently: it clears the
 *       queue, marks it for resync, keeps the new message, and answers
 *       {@link AppendOutcome#OVERFLOWED}.</li>
 *   <li>A queue lives while its user has an open connection ({@link #connectionOpened} minus
 *       {@link #connectionClosed}). When the last one closes, or when a message is appended for a
 *       user who has no connection, the queue expires {@code clientTtl} later unless a connection
 *       opens first. A ttl of zero keeps queues forever.</li>
 *   <li>A queue that expires holding messages (or a resync mark) leaves a small tombstone for a
 *       bounded time (the store's {@code resyncMemory}, counted from the queue's deadline; zero
 *       keeps none): while it is remembered, the next {@link #takePending} of that user answers a
 *       resync with {@link ResyncCause#EXPIRY}, once. A queue that expires empty lost nothing and
 *       leaves nothing; a user who connects before the deadline keeps the queue and gets no resync.</li>
 *   <li>Each operation is atomic for its queue.</li>
 * </ul>
 *
 * <p>Every method answers with a stage and must not block the caller: the gateway calls them from
 * its worker threads, from its Netty I/O threads (the removal of an acked message, straight from the
 * thread that read the ack) and from whatever thread completes a previous stage. A store over a
 * blocking client hands its calls to a thread pool of its own and answers with that stage.
 */
public interface MessageStore {

    /** Appends a message to the end of a user's queue. */
    CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message);

    /**
     * The pending messages of a queue, oldest first, and whether (and why) its user must resync: the
     * queue overflowed, or an earlier queue of this user expired holding messages, since the last
     * call. The mark is cleared by this call.
     */
    CompletionStage<Pending> takePending(UserQueue queue);

    /**
     * Removes one message on its client's ack. If the message was sent with {@code resync} and is
     * not the first pending message of its event in this queue, the whole queue is cleared
     * instead and the answer is {@link AckOutcome#RESYNC}.
     */
    CompletionStage<AckOutcome> ack(UserQueue queue, long messageId);

    /** Removes exactly these messages (the ack of a {@code batch}); answers how many were there. */
    CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds);

    /** Drops every message of a queue and its resync mark (also one left by an expired queue). */
    CompletionStage<Void> clear(UserQueue queue);

    /**
     * Drops every message of a queue and its resync mark, as {@link #clear} does, and answers how
     * many messages it dropped: counted in the same atomic step, so that a message appended just
     * before is both dropped and counted (the queue inspector's purge).
     *
     * <p>The default, for stores written before this method, counts with {@link #inspect} and then
     * clears: a message appended between the two is dropped but not counted. Both of PushBridge's
     * stores implement it atomically.
     */
    default CompletionStage<Integer> purge(UserQueue queue) {
        return inspect(queue).thenCompose(before -> clear(queue).thenApply(v -> before.depth()));
    }

    /** A connection of this queue's user opened: the queue no longer expires. */
    CompletionStage<Void> connectionOpened(UserQueue queue);

    /** A connection of this queue's user closed; after the last one the ttl starts. */
    CompletionStage<Void> connectionClosed(UserQueue queue);

    /**
     * What one queue holds now, for operators (the queue inspector): its depth, when its oldest
     * message was queued, its open connections and whether it is marked for resync. A queue that
     * does not exist (never used, expired or cleared) answers {@link QueueSnapshot#EMPTY}. Reads
     * only; the queue's ttl does not move.
     *
     * <p>The default answers a failed stage with {@link UnsupportedOperationException}, for stores
     * written before this method; both of PushBridge's stores implement it.
     */
    default CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
        return java.util.concurrent.CompletableFuture.failedFuture(
                new UnsupportedOperationException(getClass().getName() + " cannot inspect queues"));
    }

    /**
     * Totals over every queue of one site, for the queue meters: how many queues hold messages, how
     * many messages they hold and when the oldest of them was queued. Implementations may compute it
     * by walking the site's queues, so callers call it at most every few seconds, never per message.
     *
     * <p>The default answers a failed stage with {@link UnsupportedOperationException}.
     */
    default CompletionStage<SiteQueues> siteQueues(String site) {
        return java.util.concurrent.CompletableFuture.failedFuture(
                new UnsupportedOperationException(getClass().getName() + " cannot total queues"));
    }

    /**
     * One queue as {@link #inspect} finds it.
     *
     * @param depth pending messages
     * @param oldestCreatedAtMillis {@link QueuedMessage#createdAtMillis()} of the oldest pending message, 0 when empty
     * @param connections open connections of the queue's user (as counted by the store)
     * @param resyncRequired whether the queue is marked for resync (an overflow, or an expired queue
     *     remembered for the user's return): the next {@link #takePending} answers a resync
     */
    record QueueSnapshot(int depth, long oldestCreatedAtMillis, int connections, boolean resyncRequired) {

        /** A queue that holds nothing and has no connection. */
        public static final QueueSnapshot EMPTY = new QueueSnapshot(0, 0, 0, false);
    }

    /**
     * Totals over a site's queues, as {@link #siteQueues} finds them.
     *
     * @param queues queues that hold at least one message
     * @param messages pending messages in all of them
     * @param oldestCreatedAtMillis {@link QueuedMessage#createdAtMillis()} of the oldest pending message of the site, 0 when none
     */
    record SiteQueues(long queues, long messages, long oldestCreatedAtMillis) {

        /** A site without pending messages. */
        public static final SiteQueues EMPTY = new SiteQueues(0, 0, 0);
    }

    /** What {@link #append} did. */
    enum AppendOutcome {
        /** The message was appended. */
        APPENDED,
        /** The queue was full: it was cleared, marked for resync, and now holds only this message. */
        OVERFLOWED
    }

    /** What {@link #ack} did. */
    enum AckOutcome {
        /** The message was removed. */
        REMOVED,
        /** The message was not (or no longer) in the queue; nothing changed. */
        NOT_FOUND,
        /** The resync check failed: the queue was cleared; its user must resync. */
        RESYNC
    }

    /** Why a queue asks its user to resync, as {@link Pending#resyncCause()} tells. */
    enum ResyncCause {
        /** An append found the queue full: it was cleared and marked. */
        OVERFLOW,
        /** A queue of this user expired holding messages that nobody acknowledged. */
        EXPIRY
    }

    /**
     * The pending messages of a queue.
     *
     * @param messages oldest first
     * @param resyncCause why the user must resync (marked since the last {@link #takePending}), or
     *     {@code null} when it need not
     */
    record Pending(List<QueuedMessage> messages, @Nullable ResyncCause resyncCause) {

        /** Nothing pending, no resync. */
        public static final Pending NONE = new Pending(List.of(), (ResyncCause) null);

        public Pending {
            messages = List.copyOf(messages);
        }

        /**
         * The form of earlier versions: a required resync is taken for an {@link ResyncCause#OVERFLOW}.
         *
         * @param messages oldest first
         * @param resyncRequired whether the queue was marked since the last {@link #takePending}
         */
        public Pending(List<QueuedMessage> messages, boolean resyncRequired) {
            this(messages, resyncRequired ? ResyncCause.OVERFLOW : null);
        }

        /** Whether the user must resync before (or instead of) handling these messages. */
        public boolean resyncRequired() {
            return resyncCause != null;
        }
    }
}
