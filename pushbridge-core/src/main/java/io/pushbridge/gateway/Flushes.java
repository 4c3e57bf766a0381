package io.pushbridge.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.OutPacketMessage;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * The WebSocket sessions one delivery queued packets for, to write out with one task per event
 * loop rather than one per session: each loop writes its own channels ({@link GatewayEncoder}
 * writes everything a session's queue holds, then flushes once). A loop that is the caller's own
 * writes at once, at {@link #run}. Not thread-safe: one per delivery, on the delivering thread.
 */
final class Flushes {

    /** The sessions of one event loop. */
    private static final class Group implements Runnable {
        final EventLoop loop;
        final List<SiteSocket> sockets = new ArrayList<>();
        final List<Channel> channels = new ArrayList<>();

        Group(EventLoop loop) {
            this.loop = loop;
        }

        @Override
        public void run() {
            for (int i = 0; i < sockets.size(); i++) {
                SiteSocket socket = sockets.get(i);
                // cleared before the queue is read: a packet queued from now on schedules a write of its own
                socket.flushStarted();
                ClientHead head = socket.client().getBaseClient();
                channels.get(i).write(new OutPacketMessage(head, Transport.WEBSOCKET));
            }
        }
    }

    /**
     * A few event loops (twice the cores by default): a list beats a map. Made on the first add: a
     * delivery to sockets that need no WebSocket write (long-polling, held back) allocates nothing.
     */
    private @org.jspecify.annotations.Nullable List<Group> groups;

    /** Writes the socket's queue out at {@link #run}, on its channel's loop, unless a write is already scheduled. */
    void add(SiteSocket socket, Channel channel) {
        if (!socket.scheduleFlush()) {
            return;
        }
        EventLoop loop = channel.eventLoop();
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
        group.channels.add(channel);
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
