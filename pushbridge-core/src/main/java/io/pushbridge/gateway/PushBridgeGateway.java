package io.pushbridge.gateway;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.listener.ExceptionListenerAdapter;
import com.corundumstudio.socketio.namespace.Namespace;
import com.corundumstudio.socketio.protocol.AuthPacket;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.pushbridge.ConnectionInfo;
import io.pushbridge.GatewayContext;
import io.pushbridge.GatewayExtension;
import io.pushbridge.MessageStore;
import io.pushbridge.PushBridgeException;
import io.pushbridge.PushTemplate;
import io.pushbridge.Router;
import io.pushbridge.SendRequest;
import io.pushbridge.SocketCommand;
import io.pushbridge.http.SendApiHandler;
import io.pushbridge.id.FlakeIdGenerator;
import io.pushbridge.metrics.PushBridgeMeters;
import io.micrometer.core.instrument.MeterRegistry;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.memory.LocalRouter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PushBridge gateway: a Socket.IO server (one namespace per site), the HTTP send API on the
 * same port, and the machinery between them and the {@link MessageStore} and {@link Router}.
 *
 * <pre>{@code
 * PushBridgeGateway gateway = PushBridgeGateway.builder()
 *     .options(GatewayOptions.builder().port(1337).build())
 *     .site(SiteOptions.builder("newsite")
 *         .authorizer(WebhookAuthorizer.builder(URI.create("https://newsite.example/socketrooms")).build())
 *         .apiKey(System.getenv("NEWSITE_API_KEY"))
 *         .build())
 *     .build();
 * gateway.start();
 * gateway.pushTemplate().site("newsite").to("user_1").event("hello").args("world").send();
 * }</pre>
 *
 * <p>Without a store and router it uses the in-memory ones (one node). {@link #start()} binds the
 * port and returns; {@link #stop()} drains: it refuses new connections and HTTP sends, waits for the
 * sends and acks in flight, closes every connection so that Socket.IO clients reconnect (to another
 * node behind a balancer), and keeps the queues. Thread-safe.
 */
public final class PushBridgeGateway implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PushBridgeGateway.class);

    private final GatewayOptions options;
    private final Map<String, SiteRuntime> sitesByName;
    private final Map<String, SiteRuntime> sitesByNamespace;
    /** The sites in configuration order. */
    private final List<SiteRuntime> siteOrder;
    private final MessageStore store;
    private final Router router;
    private final GatewayStats stats;
    private final GatewayMeters meters;
    private final @Nullable QueueMeters queueMeters;
    private final InFlight inFlight = new InFlight();
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final ScheduledExecutorService timer;
    private final Dispatcher dispatcher;
    /** netty-socketio's JSON: its packets, and the events the dispatcher encodes once per broadcast. */
    private final JacksonJsonSupport jsonSupport;
    private final Connections connections;
    private final List<GatewayExtension> extensions;
    private final List<GatewayExtension> startedExtensions = new ArrayList<>();
    private final Object lifecycle = new Object();
    private @Nullable SocketIOServer server;
    /** Started and not stopped (with or without a port: see {@link GatewayOptions#serve()}); true while draining. */
    private volatile boolean running;
    /** A stop began: the gateway refuses new connections and HTTP sends. */
    private volatile boolean draining;
    /** Completes when a stop has finished draining. */
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private boolean stopped;
    private @Nullable Channel serverChannel;
    private volatile int port = -1;
    private final @Nullable AdminView admin;
    private final @Nullable NodesEndpoint nodes;
    private final QueueInspector inspector;
    private final String redisMode;
    private volatile int adminPort = -1;
    private volatile long startedAtNanos;

    private PushBridgeGateway(Builder b) {
        this.options = b.options;
        PushBridgeMeters registered = new PushBridgeMeters(b.meterRegistry);
        this.meters = new GatewayMeters(registered, options.clock());
        try {
            this.stats = new GatewayStats(registered);
            meters.events(stats);
        } catch (RuntimeException e) {
            meters.close();
            throw e;
        }
        Map<String, SiteRuntime> byName = new LinkedHashMap<>();
        Map<String, SiteRuntime> byNamespace = new LinkedHashMap<>();
        for (SiteOptions site : b.sites) {
            if (byName.containsKey(site.name())) {
                meters.close();
                throw new IllegalArgumentException("site '" + site.name() + "' is configured twice");
            }
            SiteRuntime runtime = new SiteRuntime(site, options, meters);
            meters.limits(site.name(), stats);
            byName.put(site.name(), runtime);
            SiteRuntime other = byNamespace.put(site.namespace(), runtime);
            if (other != null) {
                meters.close();
                throw new IllegalArgumentException("sites '" + other.options().name() + "' and '" + site.name()
                        + "' both use namespace " + site.namespace());
            }
        }
        if (byName.isEmpty()) {
            meters.close();
            throw new IllegalArgumentException("at least one site is required");
        }
        this.sitesByName = Map.copyOf(byName);
        this.siteOrder = List.copyOf(byName.values());
        this.sitesByNamespace = Map.copyOf(byNamespace);
        this.store = b.store != null ? b.store
                : InMemoryMessageStore.builder().clock(options.clock()).build();
        this.router = b.router != null ? b.router : new LocalRouter();
        if (store instanceof InMemoryMessageStore memory) {
            for (String site : sitesByName.keySet()) {
                meters.expiredQueues(site, memory, m -> m.expiredQueues(site));
            }
        }
        this.ownsExecutor = b.executor == null;
        this.executor = b.executor != null ? b.executor
                : Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), threads("pushbridge-worker"));
        java.util.concurrent.ScheduledThreadPoolExecutor timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                threads("pushbridge-timer"));
        // a cancelled task leaves the queue at once: each session's connect check is cancelled once it joins a site
        timer.setRemoveOnCancelPolicy(true);
        this.timer = timer;
        FlakeIdGenerator ids = new FlakeIdGenerator(options.datacenterId(), options.workerId(), options.clock());
        Workers workers = new Workers(executor);
        QueueConnections queues = new QueueConnections(store, workers, stats, inFlight, sitesByName);
        this.jsonSupport = new JacksonJsonSupport(handshakeWithMaxPayload(options.maxPayload()));
        this.dispatcher = new Dispatcher(options, sitesByName, store, router, ids, workers, stats, queues, inFlight,
                registered.registry(), jsonSupport);
        if (meters.isRecording() && options.serve() && !options.queueMetricsRefresh().isZero()) {
            sitesByName.values().forEach(site -> site.meters().queueGauges());
            this.queueMeters = new QueueMeters(store, sitesByName.values(), workers, stats, options.queueMetricsRefresh());
        } else {
            this.queueMeters = null;
        }
        this.connections = new Connections(options, sitesByNamespace, router, queues, dispatcher, workers, executor, timer,
                stats, inFlight);
        this.extensions = List.copyOf(b.extensions);
        this.inspector = new QueueInspector(options, sitesByName, store, stats);
        this.redisMode = b.redisMode != null ? b.redisMode
                : this.router instanceof LocalRouter && this.store instanceof InMemoryMessageStore ? "none" : "unknown";
        this.admin = options.adminEnabled() ? new AdminView(options, router, List.copyOf(sitesByName.keySet()), stats, workers,
                new AdminPage(options, this, inspector, stats, workers)) : null;
        this.nodes = options.nodesEndpoint() ? new NodesEndpoint(options, router, stats, workers) : null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The API to send with; the same path as the HTTP send API. */
    public PushTemplate pushTemplate() {
        return dispatcher;
    }

    /** The port the gateway listens on (after {@link #start()}), also when configured as 0. */
    public int port() {
        return port;
    }

    /** The extensions this gateway runs, in the order they start. */
    public List<GatewayExtension> extensions() {
        return extensions;
    }

    /** The admin view's own port (after {@link #start()}), or -1 when it has none. */
    public int adminPort() {
        return adminPort;
    }

    public GatewayOptions options() {
        return options;
    }

    /** The configured sites, by name, in configuration order. */
    public Map<String, SiteOptions> sites() {
        Map<String, SiteOptions> out = new LinkedHashMap<>();
        siteOrder.forEach(site -> out.put(site.options().name(), site.options()));
        return out;
    }

    /** Counters of connects, refusals, drops, sends. */
    public GatewayStats stats() {
        return stats;
    }

    /** Sockets connected to a site on this node. */
    public int connectionCount(String site) {
        SiteRuntime runtime = sitesByName.get(site);
        return runtime == null ? 0 : runtime.connectionCount();
    }

    /**
     * The queue inspector: reads and purges users' ack queues for operators; off unless
     * {@link GatewayOptions#queueInspector()}.
     */
    public QueueInspector queueInspector() {
        return inspector;
    }

    /**
     * What this node shows its operators: its sites and connections, the live nodes of the cluster
     * and, with {@code queueTotals}, each site's queue totals ({@link MessageStore#siteQueues}, which
     * may walk the store: ask at most every few seconds). Never fails: a part that cannot be read
     * within 5 seconds is shown with its error.
     */
    public CompletionStage<GatewayOverview> overview(boolean queueTotals) {
        return GatewayOverview.of(this, siteOrder, router, store, options, queueTotals);
    }

    /** Engine.IO sessions this node tracks (for tests: sessions must not outlive their clients). */
    int sessionCount() {
        return connections.sessionCount();
    }

    /** Whether the gateway is started and not yet stopped; also while it drains. Does not block. */
    public boolean isRunning() {
        return running;
    }

    /**
     * Whether a stop is under way: the gateway refuses new connections and HTTP sends while it
     * finishes what is in flight and closes its connections (a load balancer should send nothing
     * more to it). Does not block.
     */
    public boolean isDraining() {
        return draining && running;
    }

    /** Binds the port and starts serving. Fails with {@link PushBridgeException} naming the port if it cannot. */
    public void start() {
        synchronized (lifecycle) {
            if (running) {
                return;
            }
            if (stopped) {
                throw new IllegalStateException("a stopped gateway cannot be started again; build a new one");
            }
            router.start(dispatcher);
            try {
                startExtensions();
            } catch (RuntimeException e) {
                failedStart(null);
                throw e;
            }
            if (store instanceof InMemoryMessageStore memory) {
                timer.scheduleWithFixedDelay(memory::purgeExpired, 60, 60, TimeUnit.SECONDS);
            }
            if (queueMeters != null) {
                long every = options.queueMetricsRefresh().toMillis();
                timer.scheduleWithFixedDelay(queueMeters::refresh, 0, every, TimeUnit.MILLISECONDS);
            }
            if (!options.serve()) {
                if (admin != null) {
                    // no gateway port: the admin view can still have its own
                    try {
                        adminPort = admin.start();
                    } catch (RuntimeException e) {
                        failedStart(null);
                        throw e;
                    }
                }
                running = true;
                startedAtNanos = System.nanoTime();
                log.info("[{}] PushBridge node started without a port (it holds no connections: it sends, and runs its "
                        + "extensions): {}; {}", options.nodeId(), settings(), options);
                return;
            }
            SocketIOServer s = new SocketIOServer(configuration());
            releaseDefaultInitializer(s);
            SendApiHandler sendApi = new SendApiHandler(dispatcher.httpTemplate(), name -> {
                SiteRuntime site = sitesByName.get(name);
                return site == null ? null : site.options();
            }, name -> {
                SiteRuntime site = sitesByName.get(name);
                return (site == null ? options.maxMessageSize() : site.limits().maxMessageSize()) + 64 * 1024;
            }, () -> draining, code -> stats.increment("refused.send." + code));
            s.setPipelineFactory(new GatewayInitializer(options, maxHttpContent(),
                    sendApi, new HttpRoutes(options, stats, connections::sessionTransport, admin, nodes, () -> draining,
                            connections.engineIoOrigins(), connections::sessionOrigin),
                    new PacketGate(connections, stats), stats));
            Namespace root = (Namespace) s.getNamespace(Namespace.DEFAULT_NAME);
            connections.bindNamespace("/", root);
            root.addConnectListener(connections::sessionOpened);
            root.addDisconnectListener(connections::namespaceDisconnected);
            for (SiteRuntime site : sitesByName.values()) {
                if (!site.isRoot()) {
                    Namespace ns = (Namespace) s.addNamespace(site.options().namespace());
                    connections.bindNamespace(site.options().namespace(), ns);
                    ns.addDisconnectListener(connections::namespaceDisconnected);
                }
            }
            io.netty.util.concurrent.Future<Void> bind = s.startAsync().awaitUninterruptibly();
            if (!bind.isSuccess()) {
                failedStart(s);
                throw new PushBridgeException("Could not listen on " + options.host() + ":" + options.port()
                        + " (pushbridge.port): " + bind.cause().getMessage(), bind.cause());
            }
            if (bind instanceof ChannelFuture cf) {
                serverChannel = cf.channel();
                port = ((InetSocketAddress) cf.channel().localAddress()).getPort();
            } else {
                port = options.port();
            }
            if (admin != null) {
                try {
                    adminPort = admin.start();
                } catch (RuntimeException e) {
                    failedStart(s);
                    throw e;
                }
            }
            server = s;
            running = true;
            startedAtNanos = System.nanoTime();
            log.info("[{}] PushBridge gateway started: {}; {}", options.nodeId(), settings(), options);
            warnIfCertificateExpiresSoon();
        }
    }

    private void warnIfCertificateExpiresSoon() {
        TlsOptions tls = options.tls();
        if (tls == null) {
            return;
        }
        java.time.Instant notAfter = tls.certificate().getNotAfter().toInstant();
        Duration left = Duration.between(options.clock().instant(), notAfter);
        if (left.compareTo(TlsOptions.EXPIRY_WARNING) < 0) {
            log.warn("[{}] The TLS certificate ({}) expires in {} hours, on {}: renew it and restart the node",
                    options.nodeId(), tls.certificate().getSubjectX500Principal().getName(), left.toHours(), notAfter);
        }
    }

    /**
     * Undoes a start that failed after the router started: stops the server (if it was built), the
     * extensions started and the router, and releases the threads.
     */
    private void failedStart(@Nullable SocketIOServer s) {
        if (s != null) {
            s.stop();
        }
        stopExtensions();
        router.stop();
        releaseThreads();
    }

    /** After a failed start: the gateway cannot be started again, so its own threads (and meters) go now. */
    private void releaseThreads() {
        stopped = true;
        meters.close();
        if (ownsExecutor) {
            executor.shutdownNow();
        }
        timer.shutdownNow();
    }

    /** Starts the extensions in order; if one fails, stops it (best effort) and fails: the caller stops those started. */
    private void startExtensions() {
        GatewayContext context = new Context();
        for (GatewayExtension extension : extensions) {
            try {
                extension.start(context);
                startedExtensions.add(extension);
            } catch (RuntimeException e) {
                try {
                    extension.stop();
                } catch (RuntimeException ignored) {
                    // it failed to start; its stop is best effort
                }
                throw e;
            }
        }
    }

    private void stopExtensions() {
        for (int i = startedExtensions.size() - 1; i >= 0; i--) {
            try {
                startedExtensions.get(i).stop();
            } catch (RuntimeException e) {
                log.warn("[{}] Extension {} failed to stop: {}", options.nodeId(), startedExtensions.get(i), e.toString());
            }
        }
        startedExtensions.clear();
    }

    /** What extensions may do: {@link GatewayContext} on this gateway's parts. */
    private final class Context implements GatewayContext {

        @Override
        public String nodeId() {
            return options.nodeId();
        }

        @Override
        public PushTemplate pushTemplate() {
            return dispatcher;
        }

        @Override
        public int emitLocally(SendRequest request) {
            return dispatcher.emitLocally(request);
        }

        @Override
        public boolean executeLocally(SocketCommand command) {
            return dispatcher.executeLocally(command);
        }

        @Override
        public CompletionStage<@Nullable String> locate(String site, String socketId) {
            SiteRuntime runtime = sitesByName.get(site);
            if (runtime != null && runtime.socket(socketId) != null) {
                return CompletableFuture.completedFuture(options.nodeId());
            }
            try {
                return router.locate(site, socketId);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        @Override
        public @Nullable ConnectionInfo socket(String site, String socketId) {
            SiteRuntime runtime = sitesByName.get(site);
            SiteSocket socket = runtime == null ? null : runtime.socket(socketId);
            return socket == null || socket.isClosed() ? null : socket.info(options.nodeId());
        }

        @Override
        public List<ConnectionInfo> socketsOfSession(String site, String sessionId) {
            SiteRuntime runtime = sitesByName.get(site);
            if (runtime == null) {
                return List.of();
            }
            List<ConnectionInfo> out = new ArrayList<>();
            for (SiteSocket socket : runtime.ofSession(sessionId)) {
                if (!socket.isClosed()) {
                    out.add(socket.info(options.nodeId()));
                }
            }
            return out;
        }

        @Override
        public List<ConnectionInfo> sockets(String site) {
            return dispatcher.localConnections(site, Integer.MAX_VALUE);
        }

        @Override
        public boolean identify(String site, String socketId, @Nullable String sessionId, @Nullable String userId) {
            SiteRuntime runtime = sitesByName.get(site);
            SiteSocket socket = runtime == null ? null : runtime.socket(socketId);
            if (socket == null) {
                return false;
            }
            runtime.identify(socket, sessionId, userId);
            return !socket.isClosed();
        }

        @Override
        public GatewayOptions options() {
            return options;
        }

        @Override
        public java.util.Set<String> sites() {
            return sitesByName.keySet();
        }

        @Override
        public Limits limits(String site) {
            SiteRuntime runtime = sitesByName.get(site);
            return runtime == null ? options.limits() : runtime.limits();
        }

        @Override
        public java.util.concurrent.Executor executor() {
            return executor;
        }

        @Override
        public void count(String counter) {
            stats.increment(counter);
        }

        @Override
        public void countAccepted(String site, io.pushbridge.metrics.MessageSource source) {
            dispatcher.countAccepted(site, source);
        }

        @Override
        public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
            return meters.meters().registry();
        }
    }

    /**
     * A {@link SocketIOServer} builds a default pipeline initializer, whose timer nothing releases
     * once {@code setPipelineFactory} replaces it (Netty then logs a LEAK error when it is collected).
     * netty-socketio offers no way to it, so this reaches it by reflection; if that fails, the only
     * cost is the log line.
     */
    private static void releaseDefaultInitializer(SocketIOServer server) {
        try {
            java.lang.reflect.Field factory = SocketIOServer.class.getDeclaredField("pipelineFactory");
            factory.setAccessible(true);
            Object initializer = factory.get(server);
            java.lang.reflect.Field scheduler = com.corundumstudio.socketio.SocketIOChannelInitializer.class
                    .getDeclaredField("scheduler");
            scheduler.setAccessible(true);
            ((com.corundumstudio.socketio.scheduler.CancelableScheduler) scheduler.get(initializer)).shutdown();
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("Could not release netty-socketio's default initializer: {}", e.toString());
        }
    }

    /**
     * netty-socketio's stop shuts its two event loop groups down with Netty's default quiet period,
     * 2 s each, one after the other. When it runs here every connection is closed already, so a
     * short quiet period does; the groups are shut down first with it (netty-socketio's own call then
     * finds them shutting down and waits for them). Reached by reflection, as netty-socketio offers no
     * way to them; if that fails, the cost is the 4 s.
     */
    private static void shortenQuietPeriod(SocketIOServer server) {
        for (String name : new String[] {"bossGroup", "workerGroup"}) {
            try {
                java.lang.reflect.Field field = SocketIOServer.class.getDeclaredField(name);
                field.setAccessible(true);
                if (field.get(server) instanceof io.netty.channel.EventLoopGroup group) {
                    group.shutdownGracefully(100, 5_000, TimeUnit.MILLISECONDS);
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                log.debug("Could not shorten the quiet period of netty-socketio's {}: {}", name, e.toString());
            }
        }
    }

    /**
     * The largest HTTP body the port takes: an Engine.IO payload, or a send API body for the site
     * with the largest {@code maxMessageSize} (plus room for the JSON around the message); each
     * site's own limit is then checked by the send API.
     */
    private int maxHttpContent() {
        long largest = options.maxMessageSize();
        for (SiteRuntime site : sitesByName.values()) {
            largest = Math.max(largest, site.limits().maxMessageSize());
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(options.maxPayload(), largest + 64 * 1024));
    }

    private Configuration configuration() {
        Configuration c = new Configuration();
        c.setHostname(options.host());
        c.setPort(options.port());
        c.setContext(options.path());
        c.setPingInterval((int) options.pingInterval().toMillis());
        c.setPingTimeout((int) options.pingTimeout().toMillis());
        c.setMaxFramePayloadLength(options.maxPayload());
        c.setMaxHttpContentLength(maxHttpContent());
        c.setRandomSession(true);
        c.setWebsocketCompression(options.websocketCompression());
        c.setHttpCompression(false);
        c.setAllowCustomRequests(false);
        c.setAddVersionHeader(false);
        c.setWorkerThreads(options.workerThreads());
        c.setUseLinuxNativeEpoll(options.nativeTransport() && NativeTransport.available());
        c.setBossThreads(1);
        c.setTransports(Transport.WEBSOCKET, Transport.POLLING);
        c.getSocketConfig().setReuseAddress(true);
        c.getSocketConfig().setTcpNoDelay(true);
        c.setExceptionListener(new QuietExceptions());
        c.setJsonSupport(jsonSupport);
        c.setStoreFactory(new LazyStoreFactory());
        return c;
    }

    /**
     * Engine.IO 4's handshake tells the client {@code maxPayload}, so that it splits long-polling
     * batches below the limit; netty-socketio's handshake packet has no such field.
     */
    private static SimpleModule handshakeWithMaxPayload(int maxPayload) {
        SimpleModule module = new SimpleModule("pushbridge-handshake");
        module.addSerializer(AuthPacket.class, new StdSerializer<>(AuthPacket.class) {
            @Override
            public void serialize(AuthPacket packet, JsonGenerator json, SerializerProvider provider) throws java.io.IOException {
                json.writeStartObject();
                json.writeStringField("sid", packet.getSid().toString());
                json.writeArrayFieldStart("upgrades");
                for (String upgrade : packet.getUpgrades()) {
                    json.writeString(upgrade);
                }
                json.writeEndArray();
                json.writeNumberField("pingInterval", packet.getPingInterval());
                json.writeNumberField("pingTimeout", packet.getPingTimeout());
                json.writeNumberField("maxPayload", maxPayload);
                json.writeEndObject();
            }
        });
        return module;
    }

    /** Stops within {@link GatewayOptions#shutdownTimeout()}; see {@link #stop(Duration)}. */
    public void stop() {
        stop(options.shutdownTimeout());
    }

    /**
     * Drains, then stops; blocks until done, about {@code timeout} at most (plus Netty's own shutdown,
     * about 4 s). Queues are kept. Safe to call twice and from several threads: a second call waits
     * for the first.
     *
     * <ol>
     *   <li>Refuses new work that a balancer can send elsewhere: new Engine.IO sessions and HTTP
     *       sends get 503 with {@code Retry-After}, a CONNECT closes its session (so the client
     *       reconnects), and {@link #isDraining()} turns true (the health indicator says so).
     *       Sends through {@link #pushTemplate()} are still accepted until step 4.</li>
     *   <li>Waits for the sends, acks and cleanups that were in flight when the drain began (stored,
     *       published, removed), up to half of {@code timeout}; not for those that come after (clients
     *       keep acking and messages keep arriving while they are connected).</li>
     *   <li>Closes every connection without a Socket.IO disconnect, evenly over
     *       {@link GatewayOptions#reconnectSpread()} (at most a quarter of {@code timeout}), so that
     *       clients reconnect to other nodes without all arriving at once; their user queues stay in
     *       the store and expire only by {@code clientTtl}, as after any disconnect.</li>
     *   <li>Stops listening, stops the extensions, waits for what is still in flight (acks that
     *       arrived before the close, the closed sockets' bookkeeping, sends) up to the end of
     *       {@code timeout}, then refuses sends through {@link #pushTemplate()}
     *       ({@link io.pushbridge.PushUnavailableException}, nothing stored), waits for the last ones
     *       accepted (to the end of {@code timeout}, or 500 ms past it when it has passed), and stops routing
     *       last, so that everything accepted before reached the other nodes.</li>
     * </ol>
     */
    public void stop(Duration timeout) {
        boolean mine;
        synchronized (lifecycle) {
            if (!running) {
                return;
            }
            mine = !draining;
            draining = true;
        }
        if (!mine) {
            drained.join();
            return;
        }
        try {
            drain(timeout);
        } finally {
            synchronized (lifecycle) {
                running = false;
                stopped = true;
            }
            drained.complete(null);
        }
    }

    /** The drain of {@link #stop(Duration)}; runs on the stopping thread, with {@link #draining} set. */
    private void drain(Duration timeout) {
        long start = System.nanoTime();
        long timeoutNanos = Math.max(0, timeout.toNanos());
        long deadline = start + timeoutNanos;
        SocketIOServer s = server;
        connections.stopAccepting();
        // step 2 waits for the work accepted before this point only: connected clients keep acking and
        // messages keep arriving while the connections are up, so all work never ends at once on a busy node
        int drainBegan = inFlight.mark();
        stats.increment("drain.started");
        log.info("[{}] PushBridge gateway draining{}: {} sessions, {} in flight; new sessions and HTTP sends are "
                + "refused; up to {} ms", options.nodeId(), s == null ? "" : " (port " + port + ")", connections.sessionCount(),
                inFlight, timeout.toMillis());
        boolean timedOut = false;
        // 2) what was accepted before completes while the connections are still there to deliver it
        if (!inFlight.awaitIdle(drainBegan, start + timeoutNanos / 2, InFlight.Kind.values())) {
            timedOut = true;
            log.warn("[{}] Still in flight after {} ms: {}; closing the connections anyway", options.nodeId(),
                    timeoutNanos / 2 / 1_000_000, inFlight.before(drainBegan));
        }
        // 3) every connection closed so that its client reconnects, to another node
        int closed = 0;
        if (s != null) {
            long closeDeadline = start + timeoutNanos * 3 / 4;
            closed = closeConnections(Math.min(options.reconnectSpread().toNanos(), timeoutNanos / 4), closeDeadline);
            if (serverChannel != null) {
                serverChannel.close().awaitUninterruptibly();
            }
            server = null;
            // ends what is left (sessions still handshaking); the disconnect bookkeeping goes to the workers
            shortenQuietPeriod(s);
            s.stop();
        }
        // 4) the rest in flight, then routing stops last
        stopExtensions();
        if (admin != null) {
            admin.stop();
        }
        // what was accepted until now, while the application may still send (so not until nothing is in flight)
        int closedAt = inFlight.mark();
        boolean idle = inFlight.awaitIdle(closedAt, deadline, InFlight.Kind.values());
        // then no more sends, and the last ones accepted finish before the router stops: one accepted
        // after the wait would be stored, then fail to publish, and its sender would send it again
        dispatcher.stopped();
        idle = inFlight.awaitIdle(InFlight.EPOCHS, Math.max(deadline, System.nanoTime() + LAST_SENDS_GRACE_NANOS),
                InFlight.Kind.SENDS) && idle;
        idle = inFlight.awaitIdle(deadline) && idle;
        if (!idle) {
            timedOut = true;
            log.warn("[{}] Still in flight at the end of the shutdown timeout ({} ms): {}", options.nodeId(),
                    timeout.toMillis(), inFlight);
        }
        if (ownsExecutor) {
            executor.shutdown();
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!executor.awaitTermination(left, TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                    log.warn("[{}] {} worker tasks did not finish within the shutdown timeout ({} ms)", options.nodeId(),
                            executor.shutdownNow().size(), timeout.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (timedOut) {
            stats.increment("drain.timed_out");
        }
        timer.shutdownNow();
        router.stop();
        meters.close();
        log.info("[{}] PushBridge {} stopped: {}; drained for {} ms{}, {} sessions closed for reconnect; up {} s, {} sends "
                + "accepted, {} connects", options.nodeId(), options.serve() ? "gateway" : "node", settings(),
                (System.nanoTime() - start) / 1_000_000, timedOut ? " (timed out)" : "", closed,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedAtNanos), stats.get("sends.accepted"), stats.get("connects"));
    }

    /**
     * How long the sends accepted last may still take when the shutdown timeout has passed: the
     * router stops after them, so that none is stored and then refused.
     */
    private static final long LAST_SENDS_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** Sessions closed per step of 10 ms at least: up to 5,000 a second go at once. */
    private static final int MIN_CLOSES_PER_STEP = 50;
    private static final long CLOSE_STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * Closes every session so that its client reconnects, evenly over {@code spreadNanos}, then waits
     * until the long-polling ones took their close (or {@code deadline}).
     *
     * @return how many sessions it closed
     */
    private int closeConnections(long spreadNanos, long deadline) {
        List<Connections.Session> sessions = connections.sessions();
        long steps = Math.max(1, spreadNanos / CLOSE_STEP_NANOS);
        int perStep = (int) Math.max(MIN_CLOSES_PER_STEP, (sessions.size() + steps - 1) / steps);
        long next = System.nanoTime();
        int closed = 0;
        for (Connections.Session session : sessions) {
            if (closed > 0 && closed % perStep == 0) {
                next += CLOSE_STEP_NANOS;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
            }
            connections.closeForReconnect(session, deadline);
            closed++;
        }
        // sessions that opened meanwhile (their CONNECTs are refused with a close already)
        for (Connections.Session session : connections.sessions()) {
            if (!session.closing) {
                connections.closeForReconnect(session, deadline);
                closed++;
            }
        }
        while (connections.sessionCount() > 0 && deadline - System.nanoTime() > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(CLOSE_STEP_NANOS);
        }
        return closed;
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * The effective settings the start and stop lines lead with: port, node id, sites (name,
     * namespace, authorizer, limits of their own), Redis mode, store and router (their own descriptions, which name
     * their Redis deployment without passwords). The start line adds every option.
     */
    private String settings() {
        StringBuilder sites = new StringBuilder("[");
        for (SiteRuntime runtime : siteOrder) {
            SiteOptions site = runtime.options();
            if (sites.length() > 1) {
                sites.append(", ");
            }
            sites.append(site.name()).append('=').append(site.namespace()).append(" (")
                    .append(GatewayOverview.authorizerType(site));
            if (!site.limits().isEmpty()) {
                sites.append("; ").append(site.limits());
            }
            sites.append(')');
        }
        sites.append(']');
        return "port=" + (options.serve() ? String.valueOf(port) : "none") + (adminPort >= 0 ? ", adminPort=" + adminPort : "")
                + ", tls=" + (options.tls() == null ? "off" : "on")
                + (options.serve() ? ", transport=" + (options.nativeTransport() && NativeTransport.available() ? "epoll" : "nio") : "")
                + ", nodeId=" + options.nodeId() + ", sites=" + sites + ", redis=" + redisMode + ", store=" + store
                + ", router=" + router
                + (connections != null && connections.backlogUnavailable() != null ? ", maxBufferedBytes=not enforced" : "");
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** netty-socketio's exception hooks: one rate-limited line, and the connection closed. */
    private final class QuietExceptions extends ExceptionListenerAdapter {
        private final RateLimitedLog errors = new RateLimitedLog(log, 1000);

        @Override
        public boolean exceptionCaught(ChannelHandlerContext ctx, Throwable e) {
            stats.increment("errors.channel");
            errors.warn("Closing connection from {} after an error: {}", ctx.channel().remoteAddress(), e.toString());
            ctx.close();
            return true;
        }

        @Override
        public void onEventException(Exception e, List<Object> args, com.corundumstudio.socketio.SocketIOClient client) {
            stats.increment("errors.listener");
            errors.warn("Event listener failed for {}: {}", client.getSessionId(), e.toString());
        }

        @Override
        public void onConnectException(Exception e, com.corundumstudio.socketio.SocketIOClient client) {
            stats.increment("errors.listener");
            errors.warn("Connect listener failed for {}: {}", client.getSessionId(), e.toString());
        }

        @Override
        public void onAuthException(Throwable e, com.corundumstudio.socketio.SocketIOClient client) {
            stats.increment("errors.listener");
            errors.warn("Auth listener failed for {}: {}", client.getSessionId(), e.toString());
        }

        @Override
        public void onDisconnectException(Exception e, com.corundumstudio.socketio.SocketIOClient client) {
            stats.increment("errors.listener");
            errors.warn("Disconnect listener failed for {}: {}", client.getSessionId(), e.toString());
        }
    }

    /** Builds a {@link PushBridgeGateway}. */
    public static final class Builder {

        private GatewayOptions options = GatewayOptions.builder().build();
        private final List<SiteOptions> sites = new ArrayList<>();
        private @Nullable MessageStore store;
        private @Nullable Router router;
        private @Nullable ExecutorService executor;
        private @Nullable String redisMode;
        private @Nullable MeterRegistry meterRegistry;
        private final List<GatewayExtension> extensions = new ArrayList<>();

        private Builder() {
        }

        /** Adds an extension that starts and stops with the gateway (see {@link GatewayExtension}). */
        public Builder extension(GatewayExtension extension) {
            this.extensions.add(Objects.requireNonNull(extension));
            return this;
        }

        public Builder options(GatewayOptions options) {
            this.options = Objects.requireNonNull(options);
            return this;
        }

        public Builder site(SiteOptions site) {
            this.sites.add(Objects.requireNonNull(site));
            return this;
        }

        public Builder sites(List<SiteOptions> sites) {
            sites.forEach(this::site);
            return this;
        }

        /** The ack queue store; defaults to an {@link InMemoryMessageStore}. */
        public Builder store(MessageStore store) {
            this.store = store;
            return this;
        }

        /** The router between nodes; defaults to a {@link LocalRouter} (one node). */
        public Builder router(Router router) {
            this.router = router;
            return this;
        }

        /**
         * The executor for authorizer calls, store calls and ack handling; by default a fixed pool of
         * max(2, cores) daemon threads owned (and shut down) by the gateway.
         */
        public Builder executor(ExecutorService executor) {
            this.executor = executor;
            return this;
        }

        /**
         * How the store and router reach Redis, for the start and stop log lines: {@code none},
         * {@code standalone}, {@code sentinel} or {@code cluster} (the Spring Boot starter sets it).
         * Unset, it is {@code none} with the in-memory store and router, {@code unknown} otherwise.
         */
        public Builder redisMode(String mode) {
            this.redisMode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * The registry to record the gateway's meters in (see {@link io.pushbridge.metrics.PushBridgeMeter});
         * the router and the extensions get it too. {@code null} (the default): nothing is recorded.
         * The gateway registers its meters when it is built and removes them when it stops.
         */
        public Builder meterRegistry(@Nullable MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        public PushBridgeGateway build() {
            return new PushBridgeGateway(this);
        }
    }
}
