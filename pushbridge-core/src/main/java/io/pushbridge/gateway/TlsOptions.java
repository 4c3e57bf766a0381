package io.pushbridge.gateway;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * TLS on the gateway's port (and on the admin view's own port): a certificate and its private key,
 * from PEM files ({@link #pem}) or from a PKCS12 or JKS key store ({@link #keyStore}).
 *
 * <p>{@link Builder#build()} reads the files once and checks everything a handshake would trip on
 * later: the files are readable and parse, the password opens the key, the private key matches the
 * certificate, and the certificate is valid now (not expired, not yet to come). A problem throws an
 * {@link IllegalArgumentException} whose message starts with the setting at fault ({@code
 * tlsCertificate}, {@code tlsPrivateKey}, {@code tlsKeyStorePassword}, ...) and never contains a
 * password. Files are not watched: a renewed certificate takes a restart (one node at a time behind a
 * balancer; see the operations guide).
 *
 * <p>PEM: the certificate file holds the server certificate, optionally followed by its chain
 * ({@code fullchain.pem}); the chain may also be its own file. The key is PKCS#8 ({@code BEGIN
 * PRIVATE KEY}, or {@code BEGIN ENCRYPTED PRIVATE KEY} with a password) or PKCS#1 RSA ({@code BEGIN
 * RSA PRIVATE KEY}). Protocols: TLS 1.3 and 1.2 by default; nothing older is allowed.
 *
 * <p>Immutable and thread-safe; one instance serves every connection.
 */
public final class TlsOptions {

    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final String DEFAULT_KEY_STORE_TYPE = "PKCS12";
    /** Start-up warns when the certificate expires within this time. */
    public static final Duration EXPIRY_WARNING = Duration.ofDays(14);

    private static final Set<String> ALLOWED_PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");
    private static final Pattern PEM_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*(.*?)-----END \\1-----", Pattern.DOTALL);

    private final @Nullable Path certificate;
    private final @Nullable Path privateKey;
    private final @Nullable Path certificateChain;
    private final @Nullable Path keyStore;
    private final String keyStoreType;
    private final @Nullable String keyAlias;
    private final List<String> protocols;
    private final X509Certificate serverCertificate;
    private final SslContext sslContext;

    private TlsOptions(Builder b, X509Certificate serverCertificate, SslContext sslContext) {
        this.certificate = b.certificate;
        this.privateKey = b.privateKey;
        this.certificateChain = b.certificateChain;
        this.keyStore = b.keyStore;
        this.keyStoreType = b.keyStoreType;
        this.keyAlias = b.keyAlias;
        this.protocols = List.copyOf(b.protocols);
        this.serverCertificate = serverCertificate;
        this.sslContext = sslContext;
    }

    /** TLS from a PEM certificate (optionally followed by its chain) and its PEM private key. */
    public static Builder pem(Path certificate, Path privateKey) {
        Builder b = new Builder();
        b.certificate = certificate;
        b.privateKey = privateKey;
        return b;
    }

    /** TLS from a key store (PKCS12 unless {@link Builder#keyStoreType} says JKS) and its password. */
    public static Builder keyStore(Path keyStore, String password) {
        Builder b = new Builder();
        b.keyStore = keyStore;
        b.keyStorePassword = password;
        return b;
    }

    /** The certificate clients are shown (the first of the chain). */
    public X509Certificate certificate() {
        return serverCertificate;
    }

    /** The protocols offered, such as {@code TLSv1.3} and {@code TLSv1.2}. */
    public List<String> protocols() {
        return protocols;
    }

    /** A new server-side handler for one connection. */
    SslHandler newHandler(ByteBufAllocator allocator) {
        return sslContext.newHandler(allocator);
    }

    /** Where the key material came from, the certificate's subject and expiry; never a password. */
    @Override
    public String toString() {
        String source = keyStore != null
                ? keyStoreType + " " + keyStore + (keyAlias == null ? "" : " alias " + keyAlias)
                : "PEM " + certificate + (certificateChain == null ? "" : " + " + certificateChain);
        return source + " (" + serverCertificate.getSubjectX500Principal().getName() + ", valid until "
                + serverCertificate.getNotAfter().toInstant() + ", " + String.join("/", protocols) + ")";
    }

    /** Builds {@link TlsOptions}; {@link #build()} reads and checks the files. */
    public static final class Builder {

        private @Nullable Path certificate;
        private @Nullable Path privateKey;
        private @Nullable String privateKeyPassword;
        private @Nullable Path certificateChain;
        private @Nullable Path keyStore;
        private @Nullable String keyStorePassword;
        private String keyStoreType = DEFAULT_KEY_STORE_TYPE;
        private @Nullable String keyAlias;
        private @Nullable String keyPassword;
        private List<String> protocols = DEFAULT_PROTOCOLS;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** The password of an encrypted PEM private key ({@code BEGIN ENCRYPTED PRIVATE KEY}). */
        public Builder privateKeyPassword(@Nullable String password) {
            this.privateKeyPassword = password;
            return this;
        }

