package io.pushbridge.memory;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.pushbridge.Message;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class LocalRouterTests {

    private final LocalRouter router = new LocalRouter();

    @Test
    void publishDeliversToTheReceiverOnTheCallersThreadBeforeItCompletes() throws Exception {
        List<Message> delivered = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        router.start(m -> {
            delivered.add(m);
            threads.add(Thread.currentThread());
        });
        Message message = message(1);

        CompletionStage<Void> published = router.publish(message);

        assertThat(published.toCompletableFuture()).isCompleted();
        assertThat(delivered).containsExactly(message);
        assertThat(threads).containsExactly(Thread.currentThread());
        assertThat(published.toCompletableFuture().get(5, SECONDS)).isNull();
    }

    @Test
    void publishDeliversInPublishOrder() {
        List<Long> delivered = new CopyOnWriteArrayList<>();
        router.start(m -> delivered.add(m.id()));

        for (long id = 1; id <= 5; id++) {
            router.publish(message(id));
        }

        assertThat(delivered).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void failingReceiverDoesNotFailThePublish() throws Exception {
        router.start(m -> {
            throw new IllegalStateException("receiver is broken (expected by the test)");
        });

        CompletableFuture<Void> published = router.publish(message(1)).toCompletableFuture();

        assertThat(published).isCompleted();
        assertThat(published.get(5, SECONDS)).isNull();
    }

    @Test
    void routerKeepsDeliveringAfterAReceiverFailure() {
        List<Long> delivered = new ArrayList<>();
        router.start(m -> {
            if (m.id() == 1) {
                throw new IllegalStateException("receiver is broken once (expected by the test)");
            }
            delivered.add(m.id());
        });

        router.publish(message(1));
        router.publish(message(2));

        assertThat(delivered).containsExactly(2L);
    }

    @Test
    void publishBeforeStartFailsWithPushUnavailable() {
        assertNotRunning(router.publish(message(1)));
    }

    @Test
    void publishAfterStopFailsWithPushUnavailable() {
        List<Message> delivered = new ArrayList<>();
        router.start(delivered::add);
        router.stop();

        assertNotRunning(router.publish(message(1)));
        assertThat(delivered).isEmpty();
    }

    @Test
    void startWhileRunningIsRejected() {
        router.start(m -> { });

        assertThatIllegalStateException()
                .isThrownBy(() -> router.start(m -> { }))
                .withMessage("router is already running");
    }

    @Test
    void stoppedRouterCanStartAgain() {
        List<Message> delivered = new ArrayList<>();
        router.start(m -> { });
        router.stop();
        router.start(delivered::add);

        router.publish(message(1));

        assertThat(delivered).hasSize(1);
        assertThat(router.isRunning()).isTrue();
    }

    @Test
    void stopBeforeStartDoesNothing() {
        router.stop();

        assertThat(router.isRunning()).isFalse();
    }

    private static void assertNotRunning(CompletionStage<Void> stage) {
        CompletableFuture<Void> future = stage.toCompletableFuture();
        assertThat(future).isCompletedExceptionally();
        try {
            future.get(5, SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause())
                    .isInstanceOf(PushUnavailableException.class)
                    .hasMessage("router is not running");
            return;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("the publish should have failed");
    }

    private static Message message(long id) {
        return new Message(id, "/site", Target.rooms(Set.of("user:alice")), "news", List.of("hi"),
                Set.of("user:alice"), false, 1_000L);
    }
}
