package io.pushbridge.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes JSON answers. Internal to PushBridge; not an API. */
public final class HttpJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpJson() {
    }

    /** An error body: {@code {"error": code, "message": message[, "errors": [...]]}}. */
    public static Map<String, Object> error(String code, String message, List<String> errors) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", message);
        if (!errors.isEmpty()) {
            body.put("errors", errors);
        }
        return body;
    }

    /**
     * Writes a JSON response; closes the connection afterwards unless {@code keepAlive}. Any thread.
     * {@code ctx} is a handler's context (the response passes the handlers before it, which must
     * include the HTTP encoder), or the channel (it passes the whole pipeline).
     */
    public static void write(ChannelOutboundInvoker ctx, HttpResponseStatus status, Object body, boolean keepAlive,
            Map<String, String> extraHeaders) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            bytes = "{\"error\":\"internal\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
        }
        writeBytes(ctx, status, bytes, keepAlive, extraHeaders);
    }

    /** Writes a response whose body is {@code bytes}, JSON already; as {@link #write}. */
    public static void writeBytes(ChannelOutboundInvoker ctx, HttpResponseStatus status, byte[] bytes, boolean keepAlive,
            Map<String, String> extraHeaders) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        extraHeaders.forEach(response.headers()::set);
        HttpUtil.setContentLength(response, bytes.length);
        send(ctx, response, keepAlive);
    }

    /**
     * Writes a complete response with its {@code Connection} header: kept alive, or closed once
     * written.
     */
    public static void send(ChannelOutboundInvoker ctx, FullHttpResponse response, boolean keepAlive) {
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
