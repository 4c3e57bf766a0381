package io.pushbridge;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link RoomAuthorizer} knows about a client that asks to connect to a site.
 *
 * @param site the site's name
 * @param socketId the id the client will see as {@code socket.id}
 * @param token the token from the CONNECT packet's {@code auth.token}, else from the handshake's
 *     {@code token} query parameter; {@code null} when the client sent neither
 * @param auth the whole {@code auth} payload of the CONNECT packet (empty when none)
 * @param query the handshake's query parameters
 * @param headers the handshake's HTTP headers (names in lower case)
 * @param remoteAddress the client's IP address as seen by the gateway
 * @param forwardedFor the {@code X-Forwarded-For} header of the handshake, if any
 */
public record ConnectRequest(
        String site,
        String socketId,
        @Nullable String token,
        Map<String, Object> auth,
        Map<String, List<String>> query,
        Map<String, List<String>> headers,
        String remoteAddress,
        @Nullable String forwardedFor) {

    public ConnectRequest {
        auth = Map.copyOf(auth);
        query = Map.copyOf(query);
        headers = Map.copyOf(headers);
    }

    /** The first value of a handshake query parameter, or {@code null}. */
    public @Nullable String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
