package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pushbridge.MessageStore;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.gateway.GatewayOverview;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.QueueInspector;
import java.security.Principal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.PropertiesEndpointAccessResolver;
import org.springframework.boot.actuate.endpoint.InvocationContext;
import org.springframework.boot.actuate.endpoint.OperationFilter;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.invoke.convert.ConversionServiceParameterValueMapper;
import org.springframework.boot.actuate.endpoint.web.EndpointMediaTypes;
import org.springframework.boot.actuate.endpoint.web.ExposableWebEndpoint;
import org.springframework.boot.actuate.endpoint.web.WebEndpointHttpMethod;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.WebOperation;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpointDiscoverer;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;

/**
 * The {@code pushbridge} actuator endpoint: defined where it is available, mapped by Boot's own
 * discoverer to GET and POST, and invoked as the web layer invokes it. No port is bound: the queue
 * inspector works on the store of a gateway that is not started.
 */
class PushBridgeEndpointTests {

    private static final String EXPOSED = "management.endpoints.web.exposure.include=pushbridge";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.node-id=endpoint-node",
                    "pushbridge.sites.demo.authorizer=static", "pushbridge.sites.demo.tokens.alice=user_alice",
                    "pushbridge.sites.chat.authorizer=allow-all", "pushbridge.sites.chat.namespace=/");

    @Test
    void theEndpointIsDefinedOnlyWhereItIsExposedAndAccessible() {
        runner.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PushBridgeEndpoint.class));
        runner.withPropertyValues(EXPOSED).run(context -> assertThat(context).hasSingleBean(PushBridgeEndpoint.class));
        runner.withPropertyValues(EXPOSED, "management.endpoint.pushbridge.access=NONE")
                .run(context -> assertThat(context).doesNotHaveBean(PushBridgeEndpoint.class));
    }

    @Test
    void bootMapsTheOverviewAndTheQueueToGetAndThePurgeToPost() {
        runner.withPropertyValues(EXPOSED).run(context -> {
            Map<String, WebEndpointHttpMethod> mapped = operations(context).stream().collect(Collectors.toMap(
                    o -> o.getRequestPredicate().getHttpMethod() + " " + o.getRequestPredicate().getPath(),
                    o -> o.getRequestPredicate().getHttpMethod()));
            assertThat(mapped).containsOnlyKeys("GET pushbridge", "GET pushbridge/{site}/{*room}", "POST pushbridge/{site}/{*room}");
        });
        runner.withPropertyValues(EXPOSED, "management.endpoint.pushbridge.access=READ_ONLY").run(context ->
                assertThat(operations(context)).as("read-only access leaves the purge out")
                        .allSatisfy(o -> assertThat(o.getRequestPredicate().getHttpMethod()).isEqualTo(WebEndpointHttpMethod.GET)));
    }

    @Test
    void theOverviewShowsTheNodeItsSitesAndConnections() {
        runner.withPropertyValues(EXPOSED).run(context -> {
            GatewayOverview overview = (GatewayOverview) operation(context, WebEndpointHttpMethod.GET, "pushbridge")
                    .invoke(new InvocationContext(SecurityContext.NONE, Map.of()));
            assertThat(overview.nodeId()).isEqualTo("endpoint-node");
            assertThat(overview.running()).isFalse();
            assertThat(overview.port()).isEqualTo(-1);
            assertThat(overview.connections()).isZero();
            assertThat(overview.queueInspector()).isFalse();
            assertThat(overview.connectionsPath()).as("the admin view is off").isNull();
            assertThat(overview.sites()).extracting(GatewayOverview.Site::name, GatewayOverview.Site::namespace,
                    GatewayOverview.Site::authorizer, GatewayOverview.Site::connections, GatewayOverview.Site::queues)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("demo", "/demo", "StaticAuthorizer", 0, null),
                            org.assertj.core.groups.Tuple.tuple("chat", "/", "AllowAllAuthorizer", 0, null));
            assertThat(overview.nodesError()).as("a router that is not started lists no nodes").isEqualTo("unavailable");
        });
    }

    @Test
    void theQueueOperationsAreRefusedWhileTheInspectorIsOff() {
        runner.withPropertyValues(EXPOSED).run(context -> {
            MessageStore store = context.getBean(MessageStore.class);
            UserQueue queue = new UserQueue("demo", "user_alice");
            store.append(queue, new QueuedMessage(1, "news", List.of("kept"), false, 1_000)).toCompletableFuture().get(5, TimeUnit.SECONDS);
            for (WebEndpointHttpMethod method : List.of(WebEndpointHttpMethod.GET, WebEndpointHttpMethod.POST)) {
                WebEndpointResponse<?> answer = queueOperation(context, method, "demo", "user_alice");
                assertThat(answer.getStatus()).isEqualTo(403);
                assertThat(body(answer)).containsEntry("error", "queue_inspector_off");
                assertThat((body(answer)).get("message").toString()).contains("pushbridge.admin.queue-inspector=true");
            }
            assertThat(store.inspect(queue).toCompletableFuture().get(5, TimeUnit.SECONDS).depth()).isEqualTo(1);
        });
    }

    @Test
    void theInspectorReadsAndPurgesAQueueAndLogsWhoDidIt() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger logger = (Logger) LoggerFactory.getLogger(QueueInspector.class);
        logger.addAppender(logs);
        try {
            runner.withPropertyValues(EXPOSED, "pushbridge.admin.queue-inspector=true").run(context -> {
                assertThat(context.getBean(PushBridgeGateway.class).options().queueInspector()).isTrue();
                MessageStore store = context.getBean(MessageStore.class);
                UserQueue queue = new UserQueue("demo", "user_alice/phone");
                store.connectionOpened(queue);
                store.append(queue, new QueuedMessage(1, "news", List.of("secret-1"), false, 1_000));
                store.append(queue, new QueuedMessage(2, "news", List.of("secret-2"), false, 2_000));

                // a room with '/' arrives as the remaining path segments
                WebEndpointResponse<?> read = queueOperation(context, WebEndpointHttpMethod.GET, "demo", "user_alice", "phone");
                assertThat(read.getStatus()).isEqualTo(200);
                assertThat(body(read)).containsEntry("site", "demo").containsEntry("room", "user_alice/phone")
                        .containsEntry("depth", 2).containsEntry("oldestCreatedAt", 1_000L).containsEntry("connections", 1)
                        .containsEntry("resyncRequired", false);

                WebEndpointResponse<?> purge = queueOperation(context, WebEndpointHttpMethod.POST, "demo", "user_alice", "phone");
                assertThat(purge.getStatus()).isEqualTo(200);
                assertThat(body(purge)).containsEntry("purged", 2);
                assertThat(store.inspect(queue).toCompletableFuture().get(5, TimeUnit.SECONDS))
                        .isEqualTo(new MessageStore.QueueSnapshot(0, 0, 1, false));

                assertThat(queueOperation(context, WebEndpointHttpMethod.GET, "nope", "user_alice").getStatus()).isEqualTo(404);
                WebEndpointResponse<?> notUser = queueOperation(context, WebEndpointHttpMethod.POST, "demo", "staff");
                assertThat(notUser.getStatus()).isEqualTo(400);
                assertThat(body(notUser)).containsEntry("error", "not_a_user_room");
                WebEndpointResponse<?> lobby = queueOperation(context, WebEndpointHttpMethod.GET, "chat", "lobby");
                assertThat(body(lobby)).containsEntry("error", "not_a_user_room");
                assertThat(body(queueOperation(context, WebEndpointHttpMethod.GET, "chat", "user_bob")))
                        .containsEntry("depth", 0).containsEntry("connections", 0);
            });
            List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            String fingerprint = QueueInspector.fingerprint("user_alice/phone");
            assertThat(lines).hasSizeGreaterThanOrEqualTo(2);
            assertThat(lines.get(0)).contains("(actuator, principal ops-alice)", "read the queue of site 'demo', room #" + fingerprint,
                    "2 pending");
            assertThat(lines.get(1)).contains("(actuator, principal ops-alice)", "purged the queue of site 'demo', room #" + fingerprint,
                    "2 message(s) dropped");
            assertThat(lines).allSatisfy(line -> assertThat(line).doesNotContain("user_alice").doesNotContain("secret-"));
        } finally {
            logger.detachAppender(logs);
        }
    }

    @Test
    void aPurgeWithoutAnAuthenticatedPrincipalIsRefusedAndChangesNothing() {
        runner.withPropertyValues(EXPOSED, "pushbridge.admin.queue-inspector=true").run(context -> {
            MessageStore store = context.getBean(MessageStore.class);
            UserQueue queue = new UserQueue("demo", "user_anon");
            store.append(queue, new QueuedMessage(1, "news", List.of("kept"), false, 1_000));
            WebOperation purge = operation(context, WebEndpointHttpMethod.POST, "pushbridge/{site}/{*room}");

            WebEndpointResponse<?> refused = (WebEndpointResponse<?>) purge
                    .invoke(new InvocationContext(SecurityContext.NONE, Map.of("site", "demo", "room", new String[] {"user_anon"})));

            assertThat(refused.getStatus()).isEqualTo(401);
            assertThat(body(refused)).containsEntry("error", "unauthenticated");
            assertThat(body(refused).get("message").toString()).contains("authenticated principal");
            assertThat(store.inspect(queue).toCompletableFuture().get(5, TimeUnit.SECONDS).depth()).isEqualTo(1);
            // reading needs no principal (the actuator's own security decides who reaches it)
            WebEndpointResponse<?> read = (WebEndpointResponse<?>) operation(context, WebEndpointHttpMethod.GET, "pushbridge/{site}/{*room}")
                    .invoke(new InvocationContext(SecurityContext.NONE, Map.of("site", "demo", "room", new String[] {"user_anon"})));
            assertThat(body(read)).containsEntry("depth", 1);
        });
    }

    @Test
    void theAdminPropertiesReachTheGatewayAndBadOnesNameTheirProperty() {
        runner.withPropertyValues("pushbridge.admin.page-path=/ops", "pushbridge.admin.queue-inspector=true").run(context -> {
            assertThat(context.getBean(PushBridgeGateway.class).options().adminPagePath()).isEqualTo("/ops");
            assertThat(context.getBean(PushBridgeGateway.class).queueInspector().enabled()).isTrue();
        });
        for (String bad : List.of("ops", "/ops/", "/socket.io/ops", "/pushbridge/admin/connections")) {
            runner.withPropertyValues("pushbridge.admin.page-path=" + bad).run(context -> {
                assertThat(context).hasFailed();
                Throwable t = context.getStartupFailure();
                while (t != null && !(t instanceof InvalidPushBridgePropertyException)) {
                    t = t.getCause();
                }
                assertThat(t).as("%s", context.getStartupFailure()).isNotNull()
                        .hasMessageStartingWith("pushbridge.admin.page-path: must ").hasMessageContaining(bad);
            });
        }
    }

    @Test
    void theRedisModeOfTheStartLineComesFromTheProperties() {
        PushBridgeProperties p = new PushBridgeProperties();
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("none");
        p.getRedis().setUrl("redis://:secret@localhost:6379/0");
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("standalone");
        p.getRedis().setUrl("rediss://localhost:6380");
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("standalone");
        p.getRedis().setUrl("redis-sentinel://localhost:26379/0#mymaster");
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("sentinel");
        p.getRedis().setUrl("rediss-sentinel://localhost:26379/0#mymaster");
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("sentinel");
        p.getRedis().setUrl(" ");
        p.getRedis().getCluster().setNodes(List.of("redis://localhost:7000"));
        assertThat(PushBridgeOptionsMapper.redisMode(p)).isEqualTo("cluster");
    }

    // ---------------------------------------------------------------- helpers

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(WebEndpointResponse<?> answer) {
        return (Map<String, Object>) answer.getBody();
    }

    private static List<WebOperation> operations(ApplicationContext context) {
        WebEndpointDiscoverer discoverer = new WebEndpointDiscoverer(context, new ConversionServiceParameterValueMapper(),
                EndpointMediaTypes.DEFAULT, List.of(), List.of(), List.of(), List.of(),
                List.of(OperationFilter.byAccess(new PropertiesEndpointAccessResolver(context.getEnvironment()))));
        ExposableWebEndpoint endpoint = discoverer.getEndpoints().stream()
                .filter(e -> e.getEndpointId().toString().equals("pushbridge")).findFirst().orElseThrow();
        return List.copyOf(endpoint.getOperations());
    }

    private static WebOperation operation(ApplicationContext context, WebEndpointHttpMethod method, String path) {
        return operations(context).stream().filter(o -> o.getRequestPredicate().getHttpMethod() == method
                && o.getRequestPredicate().getPath().equals(path)).findFirst().orElseThrow();
    }

    private static WebEndpointResponse<?> queueOperation(ApplicationContext context, WebEndpointHttpMethod method, String site,
            String... room) {
        Principal alice = () -> "ops-alice";
        SecurityContext security = new SecurityContext() {
            @Override
            public Principal getPrincipal() {
                return alice;
            }

            @Override
            public boolean isUserInRole(String role) {
                return false;
            }
        };
        return (WebEndpointResponse<?>) operation(context, method, "pushbridge/{site}/{*room}")
                .invoke(new InvocationContext(security, Map.of("site", site, "room", room)));
    }
}
