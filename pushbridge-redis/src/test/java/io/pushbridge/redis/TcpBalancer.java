package io.pushbridge.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A TCP load balancer for tests, as HAProxy in TCP mode does it: each new connection goes to the
 * next backend, round robin, among those whose health check passes; a backend that refuses the
 * connection is skipped (redispatch). Bytes are copied both ways until either side closes.
 * Listens on a free loopback port; {@link #close()} closes it and every connection.
 */
final class TcpBalancer implements AutoCloseable {

    /** A backend port and its health check (what the balancer's probe would see). */
    record Backend(int port, BooleanSupplier healthy) {
    }

    private final List<Backend> backends;
    private final ServerSocket server;
    private final AtomicInteger next = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    TcpBalancer(List<Backend> backends) throws IOException {
        this.backends = List.copyOf(backends);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "test-balancer");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            open.add(client);
            Socket backend = connectToBackend();
            if (backend == null) {
                closeQuietly(client);
                continue;
            }
            open.add(backend);
            pump(client, backend);
            pump(backend, client);
        }
    }

    private Socket connectToBackend() {
        for (int i = 0; i < backends.size(); i++) {
            Backend backend = backends.get(Math.floorMod(next.getAndIncrement(), backends.size()));
            if (!backend.healthy().getAsBoolean()) {
                continue;
            }
            try {
                Socket socket = new Socket();
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), backend.port()), 2_000);
                return socket;
            } catch (IOException e) {
                // refused: the next healthy backend
            }
        }
        return null;
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // either side went away
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "test-balancer-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void closeQuietly(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        open.forEach(this::closeQuietly);
    }
}
