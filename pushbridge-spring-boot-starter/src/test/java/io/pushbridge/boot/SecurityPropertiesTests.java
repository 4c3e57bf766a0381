package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.auth.WebhookAuthorizer;
import io.pushbridge.gateway.GatewayOptions;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.SiteOptions;
import io.pushbridge.gateway.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The security properties (pushbridge.tls.*, secrets from files, allowed origins per site, the
 * webhook authorizer's protections) reach core, and every bad value fails start-up naming its
 * property, never showing a secret. No port is bound.
 */
class SecurityPropertiesTests {

    private static final String[] SITE = {
            "pushbridge.auto-startup=false",
            "pushbridge.sites.demo.authorizer=static",
            "pushbridge.sites.demo.tokens.alice=user_alice"};

    @TempDir
    static Path dir;
    static TestCertificates.Generated cert;

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class)).withPropertyValues(SITE);

    @BeforeAll
    static void certificate() throws Exception {
        cert = TestCertificates.generate(dir, "starter");
    }

    // ---- TLS ------------------------------------------------------------------------------------

    @Test
    void pemFilesTurnTlsOn() {
        runner.withPropertyValues("pushbridge.tls.certificate=" + cert.certificatePem(),
                "pushbridge.tls.private-key=" + cert.privateKeyPem(), "pushbridge.tls.protocols=TLSv1.3").run(context -> {
                    GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
                    assertThat(options.tls()).isNotNull();
                    assertThat(options.tls().certificate()).isEqualTo(cert.certificate());
                    assertThat(options.tls().protocols()).containsExactly("TLSv1.3");
                });
        runner.run(context -> assertThat(context.getBean(PushBridgeGateway.class).options().tls()).isNull());
    }

    @Test
    void aKeyStoreWithItsPasswordFromAFileTurnsTlsOn() throws Exception {
        Path password = Files.writeString(dir.resolve("store-password.txt"), TestCertificates.PASSWORD + "\n");
        runner.withPropertyValues("pushbridge.tls.key-store=" + cert.keyStore(),
                "pushbridge.tls.key-store-password-file=" + password).run(context -> {
                    GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
                    assertThat(options.tls().certificate()).isEqualTo(cert.certificate());
                    assertThat(options.toString()).doesNotContain(TestCertificates.PASSWORD);
                });
    }

    @Test
    void aKeyEntrysOwnPasswordComesFromAFile() throws Exception {
        Path jks = TestCertificates.copyStore(cert, dir.resolve("entry.jks"), "JKS", "jks-store-pass", "jks-key-pass-41");
        Path keyPassword = Files.writeString(dir.resolve("key-password.txt"), "jks-key-pass-41\n");
        runner.withPropertyValues("pushbridge.tls.key-store=" + jks, "pushbridge.tls.key-store-type=JKS",
                "pushbridge.tls.key-store-password=jks-store-pass", "pushbridge.tls.key-password-file=" + keyPassword)
                .run(context -> {
                    GatewayOptions options = context.getBean(PushBridgeGateway.class).options();
                    assertThat(options.tls().certificate()).isEqualTo(cert.certificate());
                    assertThat(options.toString()).doesNotContain("jks-key-pass-41");
                });
        assertFailure("pushbridge.tls.key-password-file: conflicts with pushbridge.tls.key-password",
                "pushbridge.tls.key-store=" + jks, "pushbridge.tls.key-store-type=JKS",
                "pushbridge.tls.key-store-password=jks-store-pass", "pushbridge.tls.key-password=jks-key-pass-41",
                "pushbridge.tls.key-password-file=" + keyPassword);
        assertFailure("pushbridge.tls.key-password-file: is set, but TLS is off", "pushbridge.tls.key-password-file=" + keyPassword);
        Path wrong = Files.writeString(dir.resolve("wrong-key-password.txt"), "wrong-key-pass-42");
        runner.withPropertyValues("pushbridge.tls.key-store=" + jks, "pushbridge.tls.key-store-type=JKS",
                "pushbridge.tls.key-store-password=jks-store-pass", "pushbridge.tls.key-password-file=" + wrong)
                .run(context -> {
                    assertThat(failure(context).getMessage()).startsWith("pushbridge.tls.key-password-file:")
                            .doesNotContain("wrong-key-pass-42");
                });
    }

    @Test
    void aByteOrderMarkAtTheStartOfASecretFileIsNotPartOfTheSecret() throws Exception {
        Path password = Files.writeString(dir.resolve("bom-store-password.txt"), "\uFEFF" + TestCertificates.PASSWORD + "\r\n");
        runner.withPropertyValues("pushbridge.tls.key-store=" + cert.keyStore(),
                "pushbridge.tls.key-store-password-file=" + password).run(context ->
                        assertThat(context.getBean(PushBridgeGateway.class).options().tls()).isNotNull());
        Path adminKey = Files.writeString(dir.resolve("bom-admin-key"), "\uFEFFadmin-key-with-bom-0123\n");
        Path apiKeys = Files.writeString(dir.resolve("bom-api-keys"), "\uFEFFbom-key-1\nbom-key-2\n");
        runner.withPropertyValues("pushbridge.admin.key-file=" + adminKey, "pushbridge.sites.demo.api-key-file=" + apiKeys)
                .run(context -> {
                    PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                    assertThat(gateway.options().adminKey()).isEqualTo("admin-key-with-bom-0123");
                    assertThat(gateway.sites().get("demo").acceptsApiKey("bom-key-1")).isTrue();
                    assertThat(gateway.sites().get("demo").acceptsApiKey("bom-key-2")).isTrue();
                });
    }

    @Test
    void badTlsSettingsNameTheProperty() throws Exception {
        Path missing = dir.resolve("missing.pem");
        assertFailure("pushbridge.tls.certificate: cannot be read: " + missing,
                "pushbridge.tls.certificate=" + missing, "pushbridge.tls.private-key=" + cert.privateKeyPem());
        assertFailure("pushbridge.tls.private-key: is required with tls.certificate",
                "pushbridge.tls.certificate=" + cert.certificatePem());
        Path otherKey = Files.writeString(dir.resolve("other.pem"), TestCertificates.pem("PRIVATE KEY",
                java.security.KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate().getEncoded()));
        assertFailure("pushbridge.tls.private-key: does not match the certificate",
                "pushbridge.tls.certificate=" + cert.certificatePem(), "pushbridge.tls.private-key=" + otherKey);
        assertFailure("pushbridge.tls.key-store-password: does not open",
                "pushbridge.tls.key-store=" + cert.keyStore(), "pushbridge.tls.key-store-password=wrong-pass-31");
        Path wrong = Files.writeString(dir.resolve("wrong-password.txt"), "wrong-pass-32");
        assertFailure("pushbridge.tls.key-store-password-file: does not open",
                "pushbridge.tls.key-store=" + cert.keyStore(), "pushbridge.tls.key-store-password-file=" + wrong);
        assertFailure("pushbridge.tls.key-store-password: is required with tls.key-store",
                "pushbridge.tls.key-store=" + cert.keyStore());
        assertFailure("pushbridge.tls.key-store: conflicts with tls.certificate",
                "pushbridge.tls.key-store=" + cert.keyStore(), "pushbridge.tls.key-store-password=x",
                "pushbridge.tls.certificate=" + cert.certificatePem(), "pushbridge.tls.private-key=" + cert.privateKeyPem());
        assertFailure("pushbridge.tls.key-store-password: is set, but TLS is off", "pushbridge.tls.key-store-password=x");
        assertFailure("pushbridge.tls.key-store-type: must be PKCS12 or JKS", "pushbridge.tls.key-store=" + cert.keyStore(),
                "pushbridge.tls.key-store-password=x", "pushbridge.tls.key-store-type=PEM");
        assertFailure("pushbridge.tls.protocols: must be TLSv1.3 and/or TLSv1.2",
                "pushbridge.tls.certificate=" + cert.certificatePem(), "pushbridge.tls.private-key=" + cert.privateKeyPem(),
                "pushbridge.tls.protocols=TLSv1");
        runner.withPropertyValues("pushbridge.tls.key-store=" + cert.keyStore(),
                "pushbridge.tls.key-store-password=wrong-pass-31").run(context ->
                        assertThat(failure(context).getMessage()).doesNotContain("wrong-pass-31"));
    }

    // ---- secrets from files -----------------------------------------------------------------------

    @Test
    void keysComeFromFiles() throws Exception {
        Path adminKey = Files.writeString(dir.resolve("admin-key"), "  admin-key-from-file-0123\n");
        Path apiKeys = Files.writeString(dir.resolve("api-keys"), "key-from-file-1\n\n  key-from-file-2  \n");
        runner.withPropertyValues("pushbridge.admin.key-file=" + adminKey, "pushbridge.sites.demo.api-key=inline-key",
                "pushbridge.sites.demo.api-key-file=" + apiKeys).run(context -> {
                    PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                    assertThat(gateway.options().adminKey()).isEqualTo("admin-key-from-file-0123");
                    SiteOptions demo = gateway.sites().get("demo");
                    assertThat(demo.acceptsApiKey("key-from-file-1")).isTrue();
                    assertThat(demo.acceptsApiKey("key-from-file-2")).isTrue();
                    assertThat(demo.acceptsApiKey("inline-key")).isTrue();
                    assertThat(demo.acceptsApiKey("")).isFalse();
                });
    }

    @Test
    void unreadableOrEmptySecretFilesNameTheProperty() throws Exception {
        Path missing = dir.resolve("no-such-secret");
        Path empty = Files.writeString(dir.resolve("empty-secret"), " \n");
        assertFailure("pushbridge.admin.key-file: file '" + missing + "' cannot be read (NoSuchFileException)",
                "pushbridge.admin.key-file=" + missing);
        assertFailure("pushbridge.admin.key-file: file '" + empty + "' is empty", "pushbridge.admin.key-file=" + empty);
        assertFailure("pushbridge.admin.key-file: conflicts with pushbridge.admin.key",
                "pushbridge.admin.key-file=" + empty, "pushbridge.admin.key=admin-key-inline-0123");
        assertFailure("pushbridge.sites.demo.api-key-file: file '" + missing + "' cannot be read",
                "pushbridge.sites.demo.api-key-file=" + missing);
        assertFailure("pushbridge.sites.demo.api-key-file: file '" + empty + "' holds no key",
                "pushbridge.sites.demo.api-key-file=" + empty);
        Path shortKey = Files.writeString(dir.resolve("short-admin-key"), "short");
        runner.withPropertyValues("pushbridge.admin.key-file=" + shortKey).run(context -> assertThat(failure(context))
                .hasMessage("pushbridge.admin.key-file: the key in '" + shortKey + "' must have at least 16 characters, has 5"));
    }

    // ---- origins --------------------------------------------------------------------------------

    @Test
    void allowedOriginsPerSiteReachTheSite() {
        runner.withPropertyValues("pushbridge.sites.demo.allowed-origins=https://a.example, https://*.b.example",
                "pushbridge.sites.demo.require-origin=true").run(context -> {
                    SiteOptions demo = context.getBean(PushBridgeGateway.class).sites().get("demo");
                    assertThat(demo.allowedOrigins()).containsExactly("https://a.example", "https://*.b.example");
                    assertThat(demo.requireOrigin()).isTrue();
                });
        assertFailure("pushbridge.sites.demo.allowed-origins: entries must look like scheme://host[:port]",
                "pushbridge.sites.demo.allowed-origins=a.example");
    }

    // ---- webhook --------------------------------------------------------------------------------

    @Test
    void webhookProtectionsReachTheAuthorizer() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class))
                .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.hook.auth-url=https://hook.example/rooms",
                        "pushbridge.sites.hook.auth-max-response-size=8KB", "pushbridge.sites.hook.auth-redirects=allowed-hosts",
                        "pushbridge.sites.hook.auth-redirect-hosts=auth.example,other.example",
                        "pushbridge.sites.hook.auth-cache-ttl=30s", "pushbridge.sites.hook.auth-cache-max-entries=50",
                        "pushbridge.sites.hook.auth-coalesce=false", "pushbridge.sites.hook.auth-breaker-failures=7",
                        "pushbridge.sites.hook.auth-breaker-cool-down=3s")
                .run(context -> {
                    WebhookAuthorizer hook = (WebhookAuthorizer) context.getBean(PushBridgeGateway.class).sites().get("hook")
                            .authorizer();
                    assertThat(hook.toString()).contains("redirects=ALLOWED_HOSTS [auth.example, other.example]",
                            "cache=30000ms/50", "coalesce=false", "breaker=7/3000ms");
                });
    }

    @Test
    void badWebhookSettingsNameTheProperty() {
        ApplicationContextRunner hook = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(PushBridgeAutoConfiguration.class))
                .withPropertyValues("pushbridge.auto-startup=false", "pushbridge.sites.hook.auth-url=https://hook.example/rooms");
        hook.withPropertyValues("pushbridge.sites.hook.auth-redirects=allowed-hosts").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-redirect-hosts: must name at least one host"));
        hook.withPropertyValues("pushbridge.sites.hook.auth-redirect-hosts=x.example").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-redirect-hosts: is only read when redirects is ALLOWED_HOSTS"));
        hook.withPropertyValues("pushbridge.sites.hook.auth-cache-ttl=-1s").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-cache-ttl: "));
        hook.withPropertyValues("pushbridge.sites.hook.auth-cache-max-entries=0").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-cache-max-entries: "));
        hook.withPropertyValues("pushbridge.sites.hook.auth-breaker-failures=-2").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-breaker-failures: "));
        hook.withPropertyValues("pushbridge.sites.hook.auth-breaker-cool-down=0s").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-breaker-cool-down: "));
        hook.withPropertyValues("pushbridge.sites.hook.auth-max-response-size=1B").run(context -> assertThat(failure(context))
                .hasMessageStartingWith("pushbridge.sites.hook.auth-max-response-size: "));
    }

    private void assertFailure(String messageStart, String... properties) {
        runner.withPropertyValues(properties).run(context -> assertThat(failure(context)).hasMessageStartingWith(messageStart));
    }

    private static Throwable failure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        Throwable t = context.getStartupFailure();
        while (t != null && !(t instanceof InvalidPushBridgePropertyException)) {
            t = t.getCause();
        }
        assertThat(t).as("an InvalidPushBridgePropertyException in %s", context.getStartupFailure()).isNotNull();
        return t;
    }
}
