package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pushbridge.gateway.InFlight.Kind;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The drain's count of work in flight, by kind and epoch. */
class InFlightTests {

    private static long in(long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aMarkWaitsOnlyForTheWorkThatEnteredBeforeIt() {
        InFlight inFlight = new InFlight();
        int before = inFlight.enter(Kind.ACKS);
        int mark = inFlight.mark();
        int after = inFlight.enter(Kind.ACKS);
        CompletableFuture<Void> sendAfter = inFlight.track(Kind.SENDS, new CompletableFuture<>());

        assertThat(inFlight.awaitIdle(mark, in(20), Kind.values())).as("the ack from before is in flight").isFalse();
        inFlight.exit(Kind.ACKS, before);
        assertThat(inFlight.awaitIdle(mark, in(20), Kind.values())).as("later work is not awaited").isTrue();
        assertThat(inFlight.awaitIdle(in(20))).as("everything is awaited").isFalse();
        assertThat(inFlight.toString()).isEqualTo("1 sends, 1 acks, 0 cleanups");

        inFlight.exit(Kind.ACKS, after);
        sendAfter.complete(null);
        assertThat(inFlight.awaitIdle(in(20))).isTrue();
        assertThat(inFlight.count(Kind.ACKS)).isZero();
    }

    @Test
    void awaitIdleWaitsOnlyForTheGivenKinds() {
        InFlight inFlight = new InFlight();
        int ack = inFlight.enter(Kind.ACKS);
        assertThat(inFlight.awaitIdle(InFlight.EPOCHS, in(20), Kind.SENDS)).isTrue();
        assertThat(inFlight.awaitIdle(InFlight.EPOCHS, in(20), Kind.ACKS)).isFalse();
        inFlight.exit(Kind.ACKS, ack);
    }

    @Test
    void aGatewayDrainsOnceSoTheEpochsEnd() {
        InFlight inFlight = new InFlight();
        assertThat(inFlight.mark()).isEqualTo(1);
        assertThat(inFlight.mark()).isEqualTo(2);
        assertThatThrownBy(inFlight::mark).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anEntryRacingWithAMarkIsNeitherLostNorMiscounted() throws Exception {
        InFlight inFlight = new InFlight();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(4);
        Thread[] workers = new Thread[4];
        for (int t = 0; t < workers.length; t++) {
            workers[t] = new Thread(() -> {
                started.countDown();
                while (!stop.get()) {
                    int ticket = inFlight.enter(Kind.SENDS);
                    inFlight.exit(Kind.SENDS, ticket);
                }
            });
            workers[t].start();
        }
        started.await();
        int mark = inFlight.mark();
        // every entry before the mark exits at once: the wait ends though entries keep coming
        assertThat(inFlight.awaitIdle(mark, in(5_000), Kind.SENDS)).isTrue();
        stop.set(true);
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(inFlight.count(Kind.SENDS)).isZero();
    }
}
