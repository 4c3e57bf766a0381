package io.pushbridge.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The message the benchmarks send, store and route: an event with 3 arguments, each a typical JSON
 * object of about 200 bytes, parsed as the send API parses {@code args} (plain maps, lists,
 * strings and numbers).
 */
public final class Payloads {

    /** The event name. */
    public static final String EVENT = "order.updated";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The JSON of argument {@code i}: about 200 bytes. */
    static String argJson(int i) {
        return "{\"orderId\":\"ord_8c1f2a9e4" + i + "\",\"status\":\"shipped\",\"carrier\":\"DHL\","
                + "\"tracking\":\"JD01460000628123456" + i + "\",\"items\":[{\"sku\":\"SKU-10442\",\"qty\":2},"
                + "{\"sku\":\"SKU-20917\",\"qty\":1}],\"total\":149.9" + i + ",\"currency\":\"EUR\","
                + "\"updatedAt\":\"2026-11-22T05:35:15.12" + i + "Z\"}";
    }

    /** The 3 arguments, fresh and mutable, as the send API hands them on. */
    @SuppressWarnings("unchecked")
    public static List<Object> args() {
        String json = "[" + argJson(0) + "," + argJson(1) + "," + argJson(2) + "]";
        try {
            return JSON.readValue(json, List.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The size of the arguments as JSON, in bytes. */
    public static int argsJsonBytes() {
        try {
            return JSON.writeValueAsBytes(args()).length;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Payloads() {
    }
}
