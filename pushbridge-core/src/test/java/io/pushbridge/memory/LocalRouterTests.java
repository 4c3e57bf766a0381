package io.pushbridge.memory;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.pushbridge.Message;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.Router;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class LocalRouterTests {

    private final LocalRouter router = new LocalRouter();

    @Test
    void publishDeliversToTheReceiverOnTheCallersThreadBeforeItCompletes() throws Exception {
        List<Message> delivered = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        router.start(onDeliver(m -> {
            delivered.add(m);
            threads.add(Thread.currentThread());
        }));
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
        router.start(onDeliver(m -> delivered.add(m.id())));

        for (long id = 1; id <= 5; id++) {
            router.publish(message(id));
        }

        assertThat(delivered).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void failingReceiverDoesNotFailThePublish() throws Exception {
        router.start(onDeliver(m -> {
            throw new IllegalStateException("receiver is broken (expected by the test)");
        }));

        CompletableFuture<Void> published = router.publish(message(1)).toCompletableFuture();

        assertThat(published).isCompleted();
        assertThat(published.get(5, SECONDS)).isNull();
    }

    @Test
    void routerKeepsDeliveringAfterAReceiverFailure() {
        List<Long> delivered = new ArrayList<>();
        router.start(onDeliver(m -> {
            if (m.id() == 1) {
                throw new IllegalStateException("receiver is broken once (expected by the test)");
            }
            delivered.add(m.id());
        }));

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
        router.start(onDeliver(delivered::add));
        router.stop();

        assertNotRunning(router.publish(message(1)));
        assertThat(delivered).isEmpty();
    }

    @Test
    void startWhileRunningIsRejected() {
        router.start(onDeliver(m -> { }));

        assertThatIllegalStateException()
                .isThrownBy(() -> router.start(onDeliver(m -> { })))
                .withMessage("router is already running");
    }

    @Test
    void stoppedRouterCanStartAgain() {
        List<Message> delivered = new ArrayList<>();
        router.start(onDeliver(m -> { }));
        router.stop();
        router.start(onDeliver(delivered::add));

        router.publish(message(1));

        assertThat(delivered).hasSize(1);
        assertThat(router.isRunning()).isTrue();
    }

    @Test
    void stopBeforeStartDoesNothing() {
        router.stop();

        assertThat(router.isRunning()).isFalse();
    }

    // ---- commands ----

    @Test
    void commandIsExecutedByTheReceiverOnTheCallersThreadBeforeItCompletes() throws Exception {
        Recording receiver = new Recording();
        router.start(receiver);
        SocketCommand join = SocketCommand.join("site", "s1", Set.of("staff", "user_1"));

        CompletionStage<Void> done = router.command(join);

        assertThat(done.toCompletableFuture()).isCompleted();
        assertThat(done.toCompletableFuture().get(5, SECONDS)).isNull();
        assertThat(receiver.commands).containsExactly(join);
        assertThat(receiver.threads).containsExactly(Thread.currentThread());
        assertThat(receiver.messages).isEmpty();
    }

    @Test
    void commandsAndMessagesReachTheSameReceiverInCallOrder() {
        List<Object> seen = new CopyOnWriteArrayList<>();
        router.start(new Router.Receiver() {
            @Override
            public void deliver(Message message) {
                seen.add(message.id());
            }

            @Override
            public void execute(SocketCommand command) {
                seen.add(command.kind());
            }
        });

        router.command(SocketCommand.join("site", "s1", Set.of("staff")));
        router.publish(message(7));
        router.command(SocketCommand.leave("site", "s1", Set.of("staff")));
        router.command(SocketCommand.disconnect("site", "s1"));

        assertThat(seen).containsExactly(SocketCommand.Kind.JOIN, 7L, SocketCommand.Kind.LEAVE,
                SocketCommand.Kind.DISCONNECT);
    }

    @Test
    void failingReceiverDoesNotFailTheCommandAndTheNextOneStillArrives() throws Exception {
        List<SocketCommand> executed = new ArrayList<>();
        router.start(new Router.Receiver() {
            @Override
            public void deliver(Message message) {
            }

            @Override
            public void execute(SocketCommand command) {
                if (command.socketId().equals("broken")) {
                    throw new IllegalStateException("receiver is broken (expected by the test)");
                }
                executed.add(command);
            }
        });

        CompletableFuture<Void> failed = router.command(SocketCommand.disconnect("site", "broken")).toCompletableFuture();
        router.command(SocketCommand.disconnect("site", "fine"));

        assertThat(failed).isCompleted();
        assertThat(failed.get(5, SECONDS)).isNull();
        assertThat(executed).extracting(SocketCommand::socketId).containsExactly("fine");
    }

    @Test
    void commandBeforeStartFailsWithPushUnavailable() {
        assertNotRunning(router.command(SocketCommand.disconnect("site", "s1")));
    }

    @Test
    void commandAfterStopFailsWithPushUnavailableAndIsNotExecuted() {
        Recording receiver = new Recording();
        router.start(receiver);
        router.stop();

        assertNotRunning(router.command(SocketCommand.leave("site", "s1", Set.of("staff"))));
        assertThat(receiver.commands).isEmpty();
    }

    @Test
    void socketRegistrationHasNothingToRecordOnOneNode() throws Exception {
        assertThat(router.socketConnected("site", "s1").toCompletableFuture().get(5, SECONDS)).isNull();
        assertThat(router.socketDisconnected("site", "s1").toCompletableFuture().get(5, SECONDS)).isNull();
    }

    /** A receiver that only delivers (commands are unexpected). */
    private static Router.Receiver onDeliver(Consumer<Message> deliver) {
        return new Router.Receiver() {
            @Override
            public void deliver(Message message) {
                deliver.accept(message);
            }

            @Override
            public void execute(SocketCommand command) {
                throw new AssertionError("unexpected command " + command);
            }
        };
    }

    /** Records what reaches it, and on which thread. */
    private static final class Recording implements Router.Receiver {
        final List<Message> messages = new CopyOnWriteArrayList<>();
        final List<SocketCommand> commands = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new CopyOnWriteArrayList<>();

        @Override
        public void deliver(Message message) {
            messages.add(message);
            threads.add(Thread.currentThread());
        }

        @Override
        public void execute(SocketCommand command) {
            commands.add(command);
            threads.add(Thread.currentThread());
        }
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
        throw new AssertionError("the call should have failed");
    }

    private static Message message(long id) {
        return new Message(id, "/site", Target.rooms(Set.of("user:alice")), "news", List.of("hi"),
                Set.of("user:alice"), false, 1_000L);
    }
}
