package io.pushbridge;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A gateway node that clients may connect to, as {@link Router#nodes()} lists it for clients that
 * pick a node themselves.
 *
 * @param nodeId the node's id ({@code pushbridge.node-id})
 * @param publicUrl the URL clients reach the node at ({@code pushbridge.public-url}), such as
 *     {@code https://io1.example.com}; {@code null} when the node has none configured
 */
public record NodeInfo(String nodeId, @Nullable String publicUrl) {

    public NodeInfo {
        Objects.requireNonNull(nodeId, "nodeId");
    }
}
