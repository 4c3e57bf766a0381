/**
 * Upstream routing over Redis streams: {@link io.pushbridge.redis.upstream.RedisUpstream} appends
 * what a gateway node's clients do to the site's streams and hands the application's answers back
 * to the clients' callbacks; {@link io.pushbridge.redis.upstream.RedisUpstreamConsumer} is the
 * application side, which hands each record to an {@link io.pushbridge.UpstreamListener};
 * {@link io.pushbridge.redis.upstream.UpstreamStreams} names the keys and defines the records'
 * format, which both sides share.
 */
@NullMarked
package io.pushbridge.redis.upstream;

import org.jspecify.annotations.NullMarked;
