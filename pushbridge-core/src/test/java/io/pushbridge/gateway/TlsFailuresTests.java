package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** How failed TLS handshakes are counted and logged, on an {@link EmbeddedChannel}. */
class TlsFailuresTests {

    @Test
    void plainHttpAndFailedHandshakesAreLoggedUnderTheirOwnRateLimits() {
        GatewayStats stats = new GatewayStats();
        GatewayInitializer.TlsFailures failures = new GatewayInitializer.TlsFailures(stats);
        try (LogCapture logs = LogCapture.start(Map.of("io.pushbridge", Level.INFO))) {
            EmbeddedChannel first = new EmbeddedChannel(failures);
            first.pipeline().fireUserEventTriggered(new SslHandshakeCompletionEvent(new NotSslRecordException("hex dump")));
            EmbeddedChannel second = new EmbeddedChannel(failures);
            second.pipeline().fireUserEventTriggered(new SslHandshakeCompletionEvent(new SSLHandshakeException("bad cert")));
            EmbeddedChannel third = new EmbeddedChannel(failures);
            third.pipeline().fireUserEventTriggered(new SslHandshakeCompletionEvent(new NotSslRecordException("hex dump")));

            assertThat(stats.get("refused.tls.plaintext")).isEqualTo(2);
            assertThat(stats.get("refused.tls.handshake")).isEqualTo(1);
            // one line of each kind: the plain HTTP client does not hide the failed handshake
            assertThat(logs.text()).contains("not TLS").contains("TLS handshake with").contains("bad cert")
                    .doesNotContain("hex dump");
            first.finishAndReleaseAll();
            second.finishAndReleaseAll();
            third.finishAndReleaseAll();
        }
    }
}
