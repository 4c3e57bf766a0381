package io.pushbridge.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.boot.InvalidPushBridgePropertyException;
import io.pushbridge.boot.PushBridgeAutoConfiguration;
import io.pushbridge.boot.PushBridgeRedisAutoConfiguration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.core.env.Environment;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * Every bad {@code pushbridge.*} value an operator can write, one table row each, started as Spring
 * Boot starts an application: each must fail start-up (nothing is bound, nothing listens) with a
 * failure that names the exact property, as an {@link InvalidPushBridgePropertyException} (or
 * Boot's own binding failure for a value of the wrong type), described by the registered failure
 * analyzers with that property name, and without echoing a secret the value held.
 *
 * <p>To add a bad setting, add one line to {@link #settings()}.
 */
class ConfigurationBadInputTests {

    /** A Redis URL nothing listens on: connecting fails at once. */
    private static final String NO_REDIS = "redis://127.0.0.1:1";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class, PushBridgeAutoConfiguration.class))
            .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1");

    /** A valid site, which every row has unless it says otherwise. */
    private static final String DEMO = "pushbridge.sites.demo.authorizer=allow_all";

    static Stream<Setting> settings() {
        return Stream.of(
                // the gateway
                invalid("pushbridge.port", "pushbridge.port=70000"),
                invalid("pushbridge.port", "pushbridge.port=-1"),
                unbindable("pushbridge.port", "pushbridge.port=http"),
                invalid("pushbridge.host", "pushbridge.host= "),
                invalid("pushbridge.path", "pushbridge.path=socket.io"),
                invalid("pushbridge.ping-interval", "pushbridge.ping-interval=0s"),
                invalid("pushbridge.ping-timeout", "pushbridge.ping-timeout=-5s"),
                unbindable("pushbridge.ping-interval", "pushbridge.ping-interval=soon"),
                invalid("pushbridge.connect-timeout", "pushbridge.connect-timeout=0"),
                invalid("pushbridge.max-payload", "pushbridge.max-payload=10B"),
                invalid("pushbridge.max-payload", "pushbridge.max-payload=3GB"),
                unbindable("pushbridge.max-payload", "pushbridge.max-payload=lots"),
                invalid("pushbridge.max-message-size", "pushbridge.max-message-size=1B"),
                invalid("pushbridge.max-rooms-per-send", "pushbridge.max-rooms-per-send=0"),
                invalid("pushbridge.max-room-name-length", "pushbridge.max-room-name-length=0"),
                invalid("pushbridge.max-event-name-length", "pushbridge.max-event-name-length=0"),
                invalid("pushbridge.allowed-origins", "pushbridge.allowed-origins=example.com"),
                invalid("pushbridge.worker-threads", "pushbridge.worker-threads=-1"),
                invalid("pushbridge.flake-id.datacenter", "pushbridge.flake-id.datacenter=32"),
                invalid("pushbridge.flake-id.worker", "pushbridge.flake-id.worker=-1"),
                invalid("pushbridge.node-id", "pushbridge.node-id= "),
                invalid("pushbridge.static-resources", "pushbridge.static-resources=/"),
                invalid("pushbridge.event-timeout", "pushbridge.event-timeout=0s"),
                invalid("pushbridge.max-pending-events", "pushbridge.max-pending-events=0"),
                invalid("pushbridge.max-events-per-second", "pushbridge.max-events-per-second=-1"),
                invalid("pushbridge.public-url", "pushbridge.public-url=ftp://gw.example"),
                invalid("pushbridge.public-url", "pushbridge.public-url=https://user:hunter2@gw.example").secret("hunter2"),
                invalid("pushbridge.nodes-path", "pushbridge.nodes-path=/send"),
                invalid("pushbridge.client-ttl", "pushbridge.client-ttl=-5"),
                invalid("pushbridge.resync-memory", "pushbridge.resync-memory=-5s"),
                invalid("pushbridge.max-pending-per-user", "pushbridge.max-pending-per-user=0"),
                // the admin view
                invalid("pushbridge.admin.key", "pushbridge.admin.key=short-secret").secret("short-secret"),
                invalid("pushbridge.admin.path", "pushbridge.admin.path=/socket.io/admin"),
                invalid("pushbridge.admin.port", "pushbridge.admin.port=-5"),
                invalid("pushbridge.admin.max-connections", "pushbridge.admin.max-connections=0"),
                // sites
                invalid("pushbridge.sites", "pushbridge.port=0").withoutDemoSite(),
                invalid("pushbridge.sites.demo.namespace", "pushbridge.sites.demo.namespace=no-slash"),
                invalid("pushbridge.sites", "pushbridge.sites.other.authorizer=allow_all", "pushbridge.sites.other.namespace=/demo"),
                invalid("pushbridge.sites.demo.user-room-prefix", "pushbridge.sites.demo.user-room-prefix=us\u0001er_"),
                invalid("pushbridge.sites.demo.user-room-prefix", "pushbridge.max-room-name-length=5",
                        "pushbridge.sites.demo.user-room-prefix=member_"),
                invalid("pushbridge.sites.demo.api-key", "pushbridge.sites.demo.api-key="),
                invalid("pushbridge.sites.demo.api-keys[1]", "pushbridge.sites.demo.api-keys[0]=old-key-1234",
                        "pushbridge.sites.demo.api-keys[1]= "),
                invalid("pushbridge.sites.demo.auth-url", "pushbridge.sites.demo.auth-url=https://demo.example/rooms"),
                invalid("pushbridge.sites.hook.rooms", "pushbridge.sites.hook.auth-url=https://hook.example/r",
                        "pushbridge.sites.hook.rooms=lobby").withoutDemoSite(),
                invalid("pushbridge.sites.hook.auth-url", "pushbridge.sites.hook.auth-url=foo").withoutDemoSite(),
                invalid("pushbridge.sites.hook.auth-url", "pushbridge.sites.hook.auth-url=http://bad host/").withoutDemoSite(),
                invalid("pushbridge.sites.hook.auth-scheme", "pushbridge.sites.hook.auth-url=https://hook.example/r",
                        "pushbridge.sites.hook.auth-scheme=Two words").withoutDemoSite(),
                invalid("pushbridge.sites.hook.auth-timeout", "pushbridge.sites.hook.auth-url=https://hook.example/r",
                        "pushbridge.sites.hook.auth-timeout=0s").withoutDemoSite(),
                invalid("pushbridge.sites.bare.auth-url", "pushbridge.sites.bare.api-key=bare-key-1234").withoutDemoSite(),
                invalid("pushbridge.sites.fixed.tokens", "pushbridge.sites.fixed.authorizer=static").withoutDemoSite(),
                invalid("pushbridge.sites.vip.authorizer-bean", "pushbridge.sites.vip.authorizer=bean").withoutDemoSite(),
                invalid("pushbridge.sites.vip.authorizer-bean", "pushbridge.sites.vip.authorizer=bean",
                        "pushbridge.sites.vip.authorizer-bean=noSuchBean").withoutDemoSite(),
                unbindable("pushbridge.sites.demo.authorizer", "pushbridge.sites.demo.authorizer=ldap").withoutDemoSite(),
                // Redis, upstream and the Redis-driven sites
                invalid("pushbridge.redis.url", "pushbridge.redis.url=http://redis.example:6379"),
                invalid("pushbridge.redis.url", "pushbridge.redis.url=redis://app:hunter2@redis.example:notaport").secret("hunter2"),
                invalid("pushbridge.redis.url", "pushbridge.redis.url=" + NO_REDIS, "pushbridge.redis.cluster.nodes=" + NO_REDIS),
                invalid("pushbridge.redis.prefix", "pushbridge.redis.url=" + NO_REDIS, "pushbridge.redis.prefix=a b"),
                invalid("pushbridge.redis.heartbeat-interval", "pushbridge.redis.url=" + NO_REDIS,
                        "pushbridge.redis.heartbeat-interval=1ms"),
                invalid("pushbridge.redis.node-timeout", "pushbridge.redis.url=" + NO_REDIS, "pushbridge.redis.node-timeout=1s"),
                invalid("pushbridge.redis.client-name", "pushbridge.redis.url=" + NO_REDIS, "pushbridge.redis.client-name=my app"),
                invalid("pushbridge.redis.command-timeout", "pushbridge.redis.url=" + NO_REDIS, "pushbridge.redis.command-timeout=0s"),
                invalid("pushbridge.serve", "pushbridge.serve=false"),
                invalid("pushbridge.sites.demo.upstream.enabled", "pushbridge.sites.demo.upstream.enabled=true"),
                invalid("pushbridge.sites.yunity.redis-session.url", "pushbridge.sites.yunity.authorizer=redis-session")
                        .withoutDemoSite(),
                invalid("pushbridge.sites.legacy.redis-handshake.urls", "pushbridge.sites.legacy.authorizer=redis-handshake")
                        .withoutDemoSite(),
                invalid("pushbridge.sites.legacy.redis-handshake.urls[0]", "pushbridge.sites.legacy.authorizer=redis-handshake",
                        "pushbridge.sites.legacy.redis-handshake.urls=tcp://redis.example").withoutDemoSite());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settings")
    void badSettingFailsStartUpNamingTheProperty(Setting row) {
        ApplicationContextRunner configured = runner.withPropertyValues(row.properties);
        if (row.withDemoSite) {
            configured = configured.withPropertyValues(DEMO);
        }
        configured.run(context -> {
            assertThat(context).as("start-up with %s", row).hasFailed();
            Throwable failure = context.getStartupFailure();
            if (row.binding) {
                BindException bind = find(failure, BindException.class);
                assertThat(bind).as("a binding failure in %s", failure).isNotNull();
                assertThat(bind.getName().toString()).isEqualTo(row.property);
            } else {
                InvalidPushBridgePropertyException invalid = find(failure, InvalidPushBridgePropertyException.class);
                assertThat(invalid).as("an InvalidPushBridgePropertyException in %s", failure).isNotNull();
                assertThat(invalid.property()).as("the property it names (%s)", invalid.getMessage()).isEqualTo(row.property);
            }
            FailureAnalysis analysis = analyze(failure, row.properties);
            assertThat(analysis).as("a failure analysis of %s", failure).isNotNull();
            assertThat(analysis.getDescription()).as("what the operator reads").contains(row.property);
            if (row.secret != null) {
                assertThat(analysis.getDescription() + analysis.getAction() + messages(failure)).as("secrets in the failure")
                        .doesNotContain(row.secret);
            }
        });
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String messages(Throwable failure) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }

    /** What Spring Boot prints at a failed start: the first registered analyzer that recognizes the failure. */
    private static FailureAnalysis analyze(Throwable failure, String[] properties) {
        StandardEnvironment environment = new StandardEnvironment();
        TestPropertyValues.of(properties).applyTo(environment);
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation().load(FailureAnalyzer.class,
                SpringFactoriesLoader.ArgumentResolver.of(Environment.class, environment),
                (factoryType, implementationName, cause) -> {
                    // an analyzer that needs more than the environment (a bean factory) is not needed here
                });
        for (FailureAnalyzer analyzer : analyzers) {
            FailureAnalysis analysis = analyzer.analyze(failure);
            if (analysis != null) {
                return analysis;
            }
        }
        return null;
    }

    // ---- rows ----------------------------------------------------------------------------------

    static final class Setting {
        final String property;
        final String[] properties;
        final boolean binding;
        boolean withDemoSite = true;
        String secret;

        Setting(String property, boolean binding, String[] properties) {
            this.property = property;
            this.binding = binding;
            this.properties = properties;
        }

        /** The row brings its own sites (or none). */
        Setting withoutDemoSite() {
            this.withDemoSite = false;
            return this;
        }

        /** A secret in the value, which the failure must not repeat. */
        Setting secret(String secret) {
            this.secret = secret;
            return this;
        }

        @Override
        public String toString() {
            return property + " <- " + String.join(", ", properties);
        }
    }

    /** Start-up fails with an {@link InvalidPushBridgePropertyException} naming {@code property}. */
    static Setting invalid(String property, String... properties) {
        return new Setting(property, false, properties);
    }

    /** The value cannot even be bound to the property's type: Boot's binding failure names {@code property}. */
    static Setting unbindable(String property, String... properties) {
        return new Setting(property, true, properties);
    }
}
