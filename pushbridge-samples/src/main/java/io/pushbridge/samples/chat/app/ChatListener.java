package io.pushbridge.samples.chat.app;

import io.pushbridge.PushRefusedException;
import io.pushbridge.PushTemplate;
import io.pushbridge.UpstreamListener;
import io.pushbridge.UpstreamRecord;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.springframework.stereotype.Component;

/**
 * The chat's logic, on the application nodes. It keeps no state: every record says who the client
 * is and where it is connected, and every answer goes through {@link PushTemplate} to whichever
 * gateway node holds the clients.
 *
 * <ul>
 *   <li>a client connects: the others in the lobby get {@code announcement} "… joined";</li>
 *   <li>{@code message {name, text}}: the others in the client's rooms get {@code message
 *       {name, text}}; the sender's callback gets {@code {ok: true}};</li>
 *   <li>{@code join {room}}: the client joins the room (answer {@code {room}});</li>
 *   <li>a client disconnects: the others get {@code announcement} "… left".</li>
 * </ul>
 */
@Component
public class ChatListener implements UpstreamListener {

    static final String SITE = "chat";
    static final int MAX_TEXT = 2000;

    private final PushTemplate push;

    public ChatListener(PushTemplate push) {
        this.push = push;
    }

    @Override
    public CompletionStage<Void> connected(UpstreamRecord record) {
        if (record.rooms().isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return push.site(SITE).to(record.rooms()).except(record.socketId()).event("announcement")
                .args(shortId(record) + " joined").send().thenApply(result -> null);
    }

    @Override
    public CompletionStage<List<Object>> event(UpstreamRecord record) {
        Map<?, ?> arg = record.firstArg() instanceof Map<?, ?> m ? m : Map.of();
        return switch (record.event()) {
            case "message" -> message(record, arg);
            case "join" -> join(record, arg);
            default -> CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("unknown event '" + record.event() + "'")));
        };
    }

    private CompletionStage<List<Object>> message(UpstreamRecord record, Map<?, ?> arg) {
        if (!(arg.get("text") instanceof String text) || text.isBlank() || text.length() > MAX_TEXT) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("text must be 1 to " + MAX_TEXT + " characters")));
        }
        String name = arg.get("name") instanceof String n && !n.isBlank() ? n : shortId(record);
        if (record.rooms().isEmpty()) {
            return CompletableFuture.completedFuture(List.of(Map.of("ok", true, "delivered", false)));
        }
        return push.site(SITE).to(record.rooms()).except(record.socketId()).event("message")
                .args(Map.of("name", name, "text", text)).send()
                .thenApply(result -> List.of(Map.of("ok", true)));
    }

    private CompletionStage<List<Object>> join(UpstreamRecord record, Map<?, ?> arg) {
        if (!(arg.get("room") instanceof String room) || room.isBlank()) {
            return CompletableFuture.failedFuture(new PushRefusedException(PushRefusedException.Reason.INVALID,
                    List.of("room is required")));
        }
        return push.join(SITE, record.socketId(), Set.of(room)).thenApply(v -> List.of(Map.of("room", room)));
    }

    @Override
    public CompletionStage<Void> disconnected(UpstreamRecord record) {
        return push.site(SITE).to(record.rooms().isEmpty() ? Set.of("lobby") : record.rooms()).event("announcement")
                .args(shortId(record) + " left").send().thenApply(result -> null);
    }

    private static String shortId(UpstreamRecord record) {
        return record.socketId().substring(0, Math.min(8, record.socketId().length()));
    }
}
