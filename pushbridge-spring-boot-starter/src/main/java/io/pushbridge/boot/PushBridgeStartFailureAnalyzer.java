package io.pushbridge.boot;

import io.pushbridge.PushBridgeException;
import java.net.BindException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a gateway that could not bind its port (most often: the port is in use), and Redis that
 * could not be reached at start-up ({@code pushbridge.redis.*}). Other {@link PushBridgeException}s
 * are left to other analyzers. Registered in
 * {@code META-INF/spring.factories}.
 */
class PushBridgeStartFailureAnalyzer extends AbstractFailureAnalyzer<PushBridgeException> {

    /** How {@link PushBridgeRedisSupport#connector} starts its message when Redis cannot be reached. */
    static final String REDIS_UNREACHABLE = "Could not connect to Redis at ";

    private static final java.util.regex.Pattern PORT_PROPERTY = java.util.regex.Pattern.compile("\\((pushbridge\\.[a-z0-9.-]*port)\\)");

    @Override
    protected @Nullable FailureAnalysis analyze(Throwable rootFailure, PushBridgeException cause) {
        if (cause instanceof InvalidPushBridgePropertyException) {
            return null;
        }
        String message = cause.getMessage() == null ? "" : cause.getMessage();
        if (message.startsWith(REDIS_UNREACHABLE)) {
            String property = message.contains("(pushbridge.redis.cluster.nodes)") ? "pushbridge.redis.cluster.nodes"
                    : "pushbridge.redis.url";
            return new FailureAnalysis("PushBridge could not start. " + message,
                    "Check that Redis is running and reachable from this host at the address in " + property
                            + ", and its password, database and TLS (rediss://) settings; pushbridge.redis.connect-timeout "
                            + "bounds the wait. Remove pushbridge.redis.url and pushbridge.redis.cluster.nodes to run a "
                            + "single node in memory instead.", cause);
        }
        if (findCause(cause, BindException.class) == null && !message.startsWith("Could not listen on")) {
            return null;
        }
        // the message names the port's property in parentheses: pushbridge.port, pushbridge.admin.port, ...
        java.util.regex.Matcher named = PORT_PROPERTY.matcher(message);
        String property = named.find() ? named.group(1) : PushBridgeProperties.PREFIX + ".port";
        String description = "The PushBridge gateway could not start. " + message;
        String action = message.toLowerCase(Locale.ROOT).contains("in use")
                ? "Stop the process that is listening on that port, or set " + property + " to another port "
                        + "(0 picks a free one)."
                : "Check pushbridge.host and " + property + ": the host must be an address of this machine, and "
                        + "ports below 1024 usually need extra privileges.";
        return new FailureAnalysis(description, action, cause);
    }
}
