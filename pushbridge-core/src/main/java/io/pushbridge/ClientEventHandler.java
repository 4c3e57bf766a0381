package io.pushbridge;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Handles one named event that clients of a site emit, registered with
 * {@code SiteOptions.Builder.onEvent(name, handler)}.
 *
 * <p>Called on a PushBridge worker thread, never on a Netty I/O thread, one event of a socket at a
 * time and in the order the client sent them (events of different sockets run in parallel). Answer
 * with a stage; its value is the list of arguments for the client's callback, if the client passed
 * one ({@code null} or empty: the callback gets no arguments). A stage that fails with
 * {@link PushRefusedException} answers the callback with {@code {"error": {"code", "message"}}}
 * naming the problem; any other failure, or no answer within the gateway's event timeout, with code
 * {@code "error"} or {@code "timeout"}. Each is counted. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface ClientEventHandler {

    CompletionStage<List<Object>> handle(ClientEvent event);
}
