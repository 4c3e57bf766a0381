package io.pushbridge.samples.chat.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * The chat example's application node: everything is in {@code chat-app.yml} and
 * {@link ChatListener}. It binds no port ({@code pushbridge.serve=false}); it handles what the
 * browsers connected to the gateway nodes do, and answers through them.
 *
 * <p>Run from the repository root (Redis on localhost:6379): {@code ./mvnw -DskipTests -Pchat-app package}.
 */
@SpringBootApplication
public class ChatAppApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(ChatAppApplication.class).properties("spring.config.name=chat-app").run(args);
    }
}
