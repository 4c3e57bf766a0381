package io.pushbridge.redis;

import io.pushbridge.MessageStore;
import io.pushbridge.MessageStoreContractTests;
import io.pushbridge.redis.testing.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@link MessageStore} contract against a real three-master Redis Cluster. */
class RedisClusterMessageStoreIntegrationTests extends MessageStoreContractTests {

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.cluster(3);

    static RedisConnector connector;

    @BeforeAll
    static void connect() {
        connector = RedisConnector.builder().cluster(redis.cluster().seedUris()).build();
    }

    @AfterAll
    static void disconnect() {
        connector.close();
    }

    @Override
    protected MessageStore createStore(int maxPendingPerUser, Duration clientTtl, Duration resyncMemory, MutableClock clock) {
        return RedisMessageStore.builder(connector.commands(), "node-a")
                .maxPendingPerUser(maxPendingPerUser).clientTtl(clientTtl).resyncMemory(resyncMemory).clock(clock)
                .siteQueuesMaxAge(Duration.ZERO).build();
    }
}
