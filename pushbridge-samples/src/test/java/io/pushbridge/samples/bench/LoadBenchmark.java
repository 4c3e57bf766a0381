package io.pushbridge.samples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pushbridge.samples.interop.NodeScript;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side load benchmark of issue 7: PushBridge against the reference Socket.IO server
 * (Node {@code socket.io} v4, with {@code @socket.io/redis-adapter} where Redis is used), each
 * scenario run A B A B, every server its own OS process, the load from real socket.io-client v4
 * connections ({@code src/bench/node/loadgen.mjs}). Prints a table per scenario with the
 * PushBridge/reference ratios and writes {@code results.json} and {@code results.md} to
 * {@code target/bench}. Exits with 1 when a message was lost or duplicated, a client could not
 * connect or a send failed; 2 on a bad option.
 *
 * <p>Run from the repository root: {@code ./mvnw -B -Pbench -DskipTests verify -Dbench.args="..."}
 * ({@code --help} lists the options; docs/performance.md says what each scenario measures).
 */
public final class LoadBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One scenario as run against each server. */
    record Scenario(String label, String title, String mode, int nodes, boolean redis, int clients,
            double sendsPerSecond, int warmupSeconds, int measureSeconds, int warmupConnections) {

        Scenario(String label, String title, String mode, int nodes, boolean redis, int clients,
                double sendsPerSecond, int warmupSeconds, int measureSeconds) {
            this(label, title, mode, nodes, redis, clients, sendsPerSecond, warmupSeconds, measureSeconds, 0);
        }
    }

    /** One run of one server in one scenario: its figures, its problems, and the load generator's result. */
    record Run(String scenario, String server, int repeat, Map<String, Double> metrics, List<String> problems,
            List<String> notes, JsonNode loadgen) {
    }

    /** Everything a benchmark produced. */
    record Results(BenchOptions options, List<Scenario> scenarios, List<Run> runs, List<String> failures) {
    }

    private final BenchOptions options;

    private LoadBenchmark(BenchOptions options) {
        this.options = options;
    }

    public static void main(String[] args) {
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("LoadBenchmark: " + e.getMessage());
            }
            System.err.print(BenchOptions.USAGE);
            System.exit(e.getMessage().isEmpty() ? 0 : 2);
            return;
        }
        int exit;
        try {
            Results results = run(options);
            exit = results.failures().isEmpty() ? 0 : 1;
            if (exit != 0) {
                System.out.println("FAILED:");
                results.failures().forEach(failure -> System.out.println("  " + failure));
            }
        } catch (Exception e) {
            e.printStackTrace();
            exit = 1;
        }
        System.exit(exit);
    }

    /** Runs every scenario of the options, prints the tables, writes the results; never exits. */
    static Results run(BenchOptions options) throws IOException {
        Path nodeModules = options.nodeDir().resolve("node_modules");
        if (!Files.isDirectory(nodeModules)) {
            throw new IllegalStateException("No Node packages in " + options.nodeDir() + ": run the benchmark through the bench "
                    + "profile (./mvnw -B -Pbench -DskipTests verify), which installs them with npm ci; it needs node 18+ and npm");
        }
        Files.createDirectories(options.outputDir());
        return new LoadBenchmark(options).runAll();
    }

    private Results runAll() throws IOException {
        List<Scenario> scenarios = scenarios();
        List<Run> runs = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Results results = new Results(options, scenarios, runs, failures);
        System.out.println(BenchReport.header(options));
        for (Scenario scenario : scenarios) {
            for (int repeat = 1; repeat <= options.repeats(); repeat++) {
                for (String server : options.servers()) {
                    System.out.printf("%n-- %s, %s, run %d of %d%n", scenario.label(), server, repeat, options.repeats());
                    Run run = runOnce(scenario, server, repeat);
                    runs.add(run);
                    for (String problem : run.problems()) {
                        failures.add(scenario.label() + " " + server + " run " + run.repeat() + ": " + problem);
                    }
                    System.out.println(BenchReport.oneLine(run));
                }
            }
            System.out.println();
            System.out.println(BenchReport.table(scenario, runs, options, false));
            BenchReport.write(results);
        }
        System.out.println(BenchReport.comparisons(results, false));
        BenchReport.write(results);
        System.out.println("Results: " + options.outputDir().resolve("results.md") + " and results.json");
        return results;
    }

    private List<Scenario> scenarios() {
        List<Scenario> list = new ArrayList<>();
        int c = options.clients();
        int warm = options.warmupSeconds();
        int measure = options.measureSeconds();
        for (String name : options.scenarios()) {
            switch (name) {
                case "fanout" -> list.add(new Scenario("fanout", c + " clients in one room, " + fmt(options.fanoutSendsPerSecond())
                        + " sends/s to it (" + options.fanoutRate() + " deliveries/s)" + bursts(), "fanout", 1, false, c,
                        options.fanoutSendsPerSecond(), warm, measure));
                case "targeted" -> list.add(new Scenario("targeted", c + " clients in their own user rooms, "
                        + options.targetedRate() + " sends/s each to a random user, acked" + bursts(), "targeted", 1, false, c,
                        options.targetedRate(), warm, measure));
                case "reliable" -> {
                    list.add(new Scenario("reliable-1node", "targeted with Redis (PushBridge's Redis store and router; "
                            + "the reference's Redis adapter), one node", "targeted", 1, true, c, options.targetedRate(), warm, measure));
                    list.add(new Scenario("reliable-2nodes", "targeted with Redis, two nodes, clients split, all sends to node 1",
                            "targeted", 2, true, c, options.targetedRate(), warm, measure));
                }
                case "storm" -> {
                    for (int n : options.stormClients()) {
                        list.add(new Scenario("storm-" + n, n + " connections opened as fast as possible ("
                                + options.connectConcurrency() + " at once), then idle, after a warm-up storm of "
                                + Math.min(1000, n), "idle", 1, false, n, 0, 0, 0, Math.min(1000, n)));
                    }
                    int warmConnections = options.stormWarmConnections();
                    if (warmConnections > 0) {
                        int n = options.stormClients().stream().mapToInt(Integer::intValue).max().orElseThrow();
                        list.add(new Scenario("storm-" + n + "-warm", "the same storm of " + n + " once " + fmt(warmConnections)
                                + " connections were opened and closed in storms of " + n + " (the JIT has compiled the connect path)",
                                "idle", 1, false, n, 0, 0, 0, warmConnections));
                    }
                }
                case "cluster" -> list.add(new Scenario("cluster", "fan-out on two nodes and Redis, clients split, all sends to node 1, "
                        + fmt(options.fanoutSendsPerSecond()) + " sends/s (" + options.fanoutRate() + " deliveries/s)" + bursts(),
                        "fanout", 2, true, c, options.fanoutSendsPerSecond(), warm, measure));
                default -> throw new IllegalArgumentException(name);
            }
        }
        return list;
    }

    private Run runOnce(Scenario scenario, String server, int repeat) throws IOException {
        Map<String, Double> m = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        JsonNode result;
        String label = scenario.label() + "-r" + repeat;
        try (Deployment deployment = Deployment.start(server, scenario.nodes(), scenario.redis(), options, label)) {
            long fds = deployment.openFilesLimit();
            if (fds < scenario.clients() + 256L) {
                notes.add("the server's open-files limit is " + fds + " (ulimit -n), too low for " + scenario.clients()
                        + " connections: raise the hard limit");
            }
            boolean idle = scenario.mode().equals("idle");
            // the same warm-up for both servers: storms of at most the measured size, connected and closed
            for (int done = 0, storm = 1; idle && done < scenario.warmupConnections(); storm++) {
                int n = Math.min(scenario.clients(), scenario.warmupConnections() - done);
                try (NodeScript warmup = loadgen(deployment, scenario, n, label + "-warmup" + storm)) {
                    warmup.awaitStep("ready");
                    warmup.answer();
                    warmup.awaitStep("connected");
                    warmup.answer();
                    warmup.result();
                }
                done += n;
            }
            try (NodeScript loadgen = loadgen(deployment, scenario, scenario.clients(), label)) {
                long loadgenFds = ProcStats.openFilesLimit(loadgen.pid());
                if (loadgenFds < scenario.clients() + 256L) {
                    notes.add("the load generator's open-files limit is " + loadgenFds + " (ulimit -n), too low for "
                            + scenario.clients() + " connections: raise the hard limit");
                }
                List<Long> pids = deployment.serverPids();
                loadgen.awaitStep("ready");
                long[] memoryBefore = idle ? deployment.memory() : null;
                long cpuReady = ProcStats.cpuMicros(pids);
                loadgen.answer();
                JsonNode connect = loadgen.awaitStep("connected");
                long cpuConnected = ProcStats.cpuMicros(pids);
                long connected = connect.path("connected").asLong();
                m.put("conn_per_s", connect.path("perSecond").asDouble());
                if (connected > 0) {
                    m.put("setup_cpu_us_per_conn", (double) (cpuConnected - cpuReady) / connected);
                }
                if (idle) {
                    long[] memoryAfter = deployment.memory();
                    if (connected > 0 && memoryBefore[0] >= 0) {
                        m.put("heap_bytes_per_conn", (double) (memoryAfter[0] - memoryBefore[0]) / connected);
                    }
                    if (connected > 0) {
                        m.put("rss_bytes_per_conn", (double) (memoryAfter[1] - memoryBefore[1]) / connected);
                    }
                }
                loadgen.answer();
                long[] window = null;
                long kernelWindow = 0;
                if (!idle) {
                    loadgen.awaitStep("warmed");
                    long[] start = perPid(pids);
                    long kernelStart = kernel(pids);
                    loadgen.answer();
                    loadgen.awaitStep("measured");
                    long[] end = perPid(pids);
                    kernelWindow = kernel(pids) - kernelStart;
                    loadgen.answer();
                    window = new long[pids.size()];
                    for (int i = 0; i < pids.size(); i++) {
                        window[i] = end[i] - start[i];
                    }
                }
                result = loadgen.result();
                if (window != null) {
                    metrics(scenario, result, window, kernelWindow, m);
                }
                check(scenario, result, problems);
            }
        }
        return new Run(scenario.label(), server, repeat, m, problems, notes, result);
    }

    private static void metrics(Scenario scenario, JsonNode result, long[] window, long kernel, Map<String, Double> m) {
        JsonNode delivery = result.path("delivery");
        double delivered = delivery.path("delivered").asDouble();
        double sent = result.path("send").path("sent").asDouble();
        long total = 0;
        for (long cpu : window) {
            total += cpu;
        }
        m.put("delivered_per_s", delivery.path("deliveredPerSecond").asDouble());
        m.put("sends_per_s", result.path("send").path("achievedPerSecond").asDouble());
        m.put("p50_ms", delivery.path("latencyMs").path("p50").asDouble());
        m.put("p99_ms", delivery.path("latencyMs").path("p99").asDouble());
        m.put("p999_ms", delivery.path("latencyMs").path("p999").asDouble());
        m.put("lost", delivery.path("lost").asDouble());
        m.put("duplicates", delivery.path("duplicates").asDouble());
        if (delivered > 0) {
            m.put("server_cpu_us_per_msg", total / delivered);
            m.put("kernel_cpu_us_per_msg", kernel / delivered);
            if (scenario.redis()) {
                m.put("redis_cpu_us_per_msg", window[window.length - 1] / delivered);
            }
            if (scenario.nodes() > 1) {
                m.put("node2_cpu_us_per_msg", window[1] / delivered);
            }
        }
        if (scenario.mode().equals("targeted") && sent > 0) {
            m.put("server_cpu_us_per_request", total / sent);
        }
        m.put("server_cores", total / (scenario.measureSeconds() * 1e6));
        m.put("loadgen_cpu_us_per_msg", result.path("loadgenCpu").path("usPerDelivered").asDouble());
        m.put("loadgen_cores", result.path("loadgenCpu").path("share").asDouble());
    }

    private static void check(Scenario scenario, JsonNode result, List<String> problems) {
        JsonNode connect = result.path("connect");
        if (connect.path("failed").asInt() > 0) {
            problems.add(connect.path("failed").asInt() + " of " + scenario.clients() + " clients could not connect: " + connect.path("errors"));
        }
        if (result.path("disconnects").asInt() > 0) {
            problems.add(result.path("disconnects").asInt() + " clients were disconnected during the run");
        }
        if (!scenario.mode().equals("idle")) {
            JsonNode delivery = result.path("delivery");
            if (delivery.path("lost").asLong() > 0) {
                problems.add(delivery.path("lost").asLong() + " messages lost");
            }
            if (delivery.path("duplicates").asLong() > 0) {
                problems.add(delivery.path("duplicates").asLong() + " messages delivered twice");
            }
            if (delivery.path("unexpected").asLong() > 0) {
                problems.add(delivery.path("unexpected").asLong() + " messages received that no successful send carried");
            }
            if (result.path("send").path("sendErrors").asLong() > 0) {
                problems.add(result.path("send").path("sendErrors").asLong() + " sends failed: " + result.path("send").path("sendErrorSamples"));
            }
            if (!delivery.path("drained").asBoolean()) {
                problems.add("not every message arrived within the drain timeout");
            }
        }
    }

    /** How the sender spaces its sends, for a scenario's title: nothing when evenly. */
    private String bursts() {
        return options.burst() > 1 ? ", posted in bursts of " + options.burst() : "";
    }

    private NodeScript loadgen(Deployment deployment, Scenario scenario, int clients, String label) throws IOException {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("urls", deployment.urls());
        settings.put("sendUrl", deployment.urls().get(0));
        settings.put("site", Deployment.SITE);
        settings.put("namespace", "/" + Deployment.SITE);
        settings.put("apiKey", Deployment.API_KEY);
        settings.put("userRoomPrefix", Deployment.USER_ROOM_PREFIX);
        settings.put("fanoutRoom", Deployment.FANOUT_ROOM);
        settings.put("mode", scenario.mode());
        settings.put("clients", clients);
        settings.put("workers", options.workers());
        settings.put("connectConcurrency", options.connectConcurrency());
        settings.put("rate", scenario.sendsPerSecond());
        settings.put("burst", options.burst());
        settings.put("warmupSec", scenario.warmupSeconds());
        settings.put("measureSec", scenario.measureSeconds());
        List<String> command = new ArrayList<>(List.of("bash", "-c", Deployment.ulimitThenExec(), "loadgen",
                options.node(), "loadgen.mjs", new ObjectMapper().writeValueAsString(settings)));
        Duration wait = Duration.ofSeconds(180L + scenario.warmupSeconds() + scenario.measureSeconds());
        Path log = options.outputDir().resolve("logs").resolve(label + "-" + deployment.kind() + "-loadgen.log");
        return NodeScript.launch("loadgen", command, options.nodeDir(), log, wait);
    }

    /** The processes' time in the kernel, in microseconds. */
    private static long kernel(List<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            total += ProcStats.kernelMicros(pid);
        }
        return total;
    }

    private static long[] perPid(List<Long> pids) {
        long[] cpu = new long[pids.size()];
        for (int i = 0; i < cpu.length; i++) {
            cpu[i] = ProcStats.cpuMicros(pids.get(i));
        }
        return cpu;
    }

    static String fmt(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : String.format("%.2f", value);
    }

    static ObjectMapper json() {
        return JSON;
    }

    static Instant started() {
        return STARTED;
    }

    private static final Instant STARTED = Instant.now();
}
