package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.scheduler.SchedulerKey;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SessionTimersTests {

    private final SessionTimers timers = new SessionTimers();

    @AfterEach
    void stop() {
        timers.shutdown();
    }

    private static SchedulerKey ping(UUID id) {
        return new SchedulerKey(SchedulerKey.Type.PING, id);
    }

    private static SchedulerKey timeout(UUID id) {
        return new SchedulerKey(SchedulerKey.Type.PING_TIMEOUT, id);
    }

    @Test
    void bothTimersOfASessionRunOnceEachInOneEntry() throws Exception {
        UUID id = UUID.randomUUID();
        CountDownLatch ran = new CountDownLatch(2);
        AtomicInteger pings = new AtomicInteger();
        AtomicInteger timeouts = new AtomicInteger();
        timers.schedule(ping(id), () -> { pings.incrementAndGet(); ran.countDown(); }, 50, TimeUnit.MILLISECONDS);
        timers.schedule(timeout(id), () -> { timeouts.incrementAndGet(); ran.countDown(); }, 250, TimeUnit.MILLISECONDS);
        assertThat(timers.sessionsScheduled()).isEqualTo(1);
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        awaitNoSession();
        assertThat(pings.get()).isEqualTo(1);
        assertThat(timeouts.get()).isEqualTo(1);
    }

    @Test
    void schedulingAKeyAgainReplacesItsTaskAndCancellingStopsIt() throws Exception {
        UUID id = UUID.randomUUID();
        AtomicInteger first = new AtomicInteger();
        CountDownLatch second = new CountDownLatch(1);
        AtomicInteger cancelled = new AtomicInteger();
        timers.schedule(timeout(id), first::incrementAndGet, 100, TimeUnit.MILLISECONDS);
        // a pong moves the timeout later: only the new task runs, at the new time
        timers.schedule(timeout(id), second::countDown, 300, TimeUnit.MILLISECONDS);
        timers.schedule(ping(id), cancelled::incrementAndGet, 100, TimeUnit.MILLISECONDS);
        timers.cancel(ping(id));
        assertThat(second.await(5, TimeUnit.SECONDS)).isTrue();
        awaitNoSession();
        assertThat(first.get()).isZero();
        assertThat(cancelled.get()).isZero();
    }

    @Test
    void anEarlierDeadlineIsNotDelayedByALaterOne() throws Exception {
        UUID id = UUID.randomUUID();
        CountDownLatch ping = new CountDownLatch(1);
        AtomicInteger timeouts = new AtomicInteger();
        timers.schedule(timeout(id), timeouts::incrementAndGet, 10, TimeUnit.SECONDS);
        timers.schedule(ping(id), ping::countDown, 50, TimeUnit.MILLISECONDS);
        assertThat(ping.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(timeouts.get()).isZero();
        assertThat(timers.sessionsScheduled()).as("the timeout is still due").isEqualTo(1);
        timers.cancel(timeout(id));
        assertThat(timers.sessionsScheduled()).isZero();
    }

    @Test
    void aTaskThatSchedulesItsKeyAgainKeepsRunning() throws Exception {
        UUID id = UUID.randomUUID();
        CountDownLatch three = new CountDownLatch(3);
        Runnable[] again = new Runnable[1];
        again[0] = () -> {
            three.countDown();
            if (three.getCount() > 0) {
                timers.schedule(ping(id), again[0], 20, TimeUnit.MILLISECONDS);
            }
        };
        timers.schedule(ping(id), again[0], 20, TimeUnit.MILLISECONDS);
        assertThat(three.await(5, TimeUnit.SECONDS)).isTrue();
        awaitNoSession();
    }

    @Test
    void otherKeysAreKeptAsNettySocketioKeepsThem() throws Exception {
        Object channelKey = new Object();
        CountDownLatch ran = new CountDownLatch(1);
        AtomicInteger cancelled = new AtomicInteger();
        // the first-data timeout is keyed by a channel, not a session id
        timers.schedule(new SchedulerKey(SchedulerKey.Type.PING_TIMEOUT, channelKey), cancelled::incrementAndGet,
                100, TimeUnit.MILLISECONDS);
        timers.cancel(new SchedulerKey(SchedulerKey.Type.PING_TIMEOUT, channelKey));
        timers.schedule(new SchedulerKey(SchedulerKey.Type.UPGRADE_TIMEOUT, UUID.randomUUID()), ran::countDown,
                50, TimeUnit.MILLISECONDS);
        timers.cancel(timeout(UUID.randomUUID())); // nothing scheduled: nothing happens
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(300);
        assertThat(cancelled.get()).isZero();
        assertThat(timers.sessionsScheduled()).isZero();
    }

    private void awaitNoSession() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (timers.sessionsScheduled() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(timers.sessionsScheduled()).isZero();
    }
}
