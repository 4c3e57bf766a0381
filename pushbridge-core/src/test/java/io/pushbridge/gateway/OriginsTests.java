package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Allowed origins: the entries, the matching, a site's list against the gateway's. */
class OriginsTests {

    @Test
    void exactOriginsMatchWithoutRegardToCaseAndWithDefaultPorts() {
        Origins origins = Origins.of(List.of("https://App.Example", "http://localhost:8080"));
        assertThat(origins.allows("https://app.example")).isTrue();
        assertThat(origins.allows("HTTPS://APP.EXAMPLE")).isTrue();
        assertThat(origins.allows("https://app.example:443")).isTrue();
        assertThat(origins.allows("http://localhost:8080")).isTrue();
        assertThat(origins.allows("http://app.example")).as("another scheme").isFalse();
        assertThat(origins.allows("https://app.example:8443")).as("another port").isFalse();
        assertThat(origins.allows("http://localhost")).isFalse();
        assertThat(origins.allows("https://evil.app.example")).isFalse();
        assertThat(origins.allows("https://app.example.evil")).isFalse();
        assertThat(origins.allows("https://app.example/path")).isFalse();
        assertThat(origins.allows("null")).isFalse();
        assertThat(origins.allows("")).isFalse();
        assertThat(origins.allows("https://user@app.example")).isFalse();
    }

    @Test
    void wildcardMatchesSubdomainsOnly() {
        Origins origins = Origins.of(List.of("https://*.example.com"));
        assertThat(origins.allows("https://a.example.com")).isTrue();
        assertThat(origins.allows("https://a.b.example.com")).isTrue();
        assertThat(origins.allows("https://example.com")).isFalse();
        assertThat(origins.allows("https://badexample.com")).isFalse();
        assertThat(origins.allows("http://a.example.com")).isFalse();
    }

    @Test
    void anEmptyListOrAStarAllowsAnything() {
        assertThat(Origins.of(List.of()).allows("null")).isTrue();
        assertThat(Origins.of(List.of("https://a.example", "*")).allows("https://b.example")).isTrue();
    }

    @Test
    void badEntriesAreRefused() {
        for (String bad : List.of("app.example", "ftp://app.example", "https://", "https://app.example/", "https://a b",
                "https://app.example:0", "https://app.example:99999", "https://*.", "https://user@app.example", "*.example.com")) {
            assertThat(Origins.valid(bad)).as(bad).isFalse();
        }
        assertThat(Origins.valid("https://[::1]:8443")).isTrue();
        // a wildcard over a top-level domain would admit every site under it
        for (String tld : List.of("https://*.com", "http://*.localhost:8080", "https://*.COM")) {
            assertThat(Origins.valid(tld)).as(tld).isFalse();
        }
        assertThatThrownBy(() -> GatewayOptions.builder().allowedOrigins(List.of("https://*.com")).build())
                .hasMessageContaining("two labels or more").hasMessageContaining("'https://*.com'");
        assertThatThrownBy(() -> SiteOptions.builder("s").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .allowedOrigins(List.of("https://*.org")).build()).hasMessageContaining("was 'https://*.org'");
        // a two-label public suffix is allowed (warned about): no public-suffix list to tell it from example.com
        assertThat(Origins.valid("https://*.co.uk")).isTrue();
        assertThat(Origins.looksLikePublicSuffix("co.uk")).isTrue();
        assertThat(Origins.looksLikePublicSuffix("com.au")).isTrue();
        assertThat(Origins.looksLikePublicSuffix("example.com")).isFalse();
        assertThat(Origins.looksLikePublicSuffix("app.example.co.uk")).isFalse();
        assertThatThrownBy(() -> SiteOptions.builder("s").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .allowedOrigins(List.of("app.example")).build())
                .hasMessage("site 's': allowedOrigins entries must look like scheme://host[:port], scheme://*.domain[:port]"
                        + " (a domain of two labels or more) or *, was 'app.example'");
        assertThatThrownBy(() -> GatewayOptions.builder().allowedOrigins(List.of("https://app.example/")).build())
                .hasMessageStartingWith("allowedOrigins entries must look like");
    }

    @Test
    void aSiteListReplacesTheGatewayListAndTheHandshakeAdmitsTheirUnion() {
        GatewayOptions gateway = GatewayOptions.builder().allowedOrigins(List.of("https://app.example")).build();
        SiteOptions own = SiteOptions.builder("own").authorizer(TestGateways.ROOMS_FROM_TOKEN)
                .allowedOrigins(List.of("https://own.example")).build();
        SiteOptions inherits = SiteOptions.builder("inherits").authorizer(TestGateways.ROOMS_FROM_TOKEN).build();
        Origins ownOrigins = Origins.forSite(own, gateway);
        Origins inherited = Origins.forSite(inherits, gateway);
        assertThat(ownOrigins.allows("https://own.example")).isTrue();
        assertThat(ownOrigins.allows("https://app.example")).isFalse();
        assertThat(inherited.allows("https://app.example")).isTrue();
        Origins union = Origins.union(List.of(ownOrigins, inherited));
        assertThat(union.allows("https://own.example")).isTrue();
        assertThat(union.allows("https://app.example")).isTrue();
        assertThat(union.allows("https://evil.example")).isFalse();
        assertThat(Origins.union(List.of(ownOrigins, Origins.ANY)).allowsAny()).isTrue();
    }
}
