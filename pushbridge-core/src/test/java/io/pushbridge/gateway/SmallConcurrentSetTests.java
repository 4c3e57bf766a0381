package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A session's few namespaces: a set that is copied on change, atomic under concurrent changes. */
class SmallConcurrentSetTests {

    @Test
    void addsRemovesAndClearsAsASet() {
        Set<String> set = new SmallConcurrentSet<>();
        assertThat(set).isEmpty();
        assertThat(set.contains(null)).isFalse();
        assertThat(set.remove(null)).isFalse();
        assertThat(set.add("/a")).isTrue();
        assertThat(set.add("/a")).isFalse();
        assertThat(set.add("/b")).isTrue();
        assertThat(set).containsExactlyInAnyOrder("/a", "/b").hasSize(2);
        assertThat(set.remove("/c")).isFalse();
        assertThat(set.remove("/a")).isTrue();
        assertThat(set).containsExactly("/b");
        set.clear();
        assertThat(set).isEmpty();
        assertThat(set.add("/a")).isTrue();
    }

    @Test
    void concurrentAddsAndRemovesAreEachAppliedOnce() {
        Set<Integer> set = new SmallConcurrentSet<>();
        List<CompletableFuture<Integer>> adders = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int base = t * 100;
            adders.add(CompletableFuture.supplyAsync(() -> {
                int added = 0;
                for (int i = 0; i < 100; i++) {
                    added += set.add(base + i) ? 1 : 0;
                    added += set.add(base + i) ? 1 : 0;
                }
                return added;
            }));
        }
        assertThat(adders.stream().mapToInt(CompletableFuture::join).sum()).isEqualTo(400);
        assertThat(set).hasSize(400);
        List<CompletableFuture<Integer>> removers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            removers.add(CompletableFuture.supplyAsync(() -> {
                int removed = 0;
                for (int i = 0; i < 400; i++) {
                    removed += set.remove(i) ? 1 : 0;
                }
                return removed;
            }));
        }
        // each element removed by exactly one of the four
        assertThat(removers.stream().mapToInt(CompletableFuture::join).sum()).isEqualTo(400);
        assertThat(set).isEmpty();
    }
}
