package io.pushbridge.samples.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.UserQueue;
import java.util.concurrent.TimeUnit;

/** What the gateway's store holds for a user, as the interop tests check it. */
final class Queues {

    private Queues() {
    }

    /** The messages pending in a queue, read with {@link MessageStore#inspect} (nothing changes). */
    static int depth(MessageStore store, UserQueue queue) throws Exception {
        return store.inspect(queue).toCompletableFuture().get(5, TimeUnit.SECONDS).depth();
    }

    /** Waits (up to 10 s) until the queue holds that many messages. */
    static void awaitDepth(MessageStore store, UserQueue queue, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int now;
        while ((now = depth(store, queue)) != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(now).as("messages in the queue of %s", queue).isEqualTo(expected);
    }
}
