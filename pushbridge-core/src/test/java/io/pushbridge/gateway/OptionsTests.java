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
}
