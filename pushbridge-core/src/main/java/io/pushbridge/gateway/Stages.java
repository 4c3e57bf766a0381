package io.pushbridge.gateway;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Helpers for the stages of calls into stores and routers made on behalf of operators. */
final class Stages {

    private Stages() {
    }

    /**
     * A call that fails rather than throws, and gives up after {@code timeout}. The timeout is set on
     * a copy of the call's stage: it must not complete a stage the callee may share with other callers.
     */
    static <T> CompletableFuture<T> bounded(Supplier<CompletionStage<T>> call, Duration timeout) {
        try {
            return call.get().toCompletableFuture().copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
