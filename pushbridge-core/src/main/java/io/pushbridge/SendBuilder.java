package io.pushbridge;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * A fluent send, from {@link PushTemplate#site(String)}. Name the target with {@link #to},
 * {@link #toSocket} or {@link #toAll}, the event with {@link #event}, then {@link #send()}.
 * Not thread-safe; use one builder per send.
 */
public final class SendBuilder {

    private final PushTemplate template;
    private final String site;
    private final Set<String> rooms = new LinkedHashSet<>();
    private final Set<String> except = new LinkedHashSet<>();
    private @Nullable String socketId;
    private boolean wholeSite;
    private @Nullable String event;
    private List<Object> args = List.of();
    private boolean resync;

    SendBuilder(PushTemplate template, String site) {
        this.template = template;
        this.site = site;
    }

    /** Adds target rooms. */
    public SendBuilder to(String... rooms) {
        return to(Arrays.asList(rooms));
    }

    /** Adds target rooms. */
    public SendBuilder to(Collection<String> rooms) {
        this.rooms.addAll(rooms);
        return this;
    }

    /** Targets one socket by its id (as the client sees it in {@code socket.id}). */
    public SendBuilder toSocket(String socketId) {
        this.socketId = socketId;
        return this;
    }

    /** Targets every socket of the site. */
    public SendBuilder toAll() {
        this.wholeSite = true;
        return this;
    }

    /** Sockets that do not receive the message, by id. */
    public SendBuilder except(String... socketIds) {
        this.except.addAll(Arrays.asList(socketIds));
        return this;
    }

    /** The event name. */
    public SendBuilder event(String event) {
        this.event = event;
        return this;
    }

    /** The event arguments (JSON values or {@code byte[]}). */
    public SendBuilder args(@Nullable Object... args) {
        this.args = Arrays.asList(args);
        return this;
    }

    /** The event arguments (JSON values or {@code byte[]}). */
    public SendBuilder args(List<?> args) {
        this.args = new java.util.ArrayList<>(args);
        return this;
    }

    /** Whether the client's ack runs the resync check (see the send API docs). */
    public SendBuilder resync(boolean resync) {
        this.resync = resync;
        return this;
    }

    /** Sends; see {@link PushTemplate} for what the stage means. */
    public CompletionStage<SendResult> send() {
        int kinds = (rooms.isEmpty() ? 0 : 1) + (socketId == null ? 0 : 1) + (wholeSite ? 1 : 0);
        if (kinds != 1) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("target: name rooms (to), one socket (toSocket) or the whole site (toAll), exactly one of them")));
        }
        if (event == null) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("event is required")));
        }
        Target target = new Target(rooms, socketId, wholeSite, except);
        return template.send(new SendRequest(site, target, event, args, resync));
    }
}
