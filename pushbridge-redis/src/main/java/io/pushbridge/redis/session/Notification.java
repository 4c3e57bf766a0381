package io.pushbridge.redis.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.gateway.RateLimitedLog;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One message of the notifications channel, {@code {"users": [23, "user5"], "data": <any JSON>}},
 * as {@link #parse} checks it.
 *
 * @param users the user ids, numbers given as their text, without duplicates, in their order
 * @param data the value the users' sockets receive
 */
record Notification(Set<String> users, JsonNode data) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why a message was dropped; {@link #counter()} is its name in the counters. */
    enum Drop {
        TOO_LARGE, MALFORMED_JSON, NOT_AN_OBJECT, MISSING_FIELD, INVALID;

        String counter() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A message that is dropped, with the reason and a short detail for the log (never the payload). */
    static final class Dropped extends Exception {

        private static final long serialVersionUID = 1L;

        private final Drop reason;

        Dropped(Drop reason, String detail) {
            super(detail, null, false, false);
            this.reason = reason;
        }

        Drop reason() {
            return reason;
        }
    }

    /**
     * Reads and checks a message: its size before anything else, then JSON, an object, a non-empty
     * {@code users} array of strings (non-empty, without control characters) or integral numbers,
     * and a {@code data} field (any JSON value, {@code null} included).
     *
     * @throws Dropped naming why the message cannot be delivered
     */
    static Notification parse(byte[] payload, int maxBytes) throws Dropped {
        if (payload.length > maxBytes) {
            throw new Dropped(Drop.TOO_LARGE, payload.length + " bytes, more than the limit of " + maxBytes);
        }
        JsonNode root;
        try {
            root = JSON.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new Dropped(Drop.MALFORMED_JSON, RateLimitedLog.excerpt(String.valueOf(e.getOriginalMessage())));
        } catch (IOException e) {
            throw new Dropped(Drop.MALFORMED_JSON, RateLimitedLog.excerpt(e.toString()));
        }
        if (root == null || root.isMissingNode()) {
            throw new Dropped(Drop.MALFORMED_JSON, "empty message");
        }
        if (!root.isObject()) {
            throw new Dropped(Drop.NOT_AN_OBJECT, "a JSON " + root.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                    + ", not an object");
        }
        JsonNode users = root.get("users");
        if (users == null) {
            throw new Dropped(Drop.MISSING_FIELD, "no 'users' field");
        }
        if (!users.isArray()) {
            throw new Dropped(Drop.INVALID, "'users' is a " + users.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                    + ", not an array");
        }
        if (users.isEmpty()) {
            throw new Dropped(Drop.INVALID, "'users' is empty");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int i = 0; i < users.size(); i++) {
            String id = userId(users.get(i));
            if (id == null) {
                throw new Dropped(Drop.INVALID, "users[" + i + "] is not a user id (a non-empty string or an integer): "
                        + RateLimitedLog.excerpt(users.get(i).toString()));
            }
            ids.add(id);
        }
        JsonNode data = root.get("data");
        if (data == null) {
            throw new Dropped(Drop.MISSING_FIELD, "no 'data' field");
        }
        return new Notification(ids, data);
    }

    private static @Nullable String userId(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.asText();
        }
        if (node.isTextual() && RedisSessions.isValidId(node.textValue())) {
            return node.textValue();
        }
        return null;
    }
}
