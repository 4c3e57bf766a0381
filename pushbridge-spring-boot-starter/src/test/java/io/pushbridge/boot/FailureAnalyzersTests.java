package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.PushBridgeException;
import java.beans.PropertyDescriptor;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.BindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.Environment;
import org.springframework.util.unit.DataSize;
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
    void anAdminPortInUseNamesItsOwnProperty() {
        PushBridgeException bind = new PushBridgeException("Could not listen on 0.0.0.0:9090 for the admin view "
                + "(pushbridge.admin.port): Address already in use", new BindException("Address already in use"));
        FailureAnalysis analysis = new PushBridgeStartFailureAnalyzer()
                .analyze(new ApplicationContextException("Failed to start bean 'pushBridgeGatewayLifecycle'", bind));
        assertThat(analysis.getDescription()).contains("0.0.0.0:9090");
        assertThat(analysis.getAction()).contains("set pushbridge.admin.port to another port").doesNotContain("pushbridge.port ");
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

    // ---- every property: a bad value fails start-up with an analysis naming it --------------------

    private static final String[] DEMO_SITE = {
            "pushbridge.auto-startup=false",
            "pushbridge.sites.demo.authorizer=static",
            "pushbridge.sites.demo.tokens.alice=user_alice",
            "pushbridge.sites.demo.api-key=demo-key"};

    private static final ApplicationContextRunner RUNNER = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class, PushBridgeRedisAutoConfiguration.class));

    /**
     * Every leaf property under {@code pushbridge.}, found by walking {@link PushBridgeProperties}
     * (a site's as {@code sites.demo.*}), with its Java type: new properties are covered as they land.
     */
    static Map<String, Class<?>> leafProperties() {
        Map<String, Class<?>> out = new TreeMap<>();
        walk(PushBridgeProperties.class, "pushbridge", out);
        return out;
    }

    private static void walk(Class<?> type, String prefix, Map<String, Class<?>> out) {
        for (PropertyDescriptor property : BeanUtils.getPropertyDescriptors(type)) {
            Method getter = property.getReadMethod();
            if (getter == null || property.getName().equals("class")) {
                continue;
            }
            String name = prefix + "." + kebab(property.getName());
            Class<?> valueType = property.getPropertyType();
            if (Map.class.isAssignableFrom(valueType)) {
                Type generic = getter.getGenericReturnType();
                Type value = ((ParameterizedType) generic).getActualTypeArguments()[1];
                if (value instanceof Class<?> nested && nested.getName().startsWith("io.pushbridge")) {
                    walk(nested, name + ".demo", out);
                } else {
                    out.put(name + ".key", Map.class);
                }
            } else if (valueType.getName().startsWith("io.pushbridge") && !valueType.isEnum()) {
                walk(valueType, name, out);
            } else {
                out.put(name, valueType);
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** The analysis Spring Boot reports for a failed start-up: the first analyzer's that has one. */
    private static FailureAnalysis analysis(Throwable failure) {
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation().load(FailureAnalyzer.class,
                SpringFactoriesLoader.ArgumentResolver.of(Environment.class, new StandardEnvironment()),
                (factoryType, implementationName, f) -> {
                    // analyzers that need more than an environment are left out
                });
        for (FailureAnalyzer analyzer : analyzers) {
            FailureAnalysis analysis = analyzer.analyze(failure);
            if (analysis != null) {
                return analysis;
            }
        }
        return null;
    }

    static Stream<Arguments> convertibleProperties() {
        List<Arguments> out = new ArrayList<>();
        leafProperties().forEach((name, type) -> {
            if (type.isPrimitive() || Number.class.isAssignableFrom(type) || type == Boolean.class || type == Duration.class
                    || type == DataSize.class || type.isEnum()) {
                out.add(Arguments.of(name));
            }
        });
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("convertibleProperties")
    void aValueOfTheWrongTypeFailsStartUpNamingTheProperty(String property) {
        RUNNER.withPropertyValues(DEMO_SITE).withPropertyValues(property + "=not-a-value").run(context -> {
            assertThat(context).as(property).hasFailed();
            FailureAnalysis analysis = analysis(context.getStartupFailure());
            assertThat(analysis).as("an analysis of %s", context.getStartupFailure()).isNotNull();
            assertThat(analysis.getDescription()).contains(property);
        });
    }

    /**
     * Values out of range, one per property with a range, each with the property its failure must
     * name: checked when the beans are made (with {@code auto-startup=false} nothing starts), so that
     * no bad value waits for its first use. The Redis ones point at a Redis that is not there: the
     * value must be refused before any connection is tried.
     */
    static Stream<Arguments> outOfRange() {
        return Stream.of(
                Arguments.of("pushbridge.host= ", "pushbridge.host"),
                Arguments.of("pushbridge.port=-1", "pushbridge.port"),
                Arguments.of("pushbridge.path=/", "pushbridge.path"),
                Arguments.of("pushbridge.ping-interval=0s", "pushbridge.ping-interval"),
                Arguments.of("pushbridge.ping-timeout=-1s", "pushbridge.ping-timeout"),
                Arguments.of("pushbridge.connect-timeout=0s", "pushbridge.connect-timeout"),
                Arguments.of("pushbridge.max-payload=1B", "pushbridge.max-payload"),
                Arguments.of("pushbridge.max-message-size=1B", "pushbridge.max-message-size"),
                Arguments.of("pushbridge.max-rooms-per-send=0", "pushbridge.max-rooms-per-send"),
                Arguments.of("pushbridge.max-room-name-length=0", "pushbridge.max-room-name-length"),
                Arguments.of("pushbridge.max-event-name-length=0", "pushbridge.max-event-name-length"),
                Arguments.of("pushbridge.allowed-origins=https://example.com/path", "pushbridge.allowed-origins"),
                Arguments.of("pushbridge.sites.demo.allowed-origins=example.com", "pushbridge.sites.demo.allowed-origins"),
                Arguments.of("pushbridge.tls.key-store-password=x", "pushbridge.tls.key-store-password"),
                Arguments.of("pushbridge.worker-threads=-2", "pushbridge.worker-threads"),
                Arguments.of("pushbridge.node-id= ", "pushbridge.node-id"),
                Arguments.of("pushbridge.static-resources=/", "pushbridge.static-resources"),
                Arguments.of("pushbridge.client-ttl=-1s", "pushbridge.client-ttl"),
                Arguments.of("pushbridge.max-pending-per-user=0", "pushbridge.max-pending-per-user"),
                Arguments.of("pushbridge.flake-id.datacenter=32", "pushbridge.flake-id.datacenter"),
                Arguments.of("pushbridge.flake-id.worker=-1", "pushbridge.flake-id.worker"),
                Arguments.of("pushbridge.event-timeout=0s", "pushbridge.event-timeout"),
                Arguments.of("pushbridge.max-pending-events=0", "pushbridge.max-pending-events"),
                Arguments.of("pushbridge.max-events-per-second=-1", "pushbridge.max-events-per-second"),
                Arguments.of("pushbridge.max-sends-per-second=-1", "pushbridge.max-sends-per-second"),
                Arguments.of("pushbridge.max-connections-per-site=-1", "pushbridge.max-connections-per-site"),
                Arguments.of("pushbridge.max-buffered-bytes=1B", "pushbridge.max-buffered-bytes"),
                Arguments.of("pushbridge.sites.demo.limits.max-message-size=1B", "pushbridge.sites.demo.limits.max-message-size"),
                Arguments.of("pushbridge.sites.demo.limits.max-rooms-per-send=0",
                        "pushbridge.sites.demo.limits.max-rooms-per-send"),
                Arguments.of("pushbridge.sites.demo.limits.max-room-name-length=0",
                        "pushbridge.sites.demo.limits.max-room-name-length"),
                Arguments.of("pushbridge.sites.demo.limits.max-event-name-length=0",
                        "pushbridge.sites.demo.limits.max-event-name-length"),
                Arguments.of("pushbridge.sites.demo.limits.max-sends-per-second=-1",
                        "pushbridge.sites.demo.limits.max-sends-per-second"),
                Arguments.of("pushbridge.sites.demo.limits.max-connections=-1", "pushbridge.sites.demo.limits.max-connections"),
                Arguments.of("pushbridge.sites.demo.limits.max-events-per-second=-1",
                        "pushbridge.sites.demo.limits.max-events-per-second"),
                Arguments.of("pushbridge.sites.demo.limits.max-buffered-bytes=1B",
                        "pushbridge.sites.demo.limits.max-buffered-bytes"),
                Arguments.of("pushbridge.shutdown-timeout=0s", "pushbridge.shutdown-timeout"),
                Arguments.of("pushbridge.reconnect-spread=-1s", "pushbridge.reconnect-spread"),
                Arguments.of("pushbridge.serve=false", "pushbridge.serve"),
                Arguments.of("pushbridge.public-url=ftp://gw.example", "pushbridge.public-url"),
                Arguments.of("pushbridge.nodes-path=/send", "pushbridge.nodes-path"),
                Arguments.of("pushbridge.admin.key=too-short", "pushbridge.admin.key"),
                Arguments.of("pushbridge.admin.path=admin", "pushbridge.admin.path"),
                Arguments.of("pushbridge.admin.port=-2", "pushbridge.admin.port"),
                Arguments.of("pushbridge.admin.max-connections=0", "pushbridge.admin.max-connections"),
                Arguments.of("pushbridge.sites.demo.namespace=demo", "pushbridge.sites.demo.namespace"),
                Arguments.of("pushbridge.sites.demo.api-key= ", "pushbridge.sites.demo.api-key"),
                Arguments.of("pushbridge.sites.demo.api-keys[0]= ", "pushbridge.sites.demo.api-keys[0]"),
                Arguments.of("pushbridge.sites.demo.user-room-prefix=us\u0001er", "pushbridge.sites.demo.user-room-prefix"),
                Arguments.of("pushbridge.sites.demo.auth-url=https://a.example/r", "pushbridge.sites.demo.auth-url"),
                Arguments.of("pushbridge.sites.demo.rooms=lobby", "pushbridge.sites.demo.rooms"),
                Arguments.of("pushbridge.sites.demo.authorizer-bean=mine", "pushbridge.sites.demo.authorizer-bean"),
                Arguments.of("pushbridge.sites.demo.redis-handshake.urls=redis://127.0.0.1:1",
                        "pushbridge.sites.demo.redis-handshake.urls"),
                Arguments.of("pushbridge.sites.demo.redis-session.url=redis://127.0.0.1:1",
                        "pushbridge.sites.demo.redis-session.url"),
                Arguments.of("pushbridge.redis.url=http://127.0.0.1:1", "pushbridge.redis.url"),
                Arguments.of("pushbridge.redis.cluster.nodes=http://127.0.0.1:1", "pushbridge.redis.cluster.nodes"));
    }

    @ParameterizedTest
    @MethodSource("outOfRange")
    void aValueOutOfRangeFailsStartUpNamingTheProperty(String setting, String property) {
        RUNNER.withPropertyValues(DEMO_SITE).withPropertyValues(setting).run(context -> {
            assertThat(context).as(setting).hasFailed();
            FailureAnalysis analysis = analysis(context.getStartupFailure());
            assertThat(analysis).as("an analysis of %s", context.getStartupFailure()).isNotNull();
            assertThat(analysis.getDescription()).as(setting).contains("the property " + property);
        });
    }

    /** The Redis settings, with Redis configured (at an address where nothing listens): refused before connecting. */
    static Stream<Arguments> redisOutOfRange() {
        return Stream.of(
                Arguments.of("pushbridge.redis.command-timeout=0s", "pushbridge.redis.command-timeout"),
                Arguments.of("pushbridge.redis.connect-timeout=-1s", "pushbridge.redis.connect-timeout"),
                Arguments.of("pushbridge.redis.heartbeat-interval=0s", "pushbridge.redis.heartbeat-interval"),
                Arguments.of("pushbridge.redis.node-timeout=1s", "pushbridge.redis.node-timeout"),
                Arguments.of("pushbridge.redis.client-name=two words", "pushbridge.redis.client-name"),
                Arguments.of("pushbridge.redis.prefix=a{b", "pushbridge.redis.prefix"),
                Arguments.of("pushbridge.redis.cluster.nodes=redis://127.0.0.1:2", "pushbridge.redis.url"));
    }

    @ParameterizedTest
    @MethodSource("redisOutOfRange")
    void aRedisValueOutOfRangeFailsStartUpBeforeAnyConnection(String setting, String property) {
        RUNNER.withPropertyValues(DEMO_SITE).withPropertyValues("pushbridge.redis.url=redis://127.0.0.1:1", setting)
                .run(context -> {
                    assertThat(context).as(setting).hasFailed();
                    FailureAnalysis analysis = analysis(context.getStartupFailure());
                    assertThat(analysis).as("an analysis of %s", context.getStartupFailure()).isNotNull();
                    assertThat(analysis.getDescription()).as(setting).contains("the property " + property + " is invalid");
                });
    }

    @Test
    void aSiteNameThatNeedsBracketsIsNamedWithThemAndItsOriginFound() {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test",
                Map.of("pushbridge.sites[news.example].auth-url", "foo")));
        FailureAnalysis analysis = new InvalidPushBridgePropertyFailureAnalyzer(environment).analyze(
                new InvalidPushBridgePropertyException("pushbridge.sites[news.example].auth-url", "must be an absolute URL"));
        assertThat(analysis.getDescription()).contains("pushbridge.sites[news.example].auth-url is invalid")
                .contains("Origin: ");
    }

    @Test
    void theWalkFindsNestedSiteProperties() {
        assertThat(leafProperties()).containsKeys("pushbridge.port", "pushbridge.redis.cluster.nodes",
                "pushbridge.sites.demo.auth-timeout", "pushbridge.sites.demo.redis-session.configure-keyspace-events",
                "pushbridge.sites.demo.upstream.max-length", "pushbridge.shutdown-timeout");
    }
}
