package io.pushbridge.gateway;

import com.corundumstudio.socketio.scheduler.CancelableScheduler;
import com.corundumstudio.socketio.scheduler.SchedulerKey;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * netty-socketio's scheduler with a session's two heartbeat timers in one entry. netty-socketio
 * keeps every session's ping (every {@code pingInterval}) and ping timeout (its client's pong due)
 * scheduled at once, each as a timer-wheel entry, a task, a key and a node of one table: about 270
 * bytes per idle connection. Here a session has one node and one {@link Slots} holding both
 * deadlines and what to run at each, and one wheel entry armed for the earlier of them; a pong that
 * moves the ping timeout later changes a number, not the wheel. About 130 bytes per connection.
 *
 * <p>Same behaviour as netty-socketio's {@code HashedWheelTimeoutScheduler}: the same kind of timer
 * (one thread, 100 ms ticks), scheduling a key again replaces its task, cancelling a key that is not
 * scheduled does nothing, a task runs once on the timer thread, and {@link #scheduleCallback} runs
 * its task on the event loop of the last channel {@link #update} saw. Keys other than a session's
 * ping and ping timeout (the first-data and upgrade timeouts keyed by a channel, ack timeouts) are
 * kept as netty-socketio keeps them.
 */
final class SessionTimers implements CancelableScheduler {

    private static final @Nullable VarHandle TYPE;
    private static final @Nullable VarHandle SESSION;

    static {
        VarHandle type = null;
        VarHandle session = null;
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(SchedulerKey.class, MethodHandles.lookup());
            type = lookup.findVarHandle(SchedulerKey.class, "type", SchedulerKey.Type.class);
            session = lookup.findVarHandle(SchedulerKey.class, "sessionId", Object.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(SessionTimers.class).warn("Cannot read netty-socketio's scheduler keys ({}):"
                    + " heartbeat timers are kept one entry per timer", e.toString());
        }
        TYPE = type;
        SESSION = session;
    }

    private final HashedWheelTimer timer;
    private final ConcurrentHashMap<UUID, Slots> sessions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<SchedulerKey, Timeout> others = new ConcurrentHashMap<>();
    private volatile @Nullable ChannelHandlerContext ctx;

    SessionTimers() {
        this(new HashedWheelTimer(new io.netty.util.concurrent.DefaultThreadFactory("pushbridge-heartbeats", true)));
    }

    SessionTimers(HashedWheelTimer timer) {
        this.timer = timer;
    }

    /** A session's two heartbeat timers; changed only inside {@code sessions.compute} for its id. */
    private final class Slots implements TimerTask {
        final UUID session;
        /** The wheel entry, due at the earlier deadline (or sooner), or {@code null}. */
        @Nullable Timeout armed;
        long armedAt;
        @Nullable Runnable ping;
        long pingAt;
        @Nullable Runnable pingTimeout;
        long pingTimeoutAt;

        Slots(UUID session) {
            this.session = session;
        }

        boolean idle() {
            return ping == null && pingTimeout == null;
        }

        /** Arms the wheel for the earlier deadline unless it already fires by then; cancels it when nothing is due. */
        void rearm(long now) {
            if (idle()) {
                if (armed != null) {
                    armed.cancel();
                    armed = null;
                }
                return;
            }
            long next = ping == null ? pingTimeoutAt
                    : pingTimeout == null ? pingAt
                    : Math.min(pingAt, pingTimeoutAt);
            if (armed != null && !armed.isExpired() && !armed.isCancelled() && armedAt - next <= 0) {
                return;
            }
            if (armed != null) {
                armed.cancel();
            }
            armedAt = next;
            armed = timer.newTimeout(this, Math.max(0, next - now), TimeUnit.NANOSECONDS);
        }

        @Override
        public void run(Timeout fired) {
            Runnable[] due = new Runnable[2];
            sessions.computeIfPresent(session, (id, slots) -> {
                if (slots != this || armed != fired) {
                    return slots; // replaced meanwhile: the new entry does the work
                }
                armed = null;
                long now = System.nanoTime();
                if (pingTimeout != null && pingTimeoutAt - now <= 0) {
                    due[0] = pingTimeout;
                    pingTimeout = null;
                }
                if (ping != null && pingAt - now <= 0) {
                    due[1] = ping;
                    ping = null;
                }
                rearm(now);
                return idle() ? null : slots;
            });
            // the ping timeout first: a client that did not answer is closed, and its ping has nothing to do
            for (Runnable task : due) {
                if (task != null) {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        // each on its own, as two wheel entries would be: a failing timeout
                        // must not cost the session its pings
                        org.slf4j.LoggerFactory.getLogger(SessionTimers.class).warn("A heartbeat task failed", e);
                    }
                }
            }
        }
    }

    /** The session of a heartbeat key ({@code PING} or {@code PING_TIMEOUT} of a session id), else {@code null}. */
    private static @Nullable UUID heartbeat(SchedulerKey key) {
        if (TYPE == null || SESSION == null) {
            return null;
        }
        Object type = TYPE.get(key);
        if (type != SchedulerKey.Type.PING && type != SchedulerKey.Type.PING_TIMEOUT) {
            return null;
        }
        return SESSION.get(key) instanceof UUID id ? id : null;
    }

    private static boolean isPing(SchedulerKey key) {
        return TYPE != null && TYPE.get(key) == SchedulerKey.Type.PING;
    }

    @Override
    public void update(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void cancel(SchedulerKey key) {
        UUID session = heartbeat(key);
        if (session == null) {
            Timeout timeout = others.remove(key);
            if (timeout != null) {
                timeout.cancel();
            }
            return;
        }
        boolean ping = isPing(key);
        sessions.computeIfPresent(session, (id, slots) -> {
            if (ping) {
                slots.ping = null;
            } else {
                slots.pingTimeout = null;
            }
            if (slots.idle()) {
                slots.rearm(0); // cancels the wheel entry
                return null;
            }
            return slots; // the entry fires for a deadline no longer there at worst, and re-arms
        });
    }

    @Override
    public void schedule(Runnable runnable, long delay, TimeUnit unit) {
        timer.newTimeout(timeout -> runnable.run(), delay, unit);
    }

    @Override
    public void scheduleCallback(SchedulerKey key, Runnable runnable, long delay, TimeUnit unit) {
        Timeout timeout = timer.newTimeout(t -> {
            ChannelHandlerContext context = ctx;
            Runnable task = () -> {
                others.remove(key, t);
                runnable.run();
            };
            if (context != null) {
                context.executor().execute(task);
            } else {
                task.run();
            }
        }, delay, unit);
        replace(key, timeout);
    }

    @Override
    public void schedule(SchedulerKey key, Runnable runnable, long delay, TimeUnit unit) {
        UUID session = heartbeat(key);
        if (session == null) {
            Timeout timeout = timer.newTimeout(t -> {
                others.remove(key, t);
                runnable.run();
            }, delay, unit);
            replace(key, timeout);
            return;
        }
        boolean ping = isPing(key);
        long now = System.nanoTime();
        long at = now + unit.toNanos(delay);
        sessions.compute(session, (id, slots) -> {
            Slots s = slots != null ? slots : new Slots(id);
            if (ping) {
                s.ping = runnable;
                s.pingAt = at;
            } else {
                s.pingTimeout = runnable;
                s.pingTimeoutAt = at;
            }
            s.rearm(now);
            return s;
        });
    }

    private void replace(SchedulerKey key, Timeout timeout) {
        Timeout old = timeout.isExpired() ? others.remove(key) : others.put(key, timeout);
        if (old != null && old != timeout) {
            old.cancel();
        }
    }

    /**
     * Puts a {@code SessionTimers} in place of the scheduler netty-socketio's initializer made for
     * itself (before its {@code start}, which hands the scheduler to its handlers); {@code false},
     * said once, when its field cannot be reached (netty-socketio's own scheduler is kept then).
     */
    static boolean install(com.corundumstudio.socketio.SocketIOChannelInitializer initializer, SessionTimers timers) {
        try {
            java.lang.reflect.Field field = com.corundumstudio.socketio.SocketIOChannelInitializer.class.getDeclaredField("scheduler");
            field.setAccessible(true);
            Object own = field.get(initializer);
            field.set(initializer, timers);
            if (own instanceof CancelableScheduler unused) {
                unused.shutdown(); // its timer never started: nothing scheduled on it yet
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(SessionTimers.class).warn("Cannot replace netty-socketio's scheduler ({}):"
                    + " its heartbeat timers cost about 130 bytes more per connection", e.toString());
            return false;
        }
    }

    /** Sessions with a heartbeat timer (for tests). */
    int sessionsScheduled() {
        return sessions.size();
    }

    @Override
    public void shutdown() {
        timer.stop();
    }
}
