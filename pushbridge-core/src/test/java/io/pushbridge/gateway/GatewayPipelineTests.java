package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.SocketIOChannelInitializer;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A connection sheds its HTTP handlers once it is a WebSocket, on an {@link EmbeddedChannel}. */
class GatewayPipelineTests {

    /** A pipeline with the HTTP-only handlers and two that a WebSocket keeps, named as the gateway names them. */
    private static EmbeddedChannel channel() {
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(GatewayInitializer.GATE, new ChannelInboundHandlerAdapter());
        channel.pipeline().addLast(GatewayInitializer.CLOSE_HEADER, GatewayInitializer.CloseHeader.INSTANCE);
        for (String name : List.of(GatewayInitializer.MALFORMED, GatewayInitializer.SEND_API, GatewayInitializer.ROUTES,
                SocketIOChannelInitializer.AUTHORIZE_HANDLER, SocketIOChannelInitializer.XHR_POLLING_TRANSPORT,
                SocketIOChannelInitializer.WRONG_URL_HANDLER)) {
            channel.pipeline().addLast(name, new ChannelInboundHandlerAdapter());
        }
        channel.pipeline().addLast(SocketIOChannelInitializer.WEB_SOCKET_TRANSPORT, new ChannelInboundHandlerAdapter());
        return channel;
    }

    @Test
    void theUpgradeResponseTakesTheHttpHandlersOut() {
        EmbeddedChannel channel = channel();
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS));

        HttpResponse written = channel.readOutbound();
        assertThat(written.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
        assertThat(channel.pipeline().names()).doesNotContainAnyElementsOf(GatewayInitializer.HTTP_ONLY)
                .contains(GatewayInitializer.GATE, SocketIOChannelInitializer.WEB_SOCKET_TRANSPORT);
        // a second 101 (none comes, but) finds nothing left to take out
        GatewayInitializer.dropHttpHandlers(channel.pipeline());
        channel.finishAndReleaseAll();
    }

    @Test
    void otherResponsesKeepTheHttpHandlersAndAStreamedOneSaysClose() {
        EmbeddedChannel channel = channel();
        List<String> before = channel.pipeline().names();
        channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));

        HttpResponse streamed = channel.readOutbound();
        assertThat(streamed.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        HttpResponse full = channel.readOutbound();
        assertThat(full.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
        assertThat(channel.pipeline().names()).isEqualTo(before);
        channel.finishAndReleaseAll();
    }

    @Test
    void aSilentConnectionIsClosedByTheIdleHandlerAlone() {
        EmbeddedChannel channel = new EmbeddedChannel(new GatewayInitializer.IdleClose(1_000));
        channel.advanceTimeBy(500, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(1_000, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        channel.finishAndReleaseAll();
    }
}
