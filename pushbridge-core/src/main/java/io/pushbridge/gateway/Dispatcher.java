package io.pushbridge.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.Message;
import io.pushbridge.MessageStore;
import io.pushbridge.PushRefusedException;
import io.pushbridge.PushRefusedException.Reason;
import io.pushbridge.PushTemplate;
import io.pushbridge.PushUnavailableException;
import io.pushbridge.QueuedMessage;
import io.pushbridge.Router;
import io.pushbridge.SendRequest;
import io.pushbridge.SendResult;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import io.pushbridge.UserQueue;
import io.pushbridge.id.FlakeIdGenerator;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.metrics.ResyncReason;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one send path (the template and the HTTP API both end here), local delivery of routed
 * messages, socket commands, and the handling of client acks.
 *
 * <p>Send: validate, append to every target user queue (durable before routing), publish. Deliver:
 * find this node's target sockets, once per socket. Commands (join, leave, disconnect): validate
 * as a send's rooms, route to the node holding the socket, carry out there. Ack: remove from the
 * queue, with the resync check.
 */
final class Dispatcher implements PushTemplate, Router.Receiver, SiteSocket.AckSink {

    static final String BATCH_EVENT = "batch";
    static final String RESYNC_EVENT = "resync";
    /**
     * Marks a routed message as a custom command ({@link #command}): a control character, which no
     * event of a send or of a client may hold.
     */
    static final String COMMAND_PREFIX = "\u0001command:";

    /** Event names a sender may not use: Socket.IO's own, and PushBridge's. */
    static final Set<String> RESERVED_EVENTS = Set.of("connect", "connect_error", "disconnect", "disconnecting",
            "newListener", "removeListener", "error", "message_ack", BATCH_EVENT, RESYNC_EVENT);

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    /** A socket still assembling its first batch is tried again this often, this many times, after a resume. */
    private static final long RESUME_RETRY_MILLIS = 100;
    private static final int RESUME_RETRIES = 600;
    /** How many times an ack's removal is tried: about a minute with the delays of {@link #retrying}. */
    private static final int STORE_RETRIES = 32;

    private final GatewayOptions options;
    private final Map<String, SiteRuntime> sitesByName;
    private final MessageStore store;
    private final Router router;
    private final FlakeIdGenerator ids;
    private final Executor executor;
    private final GatewayStats stats;
    private final QueueConnections queues;
    private final InFlight inFlight;
    private final io.micrometer.core.instrument.MeterRegistry meterRegistry;
    private final ObjectMapper json = new ObjectMapper();
    /** netty-socketio's JSON support, to encode each message's packet once for all its sockets; {@code null}: per socket. */
    private final com.corundumstudio.socketio.protocol.@Nullable JsonSupport packetJson;
    private final RateLimitedLog failureLog = new RateLimitedLog(log, 1000);
    /** The gateway stopped routing: sends and commands fail at once, before anything is stored. */
    private volatile boolean stopped;
    private final RateLimitedLog limitLog = new RateLimitedLog(log, 1000);
    /** The counters of every send and ack, resolved once. */
    private final GatewayStats.Handle sendsAccepted;
    private final GatewayStats.Handle sendsFailed;
    private final GatewayStats.Handle acks;

    Dispatcher(GatewayOptions options, Map<String, SiteRuntime> sitesByName, MessageStore store, Router router,
            FlakeIdGenerator ids, Executor executor, GatewayStats stats, QueueConnections queues, InFlight inFlight,
            io.micrometer.core.instrument.MeterRegistry meterRegistry,
            com.corundumstudio.socketio.protocol.@Nullable JsonSupport json) {
        this.options = options;
        this.packetJson = json;
        this.sitesByName = sitesByName;
        this.store = store;
        this.router = router;
        this.ids = ids;
        this.executor = executor;
        this.stats = stats;
        this.queues = queues;
        this.inFlight = inFlight;
        this.meterRegistry = meterRegistry;
        this.sendsAccepted = stats.handle("sends.accepted");
        this.sendsFailed = stats.handle("sends.failed");
        this.acks = stats.handle("acks");
    }

    /**
     * The gateway is about to stop routing: from now on sends and commands fail with
     * {@link PushUnavailableException}. Those counted in {@link InFlight.Kind#SENDS} before are
     * the last; the gateway waits for them before it stops the router.
     */
    void stopped() {
        stopped = true;
    }

    private static <T> CompletableFuture<T> stoppedFailure() {
        return CompletableFuture.failedFuture(new PushUnavailableException("the gateway is stopped; send through another node", null));
    }

    // ---- send ------------------------------------------------------------------------------

    /** Sends from the application ({@link MessageSource#TEMPLATE}). */
    @Override
    public CompletionStage<SendResult> send(SendRequest request) {
        return send(request, MessageSource.TEMPLATE);
    }

