package io.pushbridge.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushTemplate;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.SendRequest;
import io.pushbridge.SendResult;
import io.pushbridge.Target;
import io.pushbridge.gateway.SiteOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /send?site=NAME&apiKey=KEY&resync=false}: the HTTP face of {@link PushTemplate}.
 *
 * <p>Body {@code application/json} {@code {"rooms": [...], "event": "...", "args": [...]}} (plus
 * optional {@code "except": [socket ids]} and {@code "resync": true}), or
 * {@code application/x-www-form-urlencoded} with repeated {@code rooms} fields, {@code event}, and
 * {@code args} as a JSON array string. The key may also come in {@code X-Api-Key} or
 * {@code Authorization: Bearer}. Answers 200 {@code {id, rooms, queued}}, or 400/401/404/405/413/
 * 415/429/503 with a JSON error body (429, the site's sends per second, with {@code Retry-After} in
 * seconds). A refused request changes nothing. While the node drains (it is stopping), every send
 * is answered 503 {@code draining} with {@code Retry-After: 1}.
 *
 * <p>Runs on the I/O thread up to the (non-blocking) send; the answer is written from whichever
 * thread completes it. Keys are compared in constant time and never logged.
 */
@Sharable
public final class SendApiHandler extends ChannelInboundHandlerAdapter {

    /** The path the API is served on. */
    public static final String PATH = "/send";

