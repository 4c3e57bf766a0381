package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pushbridge.auth.AllowAllAuthorizer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The limits' values, the rules of names, the token bucket and the byte estimate of queued packets. */
class LimitsTests {

    private static final Limits LIMITS = GatewayOptions.builder().build().limits();

    @Test
    void theNamesTheOlderServicesUsedAreValid() {
        // the seeds' rooms and events, and what a site might reasonably use
        for (String name : List.of("user_1", "user:1", "chat/42", "staff", "myroom", "23", "user5", "update_store",
                "chat room", "é", "名前", "🎉", "a|b", "#general", "@team", "x.y-z", "puzzle 7")) {
            assertThat(LIMITS.roomNameProblem(name)).as(name).isNull();
            assertThat(LIMITS.eventNameProblem(name)).as(name).isNull();
        }
    }

    @Test
    void emptyControlSeparatorSurrogateAndPaddedNamesAreRefused() {
        assertThat(LIMITS.roomNameProblem("")).isEqualTo("rooms must not contain empty names");
        assertThat(LIMITS.roomNameProblem(null)).isEqualTo("rooms must not contain empty names");
        assertThat(LIMITS.roomNameProblem("a\nb")).isEqualTo("room names must not contain control characters");
        assertThat(LIMITS.roomNameProblem("a\u0085b")).isEqualTo("room names must not contain control characters");
        assertThat(LIMITS.roomNameProblem("a\u2028b")).isEqualTo("room names must not contain line or paragraph separators");
        assertThat(LIMITS.roomNameProblem("a\ud800b")).isEqualTo("room names must not contain unpaired surrogates");
        assertThat(LIMITS.roomNameProblem("a\udc00")).isEqualTo("room names must not contain unpaired surrogates");
        assertThat(LIMITS.roomNameProblem("ab\ud83c")).isEqualTo("room names must not contain unpaired surrogates");
        for (String padded : List.of(" staff", "staff ", "\u00a0staff", "staff\u3000", " ")) {
            assertThat(LIMITS.roomNameProblem(padded)).as(padded).isEqualTo("room names must not start or end with whitespace");
        }
        assertThat(LIMITS.eventNameProblem(null)).isEqualTo("event is required");
        assertThat(LIMITS.eventNameProblem("ev\tent")).isEqualTo("event contains control characters");
        assertThat(LIMITS.eventNameProblem(" event")).isEqualTo("event must not start or end with whitespace");
        assertThat(LIMITS.eventNameProblem("e\u2029")).isEqualTo("event contains line or paragraph separators");
        assertThat(LIMITS.eventNameProblem("\udfff")).isEqualTo("event contains unpaired surrogates");
    }

    @Test
    void lengthsAreCheckedAtTheLimit() {
        Limits limits = SiteLimits.builder().maxRoomNameLength(5).maxEventNameLength(3).build()
                .resolve(GatewayOptions.builder().build());
        assertThat(limits.roomNameProblem("abcde")).isNull();
        assertThat(limits.roomNameProblem("abcdef")).isEqualTo("room 'abcdef...' is longer than 5 characters");
        assertThat(limits.eventNameProblem("abc")).isNull();
        assertThat(limits.eventNameProblem("abcd")).isEqualTo("event is longer than 3 characters");
    }

    @Test
    void aSiteTakesTheGatewaysValueForEachLimitItLeavesUnset() {
        GatewayOptions gateway = GatewayOptions.builder().maxMessageSize(5000).maxRoomsPerSend(9).maxSendsPerSecond(50)
                .maxConnectionsPerSite(700).maxEventsPerSecond(7).maxBufferedBytes(4096).build();
        assertThat(SiteLimits.none().resolve(gateway)).isEqualTo(gateway.limits())
                .isEqualTo(new Limits(5000, 9, 200, 100, 50, 700, 7, 4096));
        SiteLimits own = SiteLimits.builder().maxMessageSize(100).maxRoomsPerSend(2).maxRoomNameLength(30)
                .maxEventNameLength(20).maxSendsPerSecond(0).maxConnections(3).maxEventsPerSecond(1).maxBufferedBytes(0)
                .build();
        assertThat(own.resolve(gateway)).isEqualTo(new Limits(100, 2, 30, 20, 0, 3, 1, 0));
        assertThat(own.toBuilder().maxConnections(null).build().resolve(gateway).maxConnections()).isEqualTo(700);
        assertThat(own.toString()).contains("maxSendsPerSecond=0", "maxConnections=3");
        assertThat(SiteLimits.none().isEmpty()).isTrue();
        SiteOptions site = SiteOptions.builder("s").authorizer(new AllowAllAuthorizer(Set.of())).limits(own).build();
        assertThat(site.toString()).contains("limits maxMessageSize=100");
        GatewayOptions defaults = GatewayOptions.builder().build();
        assertThat(defaults.maxSendsPerSecond()).isZero();
        assertThat(defaults.maxConnectionsPerSite()).isZero();
        assertThat(defaults.maxBufferedBytes()).isEqualTo(16 * 1024 * 1024);
        assertThat(defaults.toString()).contains("maxSendsPerSecond=unlimited", "maxBufferedBytes=16777216");
    }