    /**
     * The template the HTTP send API sends with: the same send path, its messages counted as
     * {@link MessageSource#HTTP}.
     */
    PushTemplate httpTemplate() {
        return new PushTemplate() {
            @Override
            public CompletionStage<SendResult> send(SendRequest request) {
                return Dispatcher.this.send(request, MessageSource.HTTP);
            }

            @Override
            public CompletionStage<Void> join(String site, String socketId, Set<String> rooms) {
                return Dispatcher.this.join(site, socketId, rooms);
            }

            @Override
            public CompletionStage<Void> leave(String site, String socketId, Set<String> rooms) {
                return Dispatcher.this.leave(site, socketId, rooms);
            }

            @Override
            public CompletionStage<Void> disconnect(String site, String socketId) {
                return Dispatcher.this.disconnect(site, socketId);
            }

            @Override
            public CompletionStage<Void> command(String site, Target target, String type, Map<String, Object> data) {
                return Dispatcher.this.command(site, target, type, data);
            }
        };
    }

    /** The one send path; a message it accepts is counted in the site's {@code pushbridge.messages.accepted} by {@code source}. */
    CompletionStage<SendResult> send(SendRequest request, MessageSource source) {
        SiteRuntime site = sitesByName.get(request.site());
        if (site == null) {
            stats.increment("sends.refused.unknown_site");
            return CompletableFuture.failedFuture(new PushRefusedException(Reason.UNKNOWN_SITE,
                    List.of("site '" + request.site() + "' is not configured")));
        }
        PushRefusedException refused = validate(site, request, "send");
        if (refused != null) {
            stats.increment("sends.refused." + refused.reason().name().toLowerCase(java.util.Locale.ROOT));
            return CompletableFuture.failedFuture(refused);
        }
        // counted until stored and published: a draining gateway waits for it before routing stops.
        // Counted before the stopped check: a stop sets stopped, then waits for the sends counted, so
        // that either this send sees stopped (and stores nothing) or the stop waits for it
        int ticket = inFlight.enter(InFlight.Kind.SENDS);
        if (stopped) {
            inFlight.exit(InFlight.Kind.SENDS, ticket);
            stats.increment("sends.refused.stopped");
            return stoppedFailure();
        }
        refused = takeSend(site, "send");
        if (refused != null) {
            inFlight.exit(InFlight.Kind.SENDS, ticket);
            stats.increment("sends.refused." + refused.reason().name().toLowerCase(java.util.Locale.ROOT));
            return CompletableFuture.failedFuture(refused);
        }
        CompletableFuture<SendResult> sent;
        try {
            sent = accepted(site, request, source);
        } catch (RuntimeException e) {
            inFlight.exit(InFlight.Kind.SENDS, ticket);
            throw e;
        }
        sent.whenComplete((result, failure) -> inFlight.exit(InFlight.Kind.SENDS, ticket));
        return sent;
    }

    /**
     * A valid send: append to the user queues, then publish. When the store and the router answer
     * at once (the in-memory ones do), the outcome is made without a chain of stages.
     */
    private CompletableFuture<SendResult> accepted(SiteRuntime site, SendRequest request, MessageSource source) {
        Target target = request.target();
        Set<String> userRooms = userRooms(site, target.rooms());
        Message message = new Message(ids.nextId(), site.options().name(), target, request.event(), request.args(),
                userRooms, request.resync(), options.clock().millis());
        CompletableFuture<List<String>> stored = append(message, userRooms);
        CompletableFuture<Void> published;
        List<String> overflowed = stored.isDone() && !stored.isCompletedExceptionally() ? stored.join() : null;
        if (overflowed != null && overflowed.isEmpty()) {
            published = publish(message);
        } else {
            published = stored
                    .handle((rooms, failure) -> {
                        if (failure != null) {
                            throw new CompletionException(unavailable("message store", failure));
                        }
                        return rooms;
                    })
                    .thenCompose(rooms -> {
                        if (rooms.isEmpty()) {
                            return CompletableFuture.completedFuture(null);
                        }
                        stats.add("queues.overflowed", rooms.size());
                        site.meters().resync(ResyncReason.OVERFLOW, rooms.size());
                        return router.publish(control(message.site(), Target.rooms(Set.copyOf(rooms)), RESYNC_EVENT));
                    })
                    .thenCompose(v -> publish(message));
        }
        if (published.isDone() && !published.isCompletedExceptionally()) {
            return CompletableFuture.completedFuture(sent(site, source, message, userRooms.size()));
        }
        return published.handle((v, failure) -> {
            if (failure != null) {
                Throwable cause = unwrap(failure);
                sendsFailed.increment();
                throw new CompletionException(cause instanceof PushUnavailableException
                        ? cause : unavailable("router", cause));
            }
            return sent(site, source, message, userRooms.size());
        });
    }

    /** The target rooms that are user rooms (the queues a message goes to), in the target's order. */
    private static Set<String> userRooms(SiteRuntime site, Set<String> rooms) {
        if (rooms.size() == 1) {
            String room = rooms.iterator().next();
            return site.options().isUserRoom(room) ? Set.of(room) : Set.of();
        }
        Set<String> userRooms = new LinkedHashSet<>();
        for (String room : rooms) {
            if (site.options().isUserRoom(room)) {
                userRooms.add(room);
            }
        }
        return userRooms;
    }

