package io.pushbridge.gateway;

import com.corundumstudio.socketio.store.MemoryStoreFactory;
import com.corundumstudio.socketio.store.Store;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * netty-socketio's in-memory stores, with each session's store ({@code SocketIOClient.set/get})
 * made on its first write: netty-socketio makes one per session at the handshake, and neither it
 * nor PushBridge writes to it, so an empty table per idle connection (64 bytes) is saved. Everything
 * else is {@link MemoryStoreFactory}'s.
 */
final class LazyStoreFactory extends MemoryStoreFactory {

    @Override
    public Store createStore(UUID sessionId) {
        return new LazyStore();
    }

    @Override
    public String toString() {
        return "LazyStoreFactory";
    }

    /** A session's store whose table is made on the first {@link #set}. Thread-safe. */
    static final class LazyStore implements Store {
        private volatile @Nullable ConcurrentHashMap<String, Object> values;

        @Override
        public void set(String key, Object value) {
            ConcurrentHashMap<String, Object> map = values;
            if (map == null) {
                synchronized (this) {
                    map = values;
                    if (map == null) {
                        map = new ConcurrentHashMap<>(2);
                        values = map;
                    }
                }
            }
            map.put(key, value);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T get(String key) {
            ConcurrentHashMap<String, Object> map = values;
            return map == null ? null : (T) map.get(key);
        }

        @Override
        public boolean has(String key) {
            ConcurrentHashMap<String, Object> map = values;
            return map != null && map.containsKey(key);
        }

        @Override
        public void del(String key) {
            ConcurrentHashMap<String, Object> map = values;
            if (map != null) {
                map.remove(key);
            }
        }
    }
}
