package io.pushbridge.samples.bench;

import io.pushbridge.AuthorizationDeniedException;
import io.pushbridge.RoomAuthorizer;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * The PushBridge side of the load benchmark: the starter as a user runs it, with one bench site whose
 * {@code BEAN} authorizer lets token {@code N} (a user number) join its user room
 * {@code <user-room-prefix>N} and the fan-out room, exactly what the reference server does, without
 * a 10,000-entry token table. {@link LoadBenchmark} starts it in a child JVM with everything on the
 * command line ({@code --spring.config.name=pushbridge-bench}, so the sample's {@code application.yml}
 * and its demo site are not read):
 *
 * <pre>
 * java -cp TEST_CLASSPATH io.pushbridge.samples.bench.BenchGateway --pushbridge.port=1337
 *     --pushbridge.sites.bench.authorizer=bean --pushbridge.sites.bench.authorizer-bean=benchAuthorizer
 *     --pushbridge.sites.bench.api-key=KEY [--pushbridge.redis.url=redis://127.0.0.1:6379]
 * </pre>
 */
@SpringBootApplication
public class BenchGateway {

    /** A user number as the reference server accepts it. */
    private static final Pattern USER = Pattern.compile("[0-9]{1,9}");

    public static void main(String[] args) {
        SpringApplication.run(BenchGateway.class, args);
    }

    @Bean
    RoomAuthorizer benchAuthorizer(@Value("${bench.user-room-prefix:user_}") String prefix,
            @Value("${bench.fanout-room:all}") String fanoutRoom) {
        return request -> {
            String token = request.token();
            if (token == null || !USER.matcher(token).matches()) {
                return CompletableFuture.failedFuture(new AuthorizationDeniedException("unauthorized", "not a user number"));
            }
            return CompletableFuture.completedFuture(Set.of(prefix + token, fanoutRoom));
        };
    }
}
