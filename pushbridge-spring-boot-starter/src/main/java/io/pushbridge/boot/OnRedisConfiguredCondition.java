package io.pushbridge.boot;

import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionMessage;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when {@code pushbridge.redis.url} is set to something other than blank, or
 * {@code pushbridge.redis.cluster.nodes} has at least one entry, in any form the binder accepts
 * (comma-separated, indexed, YAML list, environment variables). A blank URL counts as unset, so that
 * {@code pushbridge.redis.url=${REDIS_URL:}} runs in memory where REDIS_URL is not set.
 */
final class OnRedisConfiguredCondition extends SpringBootCondition {

    private static final String URL = PushBridgeProperties.PREFIX + ".redis.url";
    private static final String CLUSTER_NODES = PushBridgeProperties.PREFIX + ".redis.cluster.nodes";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        ConditionMessage.Builder message = ConditionMessage.forCondition("PushBridge Redis");
        Binder binder = Binder.get(context.getEnvironment());
        String url = binder.bind(URL, String.class).orElse("");
        if (!url.isBlank()) {
            return ConditionOutcome.match(message.foundExactly(URL));
        }
        List<String> nodes = binder.bind(CLUSTER_NODES, Bindable.listOf(String.class))
                .orElse(List.of());
        if (!nodes.isEmpty()) {
            return ConditionOutcome.match(message.foundExactly(CLUSTER_NODES));
        }
        return ConditionOutcome.noMatch(message.didNotFind("property").items(URL,
                CLUSTER_NODES));
    }
}
