package io.pushbridge.gateway;

import io.pushbridge.MessageStore;
import io.pushbridge.MessageStore.SiteQueues;
import io.pushbridge.NodeInfo;
import io.pushbridge.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * What one gateway node shows its operators (the admin page's overview, the actuator endpoint):
 * the node, its sites with their connections on this node and, when asked for, their queue
 * totals, and the live nodes of the cluster. Made by {@link PushBridgeGateway#overview(boolean)}.
 *
 * @param nodeId this node's id
 * @param running whether the gateway is started and not stopped
 * @param port the port the gateway listens on, -1 when none
 * @param time when the overview was made, epoch ms
 * @param connections sockets connected to this node, over every site
 * @param sites the configured sites, in configuration order
 * @param nodes the live nodes of the cluster ({@link Router#clusterNodes()}), sorted by id; empty
 *     when they could not be listed
 * @param nodesError why the nodes could not be listed, or {@code null}
 * @param queueInspector whether the queue inspector is on
 * @param connectionsPath where the admin view lists the cluster's connections, {@code null} when the
 *     admin view is off
 */
public record GatewayOverview(String nodeId, boolean running, int port, long time, int connections, List<Site> sites,
        List<NodeInfo> nodes, @Nullable String nodesError, boolean queueInspector, @Nullable String connectionsPath) {

    /** How long the overview waits for the router and the store before it shows an error instead. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    public GatewayOverview {
        sites = List.copyOf(sites);
        nodes = List.copyOf(nodes);
    }

    /**
     * One site.
     *
     * @param authorizer the simple class name of its room authorizer (such as {@code WebhookAuthorizer})
     * @param connections its sockets connected to this node
     * @param queues its queue totals (every node's, from the store), {@code null} when not asked for
     *     or when they could not be read
     * @param queuesError why the totals could not be read ({@code unavailable}, {@code unsupported}),
     *     or {@code null}
     */
    public record Site(String name, String namespace, String authorizer, String userRoomPrefix, int connections,
            @Nullable Queues queues, @Nullable String queuesError) {
    }

    /**
     * The queue totals of a site, as {@link MessageStore#siteQueues} found them.
     *
     * @param queues queues holding at least one message
     * @param messages pending messages in them
     * @param oldestCreatedAtMillis when the oldest of them was accepted, epoch ms, 0 when none
     * @param oldestAgeMillis how long ago that was, 0 when none
     */
    public record Queues(long queues, long messages, long oldestCreatedAtMillis, long oldestAgeMillis) {
    }

    static CompletionStage<GatewayOverview> of(PushBridgeGateway gateway, List<SiteRuntime> sites, Router router,
            MessageStore store, GatewayOptions options, boolean withQueues) {
        long now = options.clock().millis();
        CompletableFuture<Listed> nodes = bounded(router::clusterNodes)
                .handle((list, failure) -> failure == null ? new Listed(list, null) : new Listed(List.of(), error(failure)));
        List<CompletableFuture<Site>> siteStages = new ArrayList<>();
        int total = 0;
        for (SiteRuntime runtime : sites) {
            SiteOptions site = runtime.options();
            int connections = runtime.connectionCount();
            total += connections;
            String authorizerName = authorizerType(site);
            if (!withQueues) {
                siteStages.add(CompletableFuture.completedFuture(new Site(site.name(), site.namespace(), authorizerName,
                        site.userRoomPrefix(), connections, null, null)));
                continue;
            }
            siteStages.add(bounded(() -> store.siteQueues(site.name())).handle((totals, failure) -> {
                if (failure != null) {
                    return new Site(site.name(), site.namespace(), authorizerName, site.userRoomPrefix(), connections, null,
                            error(failure));
                }
                return new Site(site.name(), site.namespace(), authorizerName, site.userRoomPrefix(), connections,
                        queues(totals, now), null);
            }));
        }
        int connections = total;
        return CompletableFuture.allOf(siteStages.toArray(CompletableFuture[]::new))
                .thenCombine(nodes, (v, listed) -> new GatewayOverview(options.nodeId(), gateway.isRunning(), gateway.port(), now,
                        connections, siteStages.stream().map(CompletableFuture::join).toList(), listed.nodes(), listed.error(),
                        options.queueInspector(), options.adminEnabled() ? options.adminPath() : null));
    }

    private record Listed(List<NodeInfo> nodes, @Nullable String error) {
    }

    /** What the overview shows for a failed call: {@code unsupported} or {@code unavailable}. */
    private static String error(Throwable failure) {
        return Dispatcher.unwrap(failure) instanceof UnsupportedOperationException ? "unsupported" : "unavailable";
    }

    /**
     * What kind of authorizer a site has, for operators: its class's simple name, or for a lambda
     * the class that wrote it followed by {@code (lambda)}.
     */
    static String authorizerType(SiteOptions site) {
        Class<?> type = site.authorizer().getClass();
        String name = type.getName();
        int lambda = name.indexOf("$$Lambda");
        if (lambda >= 0) {
            String declaring = name.substring(0, lambda);
            return declaring.substring(declaring.lastIndexOf('.') + 1) + " (lambda)";
        }
        String simple = type.getSimpleName();
        return simple.isEmpty() ? name.substring(name.lastIndexOf('.') + 1) : simple;
    }

    private static Queues queues(SiteQueues totals, long now) {
        long oldest = totals.messages() == 0 ? 0 : totals.oldestCreatedAtMillis();
        return new Queues(totals.queues(), totals.messages(), oldest, oldest == 0 ? 0 : Math.max(0, now - oldest));
    }

    private static <T> CompletableFuture<T> bounded(java.util.function.Supplier<CompletionStage<T>> call) {
        return Stages.bounded(call, TIMEOUT);
    }
}
