package io.pushbridge;

import java.util.List;

/**
 * The connections of a site across the cluster, as {@link Router#listConnections} gathers them.
 *
 * @param connections the connections, at most the limit asked for
 * @param nodes the nodes that answered
 * @param missingNodes live nodes that did not answer in time (their connections are not listed)
 * @param truncated whether connections were left out because of the limit
 */
public record ConnectionListing(List<ConnectionInfo> connections, List<String> nodes, List<String> missingNodes,
        boolean truncated) {

    public ConnectionListing {
        connections = List.copyOf(connections);
        nodes = List.copyOf(nodes);
        missingNodes = List.copyOf(missingNodes);
    }
}
