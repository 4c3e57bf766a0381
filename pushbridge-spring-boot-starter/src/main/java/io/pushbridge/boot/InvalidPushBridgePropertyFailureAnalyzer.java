package io.pushbridge.boot;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.core.env.Environment;

/**
 * Reports an {@link InvalidPushBridgePropertyException} at start-up: which property, what is wrong,
 * and where the value came from when the environment knows it. Registered in
 * {@code META-INF/spring.factories}.
 */
class InvalidPushBridgePropertyFailureAnalyzer extends AbstractFailureAnalyzer<InvalidPushBridgePropertyException> {

    private final @Nullable Environment environment;

    InvalidPushBridgePropertyFailureAnalyzer(@Nullable Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidPushBridgePropertyException cause) {
        String origin = origin(cause.property());
        String description = "PushBridge could not start: the property " + cause.property() + " is invalid: "
                + cause.reason() + (origin == null ? "" : "\n\nOrigin: " + origin);
        String action = "Update " + cause.property() + " in your application's configuration. Every pushbridge.* "
                + "property, with its type and default, is listed in PushBridge's docs/configuration.md.";
        return new FailureAnalysis(description, action, cause);
    }

    private @Nullable String origin(String property) {
        if (environment == null) {
            return null;
        }
        try {
            ConfigurationPropertyName name = ConfigurationPropertyName.adapt(property, '.');
            for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
                ConfigurationProperty found = source.getConfigurationProperty(name);
                Origin origin = found == null ? null : found.getOrigin();
                if (origin != null) {
                    return origin.toString();
                }
            }
        } catch (RuntimeException e) {
            // the origin is a nicety: a name that cannot be looked up just goes without it
        }
        return null;
    }
}
