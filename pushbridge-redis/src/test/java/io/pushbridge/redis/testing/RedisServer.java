package io.pushbridge.redis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A real {@code redis-server} (or {@code redis-sentinel}) process on a free loopback port, for tests.
 *
 * <p>{@link #start(String...)} runs the binary from {@link RedisBinaries#server()} with
 * {@code --bind 127.0.0.1 --save "" --appendonly no --enable-debug-command local
 * --repl-diskless-sync-delay 0} (replicas sync at once instead of after 5 s), its working
 * directory ({@code --dir}) and log file ({@code --logfile}) in a fresh temporary directory, plus the
 * caller's extra arguments (which come last, so they win). It returns once the server answers
 * {@code PING} on a plain socket; a server that does not within 10 s is killed and reported with the
 * tail of its log.
 *
 * <p>Lifecycle: a server can be {@linkplain #kill() killed} (SIGKILL, to simulate a crash) or
 * {@linkplain #stop() stopped} ({@code SHUTDOWN NOSAVE NOW}) and then {@linkplain #restart()
 * restarted} on the same port with the same arguments, any number of times. {@link #close()} kills it
 * and deletes its directory; after that it cannot be restarted. A JVM shutdown hook kills whatever is
 * still running when the test JVM exits.
 *
 * <p>Threading: the lifecycle methods are synchronized; {@link #command(String...)} opens its own
 * connection per call and may be called from any thread.
 */
public final class RedisServer implements AutoCloseable {

    /** The loopback address every harness process binds. */
    public static final String HOST = "127.0.0.1";

    static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    static final String LOG_FILE = "redis.log";
    private static final String OUTPUT_FILE = "output.log";
    private static final int START_ATTEMPTS = 5;
    private static final int RESTART_ATTEMPTS = 20;

    /** Builds a command line for a port and a working directory (may write a config file there). */
    @FunctionalInterface
    interface CommandLine {
        List<String> build(int port, Path dir) throws IOException;
    }

    private final String name;
    private final List<String> command;
    private final Path dir;
    private final int port;
    private volatile Process process;
    private boolean closed;

    private RedisServer(String name, List<String> command, Path dir, int port) {
        this.name = name;
        this.command = List.copyOf(command);
        this.dir = dir;
        this.port = port;
    }

    /**
     * Starts a standalone {@code redis-server} on a free loopback port and waits until it answers
     * {@code PING}.
     *
     * @param extraArgs further command-line options, e.g. {@code "--maxmemory", "10mb"}; they come
     *     after the harness's own options and so override them
     * @throws IllegalStateException when no Redis 7 binary is available or the server does not come up
     */
    public static RedisServer start(String... extraArgs) {
        List<String> extra = List.copyOf(Arrays.asList(extraArgs));
        return launch("redis-server", "pushbridge-redis-", FreePorts::pick,
                (port, dir) -> serverCommand(port, dir, extra));
    }

    /** The standard {@code redis-server} command line. */
    static List<String> serverCommand(int port, Path dir, List<String> extraArgs) {
        List<String> command = new ArrayList<>(List.of(
                RedisBinaries.server().toString(),
                "--port", String.valueOf(port),
                "--bind", HOST,
                "--daemonize", "no",
                "--save", "",
                "--appendonly", "no",
                "--enable-debug-command", "local",
                "--repl-diskless-sync-delay", "0",
                "--dir", dir.toString(),
                "--logfile", dir.resolve(LOG_FILE).toString()));
        command.addAll(extraArgs);
        return command;
    }

    /**
     * Creates a temporary directory, starts the process on a port from {@code ports} and waits for
     * {@code PING}; when the port turns out to be taken, tries again with another one.
     */
    static RedisServer launch(String name, String dirPrefix, IntSupplier ports, CommandLine commandLine) {
        Path dir;
        try {
            dir = Files.createTempDirectory(dirPrefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for " + name, e);
        }
        Reaper.register(dir);
        PortInUseException portInUse = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int port = ports.getAsInt();
            RedisServer server;
            try {
                Files.deleteIfExists(dir.resolve(LOG_FILE));
                Files.deleteIfExists(dir.resolve(OUTPUT_FILE));
                server = new RedisServer(name, commandLine.build(port, dir), dir, port);
            } catch (IOException e) {
                Reaper.delete(dir);
                throw new UncheckedIOException("cannot prepare " + name + " in " + dir, e);
            } catch (RuntimeException e) {
                Reaper.delete(dir); // no binary, say
                throw e;
            }
            try {
                synchronized (server) {
                    server.spawn();
                }
                return server;
            } catch (PortInUseException e) {
                server.kill();
                portInUse = e;
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
        }
        Reaper.delete(dir);
        throw new IllegalStateException(name + " found no free port in " + START_ATTEMPTS + " attempts", portInUse);
    }

    /** The port it listens on; stays the same across {@link #restart()}. */
    public int port() {
        return port;
    }

    /** Always {@value #HOST}. */
    public String host() {
        return HOST;
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return "redis://" + HOST + ":" + port;
    }

    /** The working directory ({@code --dir}); deleted by {@link #close()}. */
    public Path dir() {
        return dir;
    }

    /** The server's log file, handy when a test fails. */
    public Path logFile() {
        return dir.resolve(LOG_FILE);
    }

    /** Whether the process is alive (it may still be starting or shutting down). */
    public boolean isRunning() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /** Kills the process with SIGKILL, like a crash, and waits until it is gone. No-op if not running. */
    public synchronized void kill() {
        Process current = process;
        if (current == null) {
            return;
        }
        current.destroyForcibly();
        waitForExit(current, Duration.ofSeconds(10));
        Reaper.unregister(current);
        process = null;
    }

    /**
     * Shuts the server down cleanly with {@code SHUTDOWN NOSAVE NOW} and waits until it is gone;
     * falls back to SIGTERM and then SIGKILL if it does not exit within 5 s. No-op if not running.
     */
    public synchronized void stop() {
        Process current = process;
        if (current == null) {
            return;
        }
        if (current.isAlive()) {
            try {
                Resp.send(HOST, port, Duration.ofSeconds(2), "SHUTDOWN", "NOSAVE", "NOW");
            } catch (IOException ignored) {
                // not answering: the signals below take over
            }
            if (!waitForExit(current, Duration.ofSeconds(5))) {
                current.destroy();
                if (!waitForExit(current, Duration.ofSeconds(5))) {
                    current.destroyForcibly();
                    waitForExit(current, Duration.ofSeconds(10));
                }
            }
        }
        Reaper.unregister(current);
        process = null;
    }

    /**
     * Starts the server again on the same port with the same command line (and, for cluster nodes and
     * sentinels, the same configuration files), and waits until it answers {@code PING}. A server that
     * is still running is killed first. While the port is briefly taken (by a connection in the way,
     * say) it retries for a few seconds.
     *
     * @throws IllegalStateException after {@link #close()}, or when it does not come up
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        kill();
        PortInUseException portInUse = null;
        for (int attempt = 0; attempt < RESTART_ATTEMPTS; attempt++) {
            try {
                spawn();
                return;
            } catch (PortInUseException e) {
                kill();
                portInUse = e;
                sleep(250);
            }
        }
        throw new IllegalStateException(this + " could not bind its port again", portInUse);
    }

    /**
     * Sends one command on a fresh connection and returns the reply as text: simple strings, errors
     * (e.g. {@code "ERR unknown command ..."}), integers and bulk strings as their text, arrays as
     * their elements joined by {@code \n} (nested arrays flattened), a nil reply as {@code null}.
     *
     * @throws UncheckedIOException when the server cannot be reached or does not answer within 5 s
     */
    public String command(String... args) {
        return Resp.render(call(args));
    }

    /** Like {@link #command(String...)} but returns the decoded reply (see {@link Resp}). */
    Object call(String... args) {
        try {
            return Resp.call(HOST, port, COMMAND_TIMEOUT, args);
        } catch (IOException e) {
            throw new UncheckedIOException(this + ": " + String.join(" ", args) + " failed: " + e, e);
        }
    }

    /** Like {@link #call(String...)} but returns {@code null} when the server cannot be reached. */
    Object callQuietly(String... args) {
        try {
            return Resp.call(HOST, port, Duration.ofSeconds(1), args);
        } catch (IOException e) {
            return null;
        }
    }

    /** Kills the process (if running) and deletes its directory. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        kill();
        Reaper.delete(dir);
    }

    /** The last lines of the log file and of the captured stdout/stderr. */
    public String logTail() {
        return tail(logFile(), 0) + tail(dir.resolve(OUTPUT_FILE), 0);
    }

    /** Closes every server, even when some fail; throws the first failure with the others suppressed. */
    static void closeAll(java.util.Collection<RedisServer> servers) {
        RuntimeException failure = null;
        for (RedisServer server : servers) {
            try {
                server.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return name + " on " + HOST + ":" + port;
    }

    // ---------------------------------------------------------------------------------------------

    /** Starts the process and waits for PING. */
    private void spawn() {
        long logOffset = size(logFile());
        long outputOffset = size(dir.resolve(OUTPUT_FILE));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.appendTo(dir.resolve(OUTPUT_FILE).toFile()))
                .redirectInput(Redirect.from(new java.io.File("/dev/null")));
        Process started = startProcess(builder, name);
        process = started;
        awaitPing(started, logOffset, outputOffset);
    }

    private void awaitPing(Process started, long logOffset, long outputOffset) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!started.isAlive()) {
                String log = tail(logFile(), logOffset) + tail(dir.resolve(OUTPUT_FILE), outputOffset);
                if (log.contains("Address already in use")) {
                    throw new PortInUseException(this + ": port taken");
                }
                Reaper.unregister(started);
                process = null;
                throw new IllegalStateException(this + " exited with code " + started.exitValue()
                        + " before answering PING\ncommand: " + String.join(" ", command) + "\n" + log);
            }
            try {
                Object reply = Resp.call(HOST, port, Duration.ofMillis(500), "PING");
                if ("PONG".equals(reply)) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw new IllegalStateException(this + " did not answer PING within " + START_TIMEOUT.toSeconds()
                        + " s\ncommand: " + String.join(" ", command) + "\n" + tail(logFile(), logOffset)
                        + tail(dir.resolve(OUTPUT_FILE), outputOffset));
            }
            sleep(10);
        }
    }

    /**
     * Starts a process and registers it with the {@link Reaper}. Retries while the kernel reports
     * "Text file busy": a binary just extracted by this JVM can still be open for writing in a child
     * another thread is forking at that moment.
     */
    static Process startProcess(ProcessBuilder builder, String name) {
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                Process started = builder.start();
                Reaper.register(started);
                return started;
            } catch (IOException e) {
                last = e;
                String message = String.valueOf(e.getMessage());
                if (!message.contains("error=26") && !message.contains("Text file busy")) {
                    break;
                }
                sleep(20);
            }
        }
        throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", builder.command()), last);
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean waitForExit(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** The last 40 lines of {@code file} from byte {@code offset} on, with a header; empty if none. */
    static String tail(Path file, long offset) {
        try {
            if (!Files.exists(file)) {
                return "";
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                in.skipNBytes(Math.min(offset, Files.size(file)));
                bytes = in.readAllBytes();
            }
            List<String> lines = List.of(new String(bytes, StandardCharsets.UTF_8).split("\n"));
            List<String> last = lines.subList(Math.max(0, lines.size() - 40), lines.size());
            return "--- " + file + " (last " + last.size() + " lines) ---\n" + String.join("\n", last) + "\n";
        } catch (IOException e) {
            return "--- " + file + ": " + e + "\n";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The process exited because its port was taken. */
    private static final class PortInUseException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PortInUseException(String message) {
            super(message);
        }
    }
}
