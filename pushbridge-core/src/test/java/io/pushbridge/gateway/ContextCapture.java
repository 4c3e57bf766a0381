package io.pushbridge.gateway;

import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import java.util.Set;

/** A gateway extension that hands tests the gateway's context, to look at sockets' rooms and identities. */
public final class ContextCapture implements GatewayExtension {

    private volatile GatewayContext context;

    @Override
    public void start(GatewayContext context) {
        this.context = context;
    }

    @Override
    public void stop() {
        // nothing to release
    }

    public GatewayContext context() {
        return context;
    }

    /** The socket as its node sees it; fails if the node does not hold it. */
    public ConnectionInfo socket(String site, String socketId) {
        ConnectionInfo info = context.socket(site, socketId);
        if (info == null) {
            throw new AssertionError("node " + context.nodeId() + " holds no socket " + socketId);
        }
        return info;
    }

    public Set<String> rooms(String site, String socketId) {
        return socket(site, socketId).rooms();
    }
}
