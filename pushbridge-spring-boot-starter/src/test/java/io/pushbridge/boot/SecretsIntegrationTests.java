package io.pushbridge.boot;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pushbridge.gateway.LogCapture;
import io.pushbridge.gateway.PushBridgeGateway;
import io.pushbridge.gateway.TestCertificates;
import io.pushbridge.redis.testing.RedisServer;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A gateway started through the starter with distinctive secrets (API keys inline and from a file,
 * the admin key, the key store's password from a file, the Redis password, clients' tokens) goes
 * through good and bad sends, wrong keys in every place a key can go, connects with good and
 * refused tokens, admin requests and a plain HTTP request on its TLS port; then every log event
 * (DEBUG and up, everything but netty-socketio, whose DEBUG lines print handshake query strings and
 * headers: see docs/operations.md), every HTTP answer, every connect_error and every meter tag is
 * searched for the secrets, as they are and hex-encoded. None may appear.
 */
class SecretsIntegrationTests {

    private static final String API_KEY = "sk-inline-7Qx93fZtA1";
    private static final String FILE_API_KEY = "sk-file-Lm28Rw0pB2";
    private static final String WRONG_API_KEY = "sk-wrong-Pp55Ww3eC3";
    private static final String ADMIN_KEY = "adm-secret-K7u2Ee9PQ4";
    private static final String WRONG_ADMIN_KEY = "adm-wrong-Jn40Vb6RD5";
    private static final String TLS_PASSWORD = "tls-pass-Zr64Ty1wE6";
    private static final String REDIS_PASSWORD = "redis-pass-Xy71Qa9cF7";
    private static final String GOOD_TOKEN = "tok-good-Vb81Nc3sG8";
    private static final String REFUSED_TOKEN = "tok-bad-Hq27Jd5mH9";
    private static final String QUERY_TOKEN = "tok-query-Rs93Kk1aJ0";

    private static final List<String> SECRETS = List.of(API_KEY, FILE_API_KEY, WRONG_API_KEY, ADMIN_KEY, WRONG_ADMIN_KEY,
            TLS_PASSWORD, REDIS_PASSWORD, GOOD_TOKEN, REFUSED_TOKEN, QUERY_TOKEN);

    @TempDir
    Path dir;

