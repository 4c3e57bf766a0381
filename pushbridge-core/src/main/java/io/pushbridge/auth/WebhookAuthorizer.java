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
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

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
 * ({@code token_missing}) without a call. Redirects are not followed.
 *
 * <p>Non-blocking: the call runs on the JDK HTTP client's own threads. Share one instance per site.
 */
public final class WebhookAuthorizer implements RoomAuthorizer {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final String DEFAULT_SCHEME = "Bearer";
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI authUrl;
    private final String scheme;
    private final Duration timeout;
    private final int maxResponseBytes;
    private final HttpClient http;

    private WebhookAuthorizer(Builder b) {
        this.authUrl = b.authUrl;
        this.scheme = b.scheme;
        this.timeout = b.timeout;
        this.maxResponseBytes = b.maxResponseBytes;
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

    @Override
    public CompletionStage<Set<String>> authorize(ConnectRequest request) {
        String token = request.token();
        if (token == null || token.isEmpty()) {
            return CompletableFuture.failedFuture(AuthorizationDeniedException.tokenMissing());
        }
        String forwardedFor = request.forwardedFor() == null || request.forwardedFor().isBlank()
                ? request.remoteAddress()
                : request.forwardedFor() + ", " + request.remoteAddress();
        HttpRequest httpRequest;
        try {
            httpRequest = HttpRequest.newBuilder(authUrl)
                    .GET()
                    .timeout(timeout)
                    .header("Authorization", scheme.isEmpty() ? token : scheme + " " + token)
                    .header("Accept", "application/json")
                    .header("X-Forwarded-For", forwardedFor)
                    .header("X-Real-IP", request.remoteAddress())
                    .header("User-Agent", "PushBridge")
                    .build();
        } catch (IllegalArgumentException e) {
            // a token with characters that are not allowed in a header
            return CompletableFuture.failedFuture(new AuthorizationDeniedException(
                    AuthorizationDeniedException.UNAUTHORIZED, "Malformed token"));
        }
        return http.sendAsync(httpRequest, info -> new LimitedBody(maxResponseBytes))
                .orTimeout(timeout.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((response, failure) -> {
                    if (failure != null) {
                        throw new CompletionException(translate(failure));
                    }
                    return rooms(response);
                });
    }

    private static Set<String> rooms(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw new AuthorizationDeniedException(AuthorizationDeniedException.UNAUTHORIZED, "Not authorized");
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
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof AuthorizationDeniedException denied) {
            return denied;
        }
        if (cause instanceof HttpTimeoutException || cause instanceof TimeoutException) {
            return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_TIMEOUT,
                    "Authorization service did not answer in time", cause);
        }
        if (cause instanceof TooLargeException) {
            return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_INVALID_RESPONSE,
                    "Authorization service answered with a body over the size limit", cause);
        }
        return new AuthorizationDeniedException(AuthorizationDeniedException.AUTH_UNAVAILABLE,
                "Authorization service is unavailable", cause);
    }

    @Override
    public String toString() {
        return "WebhookAuthorizer[" + authUrl + ", scheme=" + scheme + ", timeout=" + timeout.toMillis() + "ms]";
    }

    private static final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        TooLargeException() {
            super("response body over the limit");
        }
    }

    /** Collects a body up to a limit, and fails (cancelling the rest) beyond it. */
    private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {

        private final int limit;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        private Flow.@Nullable Subscription subscription;

        LimitedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            this.subscription = s;
            s.request(Long.MAX_VALUE);
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

    /** Builds a {@link WebhookAuthorizer}. */
    public static final class Builder {

        private final URI authUrl;
        private String scheme = DEFAULT_SCHEME;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
        private @Nullable HttpClient httpClient;

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

        /** A client to share between sites; it should not follow redirects. */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        public WebhookAuthorizer build() {
            if (authUrl == null || authUrl.getScheme() == null
                    || !(authUrl.getScheme().equals("http") || authUrl.getScheme().equals("https"))
                    || authUrl.getHost() == null) {
                throw new IllegalArgumentException("authUrl must be an absolute http(s) URL, was '" + authUrl + "'");
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
            return new WebhookAuthorizer(this);
        }
    }
}
