package io.pushbridge.samples.cli;

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * A command-line Socket.IO client for trying a gateway out, in place of the older services'
 * {@code node src/client.js sessionname}. It connects, optionally emits {@code authenticate} or
 * {@code subscribe}, and prints one line per thing that happens:
 *
 * <pre>
 * connect 0f8e2c4e-...                      (the socket id)
 * message [{"a":"b"}]                       (an event: its name and its arguments as a JSON array)
 * connect_error {"message":"...","code":"unauthorized"}
 * disconnect io server disconnect           (the reason)
 * </pre>
 *
 * <p>Run it from the repository root with
 * {@code ./mvnw -q -DskipTests -Pcli package -Dcli.args="--session mysessionid http://localhost:5000"}.
 * No Spring: {@link #main} only delegates to {@link #run(String[], PrintStream)}.
 */
public final class PushBridgeCli {

    /** Exit code: done (the events counted arrived, or {@code --timeout} ended a run without {@code --count}). */
    public static final int OK = 0;
    /** Exit code: {@code connect_error}, or the connection was lost. */
    public static final int CONNECTION_FAILED = 1;
    /** Exit code: bad usage. */
    public static final int USAGE = 2;
    /** Exit code: {@code --timeout} passed before {@code --count} events arrived. */
    public static final int TIMED_OUT = 3;

    static final String USAGE_TEXT = """
            Usage: pushbridge-cli [options] URL

            Connects to a PushBridge gateway (or any Socket.IO v3/v4 server) at URL, e.g.
            http://localhost:5000, and prints one line per event received: <event> <args as JSON array>,
            plus the connect, connect_error and disconnect lines.

            Options:
              --namespace NS    namespace to connect to (default /; or give it as URL's path)
              --path PATH       Engine.IO path (default /socket.io/)
              --token T         send auth {token: T}
              --session S       emit authenticate {sessionId: S} on connect
              --subscribe ROOM  emit subscribe {room: ROOM, uid, sid} on connect
              --uid U           the uid of --subscribe
              --sid S           the sid of --subscribe
              --polling         use HTTP long-polling only (default: long-polling, then WebSocket)
              --websocket       use WebSocket only
              --ack             answer every event that asks for an ack (user room messages)
              --count N         exit after N events
              --timeout D       give up after D (e.g. 500ms, 10s, 5m; a plain number is seconds)
              -h, --help        print this help

            Exit codes: 0 done (N events received, or --timeout ended a run without --count),
            1 connect_error or connection lost, 2 bad usage, 3 --timeout before N events.
            """;

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

    private PushBridgeCli() {
    }

    public static void main(String[] args) {
        // exit explicitly: idle HTTP client threads would otherwise keep the JVM up for a while
        System.exit(run(args, System.out));
    }

    /**
     * Runs the client: parses {@code args}, connects, prints to {@code out} and returns the exit
     * code once the run is over (see the constants). Never calls {@link System#exit}.
     */
    public static int run(String[] args, PrintStream out) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (UsageException e) {
            out.println("pushbridge-cli: " + e.getMessage());
            out.print(USAGE_TEXT);
            out.flush();
            return USAGE;
        }
        if (options == null) {
            out.print(USAGE_TEXT);
            out.flush();
            return OK;
        }
        return new Session(options, out).run();
    }

    /** One connection, from connect to close. */
    private static final class Session {

        private final Options options;
        private final PrintStream out;
        private final CompletableFuture<Integer> result = new CompletableFuture<>();
        private final CompletableFuture<Void> disconnected = new CompletableFuture<>();
        private final AtomicBoolean done = new AtomicBoolean();
        private final AtomicBoolean connected = new AtomicBoolean();
        private final AtomicInteger events = new AtomicInteger();

        Session(Options options, PrintStream out) {
            this.options = options;
            this.out = out;
        }

        int run() {
            OkHttpClient http = new OkHttpClient.Builder().readTimeout(1, TimeUnit.MINUTES).build();
            IO.Options io = IO.Options.builder()
                    .setPath(options.path)
                    .setForceNew(true)
                    .setReconnection(false)
                    .build();
            // as browsers do: long-polling, then the upgrade to WebSocket; or one transport only
            if (options.polling && options.websocket) {
                io.transports = new String[] {"polling", "websocket"};
            } else if (options.polling) {
                io.transports = new String[] {"polling"};
            } else if (options.websocket) {
                io.transports = new String[] {"websocket"};
            }
            if (options.token != null) {
                io.auth = Map.of("token", options.token);
            }
            io.callFactory = http;
            io.webSocketFactory = http;
            Socket socket = IO.socket(options.uri, io);
            socket.on(Socket.EVENT_CONNECT, args -> onConnect(socket));
            socket.on(Socket.EVENT_CONNECT_ERROR, args -> {
                print("connect_error " + (args.length == 0 ? "null" : json(args[0])));
                finish(CONNECTION_FAILED);
            });
            socket.on(Socket.EVENT_DISCONNECT, args -> {
                print("disconnect " + (args.length == 0 ? "" : String.valueOf(args[0])));
                disconnected.complete(null);
                finish(CONNECTION_FAILED);
            });
            socket.onAnyIncoming(this::onEvent);
            socket.connect();
            int code;
            try {
                code = options.timeout == null ? result.get()
                        : result.get(options.timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                done.set(true);
                if (options.count == null) {
                    code = OK;
                } else {
                    print("timeout after " + format(options.timeout) + ": " + events.get() + " of " + options.count
                            + " events");
                    code = TIMED_OUT;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                code = CONNECTION_FAILED;
            } catch (ExecutionException e) {
                code = CONNECTION_FAILED;
            }
            socket.close();
            if (connected.get()) {
                // the disconnect line comes from the client's event thread; print it before returning
                try {
                    disconnected.get(2, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // closing is best effort
                }
            }
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
            out.flush();
            return code;
        }

        private void onConnect(Socket socket) {
            connected.set(true);
            print("connect " + socket.id());
            if (options.session != null) {
                socket.emit("authenticate", new JSONObject(Map.of("sessionId", options.session)));
            }
            if (options.subscribe != null) {
                JSONObject subscribe = new JSONObject();
                try {
                    subscribe.put("room", options.subscribe);
                    if (options.uid != null) {
                        subscribe.put("uid", options.uid);
                    }
                    if (options.sid != null) {
                        subscribe.put("sid", options.sid);
                    }
                } catch (JSONException e) {
                    throw new IllegalStateException(e);
                }
                socket.emit("subscribe", subscribe);
            }
        }

        /** {@code args}: the event's name, its arguments, then an {@link Ack} if the server asked for one. */
        private void onEvent(Object... args) {
            if (args.length == 0 || done.get()) {
                return;
            }
            int end = args.length;
            Ack ack = null;
            if (end > 1 && args[end - 1] instanceof Ack last) {
                ack = last;
                end--;
            }
            StringBuilder line = new StringBuilder(String.valueOf(args[0])).append(" [");
            for (int i = 1; i < end; i++) {
                line.append(i > 1 ? "," : "").append(json(args[i]));
            }
            print(line.append(']').toString());
            if (ack != null && options.ack) {
                ack.call();
            }
            if (options.count != null && events.incrementAndGet() >= options.count) {
                finish(OK);
            }
        }

        private void finish(int code) {
            done.set(true);
            result.complete(code);
        }

        private void print(String line) {
            synchronized (out) {
                out.println(line);
                out.flush();
            }
        }
    }

    /** A value the Java client hands over (org.json values, {@code byte[]}, an exception) as JSON. */
    static String json(Object value) {
        if (value == null || value == JSONObject.NULL) {
            return "null";
        }
        if (value instanceof JSONObject || value instanceof JSONArray || value instanceof Number
                || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof byte[] bytes) {
            return "{\"binary\":" + JSONObject.quote(Base64.getEncoder().encodeToString(bytes)) + "}";
        }
        if (value instanceof Throwable failure) {
            // a transport failure (server down, wrong path): its message and cause
            String message = String.valueOf(failure.getMessage());
            if (failure.getCause() != null && failure.getCause() != failure) {
                message += ": " + failure.getCause();
            }
            return JSONObject.quote(message);
        }
        return JSONObject.quote(value.toString());
    }

    private static String format(Duration duration) {
        return duration.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** The parsed command line. */
    static final class Options {

        URI uri;
        String path = "/socket.io/";
        String token;
        String session;
        String subscribe;
        String uid;
        String sid;
        boolean polling;
        boolean websocket;
        boolean ack;
        Integer count;
        Duration timeout;

        /** The options, or {@code null} for {@code --help}. */
        static Options parse(String[] args) throws UsageException {
            Options options = new Options();
            List<String> positional = new ArrayList<>();
            String namespace = null;
            List<String> list = Arrays.asList(args);
            for (int i = 0; i < list.size(); i++) {
                String arg = list.get(i);
                String name = arg;
                String value = null;
                if (arg.startsWith("--") && arg.contains("=")) {
                    name = arg.substring(0, arg.indexOf('='));
                    value = arg.substring(arg.indexOf('=') + 1);
                }
                switch (name) {
                    case "-h", "--help" -> {
                        return null;
                    }
                    case "--polling" -> options.polling = flag(name, value);
                    case "--websocket" -> options.websocket = flag(name, value);
                    case "--ack" -> options.ack = flag(name, value);
                    case "--namespace", "--path", "--token", "--session", "--subscribe", "--uid", "--sid", "--count",
                            "--timeout" -> {
                        if (value == null) {
                            if (i + 1 >= list.size()) {
                                throw new UsageException(name + " needs a value");
                            }
                            value = list.get(++i);
                        }
                        switch (name) {
                            case "--namespace" -> namespace = slashed(name, value);
                            case "--path" -> options.path = slashed(name, value);
                            case "--token" -> options.token = value;
                            case "--session" -> options.session = value;
                            case "--subscribe" -> options.subscribe = value;
                            case "--uid" -> options.uid = value;
                            case "--sid" -> options.sid = value;
                            case "--count" -> options.count = count(value);
                            default -> options.timeout = duration(value);
                        }
                    }
                    default -> {
                        if (arg.startsWith("-")) {
                            throw new UsageException("unknown option " + name);
                        }
                        positional.add(arg);
                    }
                }
            }
            if (positional.size() != 1) {
                throw new UsageException(positional.isEmpty() ? "URL is missing" : "one URL only, got " + positional);
            }
            if (options.subscribe == null && (options.uid != null || options.sid != null)) {
                throw new UsageException("--uid and --sid go with --subscribe");
            }
            options.uri = uri(positional.get(0), namespace);
            return options;
        }

        private static boolean flag(String name, String value) throws UsageException {
            if (value != null) {
                throw new UsageException(name + " takes no value");
            }
            return true;
        }

        private static String slashed(String name, String value) throws UsageException {
            if (!value.startsWith("/")) {
                throw new UsageException(name + " must start with '/', was '" + value + "'");
            }
            return value;
        }

        private static int count(String value) throws UsageException {
            try {
                int count = Integer.parseInt(value);
                if (count > 0) {
                    return count;
                }
            } catch (NumberFormatException ignored) {
                // below
            }
            throw new UsageException("--count must be a positive number, was '" + value + "'");
        }

        static Duration duration(String value) throws UsageException {
            Matcher m = DURATION.matcher(value);
            Duration duration = null;
            if (m.matches() && m.group(1).length() <= 9) {
                // at most 9 digits: any unit stays far inside what a Duration in nanoseconds holds
                long amount = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "s" : m.group(2);
                duration = switch (unit) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            } else if (!m.matches()) {
                try {
                    duration = Duration.parse(value);
                    duration.toNanos(); // fails for durations too long to wait for
                } catch (DateTimeParseException | ArithmeticException ignored) {
                    duration = null;
                    // below
                }
            }
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new UsageException("--timeout must be a positive duration such as 500ms, 10s or 5m, was '"
                        + value + "'");
            }
            return duration;
        }

        /** The URL with the namespace as its path (the Java client reads the namespace from there). */
        private static URI uri(String url, String namespace) throws UsageException {
            URI base;
            try {
                base = new URI(url);
            } catch (URISyntaxException e) {
                throw new UsageException("URL is invalid: " + e.getMessage());
            }
            String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || base.getHost() == null) {
                throw new UsageException("URL must be http://host[:port] or https://..., was '" + url + "'");
            }
            String path = base.getPath() == null || base.getPath().isEmpty() ? "/" : base.getPath();
            if (namespace != null) {
                if (!path.equals("/") && !path.equals(namespace)) {
                    throw new UsageException("give the namespace either in URL (" + path + ") or with --namespace ("
                            + namespace + "), not both");
                }
                path = namespace;
            }
            String query = base.getRawQuery() == null ? "" : "?" + base.getRawQuery();
            try {
                return new URI(scheme + "://" + base.getRawAuthority() + path + query);
            } catch (URISyntaxException e) {
                throw new UsageException("URL is invalid: " + e.getMessage());
            }
        }
    }
}
