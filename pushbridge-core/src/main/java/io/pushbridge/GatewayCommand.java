package io.pushbridge;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A custom command an application sent to the gateway nodes with {@link PushTemplate#command}, as
 * the {@link GatewayCommandHandler} of one gateway node receives it (the older cluster services'
 * {@code app <type>} events).
 *
 * @param site the site's name
 * @param type the command's type, which chose the handler
 * @param data the command's data, as JSON values
 * @param sockets this node's sockets among the command's recipients (for a command to the whole
 *     site, every socket of the site on this node, possibly none)
 * @param nodeId this node's id
 */
public record GatewayCommand(String site, String type, Map<String, Object> data, List<ConnectionInfo> sockets,
        String nodeId) {

    public GatewayCommand {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(type, "type");
        data = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(data));
        sockets = List.copyOf(sockets);
        Objects.requireNonNull(nodeId, "nodeId");
    }
}
