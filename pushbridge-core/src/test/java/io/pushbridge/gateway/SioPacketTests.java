package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The strict parser of client packets: well-formed ones read right, anything else refused. */
class SioPacketTests {

    @Test
    void readsConnectWithSeveralAuthKeys() throws Exception {
        SioPacket p = SioPacket.parse("0/news,{\"token\":\"t,1\",\"device\":\"ios\"}");
        assertThat(p.type()).isEqualTo(SioPacket.CONNECT);
        assertThat(p.nsp()).isEqualTo("/news");
        assertThat(p.data().get("token").asText()).isEqualTo("t,1");
    }

    @Test
    void readsMainNamespaceEventsAndAcks() throws Exception {
        SioPacket event = SioPacket.parse("212[\"hello\",1]");
        assertThat(event.nsp()).isEqualTo("/");
        assertThat(event.ackId()).isEqualTo(12);
        SioPacket ack = SioPacket.parse("3/news,7[]");
        assertThat(ack.type()).isEqualTo(SioPacket.ACK);
        assertThat(ack.ackId()).isEqualTo(7);
        SioPacket binary = SioPacket.parse("51-/news,[\"up\",{\"_placeholder\":true,\"num\":0}]");
        assertThat(binary.attachments()).isEqualTo(1);
        assertThat(SioPacket.parse("1/news,").type()).isEqualTo(SioPacket.DISCONNECT);
        assertThat(SioPacket.parse("0").nsp()).isEqualTo("/");
    }

    @Test
    void anAckKeepsItsFirstArgumentOnlyWhenPassedOn() throws Exception {
        assertThat(SioPacket.parse("3/news,7[{\"a\":[1,2]},\"b\",3]").ackWithFirstArgument()).isEqualTo("3/news,7[{\"a\":[1,2]}]");
        assertThat(SioPacket.parse("312[null,1]").ackWithFirstArgument()).isEqualTo("312[null]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "9", "4/news,{}", "2{}", "2/news,[", "2/news,[]", "2/news,[1]",
        "2/news,[\"a\"]garbage", "3/news,[]", "0/news,[1]", "1/news,{}", "5/news,[\"a\"]", "50-[\"a\"]",
        "21234567890123456[\"a\"]", "2/ne ws,[\"a\"]"})
    void refusesMalformedPackets(String packet) {
        assertThatThrownBy(() -> SioPacket.parse(packet)).isInstanceOf(SioPacket.MalformedPacketException.class);
    }
}
