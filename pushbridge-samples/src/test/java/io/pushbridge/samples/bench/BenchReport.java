package io.pushbridge.samples.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pushbridge.samples.bench.LoadBenchmark.Results;
import io.pushbridge.samples.bench.LoadBenchmark.Run;
import io.pushbridge.samples.bench.LoadBenchmark.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** The benchmark's tables (plain text on stdout, Markdown in results.md) and results.json. */
final class BenchReport {

    /** A row of a table: a metric key, its label, decimals. */
    private record Row(String key, String label, int decimals) {
    }

    private static final List<Row> ROWS = List.of(
            new Row("delivered_per_s", "delivered msg/s", 0),
            new Row("sends_per_s", "sends/s achieved", 0),
            new Row("p50_ms", "latency p50 ms", 2),
            new Row("p99_ms", "latency p99 ms", 2),
            new Row("p999_ms", "latency p999 ms", 2),
            new Row("lost", "lost", 0),
            new Row("duplicates", "duplicated", 0),
            new Row("server_cpu_us_per_msg", "server CPU µs/delivered msg", 2),
            new Row("server_cpu_us_per_request", "server CPU µs/request", 2),
            new Row("kernel_cpu_us_per_msg", "  of which kernel, µs/msg", 2),
            new Row("node2_cpu_us_per_msg", "  of which node 2", 2),
            new Row("redis_cpu_us_per_msg", "  of which Redis", 2),
            new Row("server_cores", "server cores used", 2),
            new Row("loadgen_cpu_us_per_msg", "load gen CPU µs/msg", 2),
            new Row("loadgen_cores", "load gen cores used", 2),
            new Row("conn_per_s", "connections/s", 0),
            new Row("setup_cpu_us_per_conn", "setup CPU µs/conn", 1),
            new Row("heap_bytes_per_conn", "heap bytes/idle conn", 0),
            new Row("rss_bytes_per_conn", "RSS bytes/idle conn", 0));

    private BenchReport() {
    }

