package io.pushbridge.redis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.redis.Ingestion;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The parts of {@link RedisSessions} that need no Redis: flags, patterns, notification parsing. */
class RedisSessionsTests {

    @ParameterizedTest(name = "''{0}'' misses ''{1}''")
    @CsvSource(value = {"'',K$gx", "KA,''", "AKE,''", "Ex,K$g", "K$,gx", "Kg$xe,''", "KEA,''", "A,K", "EA,K"})
    void missingFlags(String current, String missing) {
        assertThat(RedisSessions.missingFlags(current)).isEqualTo(missing);
    }

    @Test
    void keyPrefixesAreLiteralInPatterns() {
        assertThat(RedisSessions.escapeGlob("session-store-")).isEqualTo("session-store-");
        assertThat(RedisSessions.escapeGlob("a*b?[c]\\")).isEqualTo("a\\*b\\?\\[c\\]\\\\");
    }

    @Test
    void notificationUsersAreTextWithoutDuplicates() throws Exception {
        Notification n = Notification.parse(bytes("{\"users\":[23,\"23\",\"user5\"],\"data\":null}"), 1000);
        assertThat(n.users()).containsExactly("23", "user5");
        assertThat(n.data().isNull()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "TOO_LARGE           | {\"users\":[1],\"data\":\"0123456789012345678901234567890123456789\"}",
        "MALFORMED_JSON            | ''",
        "MALFORMED_JSON            | nope",
        "NOT_AN_OBJECT          | \"text\"",
        "MISSING_FIELD       | {\"data\":1}",
        "INVALID     | {\"users\":{},\"data\":1}",
        "INVALID         | {\"users\":[],\"data\":1}",
        "INVALID | {\"users\":[null],\"data\":1}",
        "INVALID | {\"users\":[true],\"data\":1}",
        "MISSING_FIELD        | {\"users\":[1]}",
    })
    void badNotifications(Ingestion.Reason reason, String payload) {
        assertThatThrownBy(() -> Notification.parse(bytes(payload), 40))
                .isInstanceOfSatisfying(Ingestion.Dropped.class, d -> assertThat(d.reason()).isEqualTo(reason));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
