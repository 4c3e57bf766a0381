package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.pushbridge.auth.AllowAllAuthorizer;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A socket.io path other than {@code /socket.io/}, written as clients write it ({@code /socket/},
 * with the trailing slash), and a site on the default namespace: the redis-session service's setup.
 */
class CustomPathIntegrationTests {

    static PushBridgeGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateways.start(TestGateways.options().path("/socket/").build(), b -> b.site(
                SiteOptions.builder("yunity").namespace("/").authorizer(new AllowAllAuthorizer(Set.of("everyone"))).build()));
    }

    @AfterAll
    static void stop() {
        gateway.stop();
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void clientsConnectOnTheConfiguredPathAndReceive(String transport) throws Exception {
        assertThat(gateway.options().path()).isEqualTo("/socket");
        IO.Options options = IO.Options.builder().setForceNew(true).setReconnection(false).setPath("/socket/")
                .setTransports(new String[] {transport}).build();
        Socket socket = IO.socket(URI.create("http://127.0.0.1:" + gateway.port()), options);
        CompletableFuture<Object> received = new CompletableFuture<>();
        CompletableFuture<String> connected = new CompletableFuture<>();
        socket.on("message", args -> received.complete(args[0]));
        socket.on(Socket.EVENT_CONNECT, args -> connected.complete(socket.id()));
        socket.connect();
        try {
            connected.get(10, TimeUnit.SECONDS);
            gateway.pushTemplate().site("yunity").to("everyone").event("message").args("hi " + transport).send()
                    .toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo("hi " + transport);
        } finally {
            socket.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/socket.io/?EIO=4&transport=polling", "/sockets/?EIO=4&transport=polling"})
    void theDefaultPathIsNotServed(String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(List.of(response.body())).noneMatch(b -> b.startsWith("0{"));
    }
}
