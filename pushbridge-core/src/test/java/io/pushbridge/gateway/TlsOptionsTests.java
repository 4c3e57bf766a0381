package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and checking TLS material: PEM, PKCS12, JKS, and every way it can be wrong. */
class TlsOptionsTests {

    @TempDir
    static Path dir;
    static TestCertificates.Generated cert;

    @BeforeAll
    static void generate() throws Exception {
        cert = TestCertificates.generate(dir, "server");
    }

    @Test
    void readsPemFiles() {
        TlsOptions tls = TlsOptions.pem(cert.certificatePem(), cert.privateKeyPem()).build();
        assertThat(tls.certificate()).isEqualTo(cert.certificate());
        assertThat(tls.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(tls.toString()).contains("PEM", "CN=localhost", "valid until");
    }

    @Test
    void readsPkcs12AndJksKeyStores() throws Exception {
        TlsOptions p12 = TlsOptions.keyStore(cert.keyStore(), TestCertificates.PASSWORD).build();
        assertThat(p12.certificate()).isEqualTo(cert.certificate());
        assertThat(p12.toString()).contains("PKCS12").doesNotContain(TestCertificates.PASSWORD);

        Path jks = TestCertificates.copyStore(cert, dir.resolve("server.jks"), "JKS", "jks-store-pass", "jks-key-pass");
        TlsOptions withKeyPassword = TlsOptions.keyStore(jks, "jks-store-pass").keyStoreType("jks")
                .keyPassword("jks-key-pass").build();
        assertThat(withKeyPassword.certificate()).isEqualTo(cert.certificate());
        assertThatThrownBy(() -> TlsOptions.keyStore(jks, "jks-store-pass").keyStoreType("JKS").build())
                .hasMessageStartingWith("tlsKeyStorePassword does not open the key 'server'")
                .hasMessageNotContaining("jks-store-pass");
        assertThatThrownBy(() -> TlsOptions.keyStore(jks, "jks-store-pass").keyStoreType("JKS").keyPassword("nope").build())
                .hasMessageStartingWith("tlsKeyPassword does not open");
    }

    @Test
    void wrongKeyStorePasswordNamesThePasswordAndNotItsValue() {
        assertThatThrownBy(() -> TlsOptions.keyStore(cert.keyStore(), "wrong-secret-123").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tlsKeyStorePassword does not open")
                .hasMessageNotContaining("wrong-secret-123");
    }

    @Test
    void aKeyStoreWithSeveralKeysNeedsAnAlias() throws Exception {
        java.security.KeyStore two = java.security.KeyStore.getInstance("PKCS12");
        two.load(null, null);
        two.setKeyEntry("a", cert.privateKey(), "pw".toCharArray(), new java.security.cert.Certificate[] {cert.certificate()});
        two.setKeyEntry("b", cert.privateKey(), "pw".toCharArray(), new java.security.cert.Certificate[] {cert.certificate()});
        Path file = dir.resolve("two.p12");
        try (var out = Files.newOutputStream(file)) {
            two.store(out, "pw".toCharArray());
        }
        assertThatThrownBy(() -> TlsOptions.keyStore(file, "pw").build()).hasMessageStartingWith("tlsKeyAlias is required");
        assertThat(TlsOptions.keyStore(file, "pw").keyAlias("b").build().certificate()).isEqualTo(cert.certificate());
        assertThatThrownBy(() -> TlsOptions.keyStore(file, "pw").keyAlias("c").build())
                .hasMessageStartingWith("tlsKeyAlias 'c' is not a key entry");
    }

    @Test
    void missingEmptyAndGarbageFilesNameTheSetting() throws Exception {
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> TlsOptions.pem(missing, cert.privateKeyPem()).build())
                .hasMessageStartingWith("tlsCertificate cannot be read: " + missing);
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), empty).build())
                .hasMessageStartingWith("tlsPrivateKey " + empty + " is empty");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello, not a certificate\n");
        assertThatThrownBy(() -> TlsOptions.pem(garbage, cert.privateKeyPem()).build())
                .hasMessageStartingWith("tlsCertificate " + garbage + " holds no PEM certificate");
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), garbage).build())
                .hasMessageStartingWith("tlsPrivateKey " + garbage + " holds no PEM private key");
        Path badBlock = Files.writeString(dir.resolve("bad-block.pem"),
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> TlsOptions.pem(badBlock, cert.privateKeyPem()).build())
                .hasMessageStartingWith("tlsCertificate " + badBlock + " holds a certificate that cannot be parsed");
        assertThatThrownBy(() -> TlsOptions.pem(cert.privateKeyPem(), cert.privateKeyPem()).build())
                .hasMessageContaining("holds a private key, not a certificate");
        assertThatThrownBy(() -> TlsOptions.keyStore(garbage, "pw").build())
                .hasMessageStartingWith("tlsKeyStore " + garbage + " is not a readable PKCS12 key store");
        assertThatThrownBy(() -> TlsOptions.keyStore(cert.keyStore(), "pw").keyStoreType("PEM").build())
                .hasMessageStartingWith("tlsKeyStoreType must be PKCS12 or JKS");
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        Path other = Files.writeString(dir.resolve("other-key.pem"),
                TestCertificates.pem("PRIVATE KEY", generator.generateKeyPair().getPrivate().getEncoded()));
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), other).build())
                .hasMessageStartingWith("tlsPrivateKey does not match the certificate (CN=localhost");
    }

    @Test
    void anExpiredOrNotYetValidCertificateIsRefused() {
        Clock later = Clock.fixed(cert.certificate().getNotAfter().toInstant().plus(Duration.ofDays(1)), ZoneOffset.UTC);
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), cert.privateKeyPem()).clock(later).build())
                .hasMessageStartingWith("tlsCertificate holds a certificate (CN=localhost")
                .hasMessageContaining("that expired on");
        Clock earlier = Clock.fixed(cert.certificate().getNotBefore().toInstant().minus(Duration.ofDays(1)), ZoneOffset.UTC);
        assertThatThrownBy(() -> TlsOptions.keyStore(cert.keyStore(), TestCertificates.PASSWORD).clock(earlier).build())
                .hasMessageStartingWith("tlsKeyStore holds a certificate (CN=localhost")
                .hasMessageContaining("valid only from");
    }

    @Test
    void readsAnEncryptedPkcs8KeyWithItsPassword() throws Exception {
        byte[] salt = new byte[8];
        new SecureRandom().nextBytes(salt);
        String algorithm = "PBEWithSHA1AndDESede";
        Cipher cipher = Cipher.getInstance(algorithm);
        cipher.init(Cipher.ENCRYPT_MODE, SecretKeyFactory.getInstance(algorithm)
                .generateSecret(new PBEKeySpec("key-pass-9".toCharArray())), new PBEParameterSpec(salt, 10_000));
        byte[] encrypted = new EncryptedPrivateKeyInfo(cipher.getParameters(),
                cipher.doFinal(cert.privateKey().getEncoded())).getEncoded();
        Path key = Files.writeString(dir.resolve("encrypted-key.pem"), TestCertificates.pem("ENCRYPTED PRIVATE KEY", encrypted));

        assertThat(TlsOptions.pem(cert.certificatePem(), key).privateKeyPassword("key-pass-9").build().certificate())
                .isEqualTo(cert.certificate());
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), key).build())
                .hasMessageStartingWith("tlsPrivateKeyPassword is required");
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), key).privateKeyPassword("not-it").build())
                .hasMessageStartingWith("tlsPrivateKeyPassword does not decrypt")
                .hasMessageNotContaining("not-it");
    }

    /** What OpenSSL 3 writes: PBES2/AES-256 encrypted PKCS#8, and PKCS#1 RSA keys (skipped without openssl). */
    @Test
    void readsKeysAsOpenSslWritesThem() throws Exception {
        Assumptions.assumeTrue(openssl("version") == 0, "openssl is not installed");
        Path encrypted = dir.resolve("openssl-encrypted.pem");
        assertThat(openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", cert.privateKeyPem().toString(),
                "-out", encrypted.toString(), "-passout", "pass:open-pass-3")).isZero();
        assertThat(TlsOptions.pem(cert.certificatePem(), encrypted).privateKeyPassword("open-pass-3").build().certificate())
                .isEqualTo(cert.certificate());
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), encrypted).privateKeyPassword("nope").build())
                .hasMessageStartingWith("tlsPrivateKeyPassword does not decrypt");

        Path rsaKey = dir.resolve("rsa-key.pem");
        Path rsaCert = dir.resolve("rsa-cert.pem");
        Path pkcs1 = dir.resolve("rsa-pkcs1.pem");
        assertThat(openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rsaKey.toString(), "-out",
                rsaCert.toString(), "-days", "2", "-subj", "/CN=localhost")).isZero();
        assertThat(openssl("rsa", "-in", rsaKey.toString(), "-traditional", "-out", pkcs1.toString())).isZero();
        assertThat(Files.readString(pkcs1)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(TlsOptions.pem(rsaCert, pkcs1).build().certificate().getSubjectX500Principal().getName())
                .isEqualTo("CN=localhost");

        Path sec1 = dir.resolve("ec-sec1.pem");
        assertThat(openssl("ec", "-in", cert.privateKeyPem().toString(), "-out", sec1.toString())).isZero();
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), sec1).build())
                .hasMessageContaining("is a SEC1 EC key; convert it to PKCS#8");
    }

    private static int openssl(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (java.io.IOException | InterruptedException e) {
            return -1;
        }
    }

    @Test
    void readsAPkcs1RsaKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(1024);
        KeyPair pair = generator.generateKeyPair();
        byte[] pkcs8 = pair.getPrivate().getEncoded();
        // PrivateKeyInfo: SEQ { INT 0, SEQ { rsaEncryption, NULL }, OCTET STRING { RSAPrivateKey } }
        byte[] pkcs1 = innerOctets(pkcs8);
        byte[] wrapped = TlsOptions.Builder.rsaPkcs1ToPkcs8(pkcs1);
        assertThat(KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(wrapped)))
                .isEqualTo(pair.getPrivate());
    }

    @Test
    void onlyTls12And13AreOffered() {
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), cert.privateKeyPem()).protocols(List.of("TLSv1.1"))
                .build()).hasMessageStartingWith("tlsProtocols must be TLSv1.3 and/or TLSv1.2");
        assertThat(TlsOptions.pem(cert.certificatePem(), cert.privateKeyPem()).protocols(List.of("TLSv1.3")).build()
                .protocols()).containsExactly("TLSv1.3");
    }

    @Test
    void pemNeedsBothFiles() {
        assertThatThrownBy(() -> TlsOptions.pem(cert.certificatePem(), null).build())
                .hasMessageStartingWith("tlsPrivateKey is required");
        assertThatThrownBy(() -> TlsOptions.pem(null, cert.privateKeyPem()).build())
                .hasMessageStartingWith("tlsCertificate is required");
    }

    /** The content of the last OCTET STRING at the top level of a DER SEQUENCE. */
    private static byte[] innerOctets(byte[] der) {
        int i = 1;
        i += lengthBytes(der, i);
        byte[] last = null;
        while (i < der.length) {
            int tag = der[i] & 0xff;
            int lengthAt = i + 1;
            int length = length(der, lengthAt);
            int contentAt = lengthAt + lengthBytes(der, lengthAt);
            if (tag == 0x04) {
                last = java.util.Arrays.copyOfRange(der, contentAt, contentAt + length);
            }
            i = contentAt + length;
        }
        return last;
    }

    private static int lengthBytes(byte[] der, int at) {
        int first = der[at] & 0xff;
        return first < 0x80 ? 1 : 1 + (first & 0x7f);
    }

    private static int length(byte[] der, int at) {
        int first = der[at] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int n = 0;
        for (int k = 1; k <= (first & 0x7f); k++) {
            n = (n << 8) | (der[at + k] & 0xff);
        }
        return n;
    }
}
