package io.pushbridge.samples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The load benchmark's command line. Every option has a default; {@code --quick} shrinks them all
 * to a smoke run of a few seconds per scenario. Unknown options and bad values fail with the usage.
 */
record BenchOptions(
        List<String> scenarios,
        List<String> servers,
        int clients,
        int fanoutRate,
        int targetedRate,
        int burst,
        List<Integer> stormClients,
        int stormWarmConnections,
        int warmupSeconds,
        int measureSeconds,
        int repeats,
        int workers,
        int connectConcurrency,
        List<String> jvmArgs,
        Path outputDir,
        Path nodeDir,
        String node,
        boolean quick) {

    static final List<String> SCENARIOS = List.of("fanout", "targeted", "reliable", "storm", "cluster");
    static final List<String> SERVERS = List.of("pushbridge", "reference");
    private static final List<String> VALUED = List.of("--scenarios", "--servers", "--clients", "--rate", "--targeted-rate", "--burst",
            "--storm", "--storm-warm", "--warmup", "--measure", "--repeats", "--workers", "--connect-concurrency", "--jvm-args", "--output");

    static final String USAGE = """
            Usage: LoadBenchmark [options]   (./mvnw -B -Pbench -DskipTests verify -Dbench.args="[options]")
              --scenarios LIST      comma list of fanout, targeted, reliable, storm, cluster (default: all)
              --servers LIST        pushbridge,reference (default: both, alternating A B A B)
              --clients N           clients of fanout, targeted, reliable and cluster (default 1000)
              --rate N              fan-out and cluster deliveries per second; the sender posts N/clients
                                    messages a second to the room everyone is in (default 40000)
              --targeted-rate N     sends per second of targeted and reliable, each to one random user (default 2000)
              --burst K             the sender posts K messages back to back, at the same rate on average
                                    (default 1: evenly spaced)
              --storm LIST          connection counts of the storm scenario (default 1000,5000,10000)
              --storm-warm N        connections opened and closed before the warm storm, a storm of the
                                    largest count measured once the JIT has compiled the connect path
                                    (default 30000; 0: no warm storm)
              --warmup S            seconds of warm-up load before each measured window (default 90)
              --measure S           seconds of the measured window (default 20)
              --repeats N           runs of each server per scenario, alternating (default 2)
              --workers N           load generator threads holding the clients (default 2)
              --connect-concurrency N  connections being opened at once (default 200)
              --jvm-args "ARGS"     the PushBridge JVM's options (default "-Xmx1g")
              --output DIR          where the JSON and Markdown results go (default target/bench)
              --quick               a smoke run: 50 clients, 1 s warm-up, 2 s measured, 1 repeat, storm 200, no warm storm
              --help                this text
            """;

    static BenchOptions parse(String... args) {
        List<String> scenarios = SCENARIOS;
        List<String> servers = SERVERS;
        Integer clients = null;
        Integer fanoutRate = null;
        Integer targetedRate = null;
        int burst = 1;
        List<Integer> storm = null;
        Integer stormWarm = null;
        Integer warmup = null;
        Integer measure = null;
        Integer repeats = null;
        int workers = 2;
        int connectConcurrency = 200;
        List<String> jvmArgs = List.of("-Xmx1g");
        Path output = Path.of(System.getProperty("bench.output.dir", "target/bench"));
        boolean quick = false;
        List<String> list = new ArrayList<>();
        for (String arg : args) {
            // several options in one argument (-Dbench.args="..." when not split by a shell): split
            // them at spaces outside double quotes
            if (arg.trim().startsWith("--") && arg.trim().contains(" ")) {
                list.addAll(words(arg));
            } else {
                list.add(arg);
            }
        }
        for (int i = 0; i < list.size(); i++) {
            String given = list.get(i).trim();
            if (given.isEmpty()) {
                continue;
            }
            String value = null;
            int eq = given.indexOf('=');
            if (eq > 0) {
                value = given.substring(eq + 1);
            }
            String option = eq > 0 ? given.substring(0, eq) : given;
            if (option.equals("--quick")) {
                quick = true;
                continue;
            }
            if (option.equals("--help") || option.equals("-h")) {
                throw new IllegalArgumentException("");
            }
            if (!VALUED.contains(option)) {
                throw new IllegalArgumentException("unknown option " + option);
            }
            if (value == null) {
                if (i + 1 >= list.size()) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                value = list.get(++i).trim();
            }
            switch (option) {
                case "--scenarios" -> scenarios = names(option, value, SCENARIOS);
                case "--servers" -> servers = names(option, value, SERVERS);
                case "--clients" -> clients = positive(option, value);
                case "--rate" -> fanoutRate = positive(option, value);
                case "--targeted-rate" -> targetedRate = positive(option, value);
                case "--burst" -> burst = positive(option, value);
                case "--storm" -> storm = Arrays.stream(value.split(",")).map(v -> positive(option, v.trim())).toList();
                case "--storm-warm" -> stormWarm = nonNegative(option, value);
                case "--warmup" -> warmup = nonNegative(option, value);
                case "--measure" -> measure = positive(option, value);
                case "--repeats" -> repeats = positive(option, value);
                case "--workers" -> workers = positive(option, value);
                case "--connect-concurrency" -> connectConcurrency = positive(option, value);
                case "--jvm-args" -> jvmArgs = List.of(value.trim().split("\\s+"));
                case "--output" -> output = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        Path nodeDir = Path.of(System.getProperty("bench.node.dir", "target/bench-node")).toAbsolutePath();
        String node = System.getProperty("bench.node", "node");
        return new BenchOptions(scenarios, servers,
                or(clients, quick ? 50 : 1000),
                or(fanoutRate, quick ? 1000 : 40000),
                or(targetedRate, quick ? 100 : 2000),
                burst,
                storm != null ? storm : quick ? List.of(200) : List.of(1000, 5000, 10000),
                or(stormWarm, quick ? 0 : 30000),
                or(warmup, quick ? 1 : 90),
                or(measure, quick ? 2 : 20),
                or(repeats, quick ? 1 : 2),
                workers, connectConcurrency, jvmArgs, output.toAbsolutePath(), nodeDir, node, quick);
    }

    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        for (char c : line.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /** Sends per second of a fan-out run: the deliveries per second spread over the clients. */
    double fanoutSendsPerSecond() {
        return (double) fanoutRate / clients;
    }

    private static int or(Integer value, int fallback) {
        return value != null ? value : fallback;
    }

    private static List<String> names(String option, String value, List<String> allowed) {
        List<String> names = new ArrayList<>();
        for (String name : value.toLowerCase(Locale.ROOT).split(",")) {
            name = name.trim();
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException(option + ": '" + name + "' is not one of " + String.join(", ", allowed));
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException(option + " is empty");
        }
        return List.copyOf(names);
    }

    private static int positive(String option, String value) {
        int n = nonNegative(option, value);
        if (n == 0) {
            throw new IllegalArgumentException(option + " must be at least 1, was " + value);
        }
        return n;
    }

    private static int nonNegative(String option, String value) {
        try {
            int n = Integer.parseInt(value.replace("_", ""));
            if (n < 0) {
                throw new IllegalArgumentException(option + " must not be negative, was " + value);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, was '" + value + "'");
        }
    }
}
