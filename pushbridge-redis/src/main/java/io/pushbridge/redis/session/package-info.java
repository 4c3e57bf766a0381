/**
 * The {@code redis-session} mode: clients authenticate with a session id whose user a web
 * application keeps in Redis, follow that key live through keyspace notifications, and receive what
 * the application publishes on a notifications channel. Start at
 * {@link io.pushbridge.redis.session.RedisSessions}.
 */
@NullMarked
package io.pushbridge.redis.session;

import org.jspecify.annotations.NullMarked;