    @Test
    void noSecretReachesLogsAnswersOrMeters() throws Exception {
        TestCertificates.Generated generated = TestCertificates.generate(dir, "secrets");
        Path keyStore = TestCertificates.copyStore(generated, dir.resolve("gateway.p12"), "PKCS12", TLS_PASSWORD, TLS_PASSWORD);
        Path tlsPasswordFile = Files.writeString(dir.resolve("tls-password"), TLS_PASSWORD + "\n");
        Path apiKeyFile = Files.writeString(dir.resolve("api-keys"), FILE_API_KEY + "\n");
        Path adminKeyFile = Files.writeString(dir.resolve("admin-key"), ADMIN_KEY + "\n");
        SSLContext trusting = TestCertificates.trusting(generated.certificate());
        OkHttpClient okHttp = new OkHttpClient.Builder()
                .sslSocketFactory(trusting.getSocketFactory(), TestCertificates.trustManager(generated.certificate())).build();
        HttpClient https = HttpClient.newBuilder().sslContext(trusting).connectTimeout(Duration.ofSeconds(5)).build();

        HttpServer webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/rooms", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            boolean good = ("Bearer " + GOOD_TOKEN).equals(auth) || ("Bearer " + QUERY_TOKEN).equals(auth);
            byte[] body = (good ? "[\"user_secret\"]" : "{\"error\":\"no\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(good ? 200 : 401, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        webhook.start();

        List<String> answers = new ArrayList<>();
        try (RedisServer redis = RedisServer.start("--user", "pushbridge", "on", ">" + REDIS_PASSWORD, "~*", "&*", "+@all");
             LogCapture logs = LogCapture.start(Map.of(org.slf4j.Logger.ROOT_LOGGER_NAME, Level.DEBUG,
                     "io.pushbridge", Level.TRACE, "com.corundumstudio", Level.INFO))) {
            ApplicationContextRunner runner = new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(PushBridgeRedisAutoConfiguration.class,
                            PushBridgeAutoConfiguration.class))
                    .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                    .withPropertyValues("pushbridge.port=0", "pushbridge.host=127.0.0.1",
                            "pushbridge.redis.url=redis://pushbridge:" + REDIS_PASSWORD + "@127.0.0.1:" + redis.port(),
                            "pushbridge.tls.key-store=" + keyStore,
                            "pushbridge.tls.key-store-password-file=" + tlsPasswordFile,
                            "pushbridge.admin.key-file=" + adminKeyFile,
                            "pushbridge.sites.news.auth-url=http://127.0.0.1:" + webhook.getAddress().getPort() + "/rooms",
                            "pushbridge.sites.news.auth-cache-ttl=1m",
                            "pushbridge.sites.news.api-key=" + API_KEY,
                            "pushbridge.sites.news.api-key-file=" + apiKeyFile);
            runner.run(context -> {
                assertThat(context).hasNotFailed();
                PushBridgeGateway gateway = context.getBean(PushBridgeGateway.class);
                int port = gateway.port();
                String base = "https://127.0.0.1:" + port;

                BlockingQueue<Object[]> received = new LinkedBlockingQueue<>();
                Socket good = socket(okHttp, port, Map.of("token", GOOD_TOKEN), null);
                good.on("news", received::add);
                assertThat(outcome(good)).isEqualTo("connected");
                Socket byQuery = socket(okHttp, port, Map.of(), "token=" + QUERY_TOKEN);
                assertThat(outcome(byQuery)).isEqualTo("connected");
                Socket refused = socket(okHttp, port, Map.of("token", REFUSED_TOKEN), null);
                answers.add(String.valueOf(outcome(refused)));
                Socket refusedByQuery = socket(okHttp, port, Map.of(), "token=" + REFUSED_TOKEN);
                answers.add(String.valueOf(outcome(refusedByQuery)));

                String message = "{\"rooms\":[\"user_secret\"],\"event\":\"news\",\"args\":[\"hi\"]}";
                answers.add(send(https, base + "/send?site=news", Map.of("X-Api-Key", API_KEY), message, 200));
                answers.add(send(https, base + "/send?site=news&apiKey=" + FILE_API_KEY, Map.of(), message, 200));
                answers.add(send(https, base + "/send?site=news", Map.of("Authorization", "Bearer " + API_KEY), message, 200));
                answers.add(send(https, base + "/send?site=news", Map.of("X-Api-Key", WRONG_API_KEY), message, 401));
                answers.add(send(https, base + "/send?site=news&apiKey=" + WRONG_API_KEY, Map.of(), message, 401));
                answers.add(send(https, base + "/send?site=news", Map.of("Authorization", "Bearer " + WRONG_API_KEY), message, 401));
                answers.add(send(https, base + "/send?site=elsewhere", Map.of("X-Api-Key", API_KEY), message, 404));
                answers.add(send(https, base + "/send?site=news", Map.of("X-Api-Key", API_KEY), "{\"rooms\":[" + API_KEY, 400));
                answers.add(send(https, base + "/send?site=news", Map.of("X-Api-Key", API_KEY),
                        "{\"rooms\":[\"" + GOOD_TOKEN + "\u0001\"],\"event\":\"news\"}", 400));
                assertThat(received.poll(10, TimeUnit.SECONDS)).isNotNull();

                String adminPath = base + gateway.options().adminPath();
                String listing = get(https, adminPath, Map.of("Authorization", "Bearer " + ADMIN_KEY), 200);
                assertThat(listing).contains("user_secret");
                answers.add(listing);
                answers.add(get(https, adminPath, Map.of("X-PushBridge-Admin-Key", ADMIN_KEY), 200));
                answers.add(get(https, adminPath, Map.of("Authorization", "Bearer " + WRONG_ADMIN_KEY), 401));
                answers.add(get(https, adminPath + "?key=" + WRONG_ADMIN_KEY, Map.of(), 401));
                String overview = base + gateway.options().adminPagePath() + "/overview";
                answers.add(get(https, overview, Map.of("Authorization", "Bearer " + ADMIN_KEY), 200));
                answers.add(get(https, overview, Map.of("Authorization", "Bearer " + WRONG_ADMIN_KEY), 401));

                // a plain HTTP request, with a key, on the TLS port
                try (java.net.Socket raw = new java.net.Socket("127.0.0.1", port)) {
                    raw.setSoTimeout(10_000);
                    raw.getOutputStream().write(("POST /send?site=news&apiKey=" + API_KEY + " HTTP/1.1\r\nHost: x\r\nX-Api-Key: "
                            + API_KEY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    answers.add(new String(raw.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
                } catch (java.net.SocketException reset) {
                    // closed without an answer
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (gateway.stats().get("refused.tls.plaintext") == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(gateway.stats().get("refused.tls.plaintext")).isEqualTo(1);

                for (Socket s : List.of(good, byQuery, refused, refusedByQuery)) {
                    s.off();
                    s.close();
                }
                for (Meter meter : context.getBean(MeterRegistry.class).getMeters()) {
                    answers.add(meter.getId().toString());
                }
            });
            String logged = logs.text();
            assertThat(logs.size()).as("the capture saw the run").isGreaterThan(10);
            assertThat(logged).contains("PushBridge gateway started", "Refused session", "is not TLS");
            for (String secret : SECRETS) {
                for (String form : forms(secret)) {
                    assertThat(logged).as("the log holds %s", secret).doesNotContain(form);
                    for (String answer : answers) {
                        assertThat(answer).as("an answer holds %s", secret).doesNotContain(form);
                    }
                }
            }
        } finally {
            webhook.stop(0);
            okHttp.dispatcher().executorService().shutdown();
            okHttp.connectionPool().evictAll();
        }
    }

    /** A secret as it is, hex-encoded (Netty's dumps), and in base64 (HTTP basic). */
    private static List<String> forms(String secret) {
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        return List.of(secret, HexFormat.of().formatHex(bytes), Base64.getEncoder().encodeToString(bytes));
    }

    private static Socket socket(OkHttpClient okHttp, int port, Map<String, String> auth, String query) {
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setTimeout(10_000)
                .setAuth(auth).setQuery(query).setTransports(new String[] {"websocket"}).build();
        options.callFactory = okHttp;
        options.webSocketFactory = okHttp;
        return IO.socket(URI.create("https://127.0.0.1:" + port + "/news"), options);
    }

    private static Object outcome(Socket socket) throws Exception {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        socket.on(Socket.EVENT_CONNECT, a -> outcome.complete("connected"));
        socket.on(Socket.EVENT_CONNECT_ERROR, a -> outcome.complete(a.length > 0 ? a[0] : "?"));
        socket.connect();
        return outcome.get(15, TimeUnit.SECONDS);
    }

    private static String send(HttpClient https, String url, Map<String, String> headers, String body, int status)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        HttpResponse<String> response = https.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url + " " + response.body()).isEqualTo(status);
        return response.headers().map() + " " + response.body();
    }

    private static String get(HttpClient https, String url, Map<String, String> headers, int status) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
        headers.forEach(request::header);
        HttpResponse<String> response = https.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url + " " + response.body()).isEqualTo(status);
        return response.headers().map() + " " + response.body();
    }
}
