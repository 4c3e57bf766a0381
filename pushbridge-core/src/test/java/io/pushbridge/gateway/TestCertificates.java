package io.pushbridge.gateway;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, made when a test runs by the
 * JDK's {@code keytool} (an EC P-256 key, valid from yesterday for 30 days): as a PKCS12 key store and
 * as PEM files. Nothing is checked in; the files live in the test's temporary folder. Public (and in
 * the test-jar) for the starter's tests.
 */
public final class TestCertificates {

    public static final String PASSWORD = "store-pass-7f3a";
    public static final String ALIAS = "server";

    /** The files of one certificate and its key. */
    public record Generated(Path keyStore, Path certificatePem, Path privateKeyPem, X509Certificate certificate,
            PrivateKey privateKey) {
    }

    private TestCertificates() {
    }

    /** Generates a key store {@code name.p12} (password {@link #PASSWORD}) and {@code name-cert.pem}, {@code name-key.pem}. */
    public static Generated generate(Path dir, String name) throws Exception {
        Path store = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process process = new ProcessBuilder(List.of(keytool, "-genkeypair", "-noprompt", "-alias", ALIAS,
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost, O=PushBridge test",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-startdate", "-1d", "-validity", "30",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD))
                .redirectErrorStream(true).start();
        byte[] output;
        try (InputStream in = process.getInputStream()) {
            output = in.readAllBytes();
        }
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + new String(output, StandardCharsets.UTF_8));
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey(ALIAS, PASSWORD.toCharArray());
        X509Certificate certificate = (X509Certificate) ks.getCertificate(ALIAS);
        Path certPem = dir.resolve(name + "-cert.pem");
        Path keyPem = dir.resolve(name + "-key.pem");
        Files.writeString(certPem, pem("CERTIFICATE", certificate.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
        return new Generated(store, certPem, keyPem, certificate, key);
    }

    /** PEM text of DER bytes. */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** Writes the entry of a key store into a new store of another type or with other passwords. */
    public static Path copyStore(Generated generated, Path to, String type, String storePassword, String keyPassword)
            throws Exception {
        KeyStore copy = KeyStore.getInstance(type);
        copy.load(null, null);
        copy.setKeyEntry(ALIAS, generated.privateKey(), keyPassword.toCharArray(), new Certificate[] {generated.certificate()});
        try (OutputStream out = Files.newOutputStream(to)) {
            copy.store(out, storePassword.toCharArray());
        }
        return to;
    }

    /** A client TLS context that trusts exactly this certificate. */
    public static SSLContext trusting(X509Certificate certificate) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new javax.net.ssl.TrustManager[] {trustManager(certificate)}, null);
        return context;
    }

    public static X509TrustManager trustManager(X509Certificate certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return (X509TrustManager) tmf.getTrustManagers()[0];
    }
}
