package io.pushbridge.redis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the Redis 7 executables the test harness runs: {@code redis-server}, {@code redis-sentinel}
 * and {@code redis-cli}.
 *
 * <p>Each one is looked up in this order:
 * <ol>
 *   <li>the directory named by the system property {@value #BIN_DIR_PROPERTY}, if set (no version
 *       check: the user asked for it);</li>
 *   <li>the {@code PATH}, if the executable is there and its {@code --version} reports major version
 *       7 or later (sharded pub/sub, {@code SHUTDOWN ... NOW} and {@code --enable-debug-command}
 *       need Redis 7);</li>
 *   <li>the binaries that {@code com.github.lansheng228:embedded-redis:7.0.9} ships as root entries
 *       of its jar ({@code redis-server-7.0.9-linux-amd64}, ...), for this OS (Linux or macOS) and
 *       architecture (amd64 or arm64). They are extracted once into
 *       {@code ${java.io.tmpdir}/pushbridge-redis-7.0.9/}, written to a temporary file and moved into
 *       place atomically so that concurrent JVMs do not see half-written files, marked executable and
 *       reused by later runs when the size matches.</li>
 * </ol>
 * If none applies, the methods throw an {@link IllegalStateException} that says what was tried.
 *
 * <p>Results are cached for the life of the JVM. All methods are thread-safe.
 */
public final class RedisBinaries {

    /** System property naming a directory that holds {@code redis-server}, {@code redis-sentinel} and {@code redis-cli}. */
    public static final String BIN_DIR_PROPERTY = "pushbridge.redis.bin-dir";

    /** The version of the binaries in the embedded-redis jar. */
    public static final String EMBEDDED_VERSION = "7.0.9";

    private static final int MIN_MAJOR = 7;
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)");
    private static final Map<String, Path> RESOLVED = new ConcurrentHashMap<>();

    private RedisBinaries() {
    }

    /** The {@code redis-server} executable. */
    public static Path server() {
        return resolve("redis-server");
    }

    /**
     * The {@code redis-sentinel} executable. Redis picks Sentinel mode from the name it is started
     * under, so the file's name always contains {@code redis-sentinel}.
     */
    public static Path sentinel() {
        return resolve("redis-sentinel");
    }

    /** The {@code redis-cli} executable. */
    public static Path cli() {
        return resolve("redis-cli");
    }

    private static Path resolve(String name) {
        Path cached = RESOLVED.get(name);
        if (cached != null) {
            return cached;
        }
        synchronized (RedisBinaries.class) {
            return RESOLVED.computeIfAbsent(name, RedisBinaries::locate);
        }
    }

    private static Path locate(String name) {
        String binDir = System.getProperty(BIN_DIR_PROPERTY);
        if (binDir != null && !binDir.isBlank()) {
            Path candidate = Paths.get(binDir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
            throw new IllegalStateException(
                    "-D" + BIN_DIR_PROPERTY + "=" + binDir + " is set but " + candidate + " is not an executable file");
        }

        StringBuilder tried = new StringBuilder();
        Path onPath = findOnPath(name);
        if (onPath == null) {
            tried.append(name).append(" is not on the PATH");
        } else {
            String version = version(onPath);
            if (version != null && major(version) >= MIN_MAJOR) {
                return onPath;
            }
            tried.append(onPath).append(" reports version ").append(version == null ? "(unknown)" : version)
                    .append(", older than ").append(MIN_MAJOR);
        }

        String entry = embeddedEntry(name, tried);
        if (entry != null) {
            URL resource = resourceUrl(entry);
            if (resource != null) {
                return extract(entry, resource);
            }
            tried.append("; the test classpath has no resource ").append(entry)
                    .append(" (add the test dependency com.github.lansheng228:embedded-redis:").append(EMBEDDED_VERSION)
                    .append(")");
        }
        throw new IllegalStateException("No Redis " + MIN_MAJOR + "+ " + name + " available: " + tried
                + ". Install Redis " + MIN_MAJOR + " or later, or point -D" + BIN_DIR_PROPERTY + " at its binaries.");
    }

    private static Path findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            try {
                Path candidate = Paths.get(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate;
                }
            } catch (RuntimeException ignored) {
                // an invalid PATH entry
            }
        }
        return null;
    }

    /** Runs {@code binary --version} and returns the first {@code x.y.z} it prints, or {@code null}. */
    static String version(Path binary) {
        try {
            Process process = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            byte[] output;
            try (InputStream in = process.getInputStream()) {
                output = in.readNBytes(4096);
            }
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return null;
            }
            Matcher matcher = VERSION.matcher(new String(output, StandardCharsets.UTF_8));
            return matcher.find() ? matcher.group() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static int major(String version) {
        return Integer.parseInt(version.substring(0, version.indexOf('.')));
    }

    private static String embeddedEntry(String name, StringBuilder tried) {
        String osName = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String archName = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String os = osName.contains("linux") ? "linux"
                : osName.contains("mac") || osName.contains("darwin") ? "darwin" : null;
        String arch = archName.equals("amd64") || archName.equals("x86_64") ? "amd64"
                : archName.equals("aarch64") || archName.equals("arm64") ? "arm64" : null;
        if (os == null || arch == null) {
            tried.append("; the embedded-redis jar has no binaries for os.name=").append(osName)
                    .append(" os.arch=").append(archName);
            return null;
        }
        return name + "-" + EMBEDDED_VERSION + "-" + os + "-" + arch;
    }

    private static URL resourceUrl(String entry) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        URL url = loader == null ? null : loader.getResource(entry);
        if (url == null) {
            url = RedisBinaries.class.getClassLoader().getResource(entry);
        }
        return url;
    }

    private static Path extract(String entry, URL resource) {
        try {
            URLConnection connection = resource.openConnection();
            long size = connection.getContentLengthLong();
            Path cacheDir = cacheDir();
            Path target = cacheDir.resolve(entry);
            if (size >= 0 && Files.isRegularFile(target) && Files.size(target) == size) {
                if (!Files.isExecutable(target)) {
                    target.toFile().setExecutable(true, false);
                }
                if (Files.isExecutable(target)) {
                    return target;
                }
            }
            Path temp = Files.createTempFile(cacheDir, entry + ".", ".tmp");
            try {
                try (InputStream in = connection.getInputStream()) {
                    Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                }
                if (size >= 0 && Files.size(temp) != size) {
                    throw new IOException("extracted " + Files.size(temp) + " bytes of " + entry + ", expected " + size);
                }
                if (!temp.toFile().setExecutable(true, false)) {
                    throw new IOException("cannot mark " + temp + " executable");
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot extract " + entry + " from " + resource, e);
        }
    }

    /** The shared cache directory, or a private temporary one when the shared one is not writable. */
    private static Path cacheDir() throws IOException {
        Path shared = Paths.get(System.getProperty("java.io.tmpdir"), "pushbridge-redis-" + EMBEDDED_VERSION);
        try {
            Files.createDirectories(shared);
            if (Files.isWritable(shared)) {
                return shared;
            }
        } catch (IOException ignored) {
            // owned by another user, say: fall through
        }
        return Files.createTempDirectory("pushbridge-redis-" + EMBEDDED_VERSION + "-");
    }
}
