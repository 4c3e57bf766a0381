package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.MessageStore;
import io.pushbridge.MessageStoreContractTests.MutableClock;
import io.pushbridge.QueuedMessage;
import io.pushbridge.UserQueue;
import io.pushbridge.memory.InMemoryMessageStore;
import io.pushbridge.metrics.ConnectRefusal;
import io.pushbridge.metrics.MessageSource;
import io.pushbridge.metrics.PushBridgeMeter;
import io.pushbridge.metrics.PushBridgeMeters;
import io.pushbridge.metrics.ResyncReason;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The gateway's meters without a port: their lifecycle, the expired queues, the queue meters' refresh. */
class GatewayMetersTests {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void aGatewayRegistersItsMetersWhenBuiltAndRemovesThemWhenItStops() {
        MutableClock clock = new MutableClock();
        InMemoryMessageStore store = InMemoryMessageStore.builder().clock(clock).clientTtl(Duration.ofSeconds(60)).build();
        PushBridgeGateway gateway = PushBridgeGateway.builder()
                .options(TestGateways.options().serve(false).clock(clock).build())
                .site(TestGateways.newsSite())
                .store(store)
                .meterRegistry(registry)
                .build();
        assertThat(registry.find(PushBridgeMeter.CONNECTIONS.meterName()).tag("site", "news").gauge()).isNotNull();
        // a node that serves no port has no queue meters (nodes that serve report them)
        assertThat(registry.find(PushBridgeMeter.QUEUE_DEPTH.meterName()).meters()).isEmpty();
        gateway.start();
        try {
            // a queue of a user without connection expires ttl later: found by the purge, or when next touched
            UserQueue queue = new UserQueue("news", "user_gone");
            store.append(queue, new QueuedMessage(1, "e", List.of(), false, clock.millis()));
            clock.advance(Duration.ofSeconds(61));
            assertThat(store.purgeExpired()).isEqualTo(1);
            store.append(queue, new QueuedMessage(2, "e", List.of(), false, clock.millis()));
            clock.advance(Duration.ofSeconds(61));
            assertThat(store.depth(queue)).isZero();
            assertThat(registry.get(PushBridgeMeter.QUEUES_EXPIRED.meterName()).tag("site", "news").functionCounter().count())
                    .isEqualTo(2);
            assertThat(store.expiredQueues("other")).isZero();
        } finally {
            gateway.stop();
        }
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void metersAskedForAfterCloseAreNotRegistered() {
        GatewayMeters meters = new GatewayMeters(new PushBridgeMeters(registry), java.time.Clock.systemUTC());
        GatewayMeters.Site site = meters.site("news", new AtomicInteger(), AtomicInteger::get);
        meters.close();
        assertThat(registry.getMeters()).isEmpty();
        // a late authorizer answer, a late resync: recorded nowhere, registered nowhere
        site.refused(ConnectRefusal.AUTH_TIMEOUT, com.corundumstudio.socketio.Transport.WEBSOCKET);
        site.authorized(1_000, ConnectRefusal.AUTH_TIMEOUT);
        site.resync(ResyncReason.EXPIRY, 1);
        site.accepted(MessageSource.HTTP);
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void componentsSharingARegistryKeepTheirMetersUntilTheLastCloses() {
        PushBridgeMeters first = new PushBridgeMeters(registry);
        PushBridgeMeters second = new PushBridgeMeters(registry);
        first.counter(PushBridgeMeter.EMITS, "site", "news").increment();
        io.micrometer.core.instrument.Counter emits = second.counter(PushBridgeMeter.EMITS, "site", "news");
        second.counter(PushBridgeMeter.EMITS, "site", "news"); // asked twice: still held once
        first.counter(PushBridgeMeter.ACKS, "site", "news");
        first.close();
        first.close();
        assertThat(registry.find(PushBridgeMeter.ACKS.meterName()).meters()).as("the first's own").isEmpty();
        emits.increment();
        assertThat(registry.get(PushBridgeMeter.EMITS.meterName()).tag("site", "news").counter().count()).isEqualTo(2);
        second.close();
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void twoGatewaysSharingARegistryDoNotRemoveEachOthersMeters() {
        PushBridgeGateway one = PushBridgeGateway.builder().options(TestGateways.options().serve(false).build())
                .site(TestGateways.newsSite()).meterRegistry(registry).build();
        PushBridgeGateway two = PushBridgeGateway.builder().options(TestGateways.options().serve(false).build())
                .site(TestGateways.newsSite()).meterRegistry(registry).build();
        one.start();
        two.start();
        one.stop();
        two.pushTemplate().site("news").to("user_x").event("e").send().toCompletableFuture().join();
        assertThat(registry.get(PushBridgeMeter.MESSAGES_ACCEPTED.meterName()).tag("site", "news")
                .tag("source", MessageSource.TEMPLATE.tag()).counter().count()).isEqualTo(1);
        two.stop();
        assertThat(registry.getMeters()).isEmpty();
    }

    @Test
    void aGatewayWithoutRegistryRecordsNothingAndNeedsNone() {
        PushBridgeGateway gateway = PushBridgeGateway.builder().options(TestGateways.options().serve(false).build())
                .site(TestGateways.newsSite()).build();
        gateway.start();
        gateway.pushTemplate().site("news").to("user_x").event("e").send().toCompletableFuture().join();
        gateway.stop();
        assertThat(gateway.stats().get("sends.accepted")).isEqualTo(1);
    }

    @Test
    void theQueueGaugesShowTheInMemoryStoresTotals() {
        MutableClock clock = new MutableClock();
        InMemoryMessageStore store = InMemoryMessageStore.builder().clock(clock).build();
        store.append(new UserQueue("news", "user_a"), new QueuedMessage(1, "e", List.of(), false, clock.millis()));
        clock.advance(Duration.ofSeconds(5));
        store.append(new UserQueue("news", "user_a"), new QueuedMessage(2, "e", List.of(), false, clock.millis()));
        store.append(new UserQueue("news", "user_b"), new QueuedMessage(3, "e", List.of(), false, clock.millis()));
        store.append(new UserQueue("other", "user_c"), new QueuedMessage(4, "e", List.of(), false, clock.millis()));
        SiteRuntime site = new SiteRuntime(TestGateways.newsSite(), TestGateways.options().build(),
                new GatewayMeters(new PushBridgeMeters(registry), clock));
        site.meters().queueGauges();
        new QueueMeters(store, List.of(site), Runnable::run, new GatewayStats(), Duration.ofMillis(100)).refresh();
        assertThat(registry.get(PushBridgeMeter.QUEUE_DEPTH.meterName()).gauge().value()).isEqualTo(3);
        assertThat(registry.get(PushBridgeMeter.QUEUE_USERS.meterName()).gauge().value()).isEqualTo(2);
        // the age grows between refreshes: it is computed at each read from the oldest message's time
        clock.advance(Duration.ofSeconds(10));
        assertThat(registry.get(PushBridgeMeter.QUEUE_OLDEST_AGE.meterName()).gauge().value()).isEqualTo(15);
    }

    @Test
    void aStoreThatCannotTotalItsQueuesIsAskedOnceAndTheGaugesStayNaN() {
        AtomicInteger asked = new AtomicInteger();
        MessageStore old = new DelegatingStore(new InMemoryMessageStore()) {
            @Override
            public CompletionStage<SiteQueues> siteQueues(String site) {
                asked.incrementAndGet();
                return super.siteQueues(site);
            }
        };
        QueueMeters meters = queueMeters(old);
        meters.refresh();
        meters.refresh();
        assertThat(asked).hasValue(1);
        assertThat(registry.get(PushBridgeMeter.QUEUE_DEPTH.meterName()).gauge().value()).isNaN();
        assertThat(registry.get(PushBridgeMeter.QUEUE_OLDEST_AGE.meterName()).gauge().value()).isNaN();
    }

    @Test
    void aStoreThatThrowsOrAnswersNothingCountsAFailureAndKeepsTheLastTotals() {
        AtomicInteger calls = new AtomicInteger();
        MessageStore flaky = new DelegatingStore(new InMemoryMessageStore()) {
            @Override
            public CompletionStage<SiteQueues> siteQueues(String site) {
                return switch (calls.incrementAndGet()) {
                    case 1 -> CompletableFuture.completedFuture(new SiteQueues(1, 7, 0));
                    case 2 -> throw new IllegalStateException("broken");
                    case 3 -> CompletableFuture.completedFuture(null);
                    default -> new CompletableFuture<>(); // never answers: times out
                };
            }
        };
        GatewayStats stats = new GatewayStats();
        QueueMeters meters = queueMeters(flaky, stats);
        meters.refresh();
        assertThat(registry.get(PushBridgeMeter.QUEUE_DEPTH.meterName()).gauge().value()).isEqualTo(7);
        assertThat(registry.get(PushBridgeMeter.QUEUE_OLDEST_AGE.meterName()).gauge().value()).isZero();
        meters.refresh();
        meters.refresh();
        assertThat(stats.get("queues.refresh_failed")).isEqualTo(2);
        assertThat(registry.get(PushBridgeMeter.QUEUE_DEPTH.meterName()).gauge().value()).isEqualTo(7);
    }

    @Test
    void theGatewaysMetersTakeOnlyTheirDeclaredTags() {
        PushBridgeMeters meters = new PushBridgeMeters(registry);
        assertThatThrownBy(() -> meters.counter(PushBridgeMeter.EMITS, "site", "news", "user", "u1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pushbridge.emits");
        assertThatThrownBy(() -> meters.counter(PushBridgeMeter.EMITS, "room", "r"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> meters.timer(PushBridgeMeter.EMITS, "site", "news"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a timer");
        assertThat(registry.getMeters()).isEmpty();
    }

    private QueueMeters queueMeters(MessageStore store) {
        return queueMeters(store, new GatewayStats());
    }

    private QueueMeters queueMeters(MessageStore store, GatewayStats stats) {
        SiteRuntime site = new SiteRuntime(TestGateways.newsSite(), TestGateways.options().build(),
                new GatewayMeters(new PushBridgeMeters(registry), new MutableClock()));
        site.meters().queueGauges();
        return new QueueMeters(store, List.of(site), Runnable::run, stats, Duration.ofMillis(100));
    }
}
