package io.pushbridge.redis;

import io.pushbridge.UserQueue;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The names of every key and channel PushBridge uses, under one prefix per deployment.
 *
 * <p>Layout (prefix {@code pushbridge:} by default):
 * <pre>
 *   {P}q:{&lt;len&gt;:&lt;site&gt;:&lt;room&gt;}        hash   queue meta: seq, rs (resync mark), exp (deadline), n and c:&lt;node&gt; (open connections)
 *   {P}q:{&lt;len&gt;:&lt;site&gt;:&lt;room&gt;}:i      zset   message ids in arrival order
 *   {P}q:{&lt;len&gt;:&lt;site&gt;:&lt;room&gt;}:m      hash   message id -&gt; stored message
 *   {P}q:{&lt;len&gt;:&lt;site&gt;:&lt;room&gt;}:lost   string until when (epoch ms) a user whose queue expired holding messages is told to resync
 *   {P}nodes                              set    ids of registered gateway nodes
 *   {P}node:{&lt;node&gt;}                      string the node's heartbeat, JSON with its public URL (expires when the node stops beating)
 *   {P}node:{&lt;node&gt;}:queues               hash   queue key -&gt; connections this node holds on it
 *   {P}node:{&lt;node&gt;}:sockets              hash   socket id -&gt; site, for the sockets this node holds
 *   {P}node:{&lt;node&gt;}:reaped               string set when other nodes cleaned up after this node
 *   {P}sock:{&lt;socket id&gt;}                 string the node that holds the socket
 *   {P}worker:&lt;n&gt;                          string lease of flake id worker slot n
 *   channels: {P}site:&lt;site&gt; (every message of a site), {P}node:&lt;node&gt; (messages and commands for one node)
 * </pre>
 * The part in braces is the Redis Cluster hash tag: one user queue's four keys live on one shard.
 * The site name's length leads the tag so that no two (site, room) pairs give the same key.
 */
public final class RedisKeys {

    /** The prefix used when none is configured. */
    public static final String DEFAULT_PREFIX = "pushbridge:";

    /** Appended to a queue's meta key: its message ids. */
    static final String IDS = ":i";
    /** Appended to a queue's meta key: its stored messages. */
    static final String MESSAGES = ":m";
    /** Appended to a queue's meta key: its lost marker (see {@link RedisMessageStore}). */
    static final String LOST = ":lost";

    private final String prefix;

    public RedisKeys(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("prefix must not contain '{' or '}' (they mark Redis Cluster hash tags), was '" + prefix + "'");
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.isISOControl(prefix.charAt(i)) || prefix.charAt(i) == ' ') {
                throw new IllegalArgumentException("prefix must not contain spaces or control characters, was '" + prefix + "'");
            }
        }
        this.prefix = prefix;
    }

    public String prefix() {
        return prefix;
    }

    /** The meta key of a queue; its other keys append {@code :i}, {@code :m} and {@code :lost}. */
    public String queue(UserQueue queue) {
        return prefix + "q:{" + queue.site().length() + ":" + queue.site() + ":" + queue.room() + "}";
    }

    public String nodes() {
        return prefix + "nodes";
    }

    public String node(String nodeId) {
        return prefix + "node:{" + nodeId + "}";
    }

    public String nodeQueues(String nodeId) {
        return node(nodeId) + ":queues";
    }

    public String nodeSockets(String nodeId) {
        return node(nodeId) + ":sockets";
    }

    public String nodeReaped(String nodeId) {
        return node(nodeId) + ":reaped";
    }

    public String nodeReaping(String nodeId) {
        return node(nodeId) + ":reaping";
    }

    public String socket(String socketId) {
        return prefix + "sock:{" + socketId + "}";
    }

    public String worker(int slot) {
        return prefix + "worker:" + slot;
    }

    /** Where a node leaves its answer to a connection listing (expires after a short while). */
    public String listing(String requestId, String nodeId) {
        return prefix + "list:" + requestId + ":" + nodeId;
    }

    /**
     * The queue totals of every site, as the last walk of the key space found them: written by the
     * node that won {@link #queueTotalsWalker()}, read by the others.
     */
    public String queueTotals() {
        return prefix + "queue-totals";
    }

    /** The short lease of the node that walks the key space for the queue totals next. */
    public String queueTotalsWalker() {
        return prefix + "queue-totals:walker";
    }

    public String siteChannel(String site) {
        return prefix + "site:" + site;
    }

    public String nodeChannel(String nodeId) {
        return prefix + "node:" + nodeId;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
