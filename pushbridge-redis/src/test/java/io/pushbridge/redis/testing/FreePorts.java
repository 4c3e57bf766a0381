package io.pushbridge.redis.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports. A port is found by binding a {@link ServerSocket} to 127.0.0.1 port 0 and
 * closing it again, so another process can still take it before Redis binds it; callers retry with
 * a fresh port when Redis reports "Address already in use". Within one JVM a port is handed out only
 * once, so concurrently starting servers do not race each other for it.
 *
 * <p>Thread-safe.
 */
final class FreePorts {

    /** Redis Cluster listens on port + 10000 for its bus. */
    static final int CLUSTER_BUS_OFFSET = 10000;

    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /** A free port. */
    static int pick() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = bindEphemeral();
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port found");
    }

    /** A free port below 55535 whose cluster bus port (+10000) is free as well. */
    static int pickWithBus() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = bindEphemeral();
            if (port + CLUSTER_BUS_OFFSET <= 65535 && isFree(port + CLUSTER_BUS_OFFSET)
                    && !HANDED_OUT.contains(port + CLUSTER_BUS_OFFSET) && HANDED_OUT.add(port)) {
                HANDED_OUT.add(port + CLUSTER_BUS_OFFSET);
                return port;
            }
        }
        // the kernel kept handing out high ports: try the range below the usual ephemeral range
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(15000, 22000);
            if (isFree(port) && isFree(port + CLUSTER_BUS_OFFSET)
                    && !HANDED_OUT.contains(port + CLUSTER_BUS_OFFSET) && HANDED_OUT.add(port)) {
                HANDED_OUT.add(port + CLUSTER_BUS_OFFSET);
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port pair (port, port + 10000) found");
    }

    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(RedisServer.HOST), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int bindEphemeral() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(RedisServer.HOST), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind a loopback port", e);
        }
    }
}
