/**
 * PushBridge: a Socket.IO push gateway.
 *
 * <p>Start here: {@link io.pushbridge.PushTemplate} is what an application sends with;
 * {@link io.pushbridge.gateway.PushBridgeGateway} is the server. The service provider interfaces
 * that adapters implement are {@link io.pushbridge.RoomAuthorizer} (who joins which rooms),
 * {@link io.pushbridge.MessageStore} (the per-user ack queues) and {@link io.pushbridge.Router}
 * (messages between gateway nodes). The in-memory adapters live in {@code io.pushbridge.memory},
 * the stock authorizers in {@code io.pushbridge.auth}, the HTTP send API in {@code io.pushbridge.http}.
 */
@NullMarked
package io.pushbridge;

import org.jspecify.annotations.NullMarked;
