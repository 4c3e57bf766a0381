package io.pushbridge.samples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.redis.testing.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The servers of one run, each its own OS process (so that its CPU time is its own): one or two
 * PushBridge gateways (child JVMs of {@link BenchGateway} on this JVM's classpath) or reference
 * servers ({@code node reference-server.mjs}), and Redis ({@link RedisServer}, the tests' harness)
 * when the run uses it. Every process is launched through {@code bash -c 'ulimit -n ...; exec ...'}
 * for enough file descriptors, binds loopback on a free port, and is stopped by {@link #close()} or,
 * on Ctrl-C or a failure, by a shutdown hook.
 */
final class Deployment implements AutoCloseable {

    static final String SITE = "bench";
    static final String API_KEY = "bench-key";
    static final String USER_ROOM_PREFIX = "user_";
    static final String FANOUT_ROOM = "all";

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade: Node takes an Upgrade header for a WebSocket
            .connectTimeout(Duration.ofSeconds(2)).build();
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Deployment::stop), "bench-reaper"));
    }

    /** One server process. */
    record Node(String name, Process process, int port, Path log) {
        long pid() {
            return process.pid();
        }

        String url() {
            return "http://127.0.0.1:" + port;
        }
    }

    private final String kind;
    private final List<Node> nodes;
    private final RedisServer redis;
    private final long redisPid;

    private Deployment(String kind, List<Node> nodes, RedisServer redis, long redisPid) {
        this.kind = kind;
        this.nodes = List.copyOf(nodes);
        this.redis = redis;
        this.redisPid = redisPid;
    }

    /** Starts Redis (when asked) and {@code count} nodes of {@code kind} ("pushbridge" or "reference"). */
    static Deployment start(String kind, int count, boolean withRedis, BenchOptions options, String label) throws IOException {
        RedisServer redis = null;
        List<Node> nodes = new ArrayList<>();
        try {
            long redisPid = -1;
            if (withRedis) {
                redis = RedisServer.start();
                redisPid = redisPid(redis);
            }
            Path logs = Files.createDirectories(options.outputDir().resolve("logs"));
            for (int i = 1; i <= count; i++) {
                String name = label + "-" + kind + "-node" + i;
                int port = freePort();
                List<String> command = kind.equals("pushbridge")
                        ? pushBridgeCommand(options, port, redis)
                        : referenceCommand(options, port, redis);
                Path log = logs.resolve(name + ".log");
                nodes.add(launch(name, command, kind.equals("pushbridge") ? Path.of(".") : options.nodeDir(), port, log));
            }
            for (Node node : nodes) {
                awaitReady(node);
            }
            return new Deployment(kind, nodes, redis, redisPid);
        } catch (IOException | RuntimeException e) {
            nodes.forEach(node -> stop(node.process()));
            if (redis != null) {
                redis.close();
            }
            throw e;
        }
    }

    private static List<String> pushBridgeCommand(BenchOptions options, int port, RedisServer redis) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options.jvmArgs());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchGateway.class.getName(),
                "--spring.config.name=pushbridge-bench",
                "--spring.main.banner-mode=off",
                "--spring.main.keep-alive=true",
                "--pushbridge.host=127.0.0.1",
                "--pushbridge.port=" + port,
                "--pushbridge.reconnect-spread=0",
                "--pushbridge.sites." + SITE + ".authorizer=bean",
                "--pushbridge.sites." + SITE + ".authorizer-bean=benchAuthorizer",
                "--pushbridge.sites." + SITE + ".api-key=" + API_KEY,
                "--pushbridge.sites." + SITE + ".user-room-prefix=" + USER_ROOM_PREFIX,
                "--bench.user-room-prefix=" + USER_ROOM_PREFIX,
                "--bench.fanout-room=" + FANOUT_ROOM));
        if (redis != null) {
            command.add("--pushbridge.redis.url=" + redis.uri());
        }
        return command;
    }

    private static List<String> referenceCommand(BenchOptions options, int port, RedisServer redis) {
        List<String> command = new ArrayList<>(List.of(options.node(), "--expose-gc", "reference-server.mjs",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--site", SITE, "--api-key", API_KEY,
                "--user-room-prefix", USER_ROOM_PREFIX, "--fanout-room", FANOUT_ROOM));
        if (redis != null) {
            command.addAll(List.of("--redis", redis.uri()));
        }
        return command;
    }

    /** Runs {@code command} under {@code bash -c 'ulimit -n ...; exec "$@"'}, output into {@code log}. */
    static Node launch(String name, List<String> command, Path dir, int port, Path log) throws IOException {
        List<String> wrapped = new ArrayList<>(List.of("bash", "-c", ulimitThenExec(), name));
        wrapped.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(wrapped)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().put("NODE_ENV", "production");
        Process process = builder.start();
        LIVE.add(process);
        return new Node(name, process, port, log);
    }

    /** Raises the open-files limit as far as allowed (65536, else the hard limit), then execs the command. */
    static String ulimitThenExec() {
        return "ulimit -n 65536 2>/dev/null || ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$@\"";
    }

    private static void awaitReady(Node node) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!node.process().isAlive()) {
                throw new IllegalStateException(node.name() + " exited with " + node.process().exitValue()
                        + " before serving\n" + tail(node.log()));
            }
            try {
                // the send API answers a GET with 405 once it serves, on both servers
                HttpResponse<Void> answer = HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/send"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() > 0) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(node.name() + " did not serve within " + START_TIMEOUT.toSeconds() + " s\n" + tail(node.log()));
            }
            sleep(100);
        }
    }

    String kind() {
        return kind;
    }

    List<Node> nodes() {
        return nodes;
    }

    /** The base URLs the clients connect to, node by node. */
    List<String> urls() {
        return nodes.stream().map(Node::url).toList();
    }

    /** Every process whose CPU counts as the server's: the nodes and Redis. */
    List<Long> serverPids() {
        List<Long> pids = new ArrayList<>(nodes.stream().map(Node::pid).toList());
        if (redisPid > 0) {
            pids.add(redisPid);
        }
        return pids;
    }

    /** The lowest open-files limit of the nodes. */
    long openFilesLimit() {
        return nodes.stream().mapToLong(node -> ProcStats.openFilesLimit(node.pid())).min().orElse(-1);
    }

    /** Heap (after a full collection) and RSS of the first node, in bytes. */
    long[] memory() {
        Node node = nodes.get(0);
        if (kind.equals("pushbridge")) {
            return new long[] {ProcStats.jvmHeapUsedAfterGc(node.pid()), ProcStats.rssBytes(node.pid())};
        }
        JsonNode stats = stats(node);
        // process.memoryUsage() after global.gc(): V8's used heap, and the RSS
        return new long[] {stats.path("memory").path("heapUsed").asLong(-1), stats.path("memory").path("rss").asLong(-1)};
    }

    private static JsonNode stats(Node node) {
        try {
            HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/stats"))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(answer.body());
        } catch (IOException e) {
            throw new UncheckedIOException(node.name() + ": GET /stats failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Stops every node (SIGTERM, SIGKILL after 15 s), then Redis. */
    @Override
    public void close() {
        nodes.forEach(node -> stop(node.process()));
        if (redis != null) {
            redis.close();
        }
    }

    private static void stop(Process process) {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            LIVE.remove(process);
        }
    }

    private static long redisPid(RedisServer redis) {
        for (String line : redis.command("INFO", "server").split("\r?\n")) {
            if (line.startsWith("process_id:")) {
                return Long.parseLong(line.substring("process_id:".length()).trim());
            }
        }
        throw new IllegalStateException(redis + ": no process_id in INFO server");
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "--- " + log + " (last lines) ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "--- " + log + ": " + e;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
