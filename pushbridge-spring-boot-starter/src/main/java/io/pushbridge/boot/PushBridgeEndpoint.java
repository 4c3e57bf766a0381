package io.pushbridge.boot;

import io.pushbridge.gateway.GatewayOverview;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.QueueInspector;
import java.security.Principal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.Selector.Match;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * The {@code pushbridge} actuator endpoint (HTTP):
 *
 * <ul>
 *   <li>{@code GET /actuator/pushbridge}: this node's {@link GatewayOverview} (node id, port, sites
 *       with their namespace, authorizer and connections on this node, the live nodes of the
 *       cluster, whether the queue inspector is on); without queue totals, which the admin page
 *       shows;</li>
 *   <li>{@code GET /actuator/pushbridge/{site}/{room}}: the queue inspector reads one user's queue
 *       (depth, oldest message's age, connections, resync mark);</li>
 *   <li>{@code POST /actuator/pushbridge/{site}/{room}} (a write operation): it purges it.</li>
 * </ul>
 *
 * The queue operations answer 403 {@code queue_inspector_off} unless
 * {@code pushbridge.admin.queue-inspector=true}; the other refusals are those of
 * {@link QueueInspector.Refused} (400, 404, 501), and 503 when the store is unavailable. Who may call
 * the endpoint is the application's concern (Spring Security, {@code management.*}): with
 * {@code management.endpoint.pushbridge.access=read-only} the purge is not mapped at all, and the
 * purge is refused (401 {@code unauthenticated}) for a request without an authenticated principal,
 * whatever the exposure. Every
 * queue operation is logged with the principal's name, the site and a fingerprint of the room.
 *
 * <p>Operations block the calling (web server) thread for at most about 15 seconds.
 */
@WebEndpoint(id = "pushbridge")
public class PushBridgeEndpoint {

    /** The longest an operation waits for the router or the store. */
    static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final PushBridgeGateway gateway;

    public PushBridgeEndpoint(PushBridgeGateway gateway) {
        this.gateway = gateway;
    }

    /** This node, its sites and connections, and the live nodes of the cluster. */
    @ReadOperation
    public GatewayOverview overview() throws InterruptedException {
        try {
            return gateway.overview(false).toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // the overview itself never fails: parts it cannot read are shown with their error
            throw new IllegalStateException("the overview could not be made: " + e, e);
        }
    }

    /** Reads one user's queue ({@code room} may hold '/': every remaining path segment belongs to it). */
    @ReadOperation
    public WebEndpointResponse<Map<String, Object>> queue(@Selector String site, @Selector(match = Match.ALL_REMAINING) String[] room,
            SecurityContext security) throws InterruptedException {
        return answer(gateway.queueInspector().inspect(site, String.join("/", room), caller(security)),
                QueueInspector.QueueReport::toMap);
    }

    /**
     * Purges one user's queue: its messages and resync mark are dropped, its connections stay.
     * Refused with 401 {@code unauthenticated} unless the request carries an authenticated
     * principal: a purge changes data, and an actuator exposed without Spring Security must not
     * let anyone who reaches it drop queues.
     */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> purge(@Selector String site, @Selector(match = Match.ALL_REMAINING) String[] room,
            SecurityContext security) throws InterruptedException {
        Principal principal = security == null ? null : security.getPrincipal();
        if (principal == null) {
            return error(401, "unauthenticated",
                    "Purging a queue through the actuator needs an authenticated principal (secure the actuator, for example"
                            + " with Spring Security); the admin page's purge takes the admin key");
        }
        return answer(gateway.queueInspector().purge(site, String.join("/", room), caller(security)),
                QueueInspector.PurgeReport::toMap);
    }

    private static <T> WebEndpointResponse<Map<String, Object>> answer(CompletionStage<T> stage, Function<T, Map<String, Object>> body)
            throws InterruptedException {
        try {
            return new WebEndpointResponse<>(body.apply(stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)),
                    WebEndpointResponse.STATUS_OK);
        } catch (TimeoutException | ExecutionException e) {
            QueueInspector.ErrorAnswer error = QueueInspector.errorAnswer(e);
            if (error.unexpected() != null) {
                throw new IllegalStateException("the queue inspector failed: " + error.unexpected(), error.unexpected());
            }
            return error(error.status(), error.code(), error.message());
        }
    }

    private static WebEndpointResponse<Map<String, Object>> error(int status, String code, @Nullable String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", message == null ? code : message);
        return new WebEndpointResponse<>(body, status);
    }

    private static String caller(@Nullable SecurityContext security) {
        Principal principal = security == null ? null : security.getPrincipal();
        return principal == null ? "actuator, no principal" : "actuator, principal " + principal.getName();
    }
}
