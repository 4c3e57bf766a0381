package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.metrics.BadInput;
import org.junit.jupiter.api.Test;

/** Every reason an ingestion channel drops a message for is a bad input of the gateway's meters. */
class IngestionTests {

    @Test
    void everyDropReasonIsABadInputOfTheRedisIngestionEntryPoint() {
        for (Ingestion.Reason reason : Ingestion.Reason.values()) {
            BadInput input = BadInput.ofStatsKey(reason.statsKey());
            assertThat(input).as(reason.name()).isNotNull();
            assertThat(input.entryPoint()).isEqualTo(BadInput.EntryPoint.REDIS_INGESTION);
            assertThat(input.reason()).isEqualTo(reason.key());
        }
        assertThat(BadInput.values()).filteredOn(i -> i.entryPoint() == BadInput.EntryPoint.REDIS_INGESTION)
                .hasSize(Ingestion.Reason.values().length);
    }
}
