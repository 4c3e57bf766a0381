package io.pushbridge.redis.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pushbridge.gateway.RateLimitedLog;
import io.pushbridge.redis.Ingestion;
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

    /**
     * Reads and checks a message: its size before anything else, then JSON, an object, a non-empty
     * {@code users} array of strings (non-empty, without control characters) or integral numbers,
     * and a {@code data} field (any JSON value, {@code null} included).
     *
     * @throws Ingestion.Dropped naming why the message cannot be delivered
     */
    static Notification parse(byte[] payload, int maxBytes) throws Ingestion.Dropped {
        ObjectNode root = Ingestion.readObject(payload, maxBytes);
        JsonNode users = root.get("users");
        if (users == null) {
            throw new Ingestion.Dropped(Ingestion.Reason.MISSING_FIELD, "no 'users' field");
        }
        if (!users.isArray()) {
            throw new Ingestion.Dropped(Ingestion.Reason.INVALID, "'users' is a "
                    + users.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ", not an array");
        }
        if (users.isEmpty()) {
            throw new Ingestion.Dropped(Ingestion.Reason.INVALID, "'users' is empty");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int i = 0; i < users.size(); i++) {
            String id = userId(users.get(i));
            if (id == null) {
                throw new Ingestion.Dropped(Ingestion.Reason.INVALID, "users[" + i
                        + "] is not a user id (a non-empty string or an integer): " + RateLimitedLog.excerpt(users.get(i).toString()));
            }
            ids.add(id);
        }
        JsonNode data = root.get("data");
        if (data == null) {
            throw new Ingestion.Dropped(Ingestion.Reason.MISSING_FIELD, "no 'data' field");
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