    @Test
    void badLimitsAreNamed() {
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxMessageSize(63).build())
                .withMessageStartingWith("maxMessageSize must be at least 64 bytes, was 63");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxRoomsPerSend(0).build())
                .withMessageStartingWith("maxRoomsPerSend ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxRoomNameLength(0).build())
                .withMessageStartingWith("maxRoomNameLength ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxEventNameLength(-1).build())
                .withMessageStartingWith("maxEventNameLength ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxSendsPerSecond(-1).build())
                .withMessageStartingWith("maxSendsPerSecond ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxConnections(-1).build())
                .withMessageStartingWith("maxConnections ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxEventsPerSecond(-2).build())
                .withMessageStartingWith("maxEventsPerSecond ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteLimits.builder().maxBufferedBytes(1023).build())
                .withMessageStartingWith("maxBufferedBytes must be 0 (no limit) or at least 1024 bytes, was 1023");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().maxSendsPerSecond(-1).build())
                .withMessageStartingWith("maxSendsPerSecond ");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().maxConnectionsPerSite(-1).build())
                .withMessageStartingWith("maxConnectionsPerSite ");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().maxBufferedBytes(10).build())
                .withMessageStartingWith("maxBufferedBytes ");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("s")
                .authorizer(new AllowAllAuthorizer(Set.of())).onEvent(" padded", e -> null))
                .withMessageContaining("is invalid");
    }

    @Test
    void theBucketAllowsABurstThenOneTokenPerIntervalAndSaysHowLongToWait() {
        TokenBucket bucket = new TokenBucket(4);
        long t = 1_000_000_000_000L;
        for (int i = 0; i < 4; i++) {
            assertThat(bucket.take(t)).isZero();
        }
        assertThat(bucket.take(t)).isEqualTo(250_000_000L);
        assertThat(bucket.take(t + 100_000_000L)).isEqualTo(150_000_000L);
        assertThat(bucket.take(t + 250_000_000L)).isZero();
        assertThat(bucket.take(t + 250_000_000L)).isPositive();
        // a long pause refills to the burst, not beyond
        long later = t + 60_000_000_000L;
        for (int i = 0; i < 4; i++) {
            assertThat(bucket.take(later)).isZero();
        }
        assertThat(bucket.take(later)).isPositive();
        // a clock that goes back takes nothing and breaks nothing
        assertThat(bucket.take(later - 5_000_000_000L)).isPositive();
    }

    @Test
    void aMeteredQueueCountsTheBytesOfWhatItHoldsAndNothingOnceEmpty() {
        OutboundBacklog.MeteredQueue queue = new OutboundBacklog.MeteredQueue();
        Packet small = event("e", List.of("x"));
        Packet large = event("update_store", List.of("x".repeat(10_000), Map.of("id", 1, "name", "é".repeat(100))));
        queue.add(small);
        queue.add(large);
        long json = new ObjectMapper().valueToTree(large.getData()).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertThat(queue.bytes()).isBetween(json, json + 200);
        assertThat(queue.size()).isEqualTo(2);
        assertThat(queue.poll()).isSameAs(small);
        assertThat(queue.peek()).isSameAs(large);
        queue.clear();
        assertThat(queue.bytes()).isZero();
        assertThat(queue.isEmpty()).isTrue();
        // deep or odd data is bounded, not a stack overflow
        Object deep = List.of();
        for (int i = 0; i < 10_000; i++) {
            deep = List.of(deep);
        }
        assertThat(OutboundBacklog.estimate(event("deep", List.of(deep, new byte[300], new Object())))).isPositive();
    }

    @Test
    void aMessagesSizeIsComputedOnceAndGivenToEachRecipientsQueue() {
        List<Object> args = List.of("x".repeat(10_000), Map.of("id", 1));
        long data = OutboundBacklog.estimateData(args);
        Packet packet = event("update_store", args);
        assertThat(OutboundBacklog.estimate(packet)).as("the per-message part is the packet's data")
                .isEqualTo(OutboundBacklog.estimate(event("update_store", List.of())) - OutboundBacklog.estimateData(List.of())
                        + data);
        OutboundBacklog.MeteredQueue queue = new OutboundBacklog.MeteredQueue();
        // the size given is used as is: the data is not walked again
        OutboundBacklog.sendSized(7, () -> queue.add(packet));
        long envelope = OutboundBacklog.estimate(packet) - data;
        assertThat(queue.bytes()).isEqualTo(envelope + 7);
        // for that one packet only: the next one (another send on the thread) is estimated
        queue.add(packet);
        assertThat(queue.bytes()).isEqualTo(envelope + 7 + OutboundBacklog.estimate(packet));
        OutboundBacklog.sendSized(-1, () -> queue.add(packet));
        assertThat(queue.bytes()).isEqualTo(envelope + 7 + 2 * OutboundBacklog.estimate(packet));
    }

    @Test
    void thisNettySocketIoCanBeMetered() {
        assertThat(OutboundBacklog.unavailable()).isNull();
    }

    private static Packet event(String name, List<Object> args) {
        Packet packet = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
        packet.setSubType(PacketType.EVENT);
        packet.setName(name);
        packet.setData(Arrays.asList(args.toArray()));
        return packet;
    }
}
