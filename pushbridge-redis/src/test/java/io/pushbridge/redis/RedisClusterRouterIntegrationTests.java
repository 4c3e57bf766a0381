package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.Message;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.redis.RedisRouterIntegrationTests.Recorder;
import io.pushbridge.redis.testing.RedisExtension;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Sharded pub/sub routing on a real three-master Redis Cluster. */
class RedisClusterRouterIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.cluster(3);

    @Test
    void messagesAndCommandsCrossNodesOverShardedChannels() throws Exception {
        try (RedisConnector ca = RedisConnector.builder().cluster(redis.cluster().seedUris()).build();
                RedisConnector cb = RedisConnector.builder().cluster(redis.cluster().seedUris()).build();
                RedisNodeRegistry ra = RedisNodeRegistry.builder(ca.commands(), "a").build();
                RedisNodeRegistry rb = RedisNodeRegistry.builder(cb.commands(), "b").build()) {
            ra.start();
            rb.start();
            // enough sites that their channels land on different shards
            List<String> sites = List.of("news", "chat", "sport", "prices", "alerts", "games");
            RedisRouter a = new RedisRouter(ca, ra, sites);
            RedisRouter b = new RedisRouter(cb, rb, sites);
            Recorder ta = new Recorder();
            Recorder tb = new Recorder();
            a.start(ta);
            b.start(tb);
            try {
                assertThat(sites.stream().map(s -> redis.cluster().nodeFor(new RedisKeys(RedisKeys.DEFAULT_PREFIX).siteChannel(s)).port())
                        .distinct().count()).as("channels spread over shards").isGreaterThan(1);
                for (int i = 0; i < sites.size(); i++) {
                    a.publish(new Message(i + 1, sites.get(i), Target.rooms(Set.of("r")), "ev", List.of(i), Set.of(), false, 1))
                            .toCompletableFuture().get(5, TimeUnit.SECONDS);
                    assertThat(((Message) tb.next()).site()).isEqualTo(sites.get(i));
                    assertThat(((Message) ta.next()).site()).isEqualTo(sites.get(i));
                }

                b.socketConnected("news", "sock-1").toCompletableFuture().get(5, TimeUnit.SECONDS);
                a.command(SocketCommand.disconnect("news", "sock-1")).toCompletableFuture().get(5, TimeUnit.SECONDS);
                assertThat(tb.next()).isEqualTo(SocketCommand.disconnect("news", "sock-1"));
                ta.assertNothing();

                // plain PUBLISH does not reach sharded subscribers: routing really is sharded
                redis.cluster().nodes().get(0).command("PUBLISH", new RedisKeys(RedisKeys.DEFAULT_PREFIX).siteChannel("news"), "x");
                tb.assertNothing();
                assertThat(b.stats().get("dropped")).isZero();
            } finally {
                a.stop();
                b.stop();
            }
        }
    }
}
