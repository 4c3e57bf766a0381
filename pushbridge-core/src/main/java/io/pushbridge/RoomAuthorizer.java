package io.pushbridge;

import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether a client may connect to a site and which rooms it joins.
 *
 * <p>Called once per namespace CONNECT, on a PushBridge worker thread (never on a Netty I/O
 * thread). Implementations should still not block for long: answer with a stage that completes
 * when the decision is known. Complete it with the room names to join (possibly empty), or
 * exceptionally with {@link AuthorizationDeniedException} to refuse; any other failure refuses with
 * code {@code auth_error}. Implementations are shared by all connections and must be thread-safe.
 */
@FunctionalInterface
public interface RoomAuthorizer {

    CompletionStage<Set<String>> authorize(ConnectRequest request);
}
