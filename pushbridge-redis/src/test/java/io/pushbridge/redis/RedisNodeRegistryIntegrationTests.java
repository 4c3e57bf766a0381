package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import io.pushbridge.UserQueue;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The node registry on a real Redis: flake id leases, lost registrations, and a node id's second life. */
class RedisNodeRegistryIntegrationTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.standalone();

    static RedisConnector connector;
    private final List<RedisNodeRegistry> registries = new ArrayList<>();

    @BeforeAll
    static void connect() {
        connector = RedisConnector.builder().uri(redis.uri()).build();
    }

    @AfterAll
    static void disconnect() {
        connector.close();
    }

    @AfterEach
    void close() {
        registries.forEach(RedisNodeRegistry::close);
    }

    private RedisNodeRegistry registry(String id) {
        RedisNodeRegistry r = RedisNodeRegistry.builder(connector.commands(), id)
                .heartbeatInterval(Duration.ofMillis(100)).nodeTimeout(Duration.ofMillis(1000)).build();
        registries.add(r);
        r.start();
        return r;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void leasedSlotsAreDistinctAndAReservedSlotCannotBeTaken() {
        RedisNodeRegistry a = registry("lease-a");
        RedisNodeRegistry b = registry("lease-b");
        int slotA = a.claimWorkerSlot();
        assertThat(b.claimWorkerSlot()).isNotEqualTo(slotA);
        assertThatIllegalStateException().isThrownBy(() -> registry("lease-c").reserveWorkerSlot(slotA))
                .withMessageContaining("already used by node lease-a");
    }

    @Test
    void aNodeCutOffLongerThanTheTimeoutThatLostItsSlotSaysSoAndIsUnhealthy() throws Exception {
        RedisNodeRegistry a = registry("cut-a");
        int slot = a.claimWorkerSlot();
        a.pauseHeartbeatsForTests(Duration.ofMillis(3000));
        await("the lease expired", () -> "0".equals(redis.server().command("EXISTS", RedisKeys.DEFAULT_PREFIX + "worker:" + slot)));
        registry("cut-b").reserveWorkerSlot(slot);

        await("node a notices", a::hasLostWorkerSlot);
        assertThat(a.isHealthy()).isFalse();
        assertThat(redis.server().command("GET", RedisKeys.DEFAULT_PREFIX + "worker:" + slot)).as("never taken back").isEqualTo("cut-b");
        a.close();
        assertThat(redis.server().command("GET", RedisKeys.DEFAULT_PREFIX + "worker:" + slot)).as("nor released by a").isEqualTo("cut-b");
    }

    @Test
    void aNodeThatCannotReachRedisForTheNodeTimeoutClosesItsConnectionsOnce() throws Exception {
        try (var own = io.pushbridge.redis.testing.RedisServer.start();
                RedisConnector c = RedisConnector.builder().uri(own.uri()).build()) {
            RedisNodeRegistry a = RedisNodeRegistry.builder(c.commands(), "alone")
                    .heartbeatInterval(Duration.ofMillis(100)).nodeTimeout(Duration.ofMillis(400)).build();
            registries.add(a);
            AtomicInteger told = new AtomicInteger();
            a.onReaped(told::incrementAndGet);
            a.start();

            own.kill();
            await("told once the node timeout passed", () -> told.get() == 1);
            Thread.sleep(500);
            assertThat(told.get()).as("once per cut").isEqualTo(1);

            own.restart();
            await("healthy again", a::isHealthy);
        }
    }

    @Test
    void aNodeWhoseRegistrationRedisLostIsToldToReconnectItsClients() throws Exception {
        RedisNodeRegistry a = registry("lost-a");
        AtomicInteger told = new AtomicInteger();
        a.onReaped(told::incrementAndGet);

        redis.server().command("FLUSHALL");

        await("told once", () -> told.get() == 1);
        assertThat(redis.server().command("SISMEMBER", RedisKeys.DEFAULT_PREFIX + "nodes", "lost-a")).as("registered again").isEqualTo("1");
        Thread.sleep(300);
        assertThat(told.get()).as("only once").isEqualTo(1);
    }

    @Test
    void aRestartedNodeIdStartsFromNothing() throws Exception {
        RedisMessageStore store = RedisMessageStore.builder(connector.commands(), "again").build();
        RedisNodeRegistry first = RedisNodeRegistry.builder(connector.commands(), "again").build();
        first.cleanUp(store);
        first.start();
        UserQueue q = new UserQueue("news", "user_again");
        store.connectionOpened(q).toCompletableFuture().get(5, TimeUnit.SECONDS);
        first.socketConnected("news", "sock-again").toCompletableFuture().get(5, TimeUnit.SECONDS);
        first.abandonForTests(); // a crash

        RedisNodeRegistry second = RedisNodeRegistry.builder(connector.commands(), "again").build();
        registries.add(second);
        second.cleanUp(store);
        second.start();

        assertThat(store.info(q).toCompletableFuture().get(5, TimeUnit.SECONDS).connections()).isZero();
        assertThat(second.nodeOf("sock-again").toCompletableFuture().get(5, TimeUnit.SECONDS)).isNull();
    }
}
