package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway over TLS with real TLS clients: the Java Socket.IO client (over OkHttp, trusting the
 * test's self-signed certificate) on WebSocket and on long-polling, the JDK's HTTP client on the
 * send API and the admin port; plain HTTP on the TLS port is refused. PEM files for one gateway, a
 * PKCS12 key store for another.
 */
class TlsIntegrationTests {

    private static final String ADMIN_KEY = "admin-key-for-tls-tests";

    @TempDir
    static Path dir;
    static TestCertificates.Generated cert;
    static PushBridgeGateway gateway;
    static SSLContext trusting;
    static OkHttpClient okHttp;
    static HttpClient https;
    static final ContextCapture capture = new ContextCapture();

    @BeforeAll
    static void start() throws Exception {
        cert = TestCertificates.generate(dir, "gateway");
        TlsOptions tls = TlsOptions.pem(cert.certificatePem(), cert.privateKeyPem()).build();
        gateway = TestGateways.start(TestGateways.options().tls(tls).adminKey(ADMIN_KEY).adminPort(0).build(),
                b -> b.site(TestGateways.newsSite()).extension(capture));
        trusting = TestCertificates.trusting(cert.certificate());
        okHttp = new OkHttpClient.Builder()
                .sslSocketFactory(trusting.getSocketFactory(), TestCertificates.trustManager(cert.certificate()))
                .readTimeout(1, TimeUnit.MINUTES)
                .build();
        https = HttpClient.newBuilder().sslContext(trusting).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        gateway.stop();
        okHttp.dispatcher().executorService().shutdown();
        okHttp.connectionPool().evictAll();
    }

    @Test
    void webSocketClientOverTlsGetsASendMadeOverHttps() throws Exception {
        assertDelivery(gateway, "tls-ws-room", new String[] {"websocket"});
    }

    @Test
    void pollingClientOverTlsGetsASendMadeOverHttps() throws Exception {
        assertDelivery(gateway, "tls-polling-room", new String[] {"polling"});
    }

    @Test
    void pollingClientUpgradesToWebSocketOverTls() throws Exception {
        assertDelivery(gateway, "tls-upgrade-room", new String[] {"polling", "websocket"});
    }

    private void assertDelivery(PushBridgeGateway target, String room, String[] transports) throws Exception {
        BlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
        Socket socket = tlsSocket(target.port(), "/news", "rooms:" + room, transports, Map.of());
        socket.on("hello", received::add);
        CompletableFuture<Object> connected = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, a -> connected.complete(socket.id()));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> connected.completeExceptionally(new AssertionError(String.valueOf(a[0]))));
        socket.connect();
        try {
            connected.get(10, TimeUnit.SECONDS);
            if (target == gateway) {
                // what extensions and the admin view see: the connection came over TLS
                assertThat(capture.socket("news", socket.id()).handshake().secure()).isTrue();
            }
            HttpResponse<String> response = https.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + target.port() + "/send?site=news"))
                    .header("Content-Type", "application/json").header("X-Api-Key", TestGateways.API_KEY)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"rooms\":[\"" + room + "\"],\"event\":\"hello\",\"args\":[\"over tls\"]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            Object[] args = received.poll(10, TimeUnit.SECONDS);
            assertThat(args).isNotNull();
            assertThat(args[0]).isEqualTo("over tls");
        } finally {
            socket.off();
            socket.close();
        }
    }

    static Socket tlsSocket(int port, String namespace, String token, String[] transports, Map<String, List<String>> headers) {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setTimeout(10_000)
                .setAuth(Map.of("token", token)).setTransports(transports).setExtraHeaders(headers).build();
        options.callFactory = okHttp;
        options.webSocketFactory = okHttp;
        return IO.socket(URI.create("https://127.0.0.1:" + port + namespace), options);
    }

    @Test
    void plainHttpOnTheTlsPortIsRefusedAndItsBytesAreNotLogged() throws Exception {
        long before = gateway.stats().get("refused.tls.plaintext");
        String secret = "plain-text-key-5d1c9e";
        try (LogCapture logs = LogCapture.start(Map.of("io.pushbridge", Level.DEBUG, "io.netty", Level.DEBUG));
             java.net.Socket raw = new java.net.Socket("127.0.0.1", gateway.port())) {
            raw.setSoTimeout(10_000);
            OutputStream out = raw.getOutputStream();
            out.write(("POST /send?site=news HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + secret
                    + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = raw.getInputStream();
            byte[] answer = readUntilClosed(in);
            assertThat(new String(answer, StandardCharsets.ISO_8859_1)).as("no HTTP answer in the clear")
                    .doesNotContain("HTTP/1.1");
            // the counter, not the log line: an earlier test's plain connection may have used up the
            // line's rate limit (one per 10 s)
            awaitCount("refused.tls.plaintext", before + 1);
            assertThat(logs.text()).doesNotContain(secret)
                    .doesNotContain(HexFormat.of().formatHex(secret.getBytes(StandardCharsets.US_ASCII)));
        }
        // and a Socket.IO client speaking plain HTTP does not connect
        TestClient plain = TestClient.connect(gateway.port(), "/news", "rooms:plain");
        try {
            assertThat(plain.connectError.get(15, TimeUnit.SECONDS)).isNotNull();
            assertThat(plain.connected).isNotDone();
        } finally {
            plain.close();
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFailsItsHandshake() throws Exception {
        long before = gateway.stats().get("refused.tls.handshake");
        HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(
                URI.create("https://127.0.0.1:" + gateway.port() + "/send?site=news")).GET().build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
        awaitCount("refused.tls.handshake", before + 1);
    }

    @Test
    void theAdminPortServesOverTheSameTls() throws Exception {
        HttpResponse<String> ok = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.adminPort() + "/"))
                .header("Authorization", "Bearer " + ADMIN_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("\"connections\"");
        HttpResponse<String> onGatewayPort = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:"
                + gateway.port() + gateway.options().adminPath())).header("Authorization", "Bearer " + ADMIN_KEY).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(onGatewayPort.statusCode()).isEqualTo(200);
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", gateway.adminPort())) {
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ADMIN_KEY + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(readUntilClosed(raw.getInputStream()), StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1");
        }
    }

    @Test
    void aPkcs12KeyStoreServesTheSame() throws Exception {
        TlsOptions tls = TlsOptions.keyStore(cert.keyStore(), TestCertificates.PASSWORD).build();
        PushBridgeGateway fromStore = TestGateways.start(TestGateways.options().tls(tls).build(),
                b -> b.site(TestGateways.newsSite()));
        try {
            assertThat(fromStore.options().toString()).contains("tls=PKCS12").doesNotContain(TestCertificates.PASSWORD);
            assertDelivery(fromStore, "tls-store-room", new String[] {"websocket"});
            // and PushTemplate reaches a polling client of it
            BlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
            Socket socket = tlsSocket(fromStore.port(), "/news", "rooms:tls-store-polling", new String[] {"polling"}, Map.of());
            socket.on("hello", received::add);
            CompletableFuture<Object> connected = new CompletableFuture<>();
            socket.on(Socket.EVENT_CONNECT, a -> connected.complete(true));
            socket.on(Socket.EVENT_CONNECT_ERROR, a -> connected.complete(a[0]));
            socket.connect();
            try {
                assertThat(connected.get(10, TimeUnit.SECONDS)).isEqualTo(true);
                fromStore.pushTemplate().site("news").to("tls-store-polling").event("hello").args("from template").send()
                        .toCompletableFuture().get(10, TimeUnit.SECONDS);
                Object[] args = received.poll(10, TimeUnit.SECONDS);
                assertThat(args).isNotNull();
                assertThat(args[0]).isEqualTo("from template");
            } finally {
                socket.off();
                socket.close();
            }
        } finally {
            fromStore.stop();
        }
    }

    private static byte[] readUntilClosed(InputStream in) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
        } catch (java.net.SocketException e) {
            // reset by the server: closed too
        }
        return out.toByteArray();
    }

    private static void awaitCount(String counter, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (gateway.stats().get(counter) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(gateway.stats().get(counter)).isGreaterThanOrEqualTo(atLeast);
    }
}
