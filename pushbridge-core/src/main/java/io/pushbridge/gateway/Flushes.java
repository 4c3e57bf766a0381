package io.pushbridge.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;

/**
 * The WebSocket sessions one delivery queued packets for, to write out with one task per event
 * loop rather than one per session: each loop writes its own channels ({@link GatewayEncoder}
 * writes everything a session's queue holds, then flushes once). A loop that is the caller's own
 * writes at once, at {@link #run}. Not thread-safe: one per delivery, on the delivering thread.
 *
 * <p>Each session's queue goes to the encoder's context directly, as a write that reached it
 * would: the pipeline has nothing between its tail and the encoder that handles a write, and
 * netty-socketio's write message ({@code OutPacketMessage}) reads the handshake's {@code Origin}
 * header each time it is made, which in a broadcast to a large room cost more than the write's own
 * Java code.
 */
final class Flushes {

    private static final RateLimitedLog FAILURES = new RateLimitedLog(org.slf4j.LoggerFactory.getLogger(Flushes.class), 1000);

    /** The sessions of one event loop. */
    private static final class Group implements Runnable {
        final EventExecutor loop;
        final List<SiteSocket> sockets = new ArrayList<>();
        final List<ChannelHandlerContext> encoders = new ArrayList<>();

        Group(EventExecutor loop) {
            this.loop = loop;
        }

        @Override
        public void run() {
            // a broadcast's frame made once for this task's sockets (one socket has nothing to share)
            GatewayEncoder.SharedFrames shared = sockets.size() > 1 ? new GatewayEncoder.SharedFrames() : null;
            try {
                writeAll(shared);
            } finally {
                if (shared != null) {
                    shared.release();
                }
            }
        }

        private void writeAll(GatewayEncoder.@org.jspecify.annotations.Nullable SharedFrames shared) {
            for (int i = 0; i < sockets.size(); i++) {
                SiteSocket socket = sockets.get(i);
                // cleared before the queue is read: a packet queued from now on schedules a write of its own
                // (each socket's on its own: a write that fails leaves none of the others scheduled forever)
                socket.flushStarted();
                ClientHead head = socket.client().getBaseClient();
                ChannelHandlerContext ctx = encoders.get(i);
                try {
                    if (ctx.handler() instanceof GatewayEncoder encoder && !ctx.isRemoved()) {
                        encoder.writeQueued(ctx, head, ctx.newPromise(), shared);
                    } else {
                        // the connection is being taken down: netty-socketio's way, through the pipeline
                        ctx.channel().write(new OutPacketMessage(head, Transport.WEBSOCKET));
                    }
                } catch (Throwable e) {
                    // as the pipeline would have (it catches every Throwable of a write, an
                    // OutOfDirectMemoryError among them): this session's write fails, the others' still go out
                    FAILURES.warn("A write to session {} failed: {}", head.getSessionId(), e.toString());
                }
            }
        }
    }

    /**
     * A few event loops (twice the cores by default): a list beats a map. Made on the first add: a
     * delivery to sockets that need no WebSocket write (long-polling, held back) allocates nothing.
     */
    private @org.jspecify.annotations.Nullable List<Group> groups;

    /**
     * Writes the socket's queue out at {@link #run}, on its channel's loop, unless a write is already scheduled.
     *
     * @param encoder the {@link GatewayEncoder}'s context in the session's WebSocket pipeline
     */
    void add(SiteSocket socket, ChannelHandlerContext encoder) {
        if (!socket.scheduleFlush()) {
            return;
        }
        EventExecutor loop = encoder.executor();
        if (groups == null) {
            groups = new ArrayList<>(4);
        }
        Group group = null;
        for (Group g : groups) {
            if (g.loop == loop) {
                group = g;
                break;
            }
        }
        if (group == null) {
            group = new Group(loop);
            groups.add(group);
        }
        group.sockets.add(socket);
        group.encoders.add(encoder);
    }

    /** Hands each loop its writes (the caller's own loop writes now). */
    void run() {
        if (groups == null) {
            return;
        }
        for (Group group : groups) {
            if (group.loop.inEventLoop()) {
                group.run();
            } else {
                try {
                    group.loop.execute(group);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the loop is shutting down with the gateway: its channels are closing
                    group.sockets.forEach(SiteSocket::flushStarted);
                }
            }
        }
        groups = null;
    }
}
