package io.pushbridge.samples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the kernel accounts for a process (Linux {@code /proc}): CPU time (utime + stime, in clock
 * ticks of {@code getconf CLK_TCK}), resident memory, the open-files limit; and the used heap of a
 * JVM after a full collection, through {@code jcmd}.
 */
final class ProcStats {

    private static final long CLOCK_TICKS = clockTicks();
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private ProcStats() {
    }

    /** utime + stime of the process, in microseconds. */
    static long cpuMicros(long pid) {
        String[] fields = statFields(pid);
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * 1_000_000L / CLOCK_TICKS;
    }

    /** stime of the process (its time in the kernel: system calls, the network stack), in microseconds. */
    static long kernelMicros(long pid) {
        return Long.parseLong(statFields(pid)[12]) * 1_000_000L / CLOCK_TICKS;
    }

    private static String[] statFields(long pid) {
        String stat = read(Path.of("/proc", Long.toString(pid), "stat"));
        // the command name, in parentheses, may contain spaces: the fields start after its last ')'
        return stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    }

    /** The sum of {@link #cpuMicros} over processes. */
    static long cpuMicros(Collection<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            total += cpuMicros(pid);
        }
        return total;
    }

    /** VmRSS in bytes. */
    static long rssBytes(long pid) {
        return statusKb(pid, "VmRSS") * 1024;
    }

    /** The soft limit of open files, or -1 when unknown. */
    static long openFilesLimit(long pid) {
        for (String line : read(Path.of("/proc", Long.toString(pid), "limits")).split("\n")) {
            if (line.startsWith("Max open files")) {
                String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
            }
        }
        return -1;
    }

    private static long statusKb(long pid, String field) {
        for (String line : read(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/status");
    }

    /**
     * The JVM's used heap in bytes right after a full collection ({@code jcmd PID GC.run}, twice,
     * then {@code GC.heap_info}), or -1 when there is no jcmd (a JRE).
     */
    static long jvmHeapUsedAfterGc(long pid) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return -1;
        }
        run(jcmd.toString(), Long.toString(pid), "GC.run");
        run(jcmd.toString(), Long.toString(pid), "GC.run");
        String info = run(jcmd.toString(), Long.toString(pid), "GC.heap_info");
        Matcher used = HEAP_USED.matcher(info);
        if (!used.find()) {
            throw new IllegalStateException("no used heap in jcmd GC.heap_info:\n" + info);
        }
        return Long.parseLong(used.group(1)) * 1024;
    }

    static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static long clockTicks() {
        try {
            return Long.parseLong(run("getconf", "CLK_TCK").trim());
        } catch (RuntimeException e) {
            return 100; // Linux's USER_HZ nearly everywhere
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " (the benchmark measures on Linux only)", e);
        }
    }
}
