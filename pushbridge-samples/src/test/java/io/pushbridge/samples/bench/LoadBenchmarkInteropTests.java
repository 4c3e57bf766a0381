package io.pushbridge.samples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.samples.bench.LoadBenchmark.Results;
import io.pushbridge.samples.bench.LoadBenchmark.Run;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A smoke run of the load benchmark ({@code --quick}: 50 clients, 1 s warm-up, 2 s measured) with
 * both servers, fan-out and targeted: every message arrives once, and the figures are there and
 * sane. It proves the harness works (both servers start, the load generator's phases, CPU from
 * /proc); it asserts no timing. Run by the interop profile, which installs the bench's Node packages.
 */
class LoadBenchmarkInteropTests {

    @Test
    void quickRunDeliversEveryMessageOnceOnBothServers() throws Exception {
        BenchOptions options = BenchOptions.parse("--quick", "--scenarios", "fanout,targeted");

        Results results = LoadBenchmark.run(options);

        assertThat(results.failures()).isEmpty();
        assertThat(results.runs()).extracting(Run::server).containsExactly("pushbridge", "reference", "pushbridge", "reference");
        for (Run run : results.runs()) {
            Map<String, Double> m = run.metrics();
            String what = run.scenario() + " " + run.server() + " " + m;
            assertThat(m.get("lost")).as(what).isZero();
            assertThat(m.get("duplicates")).as(what).isZero();
            assertThat(m.get("delivered_per_s")).as(what).isPositive();
            assertThat(m.get("p50_ms")).as(what).isPositive();
            assertThat(m.get("p99_ms")).as(what).isGreaterThanOrEqualTo(m.get("p50_ms"));
            assertThat(m.get("p999_ms")).as(what).isGreaterThanOrEqualTo(m.get("p99_ms"));
            // CPU comes from /proc in 10 ms ticks: some was used, and not more than two cores' worth
            assertThat(m.get("server_cpu_us_per_msg")).as(what).isPositive();
            assertThat(m.get("server_cores")).as(what).isPositive().isLessThan(2.5);
            assertThat(m.get("loadgen_cpu_us_per_msg")).as(what).isPositive();
            assertThat(m.get("conn_per_s")).as(what).isPositive();
            assertThat(run.loadgen().path("delivery").path("delivered").asLong()).as(what)
                    .isEqualTo(run.loadgen().path("delivery").path("expected").asLong());
        }
        assertThat(results.runs().stream().filter(r -> r.scenario().equals("targeted")))
                .allSatisfy(run -> assertThat(run.metrics().get("server_cpu_us_per_request")).isPositive());
        assertThat(options.outputDir().resolve("results.json")).isNotEmptyFile();
        assertThat(Files.readString(options.outputDir().resolve("results.md"))).contains("### fanout", "### targeted", "PushBridge/reference");
    }
}
