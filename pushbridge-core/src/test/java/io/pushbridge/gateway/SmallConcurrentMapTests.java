package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class SmallConcurrentMapTests {

    @Test
    void putGetRemoveAndSnapshots() {
        Map<String, Integer> map = new SmallConcurrentMap<>();
        assertThat(map.isEmpty()).isTrue();
        assertThat(map.put("a", 1)).isNull();
        assertThat(map.put("a", 2)).isEqualTo(1);
        map.put("b", 3);
        assertThat(map).containsOnly(Map.entry("a", 2), Map.entry("b", 3)).hasSize(2);
        assertThat(map.keySet()).containsExactlyInAnyOrder("a", "b");
        assertThat(map.get("b")).isEqualTo(3);
        assertThat(map.get("c")).isNull();
        assertThat(map.containsKey("a")).isTrue();
        assertThat(map.containsKey("c")).isFalse();
        assertThat(map).isEqualTo(Map.of("a", 2, "b", 3));
        var values = map.values();
        assertThat(map.remove("b", 4)).isFalse();
        assertThat(map.remove("b", 3)).isTrue();
        assertThat(values).as("a snapshot").containsExactlyInAnyOrder(2, 3);
        assertThat(map).containsExactly(Map.entry("a", 2));
        assertThat(map.remove("zz")).isNull();
        assertThat(map.get(null)).isNull();
        assertThat(map.containsKey(null)).isFalse();
        assertThat(map.remove("a")).isEqualTo(2);
        assertThat(map.isEmpty()).isTrue();
        map.put("c", 5);
        map.clear();
        assertThat(map.size()).isZero();
    }

    @Test
    void nullsAreRefused() {
        Map<String, Integer> map = new SmallConcurrentMap<>();
        assertThatThrownBy(() -> map.put(null, 1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> map.put("a", null)).isInstanceOf(NullPointerException.class);
        assertThat(map.remove(null, 1)).isFalse();
    }

    @Test
    void concurrentChangesAreNotLost() throws Exception {
        Map<Integer, Integer> map = new SmallConcurrentMap<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t * 100;
            Thread thread = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 50; i++) {
                    map.put(base + i, i);
                }
                for (int i = 0; i < 50; i += 2) {
                    map.remove(base + i, i);
                }
            });
            thread.start();
            threads.add(thread);
        }
        go.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(map).hasSize(4 * 25);
    }
}
