package io.pushbridge.gateway;

import com.corundumstudio.socketio.Transport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.pushbridge.MessageStore;
import io.pushbridge.PushRefusedException;
import io.pushbridge.metrics.ConnectRefusal;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import io.pushbridge.metrics.ResyncReason;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * The gateway's own meters (see {@link PushBridgeMeter}): registered when the gateway is built,
 * removed when it stops. Per-site meters are resolved once per site ({@link Site}, held by its
 * {@link SiteRuntime}), so that the hot paths (an emit per socket reached, an ack) record into a
 * meter they hold and never look one up by its tags.
 */
final class GatewayMeters implements AutoCloseable {

    static final String SITE = PushBridgeMeter.TagKey.SITE.key();
    static final String TRANSPORT = PushBridgeMeter.TagKey.TRANSPORT.key();
    static final String REASON = PushBridgeMeter.TagKey.REASON.key();
    static final String OUTCOME = PushBridgeMeter.TagKey.OUTCOME.key();
    static final String SOURCE = PushBridgeMeter.TagKey.SOURCE.key();
    /** The authorizer's outcome when it let the client in. */
    static final String ADMITTED = "admitted";

    private final PushBridgeMeters meters;
    private final Clock clock;

    GatewayMeters(PushBridgeMeters meters, Clock clock) {
        this.meters = meters;
        this.clock = clock;
    }

    /** Meters that record nothing (for parts built without a gateway, in tests). */
    static GatewayMeters none() {
        return new GatewayMeters(PushBridgeMeters.none(), Clock.systemUTC());
    }

    PushBridgeMeters meters() {
        return meters;
    }

    boolean isRecording() {
        return meters.isRecording();
    }

    /** Registers a site's meters; its {@code connections} gauge reads {@code connections}. */
    <T> Site site(String name, T connections, ToDoubleFunction<T> count) {
        meters.gauge(PushBridgeMeter.CONNECTIONS, connections, count, SITE, name);
        return new Site(name);
    }

    /**
     * The {@code pushbridge.events} counters, read from the gateway's statistics (the same outcomes
     * as {@link ClientEvents} counts).
     */
    void events(GatewayStats stats) {
        Map<String, ToDoubleFunction<GatewayStats>> outcomes = new LinkedHashMap<>();
        outcomes.put("handled", st -> st.get("events.handled"));
        outcomes.put("refused", st -> {
            long n = 0;
            for (PushRefusedException.Reason reason : PushRefusedException.Reason.values()) {
                if (reason != PushRefusedException.Reason.RATE_LIMITED) {
                    // events.refused.rate_limited is the rate_limited outcome below
                    n += st.get("events.refused." + reason.name().toLowerCase(Locale.ROOT));
                }
            }
            return n;
        });
        outcomes.put("unhandled", st -> st.get("events.unhandled"));
        outcomes.put("failed", st -> st.get("events.failed"));
        outcomes.put("timeout", st -> st.get("events.timeout"));
        outcomes.put("too_many_pending", st -> st.get("events.refused.too_many_pending"));
        outcomes.put("rate_limited", st -> st.get("events.refused.rate_limited"));
        outcomes.put("unsupported", st -> st.get("events.refused.binary"));
        outcomes.forEach((outcome, read) -> meters.functionCounter(PushBridgeMeter.EVENTS, stats, read, OUTCOME, outcome));
    }

    /** The {@code pushbridge.limit.hits} counters of a site, moved by its {@link Limit} counters in the statistics. */
    void limits(String site, GatewayStats stats) {
        for (Limit limit : Limit.values()) {
            stats.bind(limit.counter(site), meters.counter(PushBridgeMeter.LIMIT_HITS, SITE, site, REASON, limit.key()));
        }
    }

    /** The {@code pushbridge.queues.expired} counter of a site, for a store that counts its expired queues. */
    <T> void expiredQueues(String site, T store, ToDoubleFunction<T> count) {
        meters.functionCounter(PushBridgeMeter.QUEUES_EXPIRED, store, count, SITE, site);
    }

    @Override
    public void close() {
        meters.close();
    }

    /** The tag value of a transport: {@code websocket} or {@code polling}. */
    static String transport(@Nullable Transport transport) {
        return transport == Transport.WEBSOCKET ? "websocket" : "polling";
    }

    /** One site's meters. Thread-safe. */
    final class Site {

