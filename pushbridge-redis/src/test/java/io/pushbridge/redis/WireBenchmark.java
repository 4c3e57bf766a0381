package io.pushbridge.redis;

import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import io.pushbridge.Target;
import io.pushbridge.id.FlakeIdGenerator;
import io.pushbridge.jmh.Payloads;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The Redis wire format ({@link Wire}, CBOR through {@link CborFields}) for a realistic message: a
 * send to one user's room, queued there, with 3 arguments of about 200 bytes of JSON each
 * ({@link Payloads}). Routing: {@link Wire#encode(Message, long)} as {@link RedisRouter#publish}
 * does it (with the publish time), and {@link Wire#decodeRouted} as the router's receive path does
 * it for every routed item. Queues: {@link Wire#encodeQueued} per append and
 * {@link Wire#decodeQueued} per message taken by {@link RedisMessageStore}. One thread, no Redis.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WireBenchmark {

    Message message;
    byte[] routed;
    QueuedMessage queued;
    byte[] stored;

    @Setup(Level.Trial)
    public void setUp() {
        long id = new FlakeIdGenerator(1, 1).nextId();
        long now = System.currentTimeMillis();
        message = new Message(id, "site", Target.rooms(Set.of("user_42")), Payloads.EVENT, Payloads.args(),
                Set.of("user_42"), false, now);
        routed = Wire.encode(message, now);
        queued = message.toQueued();
        stored = Wire.encodeQueued(queued);
        if (!message.equals(Wire.decodeRouted(routed).item()) || !queued.equals(Wire.decodeQueued(stored))) {
            throw new IllegalStateException("the wire format does not round-trip the benchmark's message");
        }
    }

    @Benchmark
    public byte[] encodeRouted() {
        return Wire.encode(message, System.currentTimeMillis());
    }

    @Benchmark
    public Wire.Routed decodeRouted() {
        return Wire.decodeRouted(routed);
    }

    @Benchmark
    public byte[] encodeQueued() {
        return Wire.encodeQueued(queued);
    }

    @Benchmark
    public QueuedMessage decodeQueued() {
        return Wire.decodeQueued(stored);
    }
}