        /** A PEM file with the intermediate certificates, sent after the server certificate. */
        public Builder certificateChain(@Nullable Path chain) {
            this.certificateChain = chain;
            return this;
        }

        /** {@code PKCS12} (the default) or {@code JKS}. */
        public Builder keyStoreType(String type) {
            this.keyStoreType = type;
            return this;
        }

        /** The alias of the key entry to use, when the key store holds several. */
        public Builder keyAlias(@Nullable String alias) {
            this.keyAlias = alias;
            return this;
        }

        /** The password of the key entry, when it differs from the store's (JKS). */
        public Builder keyPassword(@Nullable String password) {
            this.keyPassword = password;
            return this;
        }

        /** The protocols to offer: {@code TLSv1.3} and/or {@code TLSv1.2}. */
        public Builder protocols(List<String> protocols) {
            this.protocols = protocols == null ? null : List.copyOf(protocols);
            return this;
        }

        /** The clock the certificate's validity is checked against. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public TlsOptions build() {
            require(protocols != null && !protocols.isEmpty() && ALLOWED_PROTOCOLS.containsAll(protocols),
                    "tlsProtocols must be TLSv1.3 and/or TLSv1.2, was " + protocols);
            require(clock != null, "clock must not be null");
            KeyStore material;
            char[] password;
            X509Certificate leaf;
            if (keyStore != null) {
                require(certificate == null && privateKey == null,
                        "tlsKeyStore conflicts with tlsCertificate/tlsPrivateKey: use either PEM files or a key store");
                Loaded loaded = fromKeyStore();
                material = loaded.store;
                password = loaded.password;
                leaf = loaded.leaf;
            } else {
                require(certificate != null, "tlsCertificate is required (or a key store)");
                require(privateKey != null, "tlsPrivateKey is required with tlsCertificate");
                Loaded loaded = fromPem();
                material = loaded.store;
                password = loaded.password;
                leaf = loaded.leaf;
            }
            Instant now = clock.instant();
            String subject = leaf.getSubjectX500Principal().getName();
            String setting = keyStore != null ? "tlsKeyStore" : "tlsCertificate";
            try {
                leaf.checkValidity(java.util.Date.from(now));
            } catch (CertificateExpiredException e) {
                throw new IllegalArgumentException(setting + " holds a certificate (" + subject + ") that expired on "
                        + leaf.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw new IllegalArgumentException(setting + " holds a certificate (" + subject + ") that is valid only from "
                        + leaf.getNotBefore().toInstant());
            }
            SslContext context;
            try {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(material, password);
                context = SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK)
                        .protocols(protocols).build();
            } catch (GeneralSecurityException | SSLException e) {
                throw new IllegalArgumentException(setting + " cannot be used for TLS: " + e.getMessage(), e);
            }
            return new TlsOptions(this, leaf, context);
        }

        private record Loaded(KeyStore store, char[] password, X509Certificate leaf) {
        }

        private Loaded fromPem() {
            List<X509Certificate> chain = new ArrayList<>(certificates(certificate, "tlsCertificate"));
            if (certificateChain != null) {
                chain.addAll(certificates(certificateChain, "tlsCertificateChain"));
            }
            PrivateKey key = privateKey(privateKey, privateKeyPassword);
            X509Certificate leaf = chain.get(0);
            requireMatch(key, leaf, "tlsPrivateKey does not match the certificate ("
                    + leaf.getSubjectX500Principal().getName() + ")");
            try {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                char[] password = randomPassword();
                store.setKeyEntry("pushbridge", key, password, chain.toArray(Certificate[]::new));
                return new Loaded(store, password, leaf);
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalArgumentException("tlsPrivateKey cannot be used with the certificate: " + e.getMessage(), e);
            }
        }

        private Loaded fromKeyStore() {
            String type = keyStoreType == null ? "" : keyStoreType.trim().toUpperCase(Locale.ROOT);
            require(type.equals("PKCS12") || type.equals("JKS"), "tlsKeyStoreType must be PKCS12 or JKS, was '" + keyStoreType + "'");
            require(keyStorePassword != null, "tlsKeyStorePassword is required with a key store");
            char[] storePassword = keyStorePassword.toCharArray();
            KeyStore store;
            byte[] bytes = read(keyStore, "tlsKeyStore");
            try {
                store = KeyStore.getInstance(type);
                store.load(new ByteArrayInputStream(bytes), storePassword);
            } catch (IOException e) {
                if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                    throw new IllegalArgumentException("tlsKeyStorePassword does not open " + keyStore
                            + " (wrong password)");
                }
                throw new IllegalArgumentException("tlsKeyStore " + keyStore + " is not a readable " + type + " key store: "
                        + e.getMessage(), e);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("tlsKeyStore " + keyStore + " is not a readable " + type + " key store: "
                        + e.getMessage(), e);
            }
            char[] entryPassword = keyPassword != null ? keyPassword.toCharArray() : storePassword;
            String passwordSetting = keyPassword != null ? "tlsKeyPassword" : "tlsKeyStorePassword";
            try {
                List<String> keys = new ArrayList<>();
                for (String alias : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(alias)) {
                        keys.add(alias);
                    }
                }
                String alias;
                if (keyAlias != null) {
                    require(keys.contains(keyAlias), "tlsKeyAlias '" + keyAlias + "' is not a key entry of " + keyStore
                            + "; its key entries: " + keys);
                    alias = keyAlias;
                } else {
                    require(!keys.isEmpty(), "tlsKeyStore " + keyStore + " holds no private key entry");
                    require(keys.size() == 1, "tlsKeyAlias is required: " + keyStore + " holds several key entries " + keys);
                    alias = keys.get(0);
                }
                Key key;
                try {
                    key = store.getKey(alias, entryPassword);
                } catch (UnrecoverableKeyException e) {
                    throw new IllegalArgumentException(passwordSetting + " does not open the key '" + alias + "' in "
                            + keyStore + " (wrong password)");
                }
                Certificate[] chain = store.getCertificateChain(alias);
                require(key instanceof PrivateKey && chain != null && chain.length > 0
                        && chain[0] instanceof X509Certificate,
                        "tlsKeyStore " + keyStore + ": entry '" + alias + "' has no private key with an X.509 certificate");
                X509Certificate leaf = (X509Certificate) chain[0];
                requireMatch((PrivateKey) key, leaf, "tlsKeyStore " + keyStore + ": the key of entry '" + alias
                        + "' does not match its certificate");
                // only that entry, under one password, for the key manager
                KeyStore one = KeyStore.getInstance("PKCS12");
                one.load(null, null);
                char[] password = randomPassword();
                one.setKeyEntry("pushbridge", key, password, chain);
                return new Loaded(one, password, leaf);
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalArgumentException("tlsKeyStore " + keyStore + " cannot be read: " + e.getMessage(), e);
            }
        }

        private static char[] randomPassword() {
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            return Base64.getEncoder().encodeToString(random).toCharArray();
        }

        private static byte[] read(Path file, String setting) {
            try {
                byte[] bytes = Files.readAllBytes(file);
                require(bytes.length > 0, setting + " " + file + " is empty");
                return bytes;
            } catch (IOException e) {
                throw new IllegalArgumentException(setting + " cannot be read: " + file + " ("
                        + e.getClass().getSimpleName() + ")", e);
            }
        }

        private static List<X509Certificate> certificates(Path file, String setting) {
            String text = new String(read(file, setting), StandardCharsets.US_ASCII);
            List<X509Certificate> out = new ArrayList<>();
            Matcher m = PEM_BLOCK.matcher(text);
            try {
                CertificateFactory factory = CertificateFactory.getInstance("X.509");
                while (m.find()) {
                    if (!m.group(1).equals("CERTIFICATE")) {
                        require(!m.group(1).contains("PRIVATE KEY"), setting + " " + file
                                + " holds a private key, not a certificate");
                        continue;
                    }
                    try (InputStream in = new ByteArrayInputStream(Base64.getMimeDecoder().decode(m.group(2)))) {
                        out.add((X509Certificate) factory.generateCertificate(in));
                    }
                }
            } catch (CertificateException | IOException | IllegalArgumentException e) {
                if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith(setting)) {
                    throw iae;
                }
                throw new IllegalArgumentException(setting + " " + file + " holds a certificate that cannot be parsed: "
                        + e.getMessage(), e);
            }
            require(!out.isEmpty(), setting + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            return out;
        }

        private static PrivateKey privateKey(Path file, @Nullable String password) {
            String text = new String(read(file, "tlsPrivateKey"), StandardCharsets.US_ASCII);
            Matcher m = PEM_BLOCK.matcher(text);
            while (m.find()) {
                String type = m.group(1);
                String body = m.group(2);
                switch (type) {
                    case "PRIVATE KEY" -> {
                        return pkcs8(decode(body, file), file);
                    }
                    case "ENCRYPTED PRIVATE KEY" -> {
                        require(password != null && !password.isEmpty(), "tlsPrivateKeyPassword is required: " + file
                                + " holds an encrypted private key");
                        return pkcs8(decrypt(decode(body, file), password, file), file);
                    }
                    case "RSA PRIVATE KEY" -> {
                        require(!body.contains("Proc-Type:"), "tlsPrivateKey " + file + " is encrypted the legacy OpenSSL way;"
                                + " convert it: openssl pkcs8 -topk8 -in old.pem -out key.pem");
                        return pkcs8(rsaPkcs1ToPkcs8(decode(body, file)), file);
                    }
                    case "EC PRIVATE KEY" -> throw new IllegalArgumentException("tlsPrivateKey " + file + " is a SEC1 EC key;"
                            + " convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in ec.pem -out key.pem");
                    default -> {
                        // certificates or parameters in the same file: skip them
                    }
                }
            }
            throw new IllegalArgumentException("tlsPrivateKey " + file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
        }

        private static byte[] decode(String base64, Path file) {
            try {
                return Base64.getMimeDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tlsPrivateKey " + file + " is not valid PEM (bad base64)");
            }
        }

        private static PrivateKey pkcs8(byte[] der, Path file) {
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
            for (String algorithm : List.of("RSA", "EC", "EdDSA", "RSASSA-PSS")) {
                try {
                    return KeyFactory.getInstance(algorithm).generatePrivate(spec);
                } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
                    // try the next one
                }
            }
            throw new IllegalArgumentException("tlsPrivateKey " + file + " holds a private key of an unsupported kind"
                    + " (RSA, EC and EdDSA keys are)");
        }

        /** An encrypted PKCS#8 key (PBES1, or PBES2 as OpenSSL writes by default). */
        private static byte[] decrypt(byte[] der, String password, Path file) {
            try {
                EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
                AlgorithmParameters parameters = info.getAlgParameters();
                String algorithm = info.getAlgName();
                if ("1.2.840.113549.1.5.13".equals(algorithm) || "PBES2".equalsIgnoreCase(algorithm)) {
                    // PBES2: the JDK names the actual scheme through the parameters
                    algorithm = parameters.toString();
                }
                SecretKeyFactory factory = SecretKeyFactory.getInstance(algorithm);
                Cipher cipher = Cipher.getInstance(algorithm);
                cipher.init(Cipher.DECRYPT_MODE, factory.generateSecret(new PBEKeySpec(password.toCharArray())), parameters);
                return info.getKeySpec(cipher).getEncoded();
            } catch (InvalidKeySpecException e) {
                throw new IllegalArgumentException("tlsPrivateKeyPassword does not decrypt " + file + " (wrong password)");
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalArgumentException("tlsPrivateKey " + file + " is encrypted in a way this JVM cannot read ("
                        + e.getClass().getSimpleName() + "); convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem"
                        + " -out key.pem", e);
            }
        }