    private static final Logger log = LoggerFactory.getLogger(SendApiHandler.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PushTemplate template;
    private final Function<String, @Nullable SiteOptions> sites;
    private final java.util.function.ToIntFunction<String> maxBodyBytes;
    private final java.util.function.BooleanSupplier draining;
    private final Consumer<String> refusals;

    public SendApiHandler(PushTemplate template, Function<String, @Nullable SiteOptions> sites, int maxBodyBytes) {
        this(template, sites, site -> maxBodyBytes, () -> false);
    }

    /** @param draining see {@link #SendApiHandler(PushTemplate, Function, java.util.function.ToIntFunction, java.util.function.BooleanSupplier)} */
    public SendApiHandler(PushTemplate template, Function<String, @Nullable SiteOptions> sites, int maxBodyBytes,
            java.util.function.BooleanSupplier draining) {
        this(template, sites, site -> maxBodyBytes, draining);
    }

    /**
     * @param maxBodyBytes the largest body for a site, by its name (its own message size limit, plus
     *     room for the JSON)
     * @param draining whether the node is draining: every send is then answered 503 {@code draining}
     *     with {@code Retry-After: 1} and the connection closed, so that the sender's retry (on a new
     *     connection) reaches another node behind a balancer
     */
    public SendApiHandler(PushTemplate template, Function<String, @Nullable SiteOptions> sites,
            java.util.function.ToIntFunction<String> maxBodyBytes, java.util.function.BooleanSupplier draining) {
        this(template, sites, maxBodyBytes, draining, code -> { });
    }

    /**
     * @param maxBodyBytes as above
     * @param draining as above
     * @param refusals told the error code of every request refused as the client's fault (a 4xx
     *     answer: {@code method_not_allowed}, {@code invalid_request}, {@code unknown_site},
     *     {@code unauthorized}, {@code unsupported_media_type}, {@code too_large}, {@code rate_limited}),
     *     to count it; runs on the thread that answers and must not block
     */
    public SendApiHandler(PushTemplate template, Function<String, @Nullable SiteOptions> sites,
            java.util.function.ToIntFunction<String> maxBodyBytes, java.util.function.BooleanSupplier draining,
            Consumer<String> refusals) {
        this.template = template;
        this.sites = sites;
        this.maxBodyBytes = maxBodyBytes;
        this.draining = draining;
        this.refusals = refusals;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg);
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        if (!PATH.equals(query.path())) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            handle(ctx, request, query);
        } finally {
            ReferenceCountUtil.release(request);
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder query) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!HttpMethod.POST.equals(request.method())) {
            refusals.accept("method_not_allowed");
            HttpJson.write(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                    HttpJson.error("method_not_allowed", "Use POST", List.of()), keepAlive, Map.of("Allow", "POST"));
            return;
        }
        if (draining.getAsBoolean()) {
            // nothing is stored: the sender retries, on a new connection, which reaches another node
            HttpJson.write(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    HttpJson.error("draining", "This node is shutting down; retry the send (another node takes it)",
                            List.of()), false, Map.of("Retry-After", "1"));
            return;
        }
        String siteName = first(query, "site");
        if (siteName == null || siteName.isEmpty()) {
            fail(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, "invalid_request", "The site parameter is required",
                    List.of("site is required"));
            return;
        }
        SiteOptions site = sites.apply(siteName);
        if (site == null) {
            fail(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "unknown_site", "No such site", List.of());
            return;
        }
        String key = apiKey(request, query);
        if (key == null || !site.acceptsApiKey(key)) {
            fail(ctx, keepAlive, HttpResponseStatus.UNAUTHORIZED, "unauthorized",
                    key == null ? "An API key is required" : "Invalid API key", List.of());
            return;
        }
        String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        boolean json = mediaType.equals("application/json");
        boolean form = mediaType.equals("application/x-www-form-urlencoded");
        if (!json && !form) {
            fail(ctx, keepAlive, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    "Send application/json or application/x-www-form-urlencoded", List.of());
            return;
        }
        int maxBody = maxBodyBytes.applyAsInt(site.name());
        if (request.content().readableBytes() > maxBody) {
            fail(ctx, keepAlive, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "too_large",
                    "The body is larger than " + maxBody + " bytes", List.of());
            return;
        }
        List<String> problems = new ArrayList<>();
        Body body = json ? parseJson(request, problems) : parseForm(request, problems);
        Boolean resync = parseBoolean(first(query, "resync"), "resync", problems);
        if (resync == null) {
            resync = body.resync;
        }
        if (!problems.isEmpty()) {
            fail(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, "invalid_request", "The request is invalid", problems);
            return;
        }
        SendRequest send = new SendRequest(site.name(), Target.rooms(body.rooms).except(body.except), body.event,
                body.args, Boolean.TRUE.equals(resync));
        template.send(send).whenComplete((result, failure) -> {
            if (failure == null) {
                HttpJson.write(ctx, HttpResponseStatus.OK, success(result), keepAlive, Map.of());
            } else {
                failure(ctx, keepAlive, failure);
            }
        });
    }

    private static Map<String, Object> success(SendResult result) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", result.idString());
        out.put("rooms", result.rooms());
        out.put("queued", result.queued());
        return out;
    }

    private void failure(ChannelHandlerContext ctx, boolean keepAlive, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof PushRefusedException refused) {
            switch (refused.reason()) {
                case UNKNOWN_SITE -> fail(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "unknown_site", "No such site", List.of());
                case TOO_LARGE -> fail(ctx, keepAlive, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "too_large",
                        refused.getMessage(), refused.problems());
                case RATE_LIMITED -> {
                    long seconds = retryAfterSeconds(refused.retryAfter());
                    refusals.accept("rate_limited");
                    HttpJson.write(ctx, HttpResponseStatus.TOO_MANY_REQUESTS, HttpJson.error("rate_limited",
                            "Too many sends for this site; retry after " + seconds + " s", refused.problems()),
                            keepAlive, Map.of("Retry-After", Long.toString(seconds)));
                }
                default -> fail(ctx, keepAlive, HttpResponseStatus.BAD_REQUEST, "invalid_request", "The request is invalid",
                        refused.problems());
            }
        } else if (cause instanceof PushUnavailableException) {
            fail(ctx, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, "unavailable",
                    "The message could not be accepted now; retry later", List.of());
        } else {
            log.error("Send failed unexpectedly", cause);
            fail(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "Internal error", List.of());
        }
    }

    /** {@code Retry-After} in whole seconds, rounded up, at least 1. */
    static long retryAfterSeconds(java.time.@Nullable Duration retryAfter) {
        if (retryAfter == null) {
            return 1;
        }
        long nanos = retryAfter.toNanos();
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    private void fail(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String code,
            String message, List<String> errors) {
        if (status.code() >= 400 && status.code() < 500) {
            refusals.accept(code);
        }
        HttpJson.write(ctx, status, HttpJson.error(code, message, errors), keepAlive, Map.of());
    }

    private static @Nullable String apiKey(FullHttpRequest request, QueryStringDecoder query) {
        String key = request.headers().get("X-Api-Key");
        if (key != null && !key.isEmpty()) {
            return key;
        }
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authorization.substring(7).trim();
        }
        return first(query, "apiKey");
    }

    private static @Nullable String first(QueryStringDecoder query, String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** What a body says; fields are left empty where a problem was recorded. */
    private static final class Body {
        Set<String> rooms = new LinkedHashSet<>();
        Set<String> except = new LinkedHashSet<>();
        String event = "";
        List<Object> args = List.of();
        @Nullable Boolean resync;
    }

    private static Body parseJson(FullHttpRequest request, List<String> problems) {
        Body body = new Body();
        JsonNode root;
        try {
            root = JSON.readTree(request.content().toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            problems.add("body is not valid JSON");
            return body;
        }
        if (root == null || !root.isObject()) {
            problems.add("body must be a JSON object");
            return body;
        }
        body.rooms = stringList(root.get("rooms"), "rooms", true, problems);
        body.except = root.has("except") ? stringList(root.get("except"), "except", false, problems) : Set.of();
        JsonNode event = root.get("event");
        if (event == null || event.isNull()) {
            problems.add("event is required");
        } else if (!event.isTextual()) {
            problems.add("event must be a string");
        } else {
            body.event = event.textValue();
        }
        body.args = args(root.get("args"), problems);
        JsonNode resync = root.get("resync");
        if (resync != null && !resync.isNull()) {
            if (resync.isBoolean()) {
                body.resync = resync.booleanValue();
            } else {
                problems.add("resync must be true or false");
            }
        }
        return body;
    }

    private static Body parseForm(FullHttpRequest request, List<String> problems) {
        Body body = new Body();
        QueryStringDecoder form = new QueryStringDecoder(request.content().toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8, false);
        Map<String, List<String>> fields = form.parameters();
        List<String> rooms = new ArrayList<>();
        rooms.addAll(fields.getOrDefault("rooms", List.of()));
        rooms.addAll(fields.getOrDefault("rooms[]", List.of()));
        if (rooms.isEmpty()) {
            problems.add("rooms must be a non-empty list of room names (repeat the rooms field)");
        } else {
            for (String room : rooms) {
                if (room.isEmpty()) {
                    problems.add("rooms must not contain empty names");
                    break;
                }
            }
            body.rooms = new LinkedHashSet<>(rooms);
        }
        List<String> except = new ArrayList<>(fields.getOrDefault("except", List.of()));
        except.addAll(fields.getOrDefault("except[]", List.of()));
        body.except = new LinkedHashSet<>(except);
        List<String> event = fields.get("event");
        if (event == null || event.isEmpty()) {
            problems.add("event is required");
        } else {
            body.event = event.get(0);
        }
        List<String> args = fields.get("args");
        if (args != null && !args.isEmpty()) {
            try {
                body.args = args(JSON.readTree(args.get(0)), problems);
            } catch (IOException e) {
                problems.add("args must be a JSON array");
            }
        }
        List<String> resync = fields.get("resync");
        if (resync != null && !resync.isEmpty()) {
            body.resync = parseBoolean(resync.get(0), "resync", problems);
        }
        return body;
    }

    private static Set<String> stringList(@Nullable JsonNode node, String field, boolean required, List<String> problems) {
        if (node == null || !node.isArray() || required && node.isEmpty()) {
            problems.add(field + " must be a " + (required ? "non-empty " : "") + "list of strings");
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode item : node) {
            if (!item.isTextual() || item.textValue().isEmpty()) {
                problems.add(field + " must contain only non-empty strings");
                return Set.of();
            }
            out.add(item.textValue());
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> args(@Nullable JsonNode node, List<String> problems) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            problems.add("args must be an array");
            return List.of();
        }
        return JSON.convertValue(node, List.class);
    }

    private static @Nullable Boolean parseBoolean(@Nullable String value, String field, List<String> problems) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> Boolean.TRUE;
            case "false", "0" -> Boolean.FALSE;
            default -> {
                problems.add(field + " must be true or false");
                yield null;
            }
        };
    }
}
