/**
 * The stock {@link io.pushbridge.RoomAuthorizer}s: {@link io.pushbridge.auth.WebhookAuthorizer}
 * (asks the site's {@code authUrl}), {@link io.pushbridge.auth.StaticAuthorizer} (tokens from
 * configuration, for development) and {@link io.pushbridge.auth.AllowAllAuthorizer}.
 */
@NullMarked
package io.pushbridge.auth;

import org.jspecify.annotations.NullMarked;
