package io.pushbridge.auth;

import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.ConnectRequest;
import io.pushbridge.RoomAuthorizer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Authorizes by a fixed table of tokens, each with its rooms. Meant for development, demos and
 * tests; tokens live in configuration, so do not use it for real users.
 */
public final class StaticAuthorizer implements RoomAuthorizer {

    private final Map<String, Set<String>> roomsByToken;

    public StaticAuthorizer(Map<String, ? extends Set<String>> roomsByToken) {
        Map<String, Set<String>> copy = new LinkedHashMap<>();
        roomsByToken.forEach((token, rooms) -> {
            if (token == null || token.isEmpty()) {
                throw new IllegalArgumentException("static authorizer: tokens must not be empty");
            }
            copy.put(token, Set.copyOf(rooms));
        });
        this.roomsByToken = Map.copyOf(copy);
    }

    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        String token = request.token();
        if (token == null || token.isEmpty()) {
            return CompletableFuture.failedFuture(AuthorizationDeniedException.tokenMissing());
        }
        Set<String> rooms = roomsByToken.get(token);
        if (rooms == null) {
            return CompletableFuture.failedFuture(new AuthorizationDeniedException(
                    AuthorizationDeniedException.UNAUTHORIZED, "Unknown token"));
        }
        return CompletableFuture.completedFuture(rooms);
    }

    @Override
    public String toString() {
        return "StaticAuthorizer[" + roomsByToken.size() + " token(s)]";
    }
}
