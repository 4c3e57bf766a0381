package io.pushbridge.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
                HttpJson.writeBytes(ctx, HttpResponseStatus.OK, success(result), keepAlive, Map.of());
            } else {
                failure(ctx, keepAlive, failure);
            }
        });
    }

    /**
     * The 200 answer's body, {@code {"id": "...", "rooms": [...], "queued": n}}, written with a
     * generator (no map, no serializer lookup: it is written once per send).
     */
    static byte[] success(SendResult result) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(48 + 24 * result.rooms().size());
        try (com.fasterxml.jackson.core.JsonGenerator json = JSON.getFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("id", result.idString());
            json.writeArrayFieldStart("rooms");
            for (String room : result.rooms()) {
                json.writeString(room);
            }
            json.writeEndArray();
            json.writeNumberField("queued", result.queued());
            json.writeEndObject();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
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

    /**
     * Reads a JSON body with Jackson's streaming parser, straight into the request's fields (the
     * args as the same Java values a tree would convert to), without building a tree first. What it
     * accepts and the problems it names, in their order, are those of reading the body as a tree:
     * a field given twice counts as its last value, unknown fields are ignored, anything after the
     * object is not looked at, and a body that is not valid JSON is that one problem.
     */
    private static Body parseJson(FullHttpRequest request, List<String> problems) {
        Body body = new Body();
        // one problem (or none) per field, by the last value of the field, in the order of the answer
        String[] fieldProblems = new String[FIELDS];
        try (JsonParser parser = JSON.getFactory().createParser(request.content().toString(StandardCharsets.UTF_8))) {
            JsonToken first = parser.nextToken();
            if (first != JsonToken.START_OBJECT) {
                // an empty body, or another JSON value (read whole: one that is not valid JSON says so)
                parser.skipChildren();
                problems.add("body must be a JSON object");
                return new Body();
            }
            boolean sawRooms = false;
            boolean sawEvent = false;
            for (JsonToken token = parser.nextToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "rooms" -> {
                        sawRooms = true;
                        body.rooms = stringList(parser, value, "rooms", true, fieldProblems, ROOMS);
                    }
                    case "except" -> body.except = stringList(parser, value, "except", false, fieldProblems, EXCEPT);
                    case "event" -> {
                        sawEvent = true;
                        fieldProblems[EVENT] = null;
                        body.event = "";
                        if (value == JsonToken.VALUE_NULL) {
                            fieldProblems[EVENT] = "event is required";
                        } else if (value != JsonToken.VALUE_STRING) {
                            parser.skipChildren();
                            fieldProblems[EVENT] = "event must be a string";
                        } else {
                            body.event = parser.getText();
                        }
                    }
                    case "args" -> {
                        fieldProblems[ARGS] = null;
                        body.args = List.of();
                        if (value == JsonToken.START_ARRAY) {
                            body.args = JSON.readValue(parser, ARGS_TYPE);
                        } else if (value != JsonToken.VALUE_NULL) {
                            parser.skipChildren();
                            fieldProblems[ARGS] = "args must be an array";
                        }
                    }
                    case "resync" -> {
                        fieldProblems[RESYNC] = null;
                        body.resync = null;
                        if (value == JsonToken.VALUE_TRUE || value == JsonToken.VALUE_FALSE) {
                            body.resync = value == JsonToken.VALUE_TRUE;
                        } else if (value != JsonToken.VALUE_NULL) {
                            parser.skipChildren();
                            fieldProblems[RESYNC] = "resync must be true or false";
                        }
                    }
                    default -> parser.skipChildren();
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT) {
                throw new JsonParseException(parser, "unterminated object");
            }
            if (!sawRooms) {
                fieldProblems[ROOMS] = "rooms must be a non-empty list of strings";
                body.rooms = Set.of();
            }
            if (!sawEvent) {
                fieldProblems[EVENT] = "event is required";
            }
        } catch (IOException e) {
            problems.add("body is not valid JSON");
            return new Body();
        }
        for (String problem : fieldProblems) {
            if (problem != null) {
                problems.add(problem);
            }
        }
        return body;
    }

    /** The fields of a JSON body that can have a problem, in the order of the answer's problems. */
    private static final int ROOMS = 0;
    private static final int EXCEPT = 1;
    private static final int EVENT = 2;
    private static final int ARGS = 3;
    private static final int RESYNC = 4;
    private static final int FIELDS = 5;

    private static final com.fasterxml.jackson.databind.JavaType ARGS_TYPE =
            JSON.getTypeFactory().constructCollectionType(List.class, Object.class);

    /**
     * Reads a list of non-empty strings the parser stands at the start of ({@code value}); on a
     * problem, records it in {@code fieldProblems[slot]}, skips the rest and answers an empty set.
     */
    private static Set<String> stringList(JsonParser parser, JsonToken value, String field, boolean required,
            String[] fieldProblems, int slot) throws IOException {
        fieldProblems[slot] = null;
        String shape = field + " must be a " + (required ? "non-empty " : "") + "list of strings";
        if (value != JsonToken.START_ARRAY) {
            parser.skipChildren();
            fieldProblems[slot] = shape;
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonToken item = parser.nextToken(); item != JsonToken.END_ARRAY; item = parser.nextToken()) {
            if (item == null) {
                throw new JsonParseException(parser, "unterminated array");
            }
            if (item != JsonToken.VALUE_STRING || parser.getTextLength() == 0) {
                parser.skipChildren();
                // the rest of the array is read (it must be valid JSON), the list is refused
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    if (parser.currentToken() == null) {
                        throw new JsonParseException(parser, "unterminated array");
                    }
                    parser.skipChildren();
                }
                fieldProblems[slot] = field + " must contain only non-empty strings";
                return Set.of();
            }
            out.add(parser.getText());
        }
        if (required && out.isEmpty()) {
            fieldProblems[slot] = shape;
            return Set.of();
        }
        return out;
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
