package io.pushbridge.redis.bench;

import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestGateways;
import io.pushbridge.redis.RedisConnector;
import io.pushbridge.redis.RedisKeys;
import io.pushbridge.redis.testing.RedisServer;
import io.pushbridge.redis.upstream.RedisUpstream;
import io.pushbridge.redis.upstream.RedisUpstreamConsumer;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What upstream routing costs a client's request: an event with a callback answered by an
 * application node through Redis (gateway -> stream -> application node -> reply channel ->
 * gateway), against the same event answered by a handler on the gateway itself. Closed loop: each
 * client sends its next event when the previous one was answered. Alternates A B A B in one run
 * on one machine; compare the ratios, not the absolute figures (this machine is shared).
 *
 * <pre>
 * ./mvnw -B -q -pl pushbridge-core,pushbridge-redis -am -DskipTests install
 * ./mvnw -B -q -pl pushbridge-redis org.codehaus.mojo:exec-maven-plugin:3.5.1:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.pushbridge.redis.bench.UpstreamRoundTripBenchmark [-Dexec.args="rounds clients events"]
 * </pre>
 */
public final class UpstreamRoundTripBenchmark {

    private static final String SITE = "bench";

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int events = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        try (RedisServer redis = RedisServer.start()) {
            System.out.printf(Locale.ROOT, "redis-server on port %d; %d rounds of %d clients x %d acked events%n",
                    redis.port(), rounds, clients, events);
            List<Result> local = new ArrayList<>();
            List<Result> upstream = new ArrayList<>();
            for (int r = 0; r < rounds + 1; r++) {
                Result a = local(clients, events);
                Result b = upstream(redis, clients, events);
                if (r > 0) { // the first round warms up
                    local.add(a);
                    upstream.add(b);
                }
                System.out.printf(Locale.ROOT, "  round %d: local %s | upstream %s%n", r, a, b);
            }
            double localRate = local.stream().mapToDouble(Result::perSecond).max().orElseThrow();
            double upRate = upstream.stream().mapToDouble(Result::perSecond).max().orElseThrow();
            double localP50 = local.stream().mapToDouble(Result::p50).min().orElseThrow();
            double upP50 = upstream.stream().mapToDouble(Result::p50).min().orElseThrow();
            System.out.printf(Locale.ROOT, "best: local %.0f/s p50 %.2f ms; upstream %.0f/s p50 %.2f ms; "
                    + "throughput ratio upstream/local %.2f, p50 ratio %.1f%n", localRate, localP50, upRate, upP50,
                    upRate / localRate, upP50 / localP50);
        }
    }

    record Result(double perSecond, double p50, double p99) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f/s p50 %.2f ms p99 %.2f ms", perSecond, p50, p99);
        }
    }

    private static GatewayOptions.Builder options() {
        return TestGateways.options().maxEventsPerSecond(0).maxPendingEvents(64);
    }

    /** Baseline: the gateway answers the event itself. */
    private static Result local(int clients, int events) throws Exception {
        SiteOptions site = SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .onEvent("ask", event -> CompletableFuture.completedFuture(List.of("ok"))).build();
        PushBridgeGateway gateway = TestGateways.start(options().build(), b -> b.site(site));
        try {
            return load(gateway.port(), clients, events);
        } finally {
            gateway.stop();
        }
    }

    /** Upstream: a gateway appends the event, an application node answers it through Redis. */
    private static Result upstream(RedisServer redis, int clients, int events) throws Exception {
        RedisKeys keys = new RedisKeys("bench" + System.nanoTime() + ":");
        try (RedisConnector gatewayRedis = RedisConnector.builder().uri(redis.uri()).build();
                RedisConnector appRedis = RedisConnector.builder().uri(redis.uri()).build()) {
            RedisUpstream up = RedisUpstream.builder(SITE, gatewayRedis, keys).build();
            SiteOptions site = up.applyTo(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN)).build();
            UpstreamListener answer = new UpstreamListener() {
                @Override
                public CompletionStage<List<Object>> event(UpstreamRecord record) {
                    return CompletableFuture.completedFuture(List.of("ok"));
                }
            };
            RedisUpstreamConsumer consumer = RedisUpstreamConsumer.builder(appRedis, keys, answer).sites(List.of(SITE)).build();
            PushBridgeGateway app = TestGateways.start(options().serve(false).nodeId("app").build(),
                    b -> b.site(SiteOptions.builder(SITE).authorizer(TestGateways.ROOMS_FROM_TOKEN).build()).extension(consumer));
            PushBridgeGateway gateway = TestGateways.start(options().nodeId("gw").build(), b -> b.site(site).extension(up));
            try {
                return load(gateway.port(), clients, events);
            } finally {
                gateway.stop();
                app.stop();
            }
        }
    }

    /** Each client sends {@code events} acked events one after the other; all clients at once. */
    private static Result load(int port, int clients, int events) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Socket s = IO.socket(URI.create("http://127.0.0.1:" + port + "/" + SITE),
                    IO.Options.builder().setForceNew(true).setReconnection(false).setTransports(new String[] {"websocket"})
                            .setAuth(java.util.Map.of("token", "rooms:")).build());
            CompletableFuture<Void> connected = new CompletableFuture<>();
            s.on(Socket.EVENT_CONNECT, a -> connected.complete(null));
            s.connect();
            connected.get(10, TimeUnit.SECONDS);
            sockets.add(s);
        }
        long[] latencies = new long[clients * events];
        CountDownLatch done = new CountDownLatch(clients);
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            Socket s = sockets.get(c);
            int base = c * events;
            Function<Integer, Void>[] next = new Function[1];
            next[0] = i -> {
                if (i == events) {
                    done.countDown();
                    return null;
                }
                long sent = System.nanoTime();
                s.emit("ask", new Object[] {i}, (Ack) answer -> {
                    latencies[base + i] = System.nanoTime() - sent;
                    next[0].apply(i + 1);
                });
                return null;
            };
            next[0].apply(0);
        }
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the load did not finish within 120 s");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        sockets.forEach(Socket::close);
        Arrays.sort(latencies);
        return new Result(latencies.length / seconds, latencies[latencies.length / 2] / 1e6,
                latencies[(int) (latencies.length * 0.99)] / 1e6);
    }
}