        private final String name;
        private final Counter connectsWebsocket;
        private final Counter connectsPolling;
        private final Counter[] accepted = new Counter[MessageSource.values().length];
        private final Counter emits;
        private final Counter acks;
        private final Timer publishToAck;
        private final Counter[] resyncs = new Counter[ResyncReason.values().length];
        private final Timer authorizerAdmitted;
        /** By refusal, then websocket (0) or polling (1); registered at first use. */
        private final AtomicReferenceArray<Counter> refusals = new AtomicReferenceArray<>(ConnectRefusal.values().length * 2);
        private final AtomicReferenceArray<Timer> authorizerRefused = new AtomicReferenceArray<>(ConnectRefusal.values().length);
        /** What the queue meters show: the last totals read from the store, or null before the first. */
        private volatile MessageStore.@Nullable SiteQueues queues;

        private Site(String name) {
            this.name = name;
            connectsWebsocket = meters.counter(PushBridgeMeter.CONNECTS, SITE, name, TRANSPORT, "websocket");
            connectsPolling = meters.counter(PushBridgeMeter.CONNECTS, SITE, name, TRANSPORT, "polling");
            for (MessageSource source : MessageSource.values()) {
                accepted[source.ordinal()] = meters.counter(PushBridgeMeter.MESSAGES_ACCEPTED, SITE, name, SOURCE, source.tag());
            }
            emits = meters.counter(PushBridgeMeter.EMITS, SITE, name);
            acks = meters.counter(PushBridgeMeter.ACKS, SITE, name);
            publishToAck = meters.timer(PushBridgeMeter.PUBLISH_TO_ACK, SITE, name);
            for (ResyncReason reason : ResyncReason.values()) {
                resyncs[reason.ordinal()] = meters.counter(PushBridgeMeter.RESYNCS, SITE, name, REASON, reason.tag());
            }
            authorizerAdmitted = meters.timer(PushBridgeMeter.AUTHORIZER, SITE, name, OUTCOME, ADMITTED);
        }

        void connected(@Nullable Transport transport) {
            (transport == Transport.WEBSOCKET ? connectsWebsocket : connectsPolling).increment();
        }

        void refused(ConnectRefusal refusal, @Nullable Transport transport) {
            int i = refusal.ordinal() * 2 + (transport == Transport.WEBSOCKET ? 0 : 1);
            Counter counter = refusals.get(i);
            if (counter == null) {
                counter = meters.counter(PushBridgeMeter.CONNECT_REFUSALS, SITE, name, TRANSPORT, transport(transport),
                        REASON, refusal.code());
                refusals.set(i, counter);
            }
            counter.increment();
        }

        /** The authorizer answered after {@code nanos}: admitted when {@code refusal} is null. */
        void authorized(long nanos, @Nullable ConnectRefusal refusal) {
            Timer timer = authorizerAdmitted;
            if (refusal != null) {
                timer = authorizerRefused.get(refusal.ordinal());
                if (timer == null) {
                    timer = meters.timer(PushBridgeMeter.AUTHORIZER, SITE, name, OUTCOME, refusal.code());
                    authorizerRefused.set(refusal.ordinal(), timer);
                }
            }
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }

        void accepted(MessageSource source) {
            accepted[source.ordinal()].increment();
        }

        void emitted(int sockets) {
            if (sockets > 0) {
                emits.increment(sockets);
            }
        }

        /** A client acknowledged this many queued messages (one live message, or a batch). */
        void acked(int messages) {
            acks.increment(messages);
        }

        /** A message created at {@code createdAtMillis} was removed from a user queue by its ack now. */
        void removedByAck(long createdAtMillis) {
            publishToAck.record(Math.max(0, clock.millis() - createdAtMillis), TimeUnit.MILLISECONDS);
        }

        void resync(ResyncReason reason, int queues) {
            resyncs[reason.ordinal()].increment(queues);
        }

        // ---- queue meters ---------------------------------------------------------------------

        /** Registers the queue gauges, which read what {@link #queues} last got (NaN before that). */
        void queueGauges() {
            meters.gauge(PushBridgeMeter.QUEUE_DEPTH, this, s -> {
                MessageStore.SiteQueues q = s.queues;
                return q == null ? Double.NaN : q.messages();
            }, SITE, name);
            meters.gauge(PushBridgeMeter.QUEUE_USERS, this, s -> {
                MessageStore.SiteQueues q = s.queues;
                return q == null ? Double.NaN : q.queues();
            }, SITE, name);
            meters.gauge(PushBridgeMeter.QUEUE_OLDEST_AGE, this, s -> {
                MessageStore.SiteQueues q = s.queues;
                if (q == null) {
                    return Double.NaN;
                }
                return q.oldestCreatedAtMillis() <= 0 ? 0 : Math.max(0, clock.millis() - q.oldestCreatedAtMillis()) / 1000.0;
            }, SITE, name);
        }

        /** The store's latest totals for this site. */
        void queues(MessageStore.SiteQueues totals) {
            this.queues = totals;
        }

        String name() {
            return name;
        }
    }
}
