package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.MessageStore;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The queue inspector without a port: what a purge counts, and the error answers both admin surfaces share. */
class QueueInspectorTests {

    private static final UserQueue QUEUE = new UserQueue("news", "user_1");

    @Test
    void aPurgeCountsEveryMessageItDroppedEvenOneAppendedWhileItRuns() throws Exception {
        InMemoryMessageStore memory = InMemoryMessageStore.builder().build();
        AtomicInteger appended = new AtomicInteger();
        // a send lands right after any read of the queue: between an inspect and a clear, if the purge made two calls
        MessageStore racing = new DelegatingStore(memory) {
            @Override
            public CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
                CompletionStage<QueueSnapshot> read = memory.inspect(queue);
                send(memory, appended);
                return read;
            }

            @Override
            public CompletionStage<Integer> purge(UserQueue queue) {
                return memory.purge(queue);
            }
        };
        send(memory, appended);
        QueueInspector inspector = inspector(racing);

        int purged = inspector.purge("news", "user_1", "test").toCompletableFuture().get(5, TimeUnit.SECONDS).purged();

        int left = memory.inspect(QUEUE).toCompletableFuture().get().depth();
        assertThat(purged + left).as("purged %d, left %d", purged, left).isEqualTo(appended.get());
    }

    @Test
    void aStoreWrittenBeforePurgeIsCountedWithInspectAndClear() throws Exception {
        InMemoryMessageStore memory = InMemoryMessageStore.builder().build();
        MessageStore old = new DelegatingStore(memory) {
            @Override
            public CompletionStage<QueueSnapshot> inspect(UserQueue queue) {
                return memory.inspect(queue);
            }
        };
        AtomicInteger ids = new AtomicInteger();
        send(memory, ids);
        send(memory, ids);

        assertThat(inspector(old).purge("news", "user_1", "test").toCompletableFuture().get(5, TimeUnit.SECONDS).purged()).isEqualTo(2);
        assertThat(memory.depth(QUEUE)).isZero();
    }

    @Test
    void bothAdminSurfacesAnswerAFailureAlike() {
        QueueInspector.ErrorAnswer refused = QueueInspector.errorAnswer(new CompletionException(
                new QueueInspector.Refused("unknown_site", 404, "No such site")));
        assertThat(refused).isEqualTo(new QueueInspector.ErrorAnswer(404, "unknown_site", "No such site", null));
        for (Throwable unavailable : List.of(new PushUnavailableException("down", null), new ExecutionException(new CompletionException(
                new PushUnavailableException("down", null))), new TimeoutException())) {
            assertThat(QueueInspector.errorAnswer(unavailable)).as("%s", unavailable)
                    .isEqualTo(new QueueInspector.ErrorAnswer(503, "unavailable", "The message store is unavailable, retry later", null));
        }
        IllegalStateException bug = new IllegalStateException("bug");
        QueueInspector.ErrorAnswer internal = QueueInspector.errorAnswer(new ExecutionException(bug));
        assertThat(internal.status()).isEqualTo(500);
        assertThat(internal.code()).isEqualTo("internal");
        assertThat(internal.message()).doesNotContain("bug");
        assertThat(internal.unexpected()).isSameAs(bug);
    }

    private static void send(MessageStore store, AtomicInteger appended) {
        int id = appended.incrementAndGet();
        store.append(QUEUE, new QueuedMessage(id, "e", List.of(), false, 1_000 + id));
    }

    private static QueueInspector inspector(MessageStore store) {
        GatewayOptions options = TestGateways.options().queueInspector(true).build();
        SiteRuntime news = new SiteRuntime(TestGateways.newsSite(), options);
        return new QueueInspector(options, Map.of("news", news), store, new GatewayStats());
    }
}
