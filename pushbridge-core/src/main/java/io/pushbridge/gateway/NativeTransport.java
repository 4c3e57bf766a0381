package io.pushbridge.gateway;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Netty's native epoll transport loads here. netty-socketio brings it (Linux x86_64 and
 * aarch64) as a runtime dependency, so it is looked up by name: on other systems, or when its
 * native library cannot load, the gateway uses NIO and says why once.
 */
final class NativeTransport {

    private static final Logger log = LoggerFactory.getLogger(NativeTransport.class);
    private static final @Nullable String UNAVAILABLE = check();

    private NativeTransport() {
    }

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why epoll is not used, or {@code null}. */
    static @Nullable String unavailable() {
        return UNAVAILABLE;
    }

    private static @Nullable String check() {
        try {
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
            if (Boolean.TRUE.equals(epoll.getMethod("isAvailable").invoke(null))) {
                return null;
            }
            Object cause = epoll.getMethod("unavailabilityCause").invoke(null);
            String why = "epoll is unavailable: " + cause;
            log.info("Netty's native transport is not used ({}); using NIO", why);
            return why;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            String why = "no epoll transport on the classpath (" + e + ")";
            log.info("Netty's native transport is not used ({}); using NIO", why);
            return why;
        }
    }
}
