package io.pushbridge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.ConnectRequest;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestCertificates;
import io.pushbridge.gateway.TestClient;
import io.pushbridge.gateway.TestGateways;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.json.JSONObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook authorizer against a real local HTTP server that counts its calls: the size limit
 * while reading, redirects, the cache (time moved by a clock, not by sleeping), coalescing of
 * identical calls, and the circuit breaker; and, through a gateway and a real client, a dead
 * authUrl failing connects fast.
 */
class WebhookAuthorizerIntegrationTests {

    static HttpServer server;
    static ExecutorService serverThreads;
    static String base;
    static final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    static final AtomicInteger toggleStatus = new AtomicInteger(503);
    static volatile CountDownLatch slowGate = new CountDownLatch(0);
    static final AtomicLong bigWritten = new AtomicLong();
    static final AtomicReference<Throwable> bigFailure = new AtomicReference<>();
    static final CountDownLatch bigDone = new CountDownLatch(1);

    final MutableClock clock = new MutableClock();

    @BeforeAll
    static void startServer() throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        serverThreads = Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        server.createContext("/rooms", exchange -> {
            count(exchange);
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (auth != null && auth.startsWith("Bearer good")) {
                answer(exchange, 200, "[\"room-" + auth.substring("Bearer ".length()) + "\"]");
            } else {
                answer(exchange, 401, "{}");
            }
        });
        server.createContext("/slow", exchange -> {
            count(exchange);
            try {
                slowGate.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(exchange, 200, "[\"slow-room\"]");
        });
        server.createContext("/toggle", exchange -> {
            count(exchange);
            int status = toggleStatus.get();
            answer(exchange, status, status == 200 ? "{\"rooms\":[\"back\"]}" : "down");
        });
        server.createContext("/redirect-same", exchange -> redirect(exchange, "/rooms"));
        server.createContext("/redirect-other", exchange -> redirect(exchange,
                "http://localhost:" + server.getAddress().getPort() + "/rooms"));
        server.createContext("/redirect-loop", exchange -> redirect(exchange, "/redirect-loop"));
        server.createContext("/big", exchange -> {
            count(exchange);
            exchange.sendResponseHeaders(200, 0); // chunked, no declared length
            byte[] chunk = new byte[16 * 1024];
            java.util.Arrays.fill(chunk, (byte) ' ');
            chunk[0] = '[';
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < 64 * 1024; i++) { // 1 GiB if nobody stops it
                    out.write(chunk);
                    bigWritten.addAndGet(chunk.length);
                }
            } catch (IOException e) {
                bigFailure.set(e);
            } finally {
                bigDone.countDown();
            }
        });
        server.createContext("/declared-big", exchange -> {
            count(exchange);
            exchange.sendResponseHeaders(200, 10_000_000);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(new byte[1024]);
            } catch (IOException e) {
                // the client went away: expected
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stopServer() {
        slowGate.countDown();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    @BeforeEach
    void reset() {
        calls.clear();
        toggleStatus.set(503);
    }

    private static void count(HttpExchange exchange) {
        calls.computeIfAbsent(exchange.getRequestURI().getPath(), k -> new AtomicInteger()).incrementAndGet();
    }

    private static int calls(String path) {
        AtomicInteger n = calls.get(path);
        return n == null ? 0 : n.get();
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void redirect(HttpExchange exchange, String location) throws IOException {
        count(exchange);
        exchange.getResponseHeaders().set("Location", location);
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    static ConnectRequest request(String token) {
        return request(token, "10.0.0.1");
    }

    static ConnectRequest request(String token, String address) {
        return new ConnectRequest("news", "sid", token, Map.of(), Map.of(), Map.of(), address, null);
    }

    private WebhookAuthorizer.Builder authorizer(String path) {
        return WebhookAuthorizer.builder(URI.create(base + path)).clock(clock).timeout(Duration.ofSeconds(5));
    }

    static Set<String> rooms(WebhookAuthorizer authorizer, String token) throws Exception {
        return authorizer.authorize(request(token)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static String refusal(WebhookAuthorizer authorizer, String token) {
        return refusal(authorizer.authorize(request(token)).toCompletableFuture());
    }

    static String refusal(CompletableFuture<Set<String>> outcome) {
        try {
            Set<String> rooms = outcome.get(15, TimeUnit.SECONDS);
            throw new AssertionError("admitted to " + rooms);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            assertThat(cause).isInstanceOf(AuthorizationDeniedException.class);
            return ((AuthorizationDeniedException) cause).code();
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    // ---- cache ----------------------------------------------------------------------------------

    @Test
    void positiveAnswersAreCachedForTheTtlAndRefusalsNever() throws Exception {
        WebhookAuthorizer auth = authorizer("/rooms").cacheTtl(Duration.ofSeconds(60)).build();
        assertThat(rooms(auth, "good-1")).containsExactly("room-good-1");
        assertThat(rooms(auth, "good-1")).containsExactly("room-good-1");
        assertThat(calls("/rooms")).isEqualTo(1);
        assertThat(auth.counters().cacheHits()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(59));
        rooms(auth, "good-1");
        assertThat(calls("/rooms")).as("still fresh").isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        rooms(auth, "good-1");
        assertThat(calls("/rooms")).as("expired at the ttl").isEqualTo(2);

        assertThat(refusal(auth, "bad")).isEqualTo(AuthorizationDeniedException.UNAUTHORIZED);
        assertThat(refusal(auth, "bad")).isEqualTo(AuthorizationDeniedException.UNAUTHORIZED);
        assertThat(calls("/rooms")).as("refusals are not cached").isEqualTo(4);
    }

    @Test
    void theCacheIsOffByDefaultAndBoundedWhenOn() throws Exception {
        WebhookAuthorizer off = authorizer("/rooms").build();
        rooms(off, "good-a");
        rooms(off, "good-a");
        assertThat(calls("/rooms")).isEqualTo(2);
        assertThat(off.cacheSize()).isZero();

        calls.clear();
        WebhookAuthorizer small = authorizer("/rooms").cacheTtl(Duration.ofMinutes(5)).cacheMaxEntries(2).build();
        rooms(small, "good-1");
        rooms(small, "good-2");
        rooms(small, "good-1"); // good-1 is now the most recently used
        rooms(small, "good-3"); // pushes out good-2
        assertThat(small.cacheSize()).isEqualTo(2);
        assertThat(calls("/rooms")).isEqualTo(3);
        rooms(small, "good-1");
        assertThat(calls("/rooms")).isEqualTo(3);
        rooms(small, "good-2");
        assertThat(calls("/rooms")).isEqualTo(4);
        assertThat(small.toString()).doesNotContain("good-");
    }

    @Test
    void cacheKeysAreHashesOfSchemeTokenAndSite() {
        String key = WebhookAuthorizer.cacheKey("Bearer", "good-1", "news");
        assertThat(key).hasSize(64).doesNotContain("good");
        assertThat(WebhookAuthorizer.cacheKey("Token", "good-1", "news")).isNotEqualTo(key);
        assertThat(WebhookAuthorizer.cacheKey("Bearer", "good-1", "shop")).isNotEqualTo(key);
    }

    // ---- coalescing -----------------------------------------------------------------------------

    @Test
    void identicalCallsUnderWayShareOneCall() throws Exception {
        slowGate = new CountDownLatch(1);
        WebhookAuthorizer auth = authorizer("/slow").build();
        CompletableFuture<Set<String>> first = auth.authorize(request("t")).toCompletableFuture();
        awaitCalls("/slow", 1);
        CompletableFuture<Set<String>> second = auth.authorize(request("t")).toCompletableFuture();
        CompletableFuture<Set<String>> otherAddress = auth.authorize(request("t", "10.0.0.2")).toCompletableFuture();
        awaitCalls("/slow", 2);
        slowGate.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).containsExactly("slow-room");
        assertThat(second.get(10, TimeUnit.SECONDS)).containsExactly("slow-room");
        assertThat(otherAddress.get(10, TimeUnit.SECONDS)).containsExactly("slow-room");
        assertThat(calls("/slow")).as("one call for the two identical ones, one for the other address").isEqualTo(2);
        assertThat(auth.counters().coalesced()).isEqualTo(1);
        // each caller has its own set
        first.get().add("mine");
        assertThat(second.get()).containsExactly("slow-room");

        WebhookAuthorizer notCoalescing = authorizer("/slow").coalesce(false).build();
        rooms(notCoalescing, "t");
        rooms(notCoalescing, "t");
        assertThat(calls("/slow")).isEqualTo(4);
    }

    // ---- circuit breaker ------------------------------------------------------------------------

    @Test
    void failuresInARowOpenTheCircuitAndATrialClosesIt() throws Exception {
        WebhookAuthorizer auth = authorizer("/toggle").breakerFailures(3).breakerCoolDown(Duration.ofSeconds(10)).build();
        for (int i = 0; i < 3; i++) {
            assertThat(refusal(auth, "t")).isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
        }
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        assertThat(refusal(auth, "t")).isEqualTo(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN);
        assertThat(refusal(auth, "other")).isEqualTo(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN);
        assertThat(calls("/toggle")).as("no call while open").isEqualTo(3);
        assertThat(auth.counters().circuitOpenRefusals()).isEqualTo(2);

        clock.advance(Duration.ofSeconds(10));
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.HALF_OPEN);
        assertThat(refusal(auth, "t")).as("the trial fails").isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
        assertThat(calls("/toggle")).isEqualTo(4);
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        assertThat(refusal(auth, "t")).isEqualTo(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN);

        toggleStatus.set(200);
        clock.advance(Duration.ofSeconds(10));
        assertThat(rooms(auth, "t")).containsExactly("back");
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.CLOSED);
        assertThat(rooms(auth, "u")).containsExactly("back");
        assertThat(calls("/toggle")).isEqualTo(6);
    }

    @Test
    void whileTheTrialIsUnderWayOtherConnectsFailFast() throws Exception {
        // /slow holds its answer until the gate opens: the first call times out and opens the circuit,
        // the trial after the cool-down is held while another connect comes
        slowGate = new CountDownLatch(1);
        WebhookAuthorizer auth = authorizer("/slow").timeout(Duration.ofMillis(300)).breakerFailures(1)
                .breakerCoolDown(Duration.ofSeconds(10)).build();
        assertThat(refusal(auth, "t")).isEqualTo(AuthorizationDeniedException.AUTH_TIMEOUT);
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        clock.advance(Duration.ofSeconds(10));
        CompletableFuture<Set<String>> trial = auth.authorize(request("trial")).toCompletableFuture();
        assertThat(refusal(auth, "another")).isEqualTo(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN);
        awaitCalls("/slow", 2);
        assertThat(calls("/slow")).as("no call but the trial").isEqualTo(2);
        slowGate.countDown();
        // the trial answers or times out, depending on how soon the gate opened; either way it ends
        try {
            trial.get(10, TimeUnit.SECONDS);
            assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.CLOSED);
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        }
    }

    @Test
    void aClientThatThrowsAtOnceFailsTheCallAndReleasesTheTrial() throws Exception {
        AtomicInteger throwing = new AtomicInteger(1);
        HttpClient client = new ThrowingClient(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build(),
                throwing);
        WebhookAuthorizer auth = authorizer("/rooms").httpClient(client).breakerFailures(1)
                .breakerCoolDown(Duration.ofSeconds(10)).build();
        assertThat(refusal(auth, "good")).isEqualTo(AuthorizationDeniedException.AUTH_UNAVAILABLE);
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        // the half-open trial throws too: it fails, and the circuit opens again instead of staying half-open
        clock.advance(Duration.ofSeconds(10));
        assertThat(refusal(auth, "good")).isEqualTo(AuthorizationDeniedException.AUTH_UNAVAILABLE);
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.OPEN);
        // once the client works, the next trial goes out (nothing coalesced onto a call that never ended)
        throwing.set(0);
        clock.advance(Duration.ofSeconds(10));
        assertThat(rooms(auth, "good")).containsExactly("room-good");
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.CLOSED);
    }

    /** A client whose sendAsync throws at once while {@code throwing} is not 0, as a closed client does. */
    static final class ThrowingClient extends HttpClient {
        private final HttpClient delegate;
        private final AtomicInteger throwing;

        ThrowingClient(HttpClient delegate, AtomicInteger throwing) {
            this.delegate = delegate;
            this.throwing = throwing;
        }

        @Override
        public java.util.Optional<java.net.CookieHandler> cookieHandler() {
            return delegate.cookieHandler();
        }

        @Override
        public java.util.Optional<Duration> connectTimeout() {
            return delegate.connectTimeout();
        }

        @Override
        public Redirect followRedirects() {
            return delegate.followRedirects();
        }

        @Override
        public java.util.Optional<java.net.ProxySelector> proxy() {
            return delegate.proxy();
        }

        @Override
        public javax.net.ssl.SSLContext sslContext() {
            return delegate.sslContext();
        }

        @Override
        public javax.net.ssl.SSLParameters sslParameters() {
            return delegate.sslParameters();
        }

        @Override
        public java.util.Optional<java.net.Authenticator> authenticator() {
            return delegate.authenticator();
        }

        @Override
        public Version version() {
            return delegate.version();
        }

        @Override
        public java.util.Optional<java.util.concurrent.Executor> executor() {
            return delegate.executor();
        }

        @Override
        public <T> java.net.http.HttpResponse<T> send(java.net.http.HttpRequest request,
                java.net.http.HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
            if (throwing.get() != 0) {
                throw new IllegalStateException("closed");
            }
            return delegate.send(request, handler);
        }

        @Override
        public <T> CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(java.net.http.HttpRequest request,
                java.net.http.HttpResponse.BodyHandler<T> handler) {
            if (throwing.get() != 0) {
                throw new IllegalStateException("closed");
            }
            return delegate.sendAsync(request, handler);
        }

        @Override
        public <T> CompletableFuture<java.net.http.HttpResponse<T>> sendAsync(java.net.http.HttpRequest request,
                java.net.http.HttpResponse.BodyHandler<T> handler,
                java.net.http.HttpResponse.PushPromiseHandler<T> push) {
            if (throwing.get() != 0) {
                throw new IllegalStateException("closed");
            }
            return delegate.sendAsync(request, handler, push);
        }
    }

    @Test
    void refusalsOfALiveServiceDoNotOpenTheCircuit() {
        WebhookAuthorizer auth = authorizer("/rooms").breakerFailures(2).build();
        for (int i = 0; i < 5; i++) {
            assertThat(refusal(auth, "bad")).isEqualTo(AuthorizationDeniedException.UNAUTHORIZED);
        }
        assertThat(auth.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.CLOSED);
        assertThat(calls("/rooms")).isEqualTo(5);
    }

    @Test
    void aDeadAuthUrlFailsConnectsFastThroughTheGateway() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        WebhookAuthorizer dead = WebhookAuthorizer.builder(URI.create("http://127.0.0.1:" + closedPort + "/auth"))
                .breakerFailures(2).breakerCoolDown(Duration.ofMinutes(1)).build();
        PushBridgeGateway gateway = TestGateways.start(TestGateways.options().build(),
                b -> b.site(SiteOptions.builder("news").authorizer(dead).build()));
        try {
            for (String expected : List.of("auth_unavailable", "auth_unavailable", "auth_circuit_open")) {
                try (TestClient client = TestClient.connect(gateway.port(), "/news", "any-token")) {
                    JSONObject error = client.awaitConnectError();
                    assertThat(error.getJSONObject("data").getString("code")).isEqualTo(expected);
                }
            }
            assertThat(gateway.stats().get("refused.auth_circuit_open")).isEqualTo(1);
        } finally {
            gateway.stop();
        }
    }

    // ---- response size --------------------------------------------------------------------------

    @Test
    void anOversizedBodyIsRefusedWhileReading() throws Exception {
        WebhookAuthorizer auth = authorizer("/big").maxResponseBytes(64 * 1024).build();
        assertThat(refusal(auth, "t")).isEqualTo(AuthorizationDeniedException.AUTH_INVALID_RESPONSE);
        assertThat(bigDone.await(20, TimeUnit.SECONDS)).as("the server's write ended").isTrue();
        assertThat(bigFailure.get()).as("the client stopped reading and closed").isNotNull();
        assertThat(bigWritten.get()).as("far less than the 1 GiB offered").isLessThan(64L * 1024 * 1024);

        WebhookAuthorizer declared = authorizer("/declared-big").maxResponseBytes(64 * 1024).build();
        assertThat(refusal(declared, "t")).isEqualTo(AuthorizationDeniedException.AUTH_INVALID_RESPONSE);
        assertThat(declared.circuitState()).isEqualTo(WebhookAuthorizer.CircuitState.CLOSED);
    }

    // ---- redirects ------------------------------------------------------------------------------

    @Test
    void redirectsAreNotFollowedByDefault() {
        WebhookAuthorizer auth = authorizer("/redirect-same").build();
        assertThat(refusal(auth, "good-1")).isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
        assertThat(calls("/rooms")).isZero();
    }

    @Test
    void sameHostRedirectsAreFollowedWhenAllowedAndOtherHostsOnlyWhenListed() throws Exception {
        WebhookAuthorizer sameHost = authorizer("/redirect-same").redirects(WebhookAuthorizer.Redirects.SAME_HOST).build();
        assertThat(rooms(sameHost, "good-1")).containsExactly("room-good-1");
        assertThat(calls("/rooms")).isEqualTo(1);

        WebhookAuthorizer toOther = authorizer("/redirect-other").redirects(WebhookAuthorizer.Redirects.SAME_HOST).build();
        assertThat(refusal(toOther, "good-1")).isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
        assertThat(calls("/rooms")).as("the token never went to the other host").isEqualTo(1);

        WebhookAuthorizer listed = authorizer("/redirect-other").redirects(WebhookAuthorizer.Redirects.ALLOWED_HOSTS)
                .allowedRedirectHosts(Set.of("LocalHost")).build();
        assertThat(rooms(listed, "good-1")).containsExactly("room-good-1");
        assertThat(calls("/rooms")).isEqualTo(2);

        WebhookAuthorizer loop = authorizer("/redirect-loop").redirects(WebhookAuthorizer.Redirects.SAME_HOST).build();
        assertThat(refusal(loop, "t")).isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
        assertThat(calls("/redirect-loop")).isEqualTo(WebhookAuthorizer.MAX_REDIRECTS + 1);
    }

    @Test
    void aRedirectFromHttpsToHttpIsNeverFollowed(@TempDir Path dir) throws Exception {
        TestCertificates.Generated cert = TestCertificates.generate(dir, "webhook");
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(cert.keyStore())) {
            store.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        kmf.init(store, TestCertificates.PASSWORD.toCharArray());
        javax.net.ssl.SSLContext serverContext = javax.net.ssl.SSLContext.getInstance("TLS");
        serverContext.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverContext));
        https.createContext("/down", exchange -> redirect(exchange, base + "/rooms"));
        https.createContext("/up", exchange -> redirect(exchange, "/ok"));
        https.createContext("/ok", exchange -> answer(exchange, 200, "[\"secure\"]"));
        https.start();
        try {
            HttpClient client = HttpClient.newBuilder().sslContext(TestCertificates.trusting(cert.certificate()))
                    .followRedirects(HttpClient.Redirect.NEVER).build();
            String httpsBase = "https://127.0.0.1:" + https.getAddress().getPort();
            WebhookAuthorizer down = WebhookAuthorizer.builder(URI.create(httpsBase + "/down")).httpClient(client)
                    .redirects(WebhookAuthorizer.Redirects.SAME_HOST).build();
            assertThat(refusal(down, "good-1")).isEqualTo(AuthorizationDeniedException.AUTH_REJECTED);
            assertThat(calls("/rooms")).as("the token never went out in the clear").isZero();
            WebhookAuthorizer up = WebhookAuthorizer.builder(URI.create(httpsBase + "/up")).httpClient(client)
                    .redirects(WebhookAuthorizer.Redirects.SAME_HOST).build();
            assertThat(rooms(up, "good-1")).containsExactly("secure");
        } finally {
            https.stop(0);
        }
    }

    @Test
    void badSettingsAreRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms")
                .redirects(WebhookAuthorizer.Redirects.ALLOWED_HOSTS).build())
                .hasMessageStartingWith("allowedRedirectHosts must name at least one host");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms")
                .allowedRedirectHosts(Set.of("https://x.example")).redirects(WebhookAuthorizer.Redirects.ALLOWED_HOSTS).build())
                .hasMessageStartingWith("allowedRedirectHosts entries must be host names");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms").allowedRedirectHosts(Set.of("x.example"))
                .build()).hasMessageStartingWith("allowedRedirectHosts is only read when redirects is ALLOWED_HOSTS");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms").cacheTtl(Duration.ofSeconds(-1)).build())
                .hasMessageStartingWith("cacheTtl must be zero (off) or positive");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms").cacheMaxEntries(0).build())
                .hasMessageStartingWith("cacheMaxEntries must be at least 1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms").breakerFailures(-1).build())
                .hasMessageStartingWith("breakerFailures must be 0 (off) or more");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms").breakerCoolDown(Duration.ZERO).build())
                .hasMessageStartingWith("breakerCoolDown must be positive");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> authorizer("/rooms")
                .httpClient(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()).build())
                .hasMessageStartingWith("httpClient must not follow redirects");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WebhookAuthorizer.builder(
                URI.create("ftp://user:secret@host/x?key=abc")).build())
                .hasMessage("authUrl must be an absolute http(s) URL, was 'ftp://host/x'");
    }

    private static void awaitCalls(String path, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (calls(path) < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(calls(path)).isGreaterThanOrEqualTo(n);
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private final AtomicLong millis = new AtomicLong(Instant.parse("2030-01-01T00:00:00Z").toEpochMilli());

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public long millis() {
            return millis.get();
        }
    }
}
