/**
 * The in-memory adapters, the embedded default for a single gateway node without Redis:
 * {@link io.pushbridge.memory.InMemoryMessageStore} keeps the ack queues in the heap and
 * {@link io.pushbridge.memory.LocalRouter} hands every published message straight back to this node.
 */
@NullMarked
package io.pushbridge.memory;

import org.jspecify.annotations.NullMarked;
