package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Connection settings checked before connecting, and a clear failure when Redis is not there. */
class RedisConnectorTests {

    @Test
    void aUriOrClusterNodesAreRequiredButNotBoth() {
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().build()).withMessageContaining("required");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().uri("redis://a").cluster(List.of("redis://b")).build())
                .withMessageContaining("not both");
    }

    @Test
    void timeoutsMustBePositive() {
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().commandTimeout(Duration.ZERO)).withMessageContaining("commandTimeout");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().connectTimeout(Duration.ofSeconds(-1))).withMessageContaining("connectTimeout");
    }

    @Test
    void malformedUrisAreRefusedWithoutShowingThePassword() {
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().uri("http://:s3cret@host:1").build())
                .withMessageContaining("not a Redis URI").withMessageNotContaining("s3cret");
        assertThatIllegalArgumentException().isThrownBy(() -> RedisConnector.builder().uri("redis://:s3cret@bad host:1").build())
                .withMessageContaining("not a Redis URI").withMessageNotContaining("s3cret");
    }

    @Test
    void passwordsAreRedactedInDescriptions() {
        assertThat(RedisConnector.redacted(List.of("redis://:s3cret@host:6379/0", "rediss://user:pw@h:1", "redis://h:1")))
                .isEqualTo("redis://***@host:6379/0,rediss://***@h:1,redis://h:1");
    }

    @Test
    void anUnreachableServerFailsAtOnceNamingIt() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int free = port;
        assertThatThrownBy(() -> RedisConnector.builder().uri("redis://:pw@127.0.0.1:" + free).connectTimeout(Duration.ofSeconds(1)).build())
                .hasMessageContaining("127.0.0.1").hasMessageNotContaining(":pw@");
    }
}
