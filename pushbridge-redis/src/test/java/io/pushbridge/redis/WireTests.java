package io.pushbridge.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.pushbridge.Message;
import io.pushbridge.QueuedMessage;
import io.pushbridge.SocketCommand;
import io.pushbridge.Target;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Redis wire format: round trips, and every malformed input refused with a reason. */
class WireTests {

    private static final CBORMapper CBOR = new CBORMapper();

    @Test
    void messagesOfEveryTargetRoundTrip() {
        for (Target target : List.of(Target.rooms(Set.of("a", "user_1")), Target.socket("s1"), Target.site().except(Set.of("x", "y")))) {
            Message m = new Message(Long.MAX_VALUE, "news", target, "ev", List.of(new byte[] {0, -1}, "s", 1.5, List.of(), Map.of()),
                    Set.of("user_1"), true, 123);
            Message back = (Message) Wire.decode(Wire.encode(m));
            assertThat(back.target()).isEqualTo(target);
            assertThat(back.id()).isEqualTo(m.id());
            assertThat(back.args().get(0)).isEqualTo(new byte[] {0, -1});
            assertThat(back.args().subList(1, 5)).isEqualTo(m.args().subList(1, 5));
            assertThat(back.queuedRooms()).isEqualTo(m.queuedRooms());
            assertThat(back.resync()).isTrue();
            assertThat(back.createdAtMillis()).isEqualTo(123);
        }
    }

    @Test
    void commandsRoundTrip() {
        for (SocketCommand c : List.of(SocketCommand.join("news", "s1", Set.of("r")), SocketCommand.leave("news", "s1", Set.of("r", "q")),
                SocketCommand.disconnect("news", "s1"))) {
            assertThat(Wire.decode(Wire.encode(c))).isEqualTo(c);
        }
    }

    @Test
    void queuedMessagesRoundTripWithTheHeaderTheScriptsRead() {
        QueuedMessage m = new QueuedMessage(42, "prïce", List.of("a", new byte[] {7}), true, 99);
        byte[] stored = Wire.encodeQueued(m);
        assertThat(new String(stored, 0, "rprïce\n".getBytes(StandardCharsets.UTF_8).length, StandardCharsets.UTF_8)).isEqualTo("rprïce\n");
        QueuedMessage back = Wire.decodeQueued(stored);
        assertThat(back.id()).isEqualTo(42);
        assertThat(back.event()).isEqualTo("prïce");
        assertThat(back.resync()).isTrue();
        assertThat(back.args().get(1)).isEqualTo(new byte[] {7});
    }

    @Test
    void malformedRoutedItemsAreRefusedWithAReason() throws Exception {
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode("plain text".getBytes()));
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(new byte[0]));
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(CBOR.writeValueAsBytes(List.of(1, 2)))).withMessage("not a map");
        Map<String, Object> good = new LinkedHashMap<>(CBOR.readValue(Wire.encode(new Message(1, "news", Target.rooms(Set.of("r")), "ev",
                List.of(), Set.of(), false, 1)), Map.class));
        assertThat(Wire.decode(CBOR.writeValueAsBytes(good))).isInstanceOf(Message.class);

        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "v", 2)))).withMessageContaining("version");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "k", "z")))).withMessageContaining("unknown kind");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "s", "")))).withMessageContaining("field s");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "id", "1")))).withMessageContaining("field id");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "r", List.of())))).withMessageContaining("no target");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "r", "room")))).withMessageContaining("not a list");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "r", List.of(1))))).withMessageContaining("field r");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "a", Map.of())))).withMessageContaining("args");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(good, "e", null)))).withMessageContaining("field e");

        Map<String, Object> command = new LinkedHashMap<>(CBOR.readValue(Wire.encode(SocketCommand.disconnect("news", "s")), Map.class));
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(command, "c", "EXPLODE")))).withMessageContaining("unknown command");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decode(bytes(with(command, "r", List.of("x"))))).withMessageContaining("no rooms");
    }

    @Test
    void routedItemsCarryTheirPublishTimeAndItemsWithoutOneStillDecode() throws Exception {
        Message m = new Message(5, "news", Target.rooms(Set.of("r")), "ev", List.of(), Set.of(), false, 100);
        Wire.Routed routed = Wire.decodeRouted(Wire.encode(m, 1234));
        assertThat(routed.publishedAtMillis()).isEqualTo(1234);
        assertThat(((Message) routed.item()).id()).isEqualTo(5);
        SocketCommand c = SocketCommand.join("news", "s1", Set.of("r"));
        assertThat(Wire.decodeRouted(Wire.encode(c, 99))).isEqualTo(new Wire.Routed(c, 99));
        // an item of a node that writes no publish time (or of this format before it had one)
        assertThat(Wire.decodeRouted(Wire.encode(m)).publishedAtMillis()).isZero();
        assertThat(Wire.decodeRouted(Wire.encode(c))).isEqualTo(new Wire.Routed(c, 0));
        // a publish time that is not an integer makes the item malformed
        Map<String, Object> good = new LinkedHashMap<>(CBOR.readValue(Wire.encode(m, 1234), Map.class));
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decodeRouted(bytes(with(good, "pt", "soon"))))
                .withMessageContaining("field pt");
    }

    @Test
    void unreadableStoredMessagesAreRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decodeQueued("no header".getBytes())).withMessageContaining("header");
        assertThatIllegalArgumentException().isThrownBy(() -> Wire.decodeQueued("-ev\nnot cbor".getBytes()));
    }

    private static Map<String, Object> with(Map<String, Object> map, String key, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(map);
        copy.put(key, value);
        return copy;
    }

    private static byte[] bytes(Object value) throws Exception {
        return CBOR.writeValueAsBytes(value);
    }
}
