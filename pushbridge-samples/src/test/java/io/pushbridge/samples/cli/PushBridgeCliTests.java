package io.pushbridge.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The command line, without a gateway. */
class PushBridgeCliTests {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    @Test
    void noUrlIsBadUsage() {
        assertThat(PushBridgeCli.run(new String[0], out)).isEqualTo(PushBridgeCli.USAGE).isEqualTo(2);
        assertThat(output()).startsWith("pushbridge-cli: URL is missing").contains("Usage: pushbridge-cli [options] URL")
                .contains("--session S");
    }

    @Test
    void anUnknownOptionIsBadUsage() {
        assertThat(run("--sesion", "x", "http://localhost:5000")).isEqualTo(2);
        assertThat(output()).startsWith("pushbridge-cli: unknown option --sesion").contains("Usage:");
    }

    @Test
    void badValuesAreBadUsage() {
        assertThat(run("--count", "0", "http://localhost:5000")).isEqualTo(2);
        assertThat(run("--timeout", "soon", "http://localhost:5000")).isEqualTo(2);
        assertThat(run("--namespace", "chat", "http://localhost:5000")).isEqualTo(2);
        assertThat(run("--uid", "u1", "http://localhost:5000")).isEqualTo(2);
        assertThat(run("--token")).isEqualTo(2);
        assertThat(run("ws://localhost:5000")).isEqualTo(2);
        assertThat(run("http://localhost:5000", "http://localhost:5001")).isEqualTo(2);
        assertThat(run("--namespace", "/a", "http://localhost:5000/b")).isEqualTo(2);
        assertThat(output()).contains("--count must be a positive number, was '0'")
                .contains("--timeout must be a positive duration")
                .contains("--namespace must start with '/', was 'chat'")
                .contains("--uid and --sid go with --subscribe")
                .contains("--token needs a value")
                .contains("URL must be http://host[:port]")
                .contains("one URL only")
                .contains("not both");
    }

    @Test
    void helpPrintsTheUsage() {
        assertThat(run("--help")).isZero();
        assertThat(output()).startsWith("Usage: pushbridge-cli [options] URL");
    }

    @Test
    void durations() throws Exception {
        assertThat(PushBridgeCli.Options.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(PushBridgeCli.Options.duration("10")).isEqualTo(Duration.ofSeconds(10));
        assertThat(PushBridgeCli.Options.duration("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(PushBridgeCli.Options.duration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(PushBridgeCli.Options.duration("PT1H")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> PushBridgeCli.Options.duration("0s")).isInstanceOf(PushBridgeCli.UsageException.class);
        // too long to wait for, or too many digits to read: a usage error, not a stack trace
        assertThatThrownBy(() -> PushBridgeCli.Options.duration("99999999999999999999h"))
                .isInstanceOf(PushBridgeCli.UsageException.class);
        assertThatThrownBy(() -> PushBridgeCli.Options.duration("PT9999999999999999H"))
                .isInstanceOf(PushBridgeCli.UsageException.class);
        assertThatThrownBy(() -> PushBridgeCli.Options.parse(new String[] {"--count", "99999999999", "http://h"}))
                .isInstanceOf(PushBridgeCli.UsageException.class);
    }

    @Test
    void theNamespaceGoesIntoTheUrl() throws Exception {
        assertThat(PushBridgeCli.Options.parse(new String[] {"http://localhost:5000"}).uri)
                .hasToString("http://localhost:5000/");
        assertThat(PushBridgeCli.Options.parse(new String[] {"--namespace=/news", "http://localhost:5000?token=a%2Bb"}).uri)
                .hasToString("http://localhost:5000/news?token=a%2Bb");
        assertThat(PushBridgeCli.Options.parse(new String[] {"https://push.example.com/news"}).uri)
                .hasToString("https://push.example.com/news");
    }

    @Test
    void nothingListeningIsAConnectError() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        assertThat(run("--polling", "--timeout", "20s", "http://127.0.0.1:" + port)).isEqualTo(PushBridgeCli.CONNECTION_FAILED);
        assertThat(output()).startsWith("connect_error ");
    }

    private int run(String... args) {
        return PushBridgeCli.run(args, out);
    }

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
