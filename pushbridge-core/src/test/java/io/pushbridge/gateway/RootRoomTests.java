package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.namespace.Namespace;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Sessions leave netty-socketio's room of "/" as they open, while netty-socketio connects others on
 * other threads: the room is never removed under a connect (which reads it twice), and a session
 * that left is in it no more.
 */
class RootRoomTests {

    @Test
    void sessionsLeavingTheRootRoomNeverEmptyItUnderAConnect() throws Exception {
        Namespace root = new Namespace(Namespace.DEFAULT_NAME, new Configuration());
        Connections.keepRootRoom(root);
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(1);
        try {
            List<Future<?>> churn = new ArrayList<>();
            for (int t = 0; t < 1; t++) {
                churn.add(threads.submit(() -> {
                    while (!done.get()) {
                        // what netty-socketio's connect and the gateway's sessionOpened do for each session
                        UUID session = UUID.randomUUID();
                        root.join(root.getName(), session);
                        Connections.leaveRootRoom(root, session);
                    }
                }));
            }
            UUID[] current = new UUID[1];
            SocketIOClient client = mock(SocketIOClient.class,
                    call -> "getSessionId".equals(call.getMethod().getName()) ? current[0] : null);
            for (int i = 0; i < 1_000; i++) {
                current[0] = UUID.randomUUID();
                root.onConnect(client); // threw a NullPointerException when the room went away in between
                Connections.leaveRootRoom(root, current[0]);
                assertThat(root.getRooms(client)).isEmpty();
            }
            done.set(true);
            for (Future<?> f : churn) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            done.set(true);
            threads.shutdownNow();
        }
        assertThat(root.getRooms()).containsExactly(root.getName());
        assertThat(root.getRoomClientsInCluster(root.getName())).isEqualTo(1);
    }
}
