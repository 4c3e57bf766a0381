package io.pushbridge;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One connection as an operator sees it: which node holds it, the session and user it belongs to
 * (once known), its rooms, and its handshake. Secrets are never in it: the {@code authorization},
 * {@code proxy-authorization} and {@code cookie} headers and the {@code token} query parameter are
 * left out where the gateway builds it.
 *
 * @param site the site's name
 * @param socketId the id the client sees as {@code socket.id}
 * @param nodeId the gateway node that holds the connection
 * @param sessionId the session the connection authenticated with, or {@code null}
 * @param userId the user of that session, or {@code null}
 * @param rooms the rooms it is in
 * @param handshake what the client sent when it opened the connection
 */
public record ConnectionInfo(String site, String socketId, String nodeId, @Nullable String sessionId,
        @Nullable String userId, Set<String> rooms, Handshake handshake) {

    /** Header names never shown (lower case). */
    public static final Set<String> SECRET_HEADERS = Set.of("authorization", "proxy-authorization", "cookie", "x-api-key",
            "x-pushbridge-admin-key");

    /** Query parameters never shown. */
    public static final Set<String> SECRET_QUERY_PARAMETERS = Set.of("token", "apiKey");

    public ConnectionInfo {
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(socketId, "socketId");
        Objects.requireNonNull(nodeId, "nodeId");
        rooms = Set.copyOf(rooms);
        Objects.requireNonNull(handshake, "handshake");
    }

    /**
     * The client's handshake, in the shape socket.io servers report it.
     *
     * @param headers the HTTP headers (names in lower case), secrets left out
     * @param issued when the connection was opened, in milliseconds since the epoch
     * @param address the client's IP address
     * @param xdomain whether the request had an {@code Origin} header (a cross-domain client)
     * @param secure whether the connection came over TLS (terminated by the gateway on its port; a
     *     balancer that terminates TLS in front of a plain port shows {@code false}: see the
     *     {@code x-forwarded-proto} header)
     * @param url the request's path and query, the {@code token} parameter left out
     * @param query the query parameters, the {@code token} parameter left out
     */
    public record Handshake(Map<String, List<String>> headers, long issued, String address, boolean xdomain,
            boolean secure, String url, Map<String, List<String>> query) {

        public Handshake {
            headers = Map.copyOf(headers);
            query = Map.copyOf(query);
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(url, "url");
        }
    }
}
