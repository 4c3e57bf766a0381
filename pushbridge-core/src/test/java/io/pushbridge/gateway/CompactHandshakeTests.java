package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.HandshakeData;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** A compacted handshake reads as the one netty-socketio made, and shares only what clients have in common. */
class CompactHandshakeTests {

    private static HandshakeData handshake(String url, String key) {
        HttpHeaders headers = new DefaultHttpHeaders();
        headers.add("Host", new String("gw.example:443"));
        headers.add("Upgrade", new String("websocket"));
        headers.add("Sec-WebSocket-Key", key);
        headers.add("Cookie", "a=1");
        headers.add("Cookie", "b=2");
        headers.add("X-Forwarded-For", "203.0.113.7");
        headers.add("Origin", new String("https://app.example"));
        return new HandshakeData(headers, new QueryStringDecoder(url).parameters(),
                new InetSocketAddress("127.0.0.1", 50000), url, false);
    }

    @Test
    void theCompactedHandshakeReadsTheSame() {
        String url = "/socket.io/?EIO=4&transport=websocket&token=secret&room=a&room=b";
        HandshakeData data = handshake(url, "k1");
        HandshakeData before = handshake(url, "k1");

        new CompactHandshake().compact(data);

        assertThat(CompactHandshake.unavailable()).isNull();
        HttpHeaders headers = data.getHttpHeaders();
        assertThat(headers).isNotInstanceOf(DefaultHttpHeaders.class);
        assertThat(headers.names()).containsExactlyInAnyOrderElementsOf(before.getHttpHeaders().names());
        for (String name : before.getHttpHeaders().names()) {
            assertThat(headers.getAll(name)).as(name).isEqualTo(before.getHttpHeaders().getAll(name));
        }
        // names are matched ignoring case, as before
        assertThat(headers.get("origin")).isEqualTo("https://app.example");
        assertThat(headers.getAll("cookie")).containsExactly("a=1", "b=2");
        assertThat(headers.get("X-Missing")).isNull();
        assertThat(data.getUrlParams()).isEqualTo(before.getUrlParams());
        assertThat(data.getUrlParams().get("room")).containsExactly("a", "b");
        assertThat(data.getSingleUrlParam("token")).isEqualTo("secret");
        assertThat(data.getUrl()).isEqualTo(url);
        assertThat(data.getAddress()).isEqualTo(before.getAddress());
    }

    @Test
    void valuesCommonToClientsAreSharedAndThoseOfOneClientAreNot() {
        CompactHandshake compact = new CompactHandshake();
        String url = "/socket.io/?EIO=4&transport=websocket";
        HandshakeData one = handshake(new String(url), "key-one");
        HandshakeData two = handshake(new String(url), "key-two");
        compact.compact(one);
        compact.compact(two);

        assertThat(two.getHttpHeaders().get("Host")).isSameAs(one.getHttpHeaders().get("Host"));
        assertThat(two.getHttpHeaders().get("Origin")).isSameAs(one.getHttpHeaders().get("Origin"));
        assertThat(two.getUrlParams().get("transport").get(0)).isSameAs(one.getUrlParams().get("transport").get(0));
        assertThat(two.getUrl()).isSameAs(one.getUrl());
        assertThat(two.getHttpHeaders().get("Sec-WebSocket-Key")).isEqualTo("key-two");
        // header names are shared with their hash kept (a lookup hashes each name it passes)
        assertThat(compact.shareName(new String("Origin"))).isInstanceOf(AsciiString.class)
                .isSameAs(compact.shareName(new String("Origin")));
        assertThat(compact.shareName("Ünïcode")).isEqualTo("Ünïcode").isInstanceOf(String.class);

        // a URL with a parameter of its own (a token, a cache buster) is not shared
        HandshakeData three = handshake(new String(url + "&t=abc"), "k3");
        HandshakeData four = handshake(new String(url + "&t=abc"), "k4");
        compact.compact(three);
        compact.compact(four);
        assertThat(four.getUrl()).isEqualTo(three.getUrl()).isNotSameAs(three.getUrl());
        assertThat(four.getUrlParams().get("t").get(0)).isNotSameAs(three.getUrlParams().get("t").get(0));
        // the whole parameter map too: shared when it holds only EIO and transport, its own otherwise
        assertThat(two.getUrlParams()).isSameAs(one.getUrlParams());
        assertThat(four.getUrlParams()).isEqualTo(three.getUrlParams()).isNotSameAs(three.getUrlParams());
        HandshakeData polling = handshake(new String("/socket.io/?EIO=4&transport=polling"), "k5");
        compact.compact(polling);
        assertThat(polling.getUrlParams()).isNotSameAs(one.getUrlParams());
        assertThat(polling.getSingleUrlParam("transport")).isEqualTo("polling");
    }

    @Test
    void sharedParameterMapsAreBounded() {
        CompactHandshake compact = new CompactHandshake();
        for (int i = 0; i < CompactHandshake.MAX_SHARED_PARAM_MAPS + 10; i++) {
            compact.compact(handshake("/socket.io/?EIO=" + i + "&transport=websocket", "k"));
        }
        HandshakeData one = handshake("/socket.io/?EIO=late&transport=websocket", "k1");
        HandshakeData two = handshake("/socket.io/?EIO=late&transport=websocket", "k2");
        compact.compact(one);
        compact.compact(two);
        assertThat(two.getUrlParams()).isEqualTo(one.getUrlParams()).isNotSameAs(one.getUrlParams());
        assertThat(two.getSingleUrlParam("EIO")).isEqualTo("late");
    }

    @Test
    void theSharedTableIsBoundedAndLongStringsStayUnshared() {
        CompactHandshake compact = new CompactHandshake();
        for (int i = 0; i < CompactHandshake.MAX_SHARED + 10; i++) {
            compact.share("value-" + i);
        }
        String late = new String("late");
        assertThat(compact.share(late)).isSameAs(late);
        assertThat(compact.share(new String("late"))).isNotSameAs(late);
        String known = compact.share(new String("value-1"));
        assertThat(compact.share(new String("value-1"))).isSameAs(known);

        String longValue = "x".repeat(CompactHandshake.MAX_SHARED_LENGTH + 1);
        assertThat(new CompactHandshake().share(longValue)).isSameAs(longValue);
        assertThat(new CompactHandshake().share(new String(longValue))).isNotSameAs(longValue);
    }

    @Test
    void aHandshakeWithoutHeadersOrParametersIsLeftAlone() {
        HandshakeData empty = new HandshakeData();
        new CompactHandshake().compact(empty);
        new CompactHandshake().compact(null);
        assertThat(empty.getHttpHeaders()).isNull();
        assertThat(empty.getUrlParams()).isNull();
    }
}
