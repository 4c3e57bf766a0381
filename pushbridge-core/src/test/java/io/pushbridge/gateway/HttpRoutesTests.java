package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.Transport;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The Engine.IO checks of {@link HttpRoutes} on an {@link EmbeddedChannel}: a session netty-socketio
 * knows a moment after the request came is looked up once more, with every check of a known session.
 */
class HttpRoutesTests {

    private static final UUID SID = UUID.randomUUID();

    private final AtomicReference<Transport> transport = new AtomicReference<>();
    private final GatewayStats stats = new GatewayStats();
    private final GatewayOptions options = TestGateways.options().build();

    private EmbeddedChannel channel() {
        HttpRoutes routes = new HttpRoutes(options, stats, id -> id.equals(SID) ? transport.get() : null, null, null,
                () -> false, Origins.of(List.of("https://a.example", "https://b.example")),
                id -> id.equals(SID) ? "https://a.example" : null);
        return new EmbeddedChannel(routes);
    }

    private FullHttpRequest poll(String transportName, String origin) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                options.path() + "/?EIO=4&transport=" + transportName + "&sid=" + SID);
        request.headers().set(HttpHeaderNames.ORIGIN, origin);
        return request;
    }

    /** Lets the next look (100 ms later) run; returns the answer written, or null when there is none yet. */
    private static FullHttpResponse afterTheSecondLook(EmbeddedChannel channel) {
        channel.advanceTimeBy(110, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        return channel.readOutbound();
    }

    /** Lets the looks run for a second; returns the answer written. */
    private static FullHttpResponse afterTheLastLook(EmbeddedChannel channel) {
        for (int i = 0; i < 10; i++) {
            FullHttpResponse answer = afterTheSecondLook(channel);
            if (answer != null) {
                return answer;
            }
        }
        return null;
    }

    @Test
    void aSessionKnownOnTheSecondLookIsStillCheckedForItsOrigin() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(poll("polling", "https://b.example"));
        assertThat((Object) channel.readInbound()).as("held for a second look").isNull();
        transport.set(Transport.POLLING);
        FullHttpResponse answer = afterTheSecondLook(channel);
        assertThat(answer).as("refused").isNotNull();
        assertThat(answer.status().code()).isEqualTo(403);
        ReferenceCountUtil.release(answer);
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(stats.get("refused.http.origin_changed")).isEqualTo(1);
        channel.finishAndReleaseAll();
    }

    @Test
    void aPollAfterTheUpgradeKnownOnTheSecondLookIsRefused() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(poll("polling", "https://a.example"));
        transport.set(Transport.WEBSOCKET);
        FullHttpResponse answer = afterTheSecondLook(channel);
        assertThat(answer).as("refused").isNotNull();
        assertThat(answer.status().code()).isEqualTo(400);
        ReferenceCountUtil.release(answer);
        assertThat((Object) channel.readInbound()).isNull();
        channel.finishAndReleaseAll();
    }

    @Test
    void aSessionKnownOnTheSecondLookGoesOnAndAnUnknownOneIsRefused() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(poll("polling", "https://a.example"));
        transport.set(Transport.POLLING);
        assertThat(afterTheSecondLook(channel)).isNull();
        FullHttpRequest forwarded = channel.readInbound();
        assertThat(forwarded).isNotNull();
        forwarded.release();

        transport.set(null);
        EmbeddedChannel other = channel();
        other.writeInbound(poll("polling", "https://a.example"));
        assertThat(afterTheSecondLook(other)).as("still waiting after 100 ms").isNull();
        FullHttpResponse answer = afterTheLastLook(other);
        assertThat(answer).as("refused within a second").isNotNull();
        assertThat(answer.status().code()).isEqualTo(400);
        assertThat((Object) other.readInbound()).isNull();
        ReferenceCountUtil.release(answer);
        channel.finishAndReleaseAll();
        other.finishAndReleaseAll();
    }
}
