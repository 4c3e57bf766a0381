package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.boot.PushBridgeProperties.Redis;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The checks and helpers behind {@code pushbridge.redis.*}, without Redis. */
class PushBridgeRedisSupportTests {

    @ParameterizedTest
    @ValueSource(strings = {"redis://localhost", "redis://127.0.0.1:6379", "redis://:secret@redis.internal:6379/2",
            "redis://user:secret@redis.internal:6379", "rediss://redis.example.com:6380", "redis://Localhost:6379",
            "redis://[::1]:6379", "redis://redis_1:6379/0?timeout=5s",
            "redis-sentinel://:pw@sentinel-1:26379,sentinel-2:26379/0#mymaster",
            "redis-sentinel://sentinel-1:26379?sentinelMasterId=mymaster"})
    void validUrlsAreAccepted(String url) {
        Redis r = new Redis();
        r.setUrl(url);
        assertThatNoException().isThrownBy(() -> PushBridgeRedisSupport.validate(r));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost:6379", "redis:/localhost", "redis://localhost:0", "redis://:pw@",
            "redis://a:1,b:2", "redis://[::1", "redis://host:6379:7000", "redis-sentinel://h1:26379/0",
            "REDIS://localhost:6379"})
    void invalidUrlsAreRefusedNamingTheProperty(String url) {
        Redis r = new Redis();
        r.setUrl(url);
        assertThatThrownBy(() -> PushBridgeRedisSupport.validate(r)).isInstanceOf(InvalidPushBridgePropertyException.class)
                .hasMessageStartingWith("pushbridge.redis.url: ");
    }

    @Test
    void clusterNodesAreCheckedOneByOne() {
        Redis r = new Redis();
        r.getCluster().setNodes(List.of("redis://a:7000", " "));
        assertThatThrownBy(() -> PushBridgeRedisSupport.validate(r))
                .hasMessage("pushbridge.redis.cluster.nodes[1]: must not be blank");
        r.getCluster().setNodes(List.of("redis://a:7000", "redis://b:7000,c:7000"));
        assertThatThrownBy(() -> PushBridgeRedisSupport.validate(r))
                .hasMessageStartingWith("pushbridge.redis.cluster.nodes[1]: names several hosts");
        r.getCluster().setNodes(List.of("rediss://a:7000", "redis://:pw@b:7000"));
        assertThatNoException().isThrownBy(() -> PushBridgeRedisSupport.validate(r));
    }

    @Test
    void heartbeatBelowTenMillisecondsIsRefused() {
        Redis r = new Redis();
        r.setUrl("redis://localhost");
        r.setHeartbeatInterval(Duration.ofMillis(5));
        assertThatThrownBy(() -> PushBridgeRedisSupport.validate(r))
                .hasMessage("pushbridge.redis.heartbeat-interval: must be at least 10ms, was 5ms");
    }

    @Test
    void passwordsAreRedacted() {
        String url = "redis://:s3cret@redis.internal:6379";
        assertThat(PushBridgeRedisSupport.redact("Could not connect to " + url, List.of(url)))
                .isEqualTo("Could not connect to redis://***@redis.internal:6379");
        String sentinel = "redis-sentinel://:s3cret@h1:26379,h2:26379/0#m";
        assertThat(PushBridgeRedisSupport.redact(sentinel, List.of(sentinel)))
                .isEqualTo("redis-sentinel://***@h1:26379,h2:26379/0#m");
        String user = "redis://alice:p%40ss word@h:1";
        assertThat(PushBridgeRedisSupport.redact("failed for " + user + ": wrong password 'p@ss word'", List.of(user)))
                .doesNotContain("p%40ss").doesNotContain("p@ss word").contains("redis://***@h:1");
        assertThat(PushBridgeRedisSupport.redact("redis://h:1 (no password)", List.of("redis://h:1")))
                .isEqualTo("redis://h:1 (no password)");
    }

    @Test
    void generatedNodeIdsAreHostNameAndRandomHex() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String id = PushBridgeRedisSupport.generateNodeId();
            assertThat(id).matches("[A-Za-z0-9._-]+-[0-9a-f]{8}");
            ids.add(id);
        }
        assertThat(ids).hasSize(100);
    }

    @Test
    void configuredNodeIdIsCheckedForRedis() {
        assertThat(PushBridgeRedisSupport.nodeId("edge-1", () -> "generated")).isEqualTo("edge-1");
        assertThat(PushBridgeRedisSupport.nodeId(null, () -> "generated")).isEqualTo("generated");
        assertThatThrownBy(() -> PushBridgeRedisSupport.nodeId(" ", () -> "generated"))
                .hasMessageStartingWith("pushbridge.node-id: must not be blank");
        assertThatThrownBy(() -> PushBridgeRedisSupport.nodeId("edge 1", () -> "generated"))
                .hasMessageStartingWith("pushbridge.node-id: must not contain");
        assertThat(PushBridgeRedisSupport.defaultClientName("edge-1")).isEqualTo("pushbridge-edge-1");
    }

    @Test
    void defaultsMatchPushbridgeRedis() {
        Redis r = new Redis();
        assertThat(r.getPrefix()).isEqualTo(io.pushbridge.redis.RedisKeys.DEFAULT_PREFIX);
        assertThat(r.getUrl()).isNull();
        assertThat(r.getCluster().getNodes()).isEmpty();
        assertThat(r.getCommandTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(r.getConnectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(r.getHeartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(r.getNodeTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(r.getClientName()).isNull();
        PushBridgeProperties.FlakeId flake = new PushBridgeProperties.FlakeId();
        assertThat(flake.configuredDatacenter()).isNull();
        assertThat(flake.configuredWorker()).isNull();
        assertThat(flake.getDatacenter()).isZero();
        flake.setWorker(4);
        assertThat(flake.getWorker()).isEqualTo(4);
        assertThat(flake.configuredWorker()).isEqualTo(4);
    }
}
