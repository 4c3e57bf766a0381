package io.pushbridge.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import com.corundumstudio.socketio.messages.PacketsMessage;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits in front of netty-socketio's packet handler and sees every client packet first.
 *
 * <ul>
 *   <li>Parses each packet strictly; a malformed one closes that session with one rate-limited log
 *       line (netty-socketio would misread it or log a stack trace).</li>
 *   <li>Takes every namespace CONNECT for itself ({@link Connections#connect}): netty-socketio never
 *       sees the auth payload, so its auth bypass and its comma bug in payloads cannot happen.</li>
 *   <li>Drops packets for namespaces the session was not admitted to.</li>
 *   <li>Hands client events to the site's handlers ({@link ClientEvents}); netty-socketio would drop
 *       every event that has no listener of its own. Events with binary arguments are refused
 *       (answered, counted) but still passed on, so that netty-socketio reads their attachments.</li>
 *   <li>Closes the session after an Engine.IO close, or when the client leaves its last site.</li>
 * </ul>
 * Runs on I/O threads and does no I/O of its own.
 */
@Sharable
final class PacketGate extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(PacketGate.class);

    private final Connections connections;
    private final GatewayStats stats;
    private final RateLimitedLog malformedLog = new RateLimitedLog(log, 1000);

    PacketGate(Connections connections, GatewayStats stats) {
        this.connections = connections;
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof PacketsMessage message)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ClientHead head = message.getClient();
        Packet pendingBinary = head.getLastBinaryPacket();
        if (pendingBinary != null && pendingBinary.hasAttachments() && !pendingBinary.isAttachmentsLoaded()) {
            // an attachment of a binary packet already checked
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf content = message.getContent();
        String text = content.toString(StandardCharsets.UTF_8);
        String[] parts = text.split("\u001e", -1);
        List<String> forward = new ArrayList<>(parts.length);
        boolean close = false;
        boolean leftSite = false;
        boolean upgraded = false;
        boolean rewritten = false;
        for (String part : parts) {
            if (part.isEmpty()) {
                malformed(ctx, head, "empty packet");
                return;
            }
            char type = part.charAt(0);
            switch (type) {
                case '1' -> {
                    forward.add(part);
                    close = true;
                }
                case '2', '3', '5', '6' -> {
                    if (part.equals("5") && message.getTransport() == Transport.WEBSOCKET) {
                        // the upgrade is complete: netty-socketio leaves polls unanswered from now on.
                        // Until now (after the probe too) polls are served: the probe's NOOP answers the
                        // one in flight, and the client pauses polling only after it
                        connections.upgraded(head.getSessionId());
                        upgraded = true;
                    }
                    forward.add(part);
                }
                case '4' -> {
                    SioPacket packet;
                    try {
                        packet = SioPacket.parse(part.substring(1));
                    } catch (SioPacket.MalformedPacketException e) {
                        malformed(ctx, head, e.getMessage());
                        return;
                    }
                    if (packet.type() == SioPacket.CONNECT) {
                        flush(ctx, message, parts.length, forward, rewritten);
                        connections.connect(ctx.executor(), head, packet);
                    } else if (!connections.isAdmitted(head.getSessionId(), packet.nsp())) {
                        stats.increment("dropped.not_connected");
                    } else if (packet.type() == SioPacket.EVENT) {
                        connections.clientEvent(head, packet);
                    } else if (packet.type() == SioPacket.ACK && packet.data().size() > 1) {
                        // netty-socketio logs an ERROR for each ack with more than one argument (a
                        // client's callback(a, b)); PushBridge's callbacks read none of them
                        forward.add("4" + packet.ackWithFirstArgument());
                        rewritten = true;
                    } else {
                        if (packet.type() == SioPacket.BINARY_EVENT) {
                            // not handed to handlers: refused and answered now; netty-socketio still
                            // reads its attachments, so that they are not taken for packets
                            connections.clientBinaryEvent(head, packet);
                        }
                        forward.add(part);
                        if (packet.type() == SioPacket.DISCONNECT) {
                            connections.clientLeaving(head, packet.nsp());
                            leftSite = true;
                        }
                    }
                }
                default -> {
                    malformed(ctx, head, "unknown Engine.IO packet type");
                    return;
                }
            }
        }
        flush(ctx, message, parts.length, forward, rewritten);
        if (upgraded) {
            drainAfterUpgrade(ctx, head);
        }
        if (leftSite) {
            connections.afterClientDisconnect(head.getSessionId());
        }
        if (close) {
            if (message.getTransport() == Transport.POLLING) {
                // answer a poll the client may still have pending; netty-socketio leaves it hanging
                head.send(new Packet(PacketType.NOOP, EngineIOVersion.V4), Transport.POLLING);
            }
            Connections.Session session = connections.session(head.getSessionId());
            if (session != null) {
                connections.closeSession(session);
            }
            if (message.getTransport() == Transport.WEBSOCKET) {
                ctx.channel().close();
            }
        }
    }

    /**
     * Writes out what waits in the session's queue once its upgrade to WebSocket is done, now and
     * again a moment later. netty-socketio's upgrade moves the polling queue to the WebSocket, flushes
     * it, and only then switches the session's transport: a packet another thread sends in between
     * (a connect answer, an emit) still goes the polling way, lands in the moved queue after its flush,
     * and would wait there for the next packet, up to a ping interval.
     */
    private static void drainAfterUpgrade(ChannelHandlerContext ctx, ClientHead head) {
        Runnable drain = () -> {
            if (ctx.channel().isActive()) {
                ctx.channel().writeAndFlush(new OutPacketMessage(head, Transport.WEBSOCKET));
            }
        };
        drain.run();
        ctx.executor().schedule(drain, 100, TimeUnit.MILLISECONDS);
    }

    /**
     * Passes the packets collected so far on to netty-socketio, in order; the message as it came
     * when it is one packet passed on unchanged ({@code rewritten} false).
     */
    private static void flush(ChannelHandlerContext ctx, PacketsMessage message, int total, List<String> forward,
            boolean rewritten) {
        if (forward.isEmpty()) {
            return;
        }
        if (total == 1 && forward.size() == 1 && !rewritten) {
            ctx.fireChannelRead(message);
        } else {
            for (String part : forward) {
                ByteBuf buf = Unpooled.copiedBuffer(part, StandardCharsets.UTF_8);
                ctx.fireChannelRead(new PacketsMessage(message.getClient(), buf, message.getTransport()));
            }
        }
        forward.clear();
    }

    private void malformed(ChannelHandlerContext ctx, ClientHead head, String why) {
        stats.increment("dropped.malformed_packet");
        malformedLog.warn("Closing session {} from {}: malformed packet ({})", head.getSessionId(),
                head.getRemoteAddress(), why);
        Connections.Session session = connections.session(head.getSessionId());
        if (session != null) {
            connections.closeSession(session);
        } else {
            head.disconnect();
        }
        ctx.channel().close();
    }
}
