package io.pushbridge.gateway;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The gateway's worker executor, which never drops a task: one rejected (during shutdown, or by a
 * saturated user executor) runs on the calling thread instead, so that bookkeeping such as
 * closing a user's queue connection is never lost.
 */
final class Workers implements Executor {

    private final Executor delegate;

    Workers(Executor delegate) {
        this.delegate = delegate;
    }

    @Override
    public void execute(Runnable task) {
        try {
            delegate.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }
}
