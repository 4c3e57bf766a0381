package io.pushbridge.samples.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One run of a Node script of {@code src/test/node} (installed by the {@code interop} profile with
 * {@code npm ci} into {@code target/interop-node}) against a running gateway. The script gets a
 * scenario name and its settings as JSON and answers by lines (see {@code lib.mjs}): steps the test
 * may act on ({@link #awaitStep}, then {@link #answer}), then one result or error line. The
 * script's stderr goes to {@code target/interop/logs/}, and is quoted in every failure.
 *
 * <p>The load benchmark ({@code io.pushbridge.samples.bench}) runs its load generator through
 * {@link #launch}, with its own directory, log and longest wait.
 */
public final class NodeScript implements AutoCloseable {

    /** Longest wait for one line; each script bounds its own run too (timeoutMs, 20 s by default). */
    static final Duration WAIT = Duration.ofSeconds(30);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode END = MissingNode.getInstance();
    private static final AtomicInteger RUNS = new AtomicInteger();

    private final String name;
    private final Duration wait;
    private final Process process;
    private final Writer stdin;
    private final Path log;
    private final BlockingQueue<JsonNode> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private NodeScript(String name, Process process, Path log, Duration wait) {
        this.name = name;
        this.wait = wait;
        this.process = process;
        this.log = log;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::read, "node-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Where npm ci put the scripts and their node_modules (set by the interop profile). */
    static Path directory() {
        Path dir = Path.of(System.getProperty("interop.node.dir", "target/interop-node")).toAbsolutePath();
        if (!Files.isDirectory(dir.resolve("node_modules"))) {
            throw new IllegalStateException("No Node packages in " + dir + ": run the interop tests with the interop profile "
                    + "(./mvnw verify -Pinterop), which installs them with npm ci; it needs node and npm on the PATH");
        }
        return dir;
    }

    /** Debian's Chromium, or the one -Dinterop.chromium names; fails clearly when there is none. */
    static Path chromium() {
        Path chromium = Path.of(System.getProperty("interop.chromium", "/usr/bin/chromium"));
        if (!Files.isExecutable(chromium)) {
            throw new IllegalStateException("No Chromium at " + chromium + ": install Debian's chromium "
                    + "(apt-get install -y chromium; .ci/run does) or set -Dinterop.chromium=/path/to/chromium");
        }
        return chromium;
    }

    /** Where the tests write what they keep: logs and the demo page's screenshot. */
    static Path outputDirectory() {
        return Path.of(System.getProperty("interop.output.dir", "target/interop")).toAbsolutePath();
    }

    /** Starts {@code node <script> <scenario> <settings as JSON>}. */
    static NodeScript start(String script, String scenario, Map<String, ?> settings) throws IOException {
        Path dir = directory();
        String name = script.replace(".mjs", "") + "-" + scenario;
        Path logs = Files.createDirectories(outputDirectory().resolve("logs"));
        Path log = logs.resolve(name + "-" + RUNS.incrementAndGet() + ".log");
        ProcessBuilder builder = new ProcessBuilder(System.getProperty("interop.node", "node"), script, scenario,
                JSON.writeValueAsString(settings))
                .directory(dir.toFile())
                .redirectError(log.toFile());
        builder.environment().put("NO_COLOR", "1");
        return new NodeScript(name, builder.start(), log, WAIT);
    }

    /**
     * Starts {@code command} (node and its arguments) in {@code dir}, its stderr into {@code log},
     * waiting at most {@code wait} for each line.
     */
    public static NodeScript launch(String name, List<String> command, Path dir, Path log, Duration wait) throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectError(log.toFile());
        builder.environment().put("NO_COLOR", "1");
        return new NodeScript(name, builder.start(), log, wait);
    }

    /** The process id, for reading its CPU time. */
    public long pid() {
        return process.pid();
    }

    private void read() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                synchronized (seen) {
                    seen.add(line);
                }
                // into the test's output file (failsafe redirects it), for reading after a run
                System.out.println("[" + name + "] " + line);
                if (line.startsWith("{")) {
                    try {
                        lines.add(JSON.readTree(line));
                    } catch (IOException e) {
                        // a library's own output: kept in seen, quoted on failure
                    }
                }
            }
        } catch (IOException e) {
            // the process ended
        } finally {
            lines.add(END);
        }
    }

    /** Waits for the step line of that name; fails if the script errs, ends or skips it. */
    public JsonNode awaitStep(String step) {
        JsonNode line = next("step '" + step + "'");
        if (!step.equals(line.path("step").asText(null))) {
            throw failure("expected step '" + step + "' but got " + line);
        }
        return line;
    }

    /** Lets a script waiting after a step go on. */
    public void answer() {
        answer(Map.of());
    }

    public void answer(Map<String, ?> command) {
        try {
            stdin.write(JSON.writeValueAsString(command) + "\n");
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("could not write to " + name + "\n" + details(), e);
        }
    }

    /** The script's result; fails unless it printed one and exited 0. */
    public JsonNode result() {
        JsonNode line = next("the result");
        if (!line.has("result")) {
            throw failure("expected the result but got " + line);
        }
        try {
            if (!process.waitFor(wait.toSeconds(), TimeUnit.SECONDS)) {
                throw failure("did not exit after its result");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted");
        }
        if (process.exitValue() != 0) {
            throw failure("exited with " + process.exitValue() + " after its result");
        }
        return line.get("result");
    }

    private JsonNode next(String what) {
        JsonNode line;
        try {
            line = lines.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted waiting for " + what);
        }
        if (line == null) {
            throw failure("nothing within " + wait.toSeconds() + " s while waiting for " + what);
        }
        if (line == END) {
            lines.add(END);
            throw failure("ended while waiting for " + what);
        }
        if (line.has("error")) {
            throw failure("failed: " + line.path("error").asText() + "\n" + line.path("stack").asText(""));
        }
        return line;
    }

    private AssertionError failure(String message) {
        return new AssertionError(name + " " + message + "\n" + details());
    }

    private String details() {
        StringBuilder out = new StringBuilder("--- stdout ---\n");
        synchronized (seen) {
            seen.forEach(line -> out.append(line).append('\n'));
        }
        out.append("--- stderr (").append(log).append(") ---\n");
        try {
            out.append(Files.readString(log));
        } catch (IOException e) {
            out.append("(unreadable: ").append(e).append(")");
        }
        return out.toString();
    }

    /** Ends the script if it still runs (a failed test). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
