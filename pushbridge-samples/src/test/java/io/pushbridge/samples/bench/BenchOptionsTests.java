package io.pushbridge.samples.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTests {

    @Test
    void defaultsAreTheIssuesFullScale() {
        BenchOptions options = BenchOptions.parse();

        assertThat(options.scenarios()).containsExactly("fanout", "targeted", "reliable", "storm", "cluster");
        assertThat(options.servers()).containsExactly("pushbridge", "reference");
        assertThat(options.clients()).isEqualTo(1000);
        assertThat(options.fanoutRate()).isEqualTo(40000);
        assertThat(options.fanoutSendsPerSecond()).isEqualTo(40.0);
        assertThat(options.burst()).isEqualTo(1);
        assertThat(options.stormClients()).containsExactly(1000, 5000, 10000);
        assertThat(options.stormWarmConnections()).isEqualTo(30000);
        assertThat(options.warmupSeconds()).isEqualTo(90);
        assertThat(options.measureSeconds()).isEqualTo(20);
        assertThat(options.repeats()).isEqualTo(2);
        assertThat(options.quick()).isFalse();
    }

    @Test
    void quickShrinksWhatIsNotGivenAndKeepsWhatIs() {
        BenchOptions options = BenchOptions.parse("--quick", "--clients", "80");

        assertThat(options.clients()).isEqualTo(80);
        assertThat(options.measureSeconds()).isEqualTo(2);
        assertThat(options.repeats()).isEqualTo(1);
        assertThat(options.stormClients()).containsExactly(200);
        assertThat(options.stormWarmConnections()).isZero();
    }

    @Test
    void readsOptionsGivenAsOneStringAsMavenMayPassThem() {
        BenchOptions options = BenchOptions.parse("--scenarios fanout,storm --storm=500,1000 --storm-warm 2000 --repeats 3 --burst 8 --jvm-args \"-Xmx2g -XX:+UseG1GC\"");

        assertThat(options.scenarios()).containsExactly("fanout", "storm");
        assertThat(options.stormClients()).containsExactly(500, 1000);
        assertThat(options.stormWarmConnections()).isEqualTo(2000);
        assertThat(options.repeats()).isEqualTo(3);
        assertThat(options.burst()).isEqualTo(8);
        assertThat(options.jvmArgs()).isEqualTo(List.of("-Xmx2g", "-XX:+UseG1GC"));
    }

    @Test
    void refusesBadOptionsNamingThem() {
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--scenarios", "fanout,nope"))
                .withMessageContaining("'nope' is not one of fanout, targeted, reliable, storm, cluster");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--clients", "0"))
                .withMessageContaining("--clients must be at least 1");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--rate", "fast"))
                .withMessageContaining("--rate takes a whole number, was 'fast'");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--burst", "0"))
                .withMessageContaining("--burst must be at least 1");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--warmup", "-1"))
                .withMessageContaining("--warmup must not be negative");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--storm-warm", "-5"))
                .withMessageContaining("--storm-warm must not be negative");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--measure"))
                .withMessageContaining("--measure needs a value");
        assertThatIllegalArgumentException().isThrownBy(() -> BenchOptions.parse("--fast"))
                .withMessageContaining("unknown option --fast");
    }
}
