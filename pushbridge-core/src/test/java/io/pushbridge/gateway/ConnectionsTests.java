package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the admin view shows of a handshake's URL: never the token, however it is spelled. */
class ConnectionsTests {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/socket.io/?EIO=4&transport=websocket           | /socket.io/?EIO=4&transport=websocket",
        "/socket.io/?token=abc&EIO=4                     | /socket.io/?EIO=4",
        "/socket.io/?EIO=4&token=abc                     | /socket.io/?EIO=4",
        "/socket.io/?EIO=4&tok%65n=abc&x=1               | /socket.io/?EIO=4&x=1",
        "/socket.io/?EIO=4&token                         | /socket.io/?EIO=4",
        "/socket.io/?%zz=1&EIO=4                         | /socket.io/?EIO=4",
        "/socket.io/?token=a&token=b                     | /socket.io/",
        "/socket.io/                                     | /socket.io/",
    })
    void theTokenIsLeftOutOfTheUrl(String url, String shown) {
        assertThat(Connections.withoutSecrets(url)).isEqualTo(shown);
    }
}
