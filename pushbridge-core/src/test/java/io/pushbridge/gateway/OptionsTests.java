package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.pushbridge.auth.AllowAllAuthorizer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Options fail fast, naming the bad setting and its value. */
class OptionsTests {

    private static final AllowAllAuthorizer ALLOW = new AllowAllAuthorizer(Set.of());

    @Test
    void defaultsMatchTheDocumentation() {
        GatewayOptions o = GatewayOptions.builder().build();
        assertThat(o.port()).isEqualTo(1337);
        assertThat(o.path()).isEqualTo("/socket.io");
        assertThat(o.pingInterval()).isEqualTo(Duration.ofSeconds(25));
        assertThat(o.pingTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(o.connectTimeout()).isEqualTo(Duration.ofSeconds(45));
        assertThat(o.websocketCompression()).isFalse();
        assertThat(o.toBuilder().build().toString()).isEqualTo(o.toString());
    }

    @Test
    void badGatewaySettingsAreNamed() {
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().port(70000).build())
                .withMessageContaining("port").withMessageContaining("70000");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().path("socket.io").build())
                .withMessageContaining("path");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().pingInterval(Duration.ZERO).build())
                .withMessageContaining("pingInterval");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().maxPayload(10).build())
                .withMessageContaining("maxPayload");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().allowedOrigins(List.of("evil")).build())
                .withMessageContaining("allowedOrigins").withMessageContaining("evil");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().datacenterId(32).build())
                .withMessageContaining("datacenterId");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().workerId(-1).build())
                .withMessageContaining("workerId");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().staticResources("/").build())
                .withMessageContaining("staticResources");
    }

    @Test
    void badSiteSettingsAreNamed() {
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("bad name").authorizer(ALLOW).build())
                .withMessageContaining("bad name");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("s").build())
                .withMessageContaining("authorizer");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("s").authorizer(ALLOW).namespace("x").build())
                .withMessageContaining("namespace");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("s").authorizer(ALLOW).apiKey(" ").build())
                .withMessageContaining("api keys");
        assertThatIllegalArgumentException().isThrownBy(() -> SiteOptions.builder("s").authorizer(ALLOW).userRoomPrefix("u\n").build())
                .withMessageContaining("userRoomPrefix");
    }

    @Test
    void siteKeysAreComparedByValueAndNeverShown() {
        SiteOptions site = SiteOptions.builder("s").authorizer(ALLOW).apiKey("old-secret").apiKey("new-secret").build();
        assertThat(site.acceptsApiKey("old-secret")).isTrue();
        assertThat(site.acceptsApiKey("new-secret")).isTrue();
        assertThat(site.acceptsApiKey("new-secre")).isFalse();
        assertThat(site.acceptsApiKey("")).isFalse();
        assertThat(site.toString()).doesNotContain("secret");
        assertThat(site.namespace()).isEqualTo("/s");
    }

    @Test
    void userRoomsAreThoseWithThePrefixAndMore() {
        SiteOptions site = SiteOptions.builder("s").authorizer(ALLOW).build();
        assertThat(site.isUserRoom("user_1")).isTrue();
        assertThat(site.isUserRoom("user_")).isFalse();
        assertThat(site.isUserRoom("staff")).isFalse();
        SiteOptions none = SiteOptions.builder("t").authorizer(ALLOW).userRoomPrefix("").build();
        assertThat(none.isUserRoom("user_1")).isFalse();
    }

    @Test
    void twoSitesOnOneNamespaceAreRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> PushBridgeGateway.builder()
                .site(SiteOptions.builder("a").authorizer(ALLOW).namespace("/x").build())
                .site(SiteOptions.builder("b").authorizer(ALLOW).namespace("/x").build())
                .build()).withMessageContaining("/x");
        assertThatIllegalArgumentException().isThrownBy(() -> PushBridgeGateway.builder().build())
                .withMessageContaining("site");
    }

    @Test
    void aPathWithATrailingSlashIsTakenAsClientsWriteIt() {
        assertThat(GatewayOptions.builder().path("/socket/").build().path()).isEqualTo("/socket");
        assertThat(GatewayOptions.builder().path("/socket").build().path()).isEqualTo("/socket");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().path("/").build())
                .withMessageContaining("path");
    }

    @Test
    void badEventAndAdminSettingsAreNamed() {
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().eventTimeout(Duration.ZERO).build())
                .withMessageContaining("eventTimeout");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().maxPendingEvents(0).build())
                .withMessageContaining("maxPendingEvents");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().adminKey("short").build())
                .withMessageContaining("adminKey").withMessageNotContaining("short");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().adminPath("/socket.io/admin").build())
                .withMessageContaining("adminPath");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().adminPort(-2).build())
                .withMessageContaining("adminPort");
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().adminMaxConnections(0).build())
                .withMessageContaining("adminMaxConnections");
        GatewayOptions on = GatewayOptions.builder().adminKey("0123456789abcdef").build();
        assertThat(on.adminEnabled()).isTrue();
        assertThat(on.toString()).doesNotContain("0123456789abcdef");
    }

    @Test
    void adminPageAndQueueInspectorSettingsAreCheckedAndNamed() {
        GatewayOptions defaults = GatewayOptions.builder().build();
        assertThat(defaults.adminPagePath()).isEqualTo("/pushbridge/admin");
        assertThat(defaults.queueInspector()).isFalse();
        assertThat(defaults.toString()).contains("queueInspector=off");
        for (String path : List.of("admin", "/admin/", "/", "/socket.io/admin", "/socket.io", "/a//b", "/a?b",
                GatewayOptions.DEFAULT_ADMIN_PATH, "/pushbridge/nodes", "/send", "/config.js")) {
            assertThatIllegalArgumentException().as(path).isThrownBy(() -> GatewayOptions.builder().adminPagePath(path).build())
                    .withMessageContaining("adminPagePath").withMessageContaining(path);
        }
        for (String adminPath : List.of("/ops", "/ops/", "/ops/overview", "/ops/queue", "/ops/queue/purge", "/ops/admin.js",
                "/ops/favicon.svg")) {
            assertThatIllegalArgumentException().as(adminPath)
                    .isThrownBy(() -> GatewayOptions.builder().adminPagePath("/ops").adminPath(adminPath).build());
        }
        assertThatIllegalArgumentException().isThrownBy(() -> GatewayOptions.builder().adminPagePath("/ops").nodesPath("/ops/queue").build())
                .withMessageContaining("adminPagePath");
        GatewayOptions custom = GatewayOptions.builder().adminKey("0123456789abcdef").adminPagePath("/ops")
                .adminPath("/ops/connections").queueInspector(true).build();
        assertThat(custom.toBuilder().build().toString()).isEqualTo(custom.toString())
                .contains("admin=/ops/connections and page /ops/", "queueInspector=on");
    }

    @Test
    void publicUrlAndNodesEndpointSettingsAreCheckedAndNamed() {
        GatewayOptions defaults = GatewayOptions.builder().build();
        assertThat(defaults.publicUrl()).isNull();
        assertThat(defaults.nodesEndpoint()).isTrue();
        assertThat(defaults.nodesPath()).isEqualTo("/pushbridge/nodes");
        for (String url : List.of("https://io1.example.com", "http://33.33.33.10:8081", "wss://io1.example.com:8443",
                "HTTP://io1.example.com/")) {
            assertThat(GatewayOptions.builder().publicUrl(url).build().publicUrl()).isEqualTo(url);
        }
        for (String url : List.of("io1.example.com", "ftp://io1.example.com", "https://io1.example.com/?a=1",
                "https://io1.example.com#x", "https://user:pw@io1.example.com", "http:///path", "https://io1 example.com",
                "https://io1.example.com?")) {
            assertThatIllegalArgumentException().as(url).isThrownBy(() -> GatewayOptions.builder().publicUrl(url).build())
                    .withMessageContaining("publicUrl");
        }
        assertThatIllegalArgumentException()
                .isThrownBy(() -> GatewayOptions.builder().publicUrl("https://io1.example.com").serve(false).build())
                .withMessageContaining("publicUrl").withMessageContaining("serve=false");
        // a refused URL's credentials are not repeated in the message
        assertThatIllegalArgumentException()
                .isThrownBy(() -> GatewayOptions.builder().publicUrl("https://user:s3cret@io1.example.com").build())
                .withMessageContaining("https://***@io1.example.com").withMessageNotContaining("s3cret");
        for (String path : List.of("nodes", "/nodes/", "/socket.io/nodes", "/config.js", "/send",
                GatewayOptions.DEFAULT_ADMIN_PATH)) {
            assertThatIllegalArgumentException().as(path).isThrownBy(() -> GatewayOptions.builder().nodesPath(path).build())
                    .withMessageContaining("nodesPath").withMessageContaining(path);
        }
        GatewayOptions custom = GatewayOptions.builder().publicUrl("https://io1.example.com").nodesEndpoint(false)
                .nodesPath("/io/nodes").build();
        assertThat(custom.toBuilder().build().toString()).isEqualTo(custom.toString())
                .contains("publicUrl=https://io1.example.com", "nodesEndpoint=off");
        assertThat(custom.nodesPath()).isEqualTo("/io/nodes");
    }
}