    static String header(BenchOptions options) {
        return String.format(Locale.ROOT,
                "PushBridge load benchmark: %s; servers %s; %d cores; Java %s; %s; warm-up %d s, measured %d s, %d run(s) each%s",
                String.join(",", options.scenarios()), String.join(",", options.servers()),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), nodeVersion(options),
                options.warmupSeconds(), options.measureSeconds(), options.repeats(), options.quick() ? " (--quick)" : "");
    }

    static String oneLine(Run run) {
        StringBuilder line = new StringBuilder("   ");
        run.metrics().forEach((key, value) -> line.append(' ').append(key).append('=').append(format(value, 2)));
        run.notes().forEach(note -> line.append("\n   NOTE: ").append(note));
        run.problems().forEach(problem -> line.append("\n   PROBLEM: ").append(problem));
        return line.toString();
    }

    /** The scenario's table: the median of each server's runs and the PushBridge/reference ratio. */
    static String table(Scenario scenario, List<Run> runs, BenchOptions options, boolean markdown) {
        List<Run> pb = runs.stream().filter(r -> r.scenario().equals(scenario.label()) && r.server().equals("pushbridge")).toList();
        List<Run> ref = runs.stream().filter(r -> r.scenario().equals(scenario.label()) && r.server().equals("reference")).toList();
        StringBuilder out = new StringBuilder();
        String title = scenario.label() + ": " + scenario.title()
                + (scenario.mode().equals("idle") ? "" : ", warm-up " + scenario.warmupSeconds() + " s, measured " + scenario.measureSeconds() + " s")
                + "; median of " + Math.max(pb.size(), ref.size()) + " run(s) each";
        if (markdown) {
            out.append("### ").append(title).append("\n\n| metric | PushBridge | reference | PushBridge/reference |\n| --- | ---: | ---: | ---: |\n");
        } else {
            out.append("== ").append(title).append('\n');
            out.append(String.format(Locale.ROOT, "%-30s %14s %14s %10s%n", "metric", "PushBridge", "reference", "PB/ref"));
        }
        for (Row row : ROWS) {
            Double a = median(pb, row.key());
            Double b = median(ref, row.key());
            if (a == null && b == null) {
                continue;
            }
            String ratio = a != null && b != null && b != 0 ? format(a / b, 2) : "";
            if (markdown) {
                out.append("| ").append(row.label()).append(" | ").append(format(a, row.decimals())).append(" | ")
                        .append(format(b, row.decimals())).append(" | ").append(ratio).append(" |\n");
            } else {
                out.append(String.format(Locale.ROOT, "%-30s %14s %14s %10s%n", row.label(), format(a, row.decimals()),
                        format(b, row.decimals()), ratio));
            }
        }
        for (Run run : runs) {
            if (run.scenario().equals(scenario.label())) {
                for (String problem : run.problems()) {
                    out.append(markdown ? "\n- " : "  PROBLEM ").append(run.server()).append(" run ").append(run.repeat()).append(": ").append(problem).append('\n');
                }
                for (String note : run.notes()) {
                    out.append(markdown ? "\n- " : "  NOTE ").append(run.server()).append(" run ").append(run.repeat()).append(": ").append(note).append('\n');
                }
            }
        }
        return out.toString();
    }

    /** The reliable path against the in-memory targeted path, both PushBridge, when both ran. */
    static String comparisons(Results results, boolean markdown) {
        StringBuilder out = new StringBuilder();
        Double targeted = median(byServer(results.runs(), "targeted", "pushbridge"), "server_cpu_us_per_request");
        for (String reliable : List.of("reliable-1node", "reliable-2nodes")) {
            Double cost = median(byServer(results.runs(), reliable, "pushbridge"), "server_cpu_us_per_request");
            if (targeted != null && cost != null && targeted > 0) {
                out.append(markdown ? "- " : "").append(String.format(Locale.ROOT,
                        "PushBridge %s / targeted in memory, server CPU (Redis included) per request: %.2f / %.2f µs = %.2f%n",
                        reliable, cost, targeted, cost / targeted));
            }
        }
        return out.toString();
    }

    /** results.json (options, every run with the load generator's own result) and results.md (the tables). */
    static void write(Results results) throws IOException {
        BenchOptions options = results.options();
        ObjectNode root = LoadBenchmark.json().createObjectNode();
        root.put("started", LoadBenchmark.started().toString());
        root.put("header", header(options));
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("scenarios", options.scenarios());
        given.put("servers", options.servers());
        given.put("clients", options.clients());
        given.put("rate", options.fanoutRate());
        given.put("targetedRate", options.targetedRate());
        given.put("storm", options.stormClients());
        given.put("stormWarm", options.stormWarmConnections());
        given.put("warmupSeconds", options.warmupSeconds());
        given.put("measureSeconds", options.measureSeconds());
        given.put("repeats", options.repeats());
        given.put("jvmArgs", options.jvmArgs());
        root.set("options", LoadBenchmark.json().valueToTree(given));
        ArrayNode runs = root.putArray("runs");
        for (Run run : results.runs()) {
            ObjectNode node = runs.addObject();
            node.put("scenario", run.scenario());
            node.put("server", run.server());
            node.put("repeat", run.repeat());
            node.set("metrics", LoadBenchmark.json().valueToTree(run.metrics()));
            node.set("problems", LoadBenchmark.json().valueToTree(run.problems()));
            node.set("notes", LoadBenchmark.json().valueToTree(run.notes()));
            node.set("loadgen", run.loadgen());
        }
        root.set("failures", LoadBenchmark.json().valueToTree(results.failures()));
        LoadBenchmark.json().writeValue(options.outputDir().resolve("results.json").toFile(), root);

        StringBuilder md = new StringBuilder("# Load benchmark results\n\n").append(header(options)).append("\n\n");
        for (Scenario scenario : results.scenarios()) {
            if (results.runs().stream().anyMatch(r -> r.scenario().equals(scenario.label()))) {
                md.append(table(scenario, results.runs(), options, true)).append('\n');
            }
        }
        md.append(comparisons(results, true));
        Files.writeString(options.outputDir().resolve("results.md"), md.toString());
    }

    private static List<Run> byServer(List<Run> runs, String scenario, String server) {
        return runs.stream().filter(r -> r.scenario().equals(scenario) && r.server().equals(server)).toList();
    }

    static Double median(List<Run> runs, String key) {
        double[] values = runs.stream().map(r -> r.metrics().get(key)).filter(Objects::nonNull)
                .mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (values.length == 0) {
            return null;
        }
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static String format(Double value, int decimals) {
        if (value == null) {
            return "-";
        }
        return String.format(Locale.ROOT, "%,." + decimals + "f", value);
    }

    private static String nodeVersion(BenchOptions options) {
        try {
            return "Node " + ProcStats.run(options.node(), "--version").trim();
        } catch (RuntimeException e) {
            return "Node: " + e.getMessage();
        }
    }
}