    /**
     * Appends the message to every user queue; answers the rooms whose queue overflowed (empty
     * mostly), or fails with the store's failure.
     */
    private CompletableFuture<List<String>> append(Message message, Set<String> userRooms) {
        if (userRooms.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        QueuedMessage queued = message.toQueued();
        if (userRooms.size() == 1) {
            String room = userRooms.iterator().next();
            CompletionStage<MessageStore.AppendOutcome> append;
            try {
                append = store.append(new UserQueue(message.site(), room), queued);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            CompletableFuture<MessageStore.AppendOutcome> appended = append.toCompletableFuture();
            if (appended.isDone() && !appended.isCompletedExceptionally()) {
                return CompletableFuture.completedFuture(
                        appended.join() == MessageStore.AppendOutcome.OVERFLOWED ? List.of(room) : List.of());
            }
            return appended.thenApply(outcome -> outcome == MessageStore.AppendOutcome.OVERFLOWED ? List.of(room) : List.of());
        }
        CompletableFuture<?>[] appends = new CompletableFuture<?>[userRooms.size()];
        List<String> overflowed = new ArrayList<>(0);
        int i = 0;
        for (String room : userRooms) {
            CompletionStage<MessageStore.AppendOutcome> append;
            try {
                append = store.append(new UserQueue(message.site(), room), queued);
            } catch (RuntimeException e) {
                append = CompletableFuture.failedFuture(e);
            }
            appends[i++] = append.toCompletableFuture().thenAccept(outcome -> {
                if (outcome == MessageStore.AppendOutcome.OVERFLOWED) {
                    synchronized (overflowed) {
                        overflowed.add(room);
                    }
                }
            });
        }
        return CompletableFuture.allOf(appends).thenApply(v -> overflowed);
    }

    /** The router's publish as a future; one that throws instead of answering fails the future. */
    private CompletableFuture<Void> publish(Message message) {
        try {
            return router.publish(message).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Counts an accepted message and makes its outcome. */
    private SendResult sent(SiteRuntime site, MessageSource source, Message message, int queued) {
        sendsAccepted.increment();
        site.meters().accepted(source);
        return new SendResult(message.id(), List.copyOf(message.target().rooms()), queued);
    }

    /**
     * Emits to this node's sockets only, not stored and without acks (see
     * {@link io.pushbridge.GatewayContext#emitLocally}). Counts {@code sends.local} only: what a
     * message an extension took in counts in {@code pushbridge.messages.accepted} is the extension's
     * to say, once per message ({@link #countAccepted}), since it may take several emits to deliver it.
     *
     * @return how many sockets it reached
     */
    int emitLocally(SendRequest request) {
        SiteRuntime site = sitesByName.get(request.site());
        if (site == null) {
            throw new PushRefusedException(Reason.UNKNOWN_SITE, List.of("site '" + request.site() + "' is not configured"));
        }
        PushRefusedException invalid = validate(site, request, "local emit");
        if (invalid != null) {
            throw invalid;
        }
        Message message = new Message(ids.nextId(), site.options().name(), request.target(), request.event(),
                request.args(), Set.of(), false, options.clock().millis());
        stats.increment("sends.local");
        return deliverHere(site, message);
    }

    /** Counts one message an extension took in, in {@code pushbridge.messages.accepted}; nothing for an unknown site. */
    void countAccepted(String site, MessageSource source) {
        SiteRuntime runtime = sitesByName.get(site);
        if (runtime != null) {
            runtime.meters().accepted(source);
        }
    }

    /**
     * Carries out a command for a socket of this node, checked as a routed command is.
     *
     * @return whether this node holds the socket
     * @throws PushRefusedException for an unknown site or bad rooms
     */
    boolean executeLocally(SocketCommand command) {
        SiteRuntime site = sitesByName.get(command.site());
        if (site == null) {
            throw new PushRefusedException(Reason.UNKNOWN_SITE, List.of("site '" + command.site() + "' is not configured"));
        }
        if (command.kind() != SocketCommand.Kind.DISCONNECT) {
            Problems problems = roomProblems(site, command.rooms(),
                    "local " + command.kind().name().toLowerCase(java.util.Locale.ROOT), true);
            if (command.rooms().isEmpty()) {
                problems.add("rooms must not be empty");
            }
            if (!problems.isEmpty()) {
                throw new PushRefusedException(Reason.INVALID, problems.answer);
            }
        }
        if (site.socket(command.socketId()) == null) {
            return false;
        }
        execute(command);
        return true;
    }

    /**
     * Checks a request against the site's limits and the rules of names: event name, rooms, socket
     * id, then the message's size. Counts every limit hit ({@link Limit#counter}) and logs it at a
     * bounded rate; {@code what} names the entry point in that log line.
     *
     * @return the refusal, or {@code null} when the request may go on
     */
    private @Nullable PushRefusedException validate(SiteRuntime site, SendRequest request, String what) {
        Limits limits = site.limits();
        Problems problems = new Problems();
        String event = request.event();
        String eventProblem = limits.eventNameProblem(event);
        if (eventProblem != null) {
            problems.add(eventProblem);
            if (event != null && !event.isEmpty()) {
                problems.hits.add(Limit.EVENT_NAME);
            }
        } else if (RESERVED_EVENTS.contains(event)) {
            problems.add("event '" + event + "' is reserved");
        }
        Target target = request.target();
        checkRooms(limits, target.rooms(), problems);
        if (target.socketId() != null) {
            checkSocketId(target.socketId(), problems.answer);
        }
        if (!problems.isEmpty()) {
            countHits(site, what, problems, true);
            return new PushRefusedException(Reason.INVALID, problems.answer);
        }
        long size;
        try {
            size = JsonSize.of(request.args(), json) + (event == null ? 0 : event.length());
        } catch (JsonProcessingException e) {
            return new PushRefusedException(Reason.INVALID, List.of("args must be JSON values: " + e.getOriginalMessage()));
        }
        if (size > limits.maxMessageSize()) {
            Problems tooLarge = new Problems().hit(Limit.MESSAGE_SIZE,
                    "message is " + size + " bytes, more than the limit of " + limits.maxMessageSize());
            countHits(site, what, tooLarge, true);
            return new PushRefusedException(Reason.TOO_LARGE, tooLarge.answer);
        }
        return null;
    }

    /**
     * Takes one send from the site's budget on this node; beyond it the refusal says how long to
     * wait ({@code RATE_LIMITED}, counted and logged as a limit hit).
     */
    private @Nullable PushRefusedException takeSend(SiteRuntime site, String what) {
        long wait = site.takeSend(options.ticker().getAsLong());
        if (wait == 0) {
            return null;
        }
        java.time.Duration retryAfter = java.time.Duration.ofNanos(wait);
        Problems problems = new Problems().hit(Limit.SENDS_PER_SECOND, "site '" + site.options().name()
                + "' is over its limit of " + site.limits().maxSendsPerSecond() + " sends per second on this node; retry after "
                + Math.max(1, retryAfter.toMillis()) + " ms");
        countHits(site, what, problems, true);
        return new PushRefusedException(Reason.RATE_LIMITED, problems.answer, retryAfter);
    }

    /**
     * The problems of one request: the sentences answered, the same for a log line (without room
     * names, which often hold user ids), and the limits hit. The same problem is kept once.
     */
    private static final class Problems {
        final List<String> answer = new ArrayList<>();
        final List<String> loggable = new ArrayList<>();
        final Set<Limit> hits = java.util.EnumSet.noneOf(Limit.class);

        void add(String problem) {
            add(problem, problem);
        }

        void add(String problem, String logged) {
            if (!answer.contains(problem)) {
                answer.add(problem);
                loggable.add(logged);
            }
        }

        Problems hit(Limit limit, String problem) {
            hits.add(limit);
            add(problem);
            return this;
        }

        boolean isEmpty() {
            return answer.isEmpty();
        }

        String logged() {
            return RateLimitedLog.excerpt(String.join("; ", loggable));
        }
    }

    /**
     * Counts each limit hit as {@code limits.<site>.<limit>} and, if {@code log}, logs them, at most
     * one line a second (without room names).
     */
    private void countHits(SiteRuntime site, String what, Problems problems, boolean log) {
        if (problems.hits.isEmpty()) {
            return;
        }
        String name = site.options().name();
        for (Limit limit : problems.hits) {
            stats.increment(limit.counter(name));
        }
        if (log) {
            limitLog.warn("[{}] Site '{}': refused a {} over its limits {}: {}", options.nodeId(), name, what,
                    problems.hits.stream().map(Limit::key).toList(), problems.logged());
        }
    }

    /** Checks the rooms of a join, leave or command ({@link #checkRooms}) and counts the limits hit ({@link #countHits}). */
    private Problems roomProblems(SiteRuntime site, Collection<String> rooms, String what, boolean log) {
        Problems problems = new Problems();
        checkRooms(site.limits(), rooms, problems);
        countHits(site, what, problems, log);
        return problems;
    }

    /**
     * Checks room names as every request gives them (a send's target, a join or leave): at most
     * {@code maxRoomsPerSend} of them, each one valid by the rules of names ({@link Limits#roomName}).
     * Adds one line per problem (the same problem once) and the limits hit.
     */
    private static void checkRooms(Limits limits, Collection<String> rooms, Problems problems) {
        if (rooms.size() > limits.maxRoomsPerSend()) {
            problems.hit(Limit.ROOMS_PER_SEND,
                    "rooms has " + rooms.size() + " entries, more than the limit of " + limits.maxRoomsPerSend());
        }
        for (String room : rooms) {
            Limits.NameProblem problem = limits.roomName(room);
            if (problem != null) {
                if (problem.isLimitHit()) {
                    problems.hits.add(Limit.ROOM_NAME);
                }
                problems.add(problem.message(), problem.loggable());
            }
        }
    }

    /** Checks a socket id a request names (a send to one socket, a command). */
    private static void checkSocketId(String socketId, List<String> problems) {
        if (socketId.isEmpty()) {
            problems.add("socket id must not be empty");
        }
    }

    private Message control(String site, Target target, String event) {
        return new Message(ids.nextId(), site, target, event, List.of(), Set.of(), false, options.clock().millis());
    }

    private static PushUnavailableException unavailable(String what, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof PushUnavailableException u) {
            return u;
        }
        return new PushUnavailableException(what + " is unavailable: " + cause.getMessage(), cause);
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    // ---- commands --------------------------------------------------------------------------

    /**
     * Validates and routes a join. Refused ({@link PushRefusedException}) for an unknown site
     * ({@code UNKNOWN_SITE}), and ({@code INVALID}, every problem listed) for a missing or empty
     * socket id, no rooms, or rooms a send would refuse; nothing changes then. Fails with
     * {@link PushUnavailableException} when the router cannot take it.
     */
    @Override
    public CompletionStage<Void> join(String site, String socketId, Set<String> rooms) {
        return command(SocketCommand.Kind.JOIN, site, socketId, rooms);
    }

    /** Validates and routes a leave; refused and failing as {@link #join}. */
    @Override
    public CompletionStage<Void> leave(String site, String socketId, Set<String> rooms) {
        return command(SocketCommand.Kind.LEAVE, site, socketId, rooms);
    }

    /** Validates and routes a disconnect; refused and failing as {@link #join} (it names no rooms). */
    @Override
    public CompletionStage<Void> disconnect(String site, String socketId) {
        return command(SocketCommand.Kind.DISCONNECT, site, socketId, Set.of());
    }

    /**
     * Validates a custom command as a send (its type as the event name, its data as the one
     * argument) and routes it as a message whose event is the type behind {@link #COMMAND_PREFIX},
     * which no client event can carry: each node that gets it hands it to the site's handler.
     */
    @Override
    public CompletionStage<Void> command(String site, Target target, String type, Map<String, Object> data) {
        if (data == null || target == null || type == null) {
            return refused(new PushRefusedException(Reason.INVALID, List.of("target, type and data are required")));
        }
        SendRequest asSend = new SendRequest(site, target, type, List.of(data), false);
        SiteRuntime runtime = sitesByName.get(site);
        if (runtime == null) {
            return refused(new PushRefusedException(Reason.UNKNOWN_SITE, List.of("site '" + site + "' is not configured")));
        }
        PushRefusedException invalid = validate(runtime, asSend, "custom command");
        if (invalid == null) {
            invalid = takeSend(runtime, "custom command");
        }
        if (invalid != null) {
            return refused(invalid);
        }
        Message message = new Message(ids.nextId(), site, target, COMMAND_PREFIX + type, List.of(data), Set.of(), false,
                options.clock().millis());
        return route(() -> router.publish(message), "commands.custom.sent");
    }

    /**
     * Hands a command to the router: counts {@code counter} once it is handed over, or
     * {@code commands.failed} and fails with {@link PushUnavailableException}.
     */
    private CompletionStage<Void> route(java.util.function.Supplier<CompletionStage<Void>> handOver, String counter) {
        // counted before the stopped check, as a send is
        int ticket = inFlight.enter(InFlight.Kind.SENDS);
        if (stopped) {
            inFlight.exit(InFlight.Kind.SENDS, ticket);
            stats.increment("commands.failed");
            return stoppedFailure();
        }
        CompletableFuture<Void> routed;
        try {
            routed = handOver.get().toCompletableFuture();
        } catch (RuntimeException e) {
            routed = CompletableFuture.failedFuture(e);
        }
        routed.whenComplete((v, failure) -> inFlight.exit(InFlight.Kind.SENDS, ticket));
        return routed.handle((v, failure) -> {
            if (failure != null) {
                stats.increment("commands.failed");
                throw new CompletionException(unavailable("router", failure));
            }
            stats.increment(counter);
            return null;
        });
    }

    /**
     * Hands a routed custom command to the site's handler, with this node's recipients, on the
     * workers, one after the other per site (in the order they were sent from one node). A node with
     * no recipient of it does nothing (every node gets the commands to rooms and to the site).
     */
    private void customCommand(SiteRuntime site, Message message, Collection<SiteSocket> recipients) {
        if (!message.target().wholeSite() && recipients.isEmpty() || !options.serve()) {
            return; // none of its recipients is here (a node without a port holds none)
        }
        String type = message.event().substring(COMMAND_PREFIX.length());
        io.pushbridge.GatewayCommandHandler handler = site.options().commandHandlers().get(type);
        if (handler == null) {
            stats.increment("commands.custom.unhandled");
            failureLog.warn("No handler for the custom command '{}' of site '{}'", type, site.options().name());
            return;
        }
        Object data = message.args().isEmpty() ? null : message.args().get(0);
        if (!(data instanceof Map<?, ?> map)) {
            stats.increment("commands.invalid");
            failureLog.warn("Ignored a routed custom command '{}' without its data", type);
            return;
        }
        Map<String, Object> dataMap = new java.util.LinkedHashMap<>();
        map.forEach((k, v) -> dataMap.put(String.valueOf(k), v));
        List<io.pushbridge.ConnectionInfo> sockets = recipients.stream().map(s -> s.info(options.nodeId())).toList();
        try {
            site.commands(executor).execute(() -> {
                try {
                    handler.handle(new io.pushbridge.GatewayCommand(site.options().name(), type, dataMap, sockets,
                            options.nodeId()));
                    stats.increment("commands.custom.handled");
                } catch (RuntimeException e) {
                    stats.increment("commands.custom.failed");
                    failureLog.warn("The handler of custom command '{}' failed: {}", type, e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            stats.increment("commands.custom.failed");
            failureLog.warn("Could not hand the custom command '{}' to a worker (the gateway is stopping)", type);
        }
    }

    /**
     * The one command path: validation (the send's room checks), then {@link Router#command}.
     * Counts {@code commands.accepted}, {@code commands.refused.<reason>}, {@code commands.failed}.
     */
    private CompletionStage<Void> command(SocketCommand.Kind kind, @Nullable String site, @Nullable String socketId,
            @Nullable Set<String> rooms) {
        SiteRuntime runtime = site == null ? null : sitesByName.get(site);
        if (runtime == null) {
            return refused(new PushRefusedException(Reason.UNKNOWN_SITE,
                    List.of(site == null ? "site is required" : "site '" + site + "' is not configured")));
        }
        List<String> problems = new ArrayList<>();
        if (socketId == null) {
            problems.add("socket id is required");
        } else {
            checkSocketId(socketId, problems);
        }
        if (kind != SocketCommand.Kind.DISCONNECT) {
            if (rooms == null || rooms.isEmpty()) {
                problems.add("rooms must not be empty");
            } else {
                problems.addAll(roomProblems(runtime, rooms, kind.name().toLowerCase(java.util.Locale.ROOT), true).answer);
            }
        }
        if (!problems.isEmpty()) {
            return refused(new PushRefusedException(Reason.INVALID, problems));
        }
        SocketCommand command = new SocketCommand(runtime.options().name(), socketId, kind,
                kind == SocketCommand.Kind.DISCONNECT ? Set.of() : rooms);
        return route(() -> router.command(command), "commands.accepted");
    }

    private CompletionStage<Void> refused(PushRefusedException refused) {
        stats.increment("commands.refused." + refused.reason().name().toLowerCase(java.util.Locale.ROOT));
        return CompletableFuture.failedFuture(refused);
    }

    /**
     * Carries out a routed command for a socket of this node; a socket this node does not hold is
     * ignored ({@code commands.unknown_socket}). Does not block: store calls go to the workers, the
     * disconnect to the socket's event loop.
     */
    @Override
    public void execute(SocketCommand command) {
        SiteRuntime site = sitesByName.get(command.site());
        if (site == null) {
            stats.increment("commands.unknown_site");
            failureLog.warn("Ignored a routed command for unknown site '{}'", command.site());
            return;
        }
        SiteSocket socket = site.socket(command.socketId());
        if (socket == null) {
            stats.increment("commands.unknown_socket");
            return;
        }
        if (command.kind() != SocketCommand.Kind.DISCONNECT) {
            // a routed command comes from another node or straight from Redis: checked again here,
            // so that a malformed one changes nothing
            // counted, and logged here once (without room names)
            Problems problems = roomProblems(site, command.rooms(),
                    "routed " + command.kind().name().toLowerCase(java.util.Locale.ROOT), false);
            if (command.rooms().isEmpty() || !problems.isEmpty()) {
                stats.increment("commands.invalid");
                failureLog.warn("Ignored an invalid routed {} for {}: {}", command.kind(), socket,
                        problems.isEmpty() ? "no rooms" : problems.logged());
                return;
            }
        }
        stats.increment("commands.executed");
        switch (command.kind()) {
            case JOIN -> join(socket, command.rooms());
            case LEAVE -> leave(socket, command.rooms());
            case DISCONNECT -> socket.disconnectFromServer();
        }
    }

    /**
     * Joins the rooms; for each new user room, opens the user's queue and reads what is pending
     * (on the workers), then hands the batch to the socket, which sends it before the live messages
     * of that room it held meanwhile.
     */
    private void join(SiteSocket socket, Set<String> rooms) {
        String site = socket.site().options().name();
        socket.join(rooms).forEach((room, opened) -> {
            UserQueue queue = new UserQueue(site, room);
            queues.open(queue, opened).whenComplete((batch, failure) -> {
                if (failure != null) {
                    stats.increment("commands.join_failed");
                    failureLog.warn("Could not open {} for {} joining it: {}", queue, socket, unwrap(failure).toString());
                    socket.joinFailed(room, opened);
                } else {
                    socket.joined(room, opened, batch);
                }
            });
        });
    }

    /** Leaves the rooms; closes the queue of each user room left (once, after its open). */
    private void leave(SiteSocket socket, Set<String> rooms) {
        String site = socket.site().options().name();
        socket.leave(rooms).forEach((room, opened) -> queues.close(new UserQueue(site, room), opened));
    }

    // ---- local delivery --------------------------------------------------------------------

    /**
     * Routing was interrupted (the router's broker connection dropped and came back): every local
     * socket gets, from its user queues, what it may have missed meanwhile. The queues are read on
     * the workers; failures are logged and counted and leave the messages queued for the next
     * connect.
     */
    @Override
    public void resumed() {
        stats.increment("routing.resumed");
        for (SiteRuntime site : sitesByName.values()) {
            for (SiteSocket socket : site.sockets()) {
                resume(socket, socket.userRooms(), 0);
            }
        }
    }

    /**
     * Re-reads these user queues of a socket and sends what it missed. A socket still assembling
     * its first batches, or a room still being joined, read its queue before the interruption may
     * have ended: it is tried again shortly after, until it is open (or closed).
     */
    private void resume(SiteSocket socket, Set<String> rooms, int attempt) {
        Set<String> later = new java.util.HashSet<>();
        for (String room : rooms) {
            if (socket.isClosed()) {
                return;
            }
            if (!socket.isOpen() || socket.isJoining(room)) {
                later.add(room);
                continue;
            }
            UserQueue queue = new UserQueue(socket.site().options().name(), room);
            CompletableFuture.supplyAsync(() -> store.takePending(queue), executor)
                    .thenCompose(stage -> stage)
                    .whenComplete((pending, failure) -> {
                        if (failure != null) {
                            stats.increment("routing.resume_failed");
                            failureLog.warn("Could not re-read {} after routing resumed: {}", queue, failure.toString());
                            return;
                        }
                        int sent = socket.resumed(queues.batch(queue, pending));
                        stats.add("routing.resent", sent);
                    });
        }
        if (!later.isEmpty() && attempt < RESUME_RETRIES) {
            CompletableFuture.delayedExecutor(RESUME_RETRY_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS, executor)
                    .execute(() -> resume(socket, later, attempt + 1));
        }
    }

    /** Closes every local connection so that clients reconnect and register again (see {@link Router.Receiver#reconnectAll}). */
    @Override
    public void reconnectAll() {
        stats.increment("routing.reconnect_all");
        for (SiteRuntime site : sitesByName.values()) {
            for (SiteSocket socket : site.sockets()) {
                socket.closeTransport();
            }
        }
    }

    @Override
    public void deliver(Message message) {
        SiteRuntime site = sitesByName.get(message.site());
        if (site == null) {
            stats.increment("dropped.unknown_site");
            failureLog.warn("Dropped a routed message for unknown site '{}'", message.site());
            return;
        }
        String invalid = invalidRoutedEvent(message.event());
        if (invalid != null) {
            // a routed message comes from another node or straight from Redis: checked again here,
            // so that a forged one cannot make clients see a "connect", "batch", ... event
            stats.increment("dropped.invalid_message");
            failureLog.warn("Dropped a routed message for site '{}': {}", message.site(), invalid);
            return;
        }
        deliverHere(site, message);
    }

    /**
     * Why a routed message's event is one no node sends, or {@code null}: nodes route the events of
     * valid sends, their own {@code resync} control messages and custom commands. Cheap (no
     * serialization): it runs for every routed message. The length limit is left out: nodes
     * configured with different limits must not drop each other's messages.
     */
    private @Nullable String invalidRoutedEvent(String event) {
        if (event.equals(RESYNC_EVENT) || event.startsWith(COMMAND_PREFIX)) {
            return null;
        }
        if (event.isEmpty()) {
            return "the event is empty";
        }
        if (RESERVED_EVENTS.contains(event)) {
            return "event '" + event + "' is reserved";
        }
        if (Limits.hasControlCharacters(event)) {
            return "the event contains control characters";
        }
        return null;
    }

    private int deliverHere(SiteRuntime site, Message message) {
        Target target = message.target();
        Collection<SiteSocket> sockets;
        if (target.socketId() != null) {
            SiteSocket socket = site.socket(target.socketId());
            sockets = socket == null ? List.of() : List.of(socket);
        } else if (target.wholeSite()) {
            sockets = site.sockets();
        } else if (target.rooms().size() == 1) {
            sockets = site.members(target.rooms().iterator().next());
        } else {
            Set<SiteSocket> union = new LinkedHashSet<>();
            for (String room : target.rooms()) {
                union.addAll(site.members(room));
            }
            sockets = union;
        }
        if (message.event().startsWith(COMMAND_PREFIX)) {
            List<SiteSocket> recipients = new ArrayList<>();
            for (SiteSocket socket : sockets) {
                if (target.except().isEmpty() || !target.except().contains(socket.id())) {
                    recipients.add(socket);
                }
            }
            customCommand(site, message, recipients);
            return recipients.size();
        }
        // encoded once for all its recipients; written with one task per event loop
        Outgoing out = new Outgoing(message, packetJson);
        Flushes flushes = new Flushes();
        int n = 0;
        try {
            for (SiteSocket socket : sockets) {
                if (target.except().isEmpty() || !target.except().contains(socket.id())) {
                    socket.deliver(out, flushes);
                    n++;
                }
            }
        } finally {
            // counted before the writes go out, so that a client never sees a message its count lacks
            stats.add("emits", n);
            site.meters().emitted(n);
            flushes.run();
        }
        return n;
    }

    @Override
    public String nodeId() {
        return options.nodeId();
    }

    @Override
    public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    @Override
    public void count(String counter) {
        stats.increment(counter);
    }

    @Override
    public @Nullable String publicUrl() {
        return options.publicUrl();
    }

    @Override
    public List<io.pushbridge.ConnectionInfo> localConnections(String site, int limit) {
        SiteRuntime runtime = sitesByName.get(site);
        if (runtime == null || limit <= 0) {
            return List.of();
        }
        List<io.pushbridge.ConnectionInfo> out = new ArrayList<>();
        for (SiteSocket socket : runtime.sockets()) {
            if (out.size() >= limit) {
                break;
            }
            if (!socket.isClosed()) {
                out.add(socket.info(options.nodeId()));
            }
        }
        return out;
    }

    // ---- acks ------------------------------------------------------------------------------

    /**
     * A client acked a message: it is removed from the user queues it sits in. A removal that fails
     * (the store is unreachable) is tried again, with a growing delay, for about a minute (removing
     * an id is idempotent); after that the message stays queued and comes again at the user's next
     * connect.
     */
    @Override
    public void acked(SiteSocket socket, long messageId, Set<String> queuedRooms) {
        acks.increment();
        GatewayMeters.Site meters = socket.site().meters();
        meters.acked(1);
        // one publish-to-ack sample per ack, also when the message sat in several of the socket's queues
        java.util.concurrent.atomic.AtomicBoolean timed = queuedRooms.size() == 1 ? null : new java.util.concurrent.atomic.AtomicBoolean();
        for (String room : queuedRooms) {
            UserQueue queue = new UserQueue(socket.site().options().name(), room);
            int ticket = inFlight.enter(InFlight.Kind.ACKS);
            retrying(() -> store.ack(queue, messageId), 0, (outcome, failure) -> {
                inFlight.exit(InFlight.Kind.ACKS, ticket);
                if (failure != null) {
                    stats.increment("acks.failed");
                    failureLog.warn("Could not remove acked message {} from {}: {}", messageId, queue, failure.toString());
                } else if (outcome == MessageStore.AckOutcome.REMOVED) {
                    if (timed == null || timed.compareAndSet(false, true)) {
                        meters.removedByAck(FlakeIdGenerator.timestampMillis(messageId));
                    }
                } else if (outcome == MessageStore.AckOutcome.RESYNC) {
                    stats.increment("resyncs.out_of_order");
                    meters.resync(ResyncReason.OUT_OF_ORDER, 1);
                    resync(queue);
                }
            });
        }
    }

    /** The ack of a {@code batch}: removes exactly those messages, tried again as {@link #acked} is. */
    @Override
    public void batchAcked(SiteSocket socket, String room, List<Long> messageIds) {
        stats.increment("acks.batch");
        GatewayMeters.Site meters = socket.site().meters();
        meters.acked(messageIds.size());
        UserQueue queue = new UserQueue(socket.site().options().name(), room);
        int ticket = inFlight.enter(InFlight.Kind.ACKS);
        retrying(() -> store.remove(queue, messageIds), 0, (n, failure) -> {
            inFlight.exit(InFlight.Kind.ACKS, ticket);
            if (failure != null) {
                stats.increment("acks.failed");
                failureLog.warn("Could not remove {} batch-acked messages from {}: {}", messageIds.size(), queue, failure.toString());
            } else if (n != null && n > 0) {
                // the store says how many it removed, not which: when another connection of the user
                // removed some first, the samples are those of the batch's newest messages (the ones
                // least likely to have been acknowledged elsewhere already)
                for (int i = Math.max(0, messageIds.size() - n); i < messageIds.size(); i++) {
                    meters.removedByAck(FlakeIdGenerator.timestampMillis(messageIds.get(i)));
                }
            }
        });
    }

    /**
     * Runs a store call; if it fails, runs it again after 250 ms, 500 ms, 1 s, then every 2 s,
     * {@value #STORE_RETRIES} times in all (on the workers), and hands the last outcome to
     * {@code done}.
     *
     * <p>The first attempt runs on the calling thread (the I/O thread that read the ack): a store
     * must not block its caller ({@link MessageStore}), as the send path's append already relies on,
     * and a hand-off to the workers per ack cost a thread wake-up on each side, as much CPU as the
     * removal itself. A call that throws instead of answering a failed stage counts as failed.
     */
    private <T> void retrying(java.util.function.Supplier<CompletionStage<T>> call, int attempt,
            java.util.function.BiConsumer<T, Throwable> done) {
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((result, failure) -> {
            if (failure != null && attempt + 1 < STORE_RETRIES) {
                stats.increment("acks.retried");
                long delay = Math.min(2000, 250L << Math.min(attempt, 3));
                // the JDK's delayer hands the retry to the workers, which never reject (a
                // stopped pool runs it on the delayer's thread), so the ack is always reported
                CompletableFuture.delayedExecutor(delay, java.util.concurrent.TimeUnit.MILLISECONDS, executor)
                        .execute(() -> retrying(call, attempt + 1, done));
                return;
            }
            done.accept(result, failure == null ? null : unwrap(failure));
        });
    }

    private void resync(UserQueue queue) {
        router.publish(control(queue.site(), Target.rooms(Set.of(queue.room())), RESYNC_EVENT))
                .whenComplete((v, failure) -> {
                    if (failure != null) {
                        failureLog.warn("Could not route resync to {}: {}", queue, failure.toString());
                    }
                });
    }
}
