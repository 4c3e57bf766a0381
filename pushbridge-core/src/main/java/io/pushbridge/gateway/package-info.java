/**
 * The Socket.IO gateway on netty-socketio. {@link io.pushbridge.gateway.PushBridgeGateway} is the
 * entry point; everything else in this package is its machinery.
 *
 * <p>Threading: Netty I/O threads only parse packets, move bytes and hand work on. Authorizers,
 * store and router calls, and ack handling run on the gateway's worker executor or on the thread
 * that completes their stage; changes to netty-socketio's per-session state hop back to the
 * session's event loop.
 */
@NullMarked
package io.pushbridge.gateway;

import org.jspecify.annotations.NullMarked;
