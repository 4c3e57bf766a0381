package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The metadata that the configuration processor generates from {@link PushBridgeProperties}' Javadoc. */
class ConfigurationMetadataTests {

    private static final Map<String, JsonNode> properties = new HashMap<>();

    @BeforeAll
    static void readMetadata() throws IOException {
        try (InputStream in = ConfigurationMetadataTests.class.getClassLoader()
                .getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("generated metadata on the classpath").isNotNull();
            for (JsonNode property : new ObjectMapper().readTree(in).get("properties")) {
                properties.put(property.get("name").asText(), property);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"pushbridge.port", "pushbridge.client-ttl", "pushbridge.resync-memory", "pushbridge.sites", "pushbridge.enabled",
            "pushbridge.auto-startup", "pushbridge.flake-id.datacenter", "pushbridge.flake-id.worker",
            "pushbridge.max-payload", "pushbridge.allowed-origins", "pushbridge.redis.url", "pushbridge.redis.cluster.nodes",
            "pushbridge.redis.prefix", "pushbridge.redis.command-timeout", "pushbridge.redis.connect-timeout",
            "pushbridge.redis.heartbeat-interval", "pushbridge.redis.node-timeout", "pushbridge.redis.client-name",
            "pushbridge.admin.key", "pushbridge.admin.path", "pushbridge.admin.port", "pushbridge.admin.max-connections",
            "pushbridge.admin.page-path", "pushbridge.admin.queue-inspector",
            "pushbridge.event-timeout", "pushbridge.max-pending-events", "pushbridge.max-events-per-second",
            "pushbridge.max-sends-per-second", "pushbridge.max-connections-per-site", "pushbridge.max-buffered-bytes",
            "pushbridge.serve", "pushbridge.public-url", "pushbridge.nodes-endpoint", "pushbridge.nodes-path",
            "pushbridge.upstream.partitions", "pushbridge.upstream.idle-timeout", "pushbridge.upstream.max-deliveries",
            "pushbridge.upstream.batch-size", "pushbridge.upstream.handle-timeout"})
    void propertyHasADescription(String name) {
        assertThat(properties).containsKey(name);
        assertThat(properties.get(name).path("description").asText()).hasSizeGreaterThan(20);
    }

    @Test
    void everyPropertyHasADescription() {
        assertThat(properties).isNotEmpty();
        properties.forEach((name, property) ->
                assertThat(property.path("description").asText()).as(name).isNotBlank());
    }

    @Test
    void defaultsAreShown() {
        assertThat(properties.get("pushbridge.port").path("defaultValue").asInt()).isEqualTo(1337);
        assertThat(properties.get("pushbridge.client-ttl").path("defaultValue").asText()).isEqualTo("3600s");
        assertThat(properties.get("pushbridge.resync-memory").path("defaultValue").asText()).isEqualTo("7d");
    }

    @Test
    void redisDefaultsAreShown() {
        assertThat(properties.get("pushbridge.redis.prefix").path("defaultValue").asText()).isEqualTo("pushbridge:");
        assertThat(properties.get("pushbridge.redis.command-timeout").path("defaultValue").asText()).isEqualTo("2s");
        assertThat(properties.get("pushbridge.redis.connect-timeout").path("defaultValue").asText()).isEqualTo("2s");
        assertThat(properties.get("pushbridge.redis.heartbeat-interval").path("defaultValue").asText()).isEqualTo("5s");
        assertThat(properties.get("pushbridge.redis.node-timeout").path("defaultValue").asText()).isEqualTo("15s");
        assertThat(properties.get("pushbridge.redis.url").has("defaultValue")).isFalse();
        assertThat(properties.get("pushbridge.redis.cluster.nodes").path("type").asText())
                .isEqualTo("java.util.List<java.lang.String>");
        // unset flake ids mean 0 without Redis and a leased pair with it: no single default
        assertThat(properties.get("pushbridge.flake-id.datacenter").has("defaultValue")).isFalse();
        assertThat(properties.get("pushbridge.flake-id.worker").path("type").asText()).isEqualTo("java.lang.Integer");
    }
}
