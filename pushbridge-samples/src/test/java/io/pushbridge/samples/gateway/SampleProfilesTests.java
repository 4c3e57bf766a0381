package io.pushbridge.samples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * The sample's configuration as each profile sees it. Only the configuration files are loaded (no
 * auto-configuration, no gateway), so this also checks profiles whose authorizers come from other
 * modules.
 */
class SampleProfilesTests {

    @Test
    void withoutAProfileTheDemoSiteServesItsPage() {
        try (ConfigurableApplicationContext context = load()) {
            Environment env = context.getEnvironment();
            assertThat(env.getProperty("pushbridge.port")).isEqualTo(env("PORT", "1337"));
            assertThat(env.getProperty("pushbridge.static-resources")).isEqualTo("public");
            assertThat(env.getProperty("pushbridge.sites.demo.authorizer")).isEqualTo("static");
            assertThat(env.getProperty("pushbridge.sites.legacy.authorizer")).isNull();
        }
    }

    @Test
    void redisHandshakeStandsInForTheHandshakeService() {
        try (ConfigurableApplicationContext context = load("redis-handshake")) {
            Environment env = context.getEnvironment();
            assertThat(env.getProperty("pushbridge.port")).isEqualTo(env("SOCKETIO_PORT", "49100"));
            assertThat(env.getProperty("pushbridge.sites.legacy.namespace")).isEqualTo("/");
            assertThat(env.getProperty("pushbridge.sites.legacy.authorizer")).isEqualTo("redis-handshake");
            assertThat(env.getProperty("pushbridge.sites.legacy.user-room-prefix")).isEmpty();
            String prefix = "pushbridge.sites.legacy.redis-handshake.";
            assertThat(env.getProperty(prefix + "urls")).isEqualTo(env("SOCKETIO_REDIS_URLS", "redis://localhost:6379"));
            assertThat(env.getProperty(prefix + "event")).isEqualTo("subscribe");
            assertThat(env.getProperty(prefix + "auth-channel")).isEqualTo("socket.io:auth");
            assertThat(env.getProperty(prefix + "channel")).isEqualTo("socket.io");
            assertThat(env.getProperty(prefix + "authorize-type")).isEqualTo("authorize");
            assertNoDemo(env);
        }
    }

    @Test
    void redisSessionStandsInForTheSessionService() {
        try (ConfigurableApplicationContext context = load("redis-session")) {
            Environment env = context.getEnvironment();
            assertThat(env.getProperty("pushbridge.port")).isEqualTo(env("PORT", "5000"));
            assertThat(env.getProperty("pushbridge.path")).isEqualTo("/socket/");
            assertThat(env.getProperty("pushbridge.admin.key")).isEqualTo(env("PUSHBRIDGE_ADMIN_KEY", ""));
            assertThat(env.getProperty("pushbridge.admin.port")).isEqualTo(env("ADMIN_PORT", "5001"));
            assertThat(env.getProperty("pushbridge.sites.yunity.namespace")).isEqualTo("/");
            assertThat(env.getProperty("pushbridge.sites.yunity.authorizer")).isEqualTo("redis-session");
            assertThat(env.getProperty("pushbridge.sites.yunity.user-room-prefix")).isEqualTo("user_");
            String prefix = "pushbridge.sites.yunity.redis-session.";
            assertThat(env.getProperty(prefix + "url")).isEqualTo(env("REDIS_URL", "redis://localhost:6379"));
            assertThat(env.getProperty(prefix + "key-prefix")).isEqualTo("session-store-");
            assertThat(env.getProperty(prefix + "event")).isEqualTo("authenticate");
            assertThat(env.getProperty(prefix + "notifications-channel")).isEqualTo("notifications");
            assertThat(env.getProperty(prefix + "notifications-event")).isEqualTo("message");
            assertThat(env.getProperty(prefix + "configure-keyspace-events")).isEqualTo("false");
            assertNoDemo(env);
        }
    }

    private static void assertNoDemo(Environment env) {
        assertThat(env.getProperty("pushbridge.sites.demo.authorizer")).as("the demo site").isNull();
        assertThat(env.getProperty("pushbridge.sites.demo.api-key")).as("the demo key").isNull();
        assertThat(env.getProperty("pushbridge.static-resources")).as("the demo page").isNull();
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value != null ? value : fallback;
    }

    private static ConfigurableApplicationContext load(String... profiles) {
        return new SpringApplicationBuilder(ConfigurationOnly.class).profiles(profiles)
                .run("--spring.main.keep-alive=false", "--spring.main.banner-mode=off");
    }

    /** No auto-configuration: the context only loads the configuration files. */
    @Configuration(proxyBeanMethods = false)
    static class ConfigurationOnly {
    }
}
