package io.pushbridge.gateway;

import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.MessageStore;
import io.pushbridge.RoomAuthorizer;
import io.pushbridge.memory.InMemoryMessageStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Gateways for tests: loopback, a free port, fast timings. Starting and stopping a gateway costs
 * seconds (Netty's graceful shutdown), so test classes share one and keep their tests apart by
 * using distinct rooms.
 */
public final class TestGateways {

    public static final String API_KEY = "key-1";
    public static final String API_KEY_2 = "key-2";

    private TestGateways() {
    }

    /**
     * An authorizer for tests: the token {@code rooms:a,b,c} joins rooms a, b and c; the token
     * {@code deny} and a missing token are refused.
     */
    public static final RoomAuthorizer ROOMS_FROM_TOKEN = request -> {
        String token = request.token();
        if (token == null) {
            return CompletableFuture.failedFuture(AuthorizationDeniedException.tokenMissing());
        }
        if (!token.startsWith("rooms:")) {
            return CompletableFuture.failedFuture(
                    new AuthorizationDeniedException(AuthorizationDeniedException.UNAUTHORIZED, "Unknown token"));
        }
        String list = token.substring("rooms:".length());
        return CompletableFuture.completedFuture(
                list.isEmpty() ? new LinkedHashSet<>() : new LinkedHashSet<>(Arrays.asList(list.split(","))));
    };

    public static GatewayOptions.Builder options() {
        return GatewayOptions.builder().host("127.0.0.1").port(0).pingInterval(Duration.ofSeconds(5))
                .pingTimeout(Duration.ofSeconds(5)).connectTimeout(Duration.ofSeconds(5)).workerThreads(2);
    }

    /** Site "news" on /news with {@link #ROOMS_FROM_TOKEN} and keys {@link #API_KEY}, {@link #API_KEY_2}. */
    public static SiteOptions newsSite() {
        return SiteOptions.builder("news").authorizer(ROOMS_FROM_TOKEN).apiKey(API_KEY).apiKey(API_KEY_2).build();
    }

    public static PushBridgeGateway start(GatewayOptions options, Consumer<PushBridgeGateway.Builder> customizer) {
        PushBridgeGateway.Builder builder = PushBridgeGateway.builder().options(options);
        customizer.accept(builder);
        PushBridgeGateway gateway = builder.build();
        gateway.start();
        return gateway;
    }

    public static PushBridgeGateway startNews(MessageStore store) {
        return start(options().build(), b -> b.site(newsSite()).store(store));
    }

    public static InMemoryMessageStore memoryStore() {
        return InMemoryMessageStore.builder().build();
    }
}
