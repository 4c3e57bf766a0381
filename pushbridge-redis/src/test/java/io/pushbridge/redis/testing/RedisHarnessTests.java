package io.pushbridge.redis.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The harness itself: real processes come up, answer, die on command and come back. */
class RedisHarnessTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    @Test
    void binariesAreRedis7() {
        assertThat(RedisBinaries.version(RedisBinaries.server())).matches("([7-9]|\\d\\d+)\\..*");
        assertThat(Files.isExecutable(RedisBinaries.cli())).isTrue();
        assertThat(RedisBinaries.sentinel().getFileName().toString()).contains("redis-sentinel");
    }

    @Test
    void extensionRunsAStandaloneServer() {
        RedisServer server = redis.server();
        assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + server.port());
        assertThat(server.command("PING")).isEqualTo("PONG");
        assertThatThrownBy(redis::cluster).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(redis::sentinels).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void standaloneSurvivesKillAndRestartOnTheSamePort() {
        Path dir;
        try (RedisServer server = RedisServer.start("--maxmemory", "64mb")) {
            dir = server.dir();
            int port = server.port();
            assertThat(server.host()).isEqualTo("127.0.0.1");
            assertThat(server.uri()).isEqualTo("redis://127.0.0.1:" + port);
            assertThat(server.isRunning()).isTrue();
            assertThat(server.command("CONFIG", "GET", "maxmemory")).isEqualTo("maxmemory\n67108864");

            assertThat(server.command("SET", "greeting", "héllo wörld")).isEqualTo("OK");
            assertThat(server.command("GET", "greeting")).isEqualTo("héllo wörld");
            assertThat(server.command("GET", "missing")).isNull();
            assertThat(server.command("DBSIZE")).isEqualTo("1");
            assertThat(server.command("RPUSH", "list", "a", "b")).isEqualTo("2");
            assertThat(server.command("LRANGE", "list", "0", "-1")).isEqualTo("a\nb");
            assertThat(server.command("NOSUCHCOMMAND")).startsWith("ERR unknown command");

            server.kill();
            assertThat(server.isRunning()).isFalse();
            assertThatThrownBy(() -> server.command("PING")).isInstanceOf(UncheckedIOException.class);

            server.restart();
            assertThat(server.isRunning()).isTrue();
            assertThat(server.port()).isEqualTo(port);
            assertThat(server.command("PING")).isEqualTo("PONG");
            assertThat(server.command("CONFIG", "GET", "maxmemory")).isEqualTo("maxmemory\n67108864");
            assertThat(server.command("GET", "greeting")).isNull(); // nothing is persisted

            server.stop();
            assertThat(server.isRunning()).isFalse();
            server.restart();
            assertThat(server.command("PING")).isEqualTo("PONG");
        }
        assertThat(dir).doesNotExist();
    }

    @Test
    void appendOnlyDataSurvivesKillAndRestart() {
        try (RedisServer server = RedisServer.start("--appendonly", "yes", "--appendfsync", "always")) {
            assertThat(server.command("SET", "kept", "1")).isEqualTo("OK");
            server.kill();
            server.restart();
            assertThat(server.command("GET", "kept")).isEqualTo("1");
        }
    }

    @Test
    void clusterOfThreeMastersIsHealthy() {
        try (RedisCluster cluster = RedisCluster.start(3)) {
            assertThat(cluster.nodes()).hasSize(3);
            assertThat(cluster.seedUris()).hasSize(3).allMatch(uri -> uri.startsWith("redis://127.0.0.1:"));
            assertThat(cluster.uri()).isEqualTo(String.join(",", cluster.seedUris()));
            for (RedisServer node : cluster.nodes()) {
                String info = node.command("CLUSTER", "INFO");
                assertThat(info).contains("cluster_state:ok").contains("cluster_slots_assigned:16384");
            }
            RedisServer owner = cluster.nodeFor("some-key");
            assertThat(owner.command("SET", "some-key", "v")).isEqualTo("OK");
            assertThat(owner.command("SPUBLISH", "some-key", "hello")).isEqualTo("0");
        }
    }

    @Test
    void sentinelsAgreeOnTheMaster() {
        try (RedisSentinels sentinels = RedisSentinels.start()) {
            assertThat(sentinels.masterName()).isEqualTo("mymaster");
            assertThat(sentinels.sentinelPorts()).hasSize(3).doesNotHaveDuplicates();
            assertThat(sentinels.uri()).isEqualTo("redis-sentinel://127.0.0.1:" + sentinels.sentinelPorts().get(0)
                    + ",127.0.0.1:" + sentinels.sentinelPorts().get(1) + ",127.0.0.1:" + sentinels.sentinelPorts().get(2)
                    + "/0#mymaster");
            for (RedisServer sentinel : sentinels.sentinels()) {
                assertThat(sentinel.command("SENTINEL", "get-master-addr-by-name", "mymaster"))
                        .isEqualTo("127.0.0.1\n" + sentinels.master().port());
            }
            assertThat(sentinels.currentMaster()).isSameAs(sentinels.master());
            assertThat(sentinels.replica().command("INFO", "replication")).contains("master_link_status:up");

            assertThat(sentinels.failover()).isSameAs(sentinels.replica());
            assertThat(sentinels.currentMaster()).isSameAs(sentinels.replica());
            assertThat(sentinels.replica().command("INFO", "replication")).contains("role:master");
        }
    }
}
