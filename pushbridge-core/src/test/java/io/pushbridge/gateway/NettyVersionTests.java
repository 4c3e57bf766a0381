package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.Version;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * netty-socketio is built on Netty 4.1; PushBridge runs it on the one Netty 4.2 line that Lettuce
 * and Spring Boot use (the parent POM pins it). The integration tests exercise netty-socketio's
 * paths on it; this test proves that only that line is on the classpath.
 */
class NettyVersionTests {

    @Test
    void everyNettyArtifactOnTheClasspathIsOneFourPointTwoVersion() {
        Map<String, Version> versions = Version.identify();
        assertThat(versions).containsKeys("netty-common", "netty-buffer", "netty-transport", "netty-handler", "netty-codec-http");
        Set<String> distinct = versions.values().stream().map(Version::artifactVersion).collect(Collectors.toSet());
        assertThat(distinct).hasSize(1);
        assertThat(distinct.iterator().next()).startsWith("4.2.");
    }
}