        /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo, which the JDK reads. */
        static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
            byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
                0x01, 0x05, 0x00};
            byte[] version = {0x02, 0x01, 0x00};
            byte[] octets = der(0x04, pkcs1);
            byte[] body = new byte[version.length + algorithm.length + octets.length];
            System.arraycopy(version, 0, body, 0, version.length);
            System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
            System.arraycopy(octets, 0, body, version.length + algorithm.length, octets.length);
            return der(0x30, body);
        }

        private static byte[] der(int tag, byte[] content) {
            int n = content.length;
            byte[] length;
            if (n < 0x80) {
                length = new byte[] {(byte) n};
            } else if (n < 0x100) {
                length = new byte[] {(byte) 0x81, (byte) n};
            } else if (n < 0x10000) {
                length = new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
            } else {
                length = new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
            }
            byte[] out = new byte[1 + length.length + n];
            out[0] = (byte) tag;
            System.arraycopy(length, 0, out, 1, length.length);
            System.arraycopy(content, 0, out, 1 + length.length, n);
            return out;
        }

        /** Signs with the key and verifies with the certificate: they belong together. */
        private static void requireMatch(PrivateKey key, X509Certificate certificate, String message) {
            String algorithm = switch (key.getAlgorithm()) {
                case "RSA" -> "SHA256withRSA";
                case "EC" -> "SHA256withECDSA";
                case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
                case "RSASSA-PSS" -> null;
                default -> null;
            };
            if (algorithm == null) {
                require(key.getAlgorithm().equals(certificate.getPublicKey().getAlgorithm()), message);
                return;
            }
            boolean ok;
            try {
                byte[] probe = "pushbridge".getBytes(StandardCharsets.US_ASCII);
                Signature signer = Signature.getInstance(algorithm);
                signer.initSign(key);
                signer.update(probe);
                byte[] signature = signer.sign();
                Signature verifier = Signature.getInstance(algorithm);
                verifier.initVerify(certificate.getPublicKey());
                verifier.update(probe);
                ok = verifier.verify(signature);
            } catch (GeneralSecurityException e) {
                ok = false;
            }
            require(ok, message);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
