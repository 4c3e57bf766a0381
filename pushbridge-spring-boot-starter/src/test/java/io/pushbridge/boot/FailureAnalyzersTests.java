package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.PushBridgeException;
import java.net.BindException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.ApplicationContextException;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.support.SpringFactoriesLoader;

class FailureAnalyzersTests {

    @Test
    void invalidPropertyIsDescribedWithItsOrigin() {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test",
                Map.of("pushbridge.sites.newsite.auth-url", "foo")));
        InvalidPushBridgePropertyException invalid = new InvalidPushBridgePropertyException(
                "pushbridge.sites.newsite.auth-url", "must be an absolute http(s) URL, was 'foo'");
        FailureAnalysis analysis = new InvalidPushBridgePropertyFailureAnalyzer(environment)
                .analyze(new BeanCreationException("pushBridgeGateway", "failed", invalid));
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription())
                .contains("pushbridge.sites.newsite.auth-url is invalid: must be an absolute http(s) URL, was 'foo'")
                .contains("Origin: ");
        assertThat(analysis.getAction()).contains("pushbridge.sites.newsite.auth-url");
    }

    @Test
    void invalidPropertyWithoutOriginIsStillDescribed() {
        FailureAnalysis analysis = new InvalidPushBridgePropertyFailureAnalyzer(new StandardEnvironment())
                .analyze(new InvalidPushBridgePropertyException("pushbridge.port", "must be 0..65535, was 70000"));
        assertThat(analysis.getDescription()).contains("pushbridge.port is invalid: must be 0..65535, was 70000")
                .doesNotContain("Origin");
    }

    @Test
    void portInUseIsDescribedWithAnAction() {
        PushBridgeException bind = new PushBridgeException(
                "Could not listen on 0.0.0.0:1337 (pushbridge.port): Address already in use",
                new BindException("Address already in use"));
        FailureAnalysis analysis = new PushBridgeStartFailureAnalyzer()
                .analyze(new ApplicationContextException("Failed to start bean 'pushBridgeGatewayLifecycle'", bind));
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("0.0.0.0:1337").contains("already in use");
        assertThat(analysis.getAction()).contains("pushbridge.port");
    }

    @Test
    void unreachableRedisIsDescribedWithAnAction() {
        PushBridgeException unreachable = new PushBridgeException("Could not connect to Redis at redis://***@redis.internal:6379 "
                + "(pushbridge.redis.url): Unable to connect to redis.internal/<unresolved>:6379: Connection refused");
        FailureAnalysis analysis = new PushBridgeStartFailureAnalyzer()
                .analyze(new BeanCreationException("pushBridgeRedisConnector", "failed", unreachable));
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("redis://***@redis.internal:6379").contains("Connection refused");
        assertThat(analysis.getAction()).contains("pushbridge.redis.url").contains("in memory");
        PushBridgeException cluster = new PushBridgeException("Could not connect to Redis at redis://a:7000,redis://b:7000 "
                + "(pushbridge.redis.cluster.nodes): Connection refused");
        assertThat(new PushBridgeStartFailureAnalyzer().analyze(cluster).getAction()).contains("pushbridge.redis.cluster.nodes");
    }

    @Test
    void otherPushBridgeExceptionsAreLeftToOthers() {
        assertThat(new PushBridgeStartFailureAnalyzer().analyze(new PushBridgeException("something else"))).isNull();
        assertThat(new PushBridgeStartFailureAnalyzer()
                .analyze(new InvalidPushBridgePropertyException("pushbridge.port", "bad"))).isNull();
    }

    @Test
    void analyzersAreRegistered() {
        assertThat(SpringFactoriesLoader.forDefaultResourceLocation()
                .load(org.springframework.boot.diagnostics.FailureAnalyzer.class,
                        SpringFactoriesLoader.ArgumentResolver.of(org.springframework.core.env.Environment.class,
                                new StandardEnvironment()),
                        (factoryType, implementationName, failure) -> {
                            // others' analyzers may need more than an environment: not ours to test
                        }))
                .hasAtLeastOneElementOfType(InvalidPushBridgePropertyFailureAnalyzer.class)
                .hasAtLeastOneElementOfType(PushBridgeStartFailureAnalyzer.class);
    }
}
