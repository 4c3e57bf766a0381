package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import java.util.Collection;
import java.util.concurrent.CompletionStage;

/**
 * A store that hands every operation of the contract to another one and leaves the optional ones
 * ({@code inspect}, {@code siteQueues}) to the interface's defaults: a store written before them.
 * Tests override what they want to control.
 */
class DelegatingStore implements MessageStore {

    private final MessageStore delegate;

    DelegatingStore(MessageStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public CompletionStage<AppendOutcome> append(UserQueue queue, QueuedMessage message) {
        return delegate.append(queue, message);
    }

    @Override
    public CompletionStage<Pending> takePending(UserQueue queue) {
        return delegate.takePending(queue);
    }

    @Override
    public CompletionStage<AckOutcome> ack(UserQueue queue, long messageId) {
        return delegate.ack(queue, messageId);
    }

    @Override
    public CompletionStage<Integer> remove(UserQueue queue, Collection<Long> messageIds) {
        return delegate.remove(queue, messageIds);
    }

    @Override
    public CompletionStage<Void> clear(UserQueue queue) {
        return delegate.clear(queue);
    }

    @Override
    public CompletionStage<Void> connectionOpened(UserQueue queue) {
        return delegate.connectionOpened(queue);
    }

    @Override
    public CompletionStage<Void> connectionClosed(UserQueue queue) {
        return delegate.connectionClosed(queue);
    }
}
