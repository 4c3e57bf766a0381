package io.pushbridge.redis.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A backend's view of one Redis server for tests: records what is published to a channel and
 * publishes to channels, as the old service's backends did with plain PUBLISH/SUBSCRIBE.
 */
public final class RedisChannels implements AutoCloseable {

    /** Messages published to the recorded channel, in order. */
    public final BlockingQueue<String> recorded = new LinkedBlockingQueue<>();

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> subscription;

    private RedisChannels(String uri, String recordedChannel) throws Exception {
        this.client = RedisClient.create(uri);
        this.commands = client.connect();
        this.subscription = client.connectPubSub();
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                recorded.add(message);
            }
        });
        subscription.async().subscribe(recordedChannel).get(5, TimeUnit.SECONDS);
    }

    /** Connects to the server at {@code uri} and records {@code recordedChannel}. */
    public static RedisChannels open(String uri, String recordedChannel) throws Exception {
        return new RedisChannels(uri, recordedChannel);
    }

    /** PUBLISH; returns how many subscribers got it. */
    public long publish(String channel, String message) {
        return commands.sync().publish(channel, message);
    }

    /** The next recorded message, waiting up to 10 s. */
    public String next() throws InterruptedException {
        String message = recorded.poll(10, TimeUnit.SECONDS);
        assertThat(message).as("a message published to the recorded channel within 10 s").isNotNull();
        return message;
    }

    /** The next recorded message if one comes within {@code wait}, else null. */
    public String poll(Duration wait) throws InterruptedException {
        return recorded.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits up to 5 s for a counter to reach a value. */
    public static void awaitCount(String name, LongSupplier counter, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counter.getAsLong() < expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(counter.getAsLong()).as(name).isEqualTo(expected);
    }

    @Override
    public void close() {
        subscription.close();
        commands.close();
        client.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
