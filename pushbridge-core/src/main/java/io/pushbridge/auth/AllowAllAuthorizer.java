package io.pushbridge.auth;

import io.pushbridge.ConnectRequest;
import io.pushbridge.RoomAuthorizer;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Lets every client connect, without a token, and joins it to the configured rooms only (often
 * none, in which case it receives whole-site sends and sends to its own socket id).
 */
public final class AllowAllAuthorizer implements RoomAuthorizer {

    private final CompletionStage<Set<String>> rooms;

    public AllowAllAuthorizer(Set<String> rooms) {
        this.rooms = CompletableFuture.completedFuture(Set.copyOf(rooms));
    }

    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        return rooms;
    }

    @Override
    public String toString() {
        return "AllowAllAuthorizer";
    }
}
