/**
 * Message ids: {@link io.pushbridge.id.FlakeIdGenerator} makes 64-bit ids that are unique across a
 * cluster (each node has its own datacenter and worker id) and ordered by time.
 */
@NullMarked
package io.pushbridge.id;

import org.jspecify.annotations.NullMarked;
