package io.pushbridge.boot;

import java.util.Objects;

/**
 * Who this gateway node is among the nodes sharing one Redis: its node id and the (datacenter,
 * worker) pair in the ids of the messages it mints. {@link PushBridgeRedisAutoConfiguration} defines
 * it, once the node is registered in Redis; {@link PushBridgeAutoConfiguration} builds the gateway's
 * options with these values instead of {@code pushbridge.node-id} and {@code pushbridge.flake-id.*}.
 * Without Redis there is no such bean and the gateway takes those properties as they are.
 *
 * @param nodeId the node id: {@code pushbridge.node-id}, or generated for this start
 * @param datacenterId the datacenter id of message ids, 0..31
 * @param workerId the worker id of message ids, 0..31
 * @param leased whether the pair was leased from the node registry (rather than configured with
 *     {@code pushbridge.flake-id.*}); a leased pair is renewed with each heartbeat and released
 *     when the node stops
 */
public record PushBridgeNodeIdentity(String nodeId, int datacenterId, int workerId, boolean leased) {

    public PushBridgeNodeIdentity {
        Objects.requireNonNull(nodeId, "nodeId");
    }
}
