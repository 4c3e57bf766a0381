package io.pushbridge.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.ConnectRequest;
import io.pushbridge.RoomAuthorizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the site's web application which rooms a client joins: a {@code GET} to {@code authUrl}
 * with {@code Authorization: <scheme> <token>}, {@code X-Forwarded-For} (the handshake's chain plus
 * the client's address) and {@code X-Real-IP} (the client's address).
 *
 * <p>A 2xx answer whose body is a JSON array of room names, or an object {@code {"rooms": [...]}},
 * admits the client to those rooms. Anything else refuses it: 401/403 ({@code unauthorized}),
 * another status ({@code auth_rejected}), no answer within the timeout ({@code auth_timeout}), a
 * connection failure ({@code auth_unavailable}), a body that is not such a list or is larger than
 * the limit ({@code auth_invalid_response}). A client without a token is refused
 * ({@code token_missing}) without a call.
 *
 * <p>Protections, each a builder setting:
 * <ul>
 *   <li><b>Response size</b>: the body is read a chunk at a time and the read stops at
 *       {@link Builder#maxResponseBytes} (a larger {@code Content-Length} is refused before reading).</li>
 *   <li><b>Redirects</b>: not followed by default (a 3xx answer refuses with {@code auth_rejected}).
 *       {@link Redirects#SAME_HOST} follows those to the host of {@code authUrl},
 *       {@link Redirects#ALLOWED_HOSTS} those to it or to {@link Builder#allowedRedirectHosts};
 *       never from https to http, at most {@value #MAX_REDIRECTS} hops. The token goes along, which
 *       is why other hosts are refused.</li>
 *   <li><b>Cache</b> (off by default): a positive answer is kept for {@link Builder#cacheTtl} per
 *       token, keyed by a SHA-256 of scheme, token and site (the token itself is not kept), at most
 *       {@link Builder#cacheMaxEntries} (least recently used go first). Refusals are never cached. A
 *       revoked token keeps connecting until its entry expires, and the cached answer serves every
 *       client address.</li>
 *   <li><b>Coalescing</b> (on by default): while a call is under way, an identical one (same token,
 *       site, client address and {@code X-Forwarded-For}) waits for its answer instead of calling
 *       again.</li>
 *   <li><b>Circuit breaker</b> (on by default): after {@link Builder#breakerFailures} failures in a row
 *       (timeouts, connection failures, 5xx answers; not 401/403 or other answers of a live service)
 *       connects are refused at once with {@code auth_circuit_open} for {@link Builder#breakerCoolDown};
 *       then one trial call goes through: if it succeeds the circuit closes, else it opens again.
 *       Cached answers are still served while it is open.</li>
 * </ul>
 *
 * <p>Non-blocking: calls run on the JDK HTTP client's own threads. Share one instance per site. Time
 * (cache expiry, the breaker's cool-down) comes from {@link Builder#clock}.
 */
public final class WebhookAuthorizer implements RoomAuthorizer {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final String DEFAULT_SCHEME = "Bearer";
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
    public static final Duration DEFAULT_CACHE_TTL = Duration.ZERO;
    public static final int DEFAULT_CACHE_MAX_ENTRIES = 10_000;
    public static final int DEFAULT_BREAKER_FAILURES = 5;
    public static final Duration DEFAULT_BREAKER_COOL_DOWN = Duration.ofSeconds(10);
    /** Most redirects followed for one call. */
    public static final int MAX_REDIRECTS = 5;

    /** Which redirects of the authorization service are followed. */
    public enum Redirects {
        /** None: a 3xx answer refuses the client ({@code auth_rejected}). The default. */
        NEVER,
        /** Those to the host of {@code authUrl} (any port). */
        SAME_HOST,
        /** Those to the host of {@code authUrl} or to one of the allowed redirect hosts. */
        ALLOWED_HOSTS
    }

    /** The state of the circuit breaker. */
    public enum CircuitState { CLOSED, OPEN, HALF_OPEN }

    /**
     * What the authorizer did since it was built: calls made (each redirect hop counts), answers
     * served from the cache, calls that shared another's answer, connects refused while the circuit
     * was open.
     */
    public record Counters(long calls, long cacheHits, long coalesced, long circuitOpenRefusals) {
    }

    private static final Logger log = LoggerFactory.getLogger(WebhookAuthorizer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI authUrl;
    private final String shownUrl;
    private final String scheme;
    private final Duration timeout;
    private final int maxResponseBytes;
    private final HttpClient http;
    private final Redirects redirects;
    private final Set<String> allowedRedirectHosts;
    private final Duration cacheTtl;
    private final int cacheMaxEntries;
    private final boolean coalesce;
    private final int breakerFailures;
    private final Duration breakerCoolDown;
    private final Clock clock;
    private final @Nullable TokenCache cache;
    private final Breaker breaker;
    private final ConcurrentHashMap<String, CompletableFuture<Set<String>>> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong cacheHits = new AtomicLong();
    private final AtomicLong coalesced = new AtomicLong();
    private final AtomicLong circuitOpenRefusals = new AtomicLong();

    private WebhookAuthorizer(Builder b) {
        this.authUrl = b.authUrl;
        this.shownUrl = shown(b.authUrl);
        this.scheme = b.scheme;
        this.timeout = b.timeout;
        this.maxResponseBytes = b.maxResponseBytes;
        this.redirects = b.redirects;
        this.allowedRedirectHosts = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(b.allowedRedirectHosts));
        this.cacheTtl = b.cacheTtl;
        this.cacheMaxEntries = b.cacheMaxEntries;
        this.coalesce = b.coalesce;
        this.breakerFailures = b.breakerFailures;
        this.breakerCoolDown = b.breakerCoolDown;
        this.clock = b.clock;
        this.cache = cacheTtl.isZero() ? null : new TokenCache(cacheMaxEntries);
        this.breaker = new Breaker();
        this.http = b.httpClient != null ? b.httpClient : HttpClient.newBuilder()
                .connectTimeout(b.timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public static Builder builder(URI authUrl) {
        return new Builder(authUrl);
    }

    public URI authUrl() {
        return authUrl;
    }

    /** The breaker's state now. */
    public CircuitState circuitState() {
        return breaker.state();
    }

    /** Counts of calls, cache hits, coalesced calls and fast refusals. */
    public Counters counters() {
        return new Counters(calls.get(), cacheHits.get(), coalesced.get(), circuitOpenRefusals.get());
    }

    /** Answers held in the cache now (expired ones included until they are looked up or pushed out). */
    public int cacheSize() {
        return cache == null ? 0 : cache.size();
    }

    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        String token = request.token();
        if (token == null || token.isEmpty()) {
            return CompletableFuture.failedFuture(AuthorizationDeniedException.tokenMissing());
        }
        String forwardedFor = request.forwardedFor() == null || request.forwardedFor().isBlank()
                ? request.remoteAddress()
                : request.forwardedFor() + ", " + request.remoteAddress();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", scheme.isEmpty() ? token : scheme + " " + token);
        headers.put("Accept", "application/json");
        headers.put("X-Forwarded-For", forwardedFor);
        headers.put("X-Real-IP", request.remoteAddress());
        headers.put("User-Agent", "PushBridge");
        HttpRequest first;
        try {
            first = httpRequest(authUrl, headers);
        } catch (IllegalArgumentException e) {
            // a token with characters that are not allowed in a header
            return CompletableFuture.failedFuture(new AuthorizationDeniedException(
                    AuthorizationDeniedException.UNAUTHORIZED, "Malformed token"));
        }
        String key = cacheKey(scheme, token, request.site());
        if (cache != null) {
            Set<String> hit = cache.get(key, clock.millis());
            if (hit != null) {
                cacheHits.incrementAndGet();
                return CompletableFuture.completedFuture(new LinkedHashSet<>(hit));
            }
        }
        String callKey = key + "\n" + forwardedFor;
        CompletableFuture<Set<String>> mine = new CompletableFuture<>();
        if (coalesce) {
            CompletableFuture<Set<String>> running = inFlight.putIfAbsent(callKey, mine);
            if (running != null) {
                coalesced.incrementAndGet();
                return running.thenApply(LinkedHashSet::new);
            }
        }
        if (!breaker.tryAcquire()) {
            circuitOpenRefusals.incrementAndGet();
            AuthorizationDeniedException open = new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_CIRCUIT_OPEN,
                    "Authorization service is failing; retry later");
            if (coalesce) {
                inFlight.remove(callKey, mine);
            }
            mine.completeExceptionally(open);
            return CompletableFuture.failedFuture(open);
        }
        CompletableFuture<Set<String>> call;
        try {
            call = call(first, headers, 0);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.orTimeout(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS)
                .whenComplete((rooms, failure) -> {
                    AuthorizationDeniedException denied = failure == null ? null : translate(failure);
                    breaker.record(denied == null || !(denied instanceof ServiceFailure));
                    if (denied == null && cache != null) {
                        cache.put(key, Set.copyOf(rooms), clock.millis() + cacheTtl.toMillis());
                    }
                    if (coalesce) {
                        // after the cache has the answer: a call arriving now finds one or the other
                        inFlight.remove(callKey, mine);
                    }
                    if (denied != null) {
                        mine.completeExceptionally(denied);
                    } else {
                        mine.complete(rooms);
                    }
                });
        return mine.thenApply(LinkedHashSet::new);
    }

    private HttpRequest httpRequest(URI uri, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(timeout);
        headers.forEach(b::header);
        return b.build();
    }

    /** One call, and the redirects it is allowed to follow. */
    private CompletableFuture<Set<String>> call(HttpRequest request, Map<String, String> headers, int hops) {
        calls.incrementAndGet();
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = http.sendAsync(request, this::limitedBody);
        } catch (RuntimeException e) {
            // a client that refuses at once (closed, say) fails this call like any other: the caller's
            // in-flight entry and the breaker's trial are released when it completes
            return CompletableFuture.failedFuture(e);
        }
        return sent.thenCompose(response -> {
            int status = response.statusCode();
            if (status >= 300 && status <= 399 && status != 304) {
                URI next = redirectTarget(request.uri(), response, hops);
                return call(httpRequest(next, headers), headers, hops + 1);
            }
            return CompletableFuture.completedFuture(rooms(response));
        });
    }

    /** Where a 3xx answer sends the call, if it may follow; else refuses. */
    private URI redirectTarget(URI from, HttpResponse<byte[]> response, int hops) {
        int status = response.statusCode();
        if (redirects == Redirects.NEVER) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_REJECTED,
                    "Authorization service answered " + status + " (redirects are not followed)");
        }
        String location = response.headers().firstValue("Location").orElse(null);
        URI next;
        try {
            next = location == null ? null : from.resolve(location.trim());
        } catch (IllegalArgumentException e) {
            next = null;
        }
        if (next == null || next.getHost() == null || next.getScheme() == null) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_REJECTED,
                    "Authorization service answered " + status + " without a usable Location");
        }
        String nextScheme = next.getScheme().toLowerCase(Locale.ROOT);
        String host = next.getHost().toLowerCase(Locale.ROOT);
        boolean sameHost = host.equals(authUrl.getHost().toLowerCase(Locale.ROOT));
        boolean hostAllowed = sameHost || (redirects == Redirects.ALLOWED_HOSTS && allowedRedirectHosts.contains(host));
        boolean downgrade = "https".equalsIgnoreCase(from.getScheme()) && !"https".equals(nextScheme);
        if (!hostAllowed || downgrade || !(nextScheme.equals("http") || nextScheme.equals("https"))
                || next.getRawUserInfo() != null) {
            log.debug("Authorization service {} redirected to {}://{}, which is not followed", shownUrl, nextScheme, host);
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_REJECTED,
                    "Authorization service redirected to a location that is not allowed");
        }
        if (hops >= MAX_REDIRECTS) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_REJECTED,
                    "Authorization service redirected more than " + MAX_REDIRECTS + " times");
        }
        return next;
    }

    private static Set<String> rooms(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.UNAUTHORIZED, "Not authorized");
        }
        if (status >= 500) {
            throw new ServiceFailure(AuthorizationDeniedException.AUTH_REJECTED, "Authorization service answered " + status,
                    null);
        }
        if (status < 200 || status > 299) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_REJECTED,
                    "Authorization service answered " + status);
        }
        List<String> rooms = parseRooms(response.body());
        if (rooms == null) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_INVALID_RESPONSE,
                    "Authorization service answered with something other than a list of room names");
        }
        return new LinkedHashSet<>(rooms);
    }

    /** The room names in a JSON array or in {@code {"rooms": [...]}}; {@code null} when malformed. */
    static @Nullable List<String> parseRooms(byte[] body) {
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
        if (node != null && node.isObject()) {
            node = node.get("rooms");
        }
        if (node == null || !node.isArray()) {
            return null;
        }
        List<String> rooms = new java.util.ArrayList<>(node.size());
        for (JsonNode room : node) {
            if (!room.isTextual() || room.textValue().isEmpty()) {
                return null;
            }
            rooms.add(room.textValue());
        }
        return rooms;
    }

    private static AuthorizationDeniedException translate(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof AuthorizationDeniedException denied) {
            return denied;
        }
        if (cause instanceof HttpTimeoutException || cause instanceof TimeoutException) {
            return new ServiceFailure(AuthorizationDeniedException.AUTH_TIMEOUT,
                    "Authorization service did not answer in time", cause);
        }
        if (cause instanceof TooLargeException) {
            return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_INVALID_RESPONSE,
                    "Authorization service answered with a body over the size limit", cause);
        }
        return new ServiceFailure(AuthorizationDeniedException.AUTH_UNAVAILABLE,
                "Authorization service is unavailable", cause);
    }

    /** A SHA-256 of scheme, token and site: the cache and coalescing never hold a token itself. */
    static String cacheKey(String scheme, String token, String site) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(scheme.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(token.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(site.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The URL without user info, query or fragment, which may hold credentials. */
    private static String shown(URI uri) {
        if (uri.getScheme() == null || uri.getHost() == null) {
            return uri.toString().replaceFirst("[?#].*$", "").replaceFirst("//[^/]*@", "//");
        }
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    @Override
    public String toString() {
        return "WebhookAuthorizer[" + shownUrl + ", scheme=" + scheme + ", timeout=" + timeout.toMillis() + "ms, redirects="
                + redirects + (redirects == Redirects.ALLOWED_HOSTS ? " " + allowedRedirectHosts : "")
                + ", cache=" + (cache == null ? "off" : cacheTtl.toMillis() + "ms/" + cacheMaxEntries)
                + ", coalesce=" + coalesce
                + ", breaker=" + (breakerFailures == 0 ? "off" : breakerFailures + "/" + breakerCoolDown.toMillis() + "ms") + "]";
    }

    /** A failure of the service itself (not of the token): it counts towards opening the circuit. */
    private static final class ServiceFailure extends AuthorizationDeniedException {
        private static final long serialVersionUID = 1L;

        ServiceFailure(String code, String message, @Nullable Throwable cause) {
            super(code, message, cause);
        }
    }

    private static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException() {
            super("response body over the limit");
        }
    }

    /** The body handler: refuses a declared length over the limit, else reads up to the limit. */
    private HttpResponse.BodySubscriber<byte[]> limitedBody(HttpResponse.ResponseInfo info) {
        long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
        return new LimitedBody(maxResponseBytes, declared > maxResponseBytes);
    }

    /**
     * Collects a body up to a limit, asking for one chunk at a time, and fails (cancelling the rest,
     * which closes the connection) as soon as the limit would be passed: no more than the limit plus
     * one chunk is ever read.
     */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {

        private final int limit;
        private final boolean refuseAtOnce;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        private Flow.@Nullable Subscription subscription;

        LimitedBody(int limit, boolean refuseAtOnce) {
            this.limit = limit;
            this.refuseAtOnce = refuseAtOnce;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            this.subscription = s;
            if (refuseAtOnce) {
                s.cancel();
                result.completeExceptionally(new TooLargeException());
                return;
            }
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (out.size() + item.remaining() > limit) {
                    result.completeExceptionally(new TooLargeException());
                    Objects.requireNonNull(subscription).cancel();
                    return;
                }
                byte[] chunk = new byte[item.remaining()];
                item.get(chunk);
                out.write(chunk, 0, chunk.length);
            }
            Objects.requireNonNull(subscription).request(1);
        }

        @Override
        public void onError(Throwable throwable) {
            result.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            result.complete(out.toByteArray());
        }
    }

    /** Positive answers by cache key, least recently used first out, each with its expiry. */
    private static final class TokenCache {
        private record Entry(Set<String> rooms, long expiresAt) {
        }

        private final LinkedHashMap<String, Entry> entries;

        TokenCache(int maxEntries) {
            this.entries = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                    return size() > maxEntries;
                }
            };
        }

        synchronized @Nullable Set<String> get(String key, long now) {
            Entry entry = entries.get(key);
            if (entry == null) {
                return null;
            }
            if (now >= entry.expiresAt) {
                entries.remove(key);
                return null;
            }
            return entry.rooms;
        }

        synchronized void put(String key, Set<String> rooms, long expiresAt) {
            entries.put(key, new Entry(rooms, expiresAt));
        }

        synchronized int size() {
            return entries.size();
        }
    }

    /** Closed, open until a time, or half-open with one trial call under way. */
    private final class Breaker {
        private int failures;
        private long openUntil = -1;
        private boolean trial;

        synchronized CircuitState state() {
            if (openUntil < 0) {
                return CircuitState.CLOSED;
            }
            return trial || clock.millis() >= openUntil ? CircuitState.HALF_OPEN : CircuitState.OPEN;
        }

        /** Whether a call may go out now (and, after the cool-down, makes it the one trial). */
        synchronized boolean tryAcquire() {
            if (breakerFailures == 0 || openUntil < 0) {
                return true;
            }
            if (trial || clock.millis() < openUntil) {
                return false;
            }
            trial = true;
            return true;
        }

        synchronized void record(boolean serviceAnswered) {
            if (breakerFailures == 0) {
                return;
            }
            if (serviceAnswered) {
                if (openUntil >= 0) {
                    log.info("Authorization service {} answers again; the circuit is closed", shownUrl);
                }
                failures = 0;
                openUntil = -1;
                trial = false;
                return;
            }
            failures++;
            if (trial) {
                trial = false;
                openUntil = clock.millis() + breakerCoolDown.toMillis();
                log.warn("Authorization service {} still fails; connects are refused at once (auth_circuit_open) for"
                        + " another {} ms", shownUrl, breakerCoolDown.toMillis());
            } else if (openUntil < 0 && failures >= breakerFailures) {
                openUntil = clock.millis() + breakerCoolDown.toMillis();
                log.warn("Authorization service {}: {} failures in a row; connects are refused at once"
                        + " (auth_circuit_open) for {} ms, then one trial call goes through", shownUrl, failures,
                        breakerCoolDown.toMillis());
            }
        }
    }

    /** Builds a {@link WebhookAuthorizer}. */
    public static final class Builder {

        private final URI authUrl;
        private String scheme = DEFAULT_SCHEME;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
        private @Nullable HttpClient httpClient;
        private Redirects redirects = Redirects.NEVER;
        private Set<String> allowedRedirectHosts = Set.of();
        private Duration cacheTtl = DEFAULT_CACHE_TTL;
        private int cacheMaxEntries = DEFAULT_CACHE_MAX_ENTRIES;
        private boolean coalesce = true;
        private int breakerFailures = DEFAULT_BREAKER_FAILURES;
        private Duration breakerCoolDown = DEFAULT_BREAKER_COOL_DOWN;
        private Clock clock = Clock.systemUTC();

        private Builder(URI authUrl) {
            this.authUrl = authUrl;
        }

        /** The scheme word before the token in the {@code Authorization} header (default {@code Bearer}; empty: none). */
        public Builder scheme(String scheme) {
            this.scheme = scheme;
            return this;
        }

        /** How long to wait for the answer (default 5 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** The largest response body accepted (default 64 KiB). */
        public Builder maxResponseBytes(int maxResponseBytes) {
            this.maxResponseBytes = maxResponseBytes;
            return this;
        }

        /** A client to share between sites; it must not follow redirects itself ({@link HttpClient.Redirect#NEVER}). */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        /** Which redirects to follow (default {@link Redirects#NEVER}). */
        public Builder redirects(Redirects redirects) {
            this.redirects = redirects;
            return this;
        }

        /** The hosts (names, no port) redirects may lead to with {@link Redirects#ALLOWED_HOSTS}. */
        public Builder allowedRedirectHosts(Set<String> hosts) {
            this.allowedRedirectHosts = hosts;
            return this;
        }

        /** How long a positive answer is reused for the same token; zero (the default) turns the cache off. */
        public Builder cacheTtl(Duration ttl) {
            this.cacheTtl = ttl;
            return this;
        }

        /** Most tokens the cache holds (default 10,000). */
        public Builder cacheMaxEntries(int maxEntries) {
            this.cacheMaxEntries = maxEntries;
            return this;
        }

        /** Whether identical calls under way at once share one call (default true). */
        public Builder coalesce(boolean coalesce) {
            this.coalesce = coalesce;
            return this;
        }

        /** Failures in a row that open the circuit (default 5); 0 turns the breaker off. */
        public Builder breakerFailures(int failures) {
            this.breakerFailures = failures;
            return this;
        }

        /** How long the circuit stays open before one trial call (default 10 s). */
        public Builder breakerCoolDown(Duration coolDown) {
            this.breakerCoolDown = coolDown;
            return this;
        }

        /** The clock of cache expiry and of the breaker's cool-down. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public WebhookAuthorizer build() {
            if (authUrl == null || authUrl.getScheme() == null
                    || !(authUrl.getScheme().equals("http") || authUrl.getScheme().equals("https"))
                    || authUrl.getHost() == null) {
                throw new IllegalArgumentException("authUrl must be an absolute http(s) URL, was '"
                        + (authUrl == null ? null : shown(authUrl)) + "'");
            }
            if (scheme == null || scheme.contains(" ") || scheme.contains("\n")) {
                throw new IllegalArgumentException("authScheme must be one word, was '" + scheme + "'");
            }
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("auth timeout must be positive, was " + timeout);
            }
            if (maxResponseBytes < 2) {
                throw new IllegalArgumentException("maxResponseBytes must be at least 2, was " + maxResponseBytes);
            }
            if (redirects == null) {
                throw new IllegalArgumentException("redirects must not be null");
            }
            if (allowedRedirectHosts == null) {
                throw new IllegalArgumentException("allowedRedirectHosts must not be null");
            }
            Set<String> hosts = new LinkedHashSet<>();
            for (String host : allowedRedirectHosts) {
                if (host == null || !host.matches("[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]") || host.startsWith(".")) {
                    throw new IllegalArgumentException("allowedRedirectHosts entries must be host names (no scheme or port),"
                            + " was '" + host + "'");
                }
                hosts.add(host.toLowerCase(Locale.ROOT));
            }
            if (redirects == Redirects.ALLOWED_HOSTS && hosts.isEmpty()) {
                throw new IllegalArgumentException("allowedRedirectHosts must name at least one host when redirects is"
                        + " ALLOWED_HOSTS");
            }
            if (redirects != Redirects.ALLOWED_HOSTS && !hosts.isEmpty()) {
                throw new IllegalArgumentException("allowedRedirectHosts is only read when redirects is ALLOWED_HOSTS,"
                        + " but redirects is " + redirects);
            }
            allowedRedirectHosts = hosts;
            if (cacheTtl == null || cacheTtl.isNegative()) {
                throw new IllegalArgumentException("cacheTtl must be zero (off) or positive, was " + cacheTtl);
            }
            if (cacheMaxEntries < 1) {
                throw new IllegalArgumentException("cacheMaxEntries must be at least 1, was " + cacheMaxEntries);
            }
            if (breakerFailures < 0) {
                throw new IllegalArgumentException("breakerFailures must be 0 (off) or more, was " + breakerFailures);
            }
            if (breakerCoolDown == null || breakerCoolDown.isNegative() || breakerCoolDown.isZero()) {
                throw new IllegalArgumentException("breakerCoolDown must be positive, was " + breakerCoolDown);
            }
            if (clock == null) {
                throw new IllegalArgumentException("clock must not be null");
            }
            if (httpClient != null && httpClient.followRedirects() != HttpClient.Redirect.NEVER) {
                throw new IllegalArgumentException("httpClient must not follow redirects (use Redirect.NEVER; this"
                        + " authorizer follows them itself, by its own rules)");
            }
            return new WebhookAuthorizer(this);
        }
    }
}
