package io.pushbridge.samples.gateway;

import io.pushbridge.gateway.PushBridgeGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;

/**
 * A standalone PushBridge gateway: one node, queues in memory, no Redis. Everything is in
 * {@code application.yml}; the starter builds and starts the gateway, which serves Socket.IO, the
 * send API ({@code POST /send}) and the demo page ({@code src/main/resources/public}) on one port.
 *
 * <p>Run from the repository root: {@code ./mvnw -DskipTests -Prun-sample package}, then open
 * http://localhost:1337/. With {@code -Dspring-boot.run.profiles=redis-handshake} or
 * {@code redis-session} it stands in for one of the older Redis services instead (no demo page; see
 * {@code docs/migration/}).
 */
@SpringBootApplication
public class SampleGatewayApplication {

    private static final Logger log = LoggerFactory.getLogger(SampleGatewayApplication.class);

    public static void main(String[] args) {
        SpringApplication.run(SampleGatewayApplication.class, args);
    }

    @EventListener(ApplicationReadyEvent.class)
    void ready(ApplicationReadyEvent event) {
        PushBridgeGateway gateway = event.getApplicationContext().getBean(PushBridgeGateway.class);
        if (gateway.options().staticResources() != null) {
            log.info("Demo page: http://localhost:{}/ (Ctrl-C stops the gateway)", gateway.port());
        } else {
            // the redis-handshake and redis-session profiles have no demo page
            log.info("Gateway: http://localhost:{}{} (Ctrl-C stops the gateway)", gateway.port(), gateway.options().path());
        }
    }
}
