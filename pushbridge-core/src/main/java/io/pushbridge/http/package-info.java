/**
 * The HTTP send API ({@code POST /send}), served on the gateway's own port by Netty handlers.
 */
@NullMarked
package io.pushbridge.http;

import org.jspecify.annotations.NullMarked;
