/**
 * The {@code redis-handshake} mode, which replaces the old Node.js service of that name:
 * {@link io.pushbridge.redis.handshake.RedisHandshake} admits every client, publishes the rooms
 * clients ask for to Redis for a backend to approve, joins the rooms the backend approves and
 * emits what the backends publish to a room.
 */
@NullMarked
package io.pushbridge.redis.handshake;

import org.jspecify.annotations.NullMarked;
