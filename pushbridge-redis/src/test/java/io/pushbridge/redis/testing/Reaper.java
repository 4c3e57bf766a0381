package io.pushbridge.redis.testing;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keeps track of every process and temporary directory the harness creates, and kills and deletes
 * whatever is left when the JVM exits (normally or on SIGTERM/SIGINT), so no Redis outlives the test
 * JVM. A JVM that is itself SIGKILLed runs no hook; its Redis processes then have to be killed by
 * hand: {@code pgrep -af pushbridge-redis} lists them (their binaries and working directories are
 * named so).
 *
 * <p>Thread-safe.
 */
final class Reaper {

    private static final Set<Process> PROCESSES = ConcurrentHashMap.newKeySet();
    private static final Set<Path> DIRECTORIES = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Reaper::reapAll, "pushbridge-redis-reaper"));
    }

    private Reaper() {
    }

    static void register(Process process) {
        PROCESSES.add(process);
    }

    static void unregister(Process process) {
        PROCESSES.remove(process);
    }

    static void register(Path directory) {
        DIRECTORIES.add(directory);
    }

    /** Deletes a directory tree now, ignoring failures, and forgets it. */
    static void delete(Path directory) {
        DIRECTORIES.remove(directory);
        deleteTree(directory);
    }

    private static void reapAll() {
        for (Process process : PROCESSES) {
            process.destroyForcibly();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (Process process : PROCESSES) {
            try {
                process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Path directory : DIRECTORIES) {
            deleteTree(directory);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort: it is a temporary directory
        }
    }
}
