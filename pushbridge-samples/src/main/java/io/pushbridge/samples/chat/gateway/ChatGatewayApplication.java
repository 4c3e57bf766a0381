package io.pushbridge.samples.chat.gateway;

import io.pushbridge.gateway.PushBridgeGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;

/**
 * The chat example's gateway node: everything is in {@code chat-gateway.yml}. It holds the browsers'
 * connections to site {@code chat}, serves the chat page, and sends every connect, message and
 * disconnect to the application nodes ({@code pushbridge.sites.chat.upstream.enabled}).
 *
 * <p>Run from the repository root (Redis on localhost:6379): {@code ./mvnw -DskipTests -Pchat-gateway package},
 * then open http://localhost:8081/chat/.
 */
@SpringBootApplication
public class ChatGatewayApplication {

    private static final Logger log = LoggerFactory.getLogger(ChatGatewayApplication.class);

    public static void main(String[] args) {
        new SpringApplicationBuilder(ChatGatewayApplication.class).properties("spring.config.name=chat-gateway").run(args);
    }

    @EventListener(ApplicationReadyEvent.class)
    void ready(ApplicationReadyEvent event) {
        PushBridgeGateway gateway = event.getApplicationContext().getBean(PushBridgeGateway.class);
        log.info("Chat: http://localhost:{}/chat/ (Ctrl-C stops this gateway node)", gateway.port());
    }
}
