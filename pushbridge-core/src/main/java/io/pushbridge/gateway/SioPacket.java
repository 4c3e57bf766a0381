package io.pushbridge.gateway;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * One Socket.IO packet from a client, parsed strictly (netty-socketio's own decoder misreads
 * malformed input instead of refusing it). Format: {@code <type>[<attachments>-][<nsp>,][<ackId>][<json>]}.
 */
record SioPacket(int type, int attachments, String nsp, long ackId, @Nullable JsonNode data) {

    static final int CONNECT = 0;
    static final int DISCONNECT = 1;
    static final int EVENT = 2;
    static final int ACK = 3;
    static final int CONNECT_ERROR = 4;
    static final int BINARY_EVENT = 5;
    static final int BINARY_ACK = 6;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Thrown for input that is not a well-formed client packet; the message says what is wrong. */
    static final class MalformedPacketException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedPacketException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Parses the Socket.IO part of an Engine.IO message packet (the text after the leading {@code 4}).
     */
    static SioPacket parse(String s) throws MalformedPacketException {
        int len = s.length();
        if (len == 0) {
            throw new MalformedPacketException("empty packet");
        }
        int type = s.charAt(0) - '0';
        if (type < CONNECT || type > BINARY_ACK) {
            throw new MalformedPacketException("unknown packet type '" + s.charAt(0) + "'");
        }
        if (type == CONNECT_ERROR) {
            throw new MalformedPacketException("clients do not send CONNECT_ERROR");
        }
        int i = 1;
        int attachments = 0;
        if (type == BINARY_EVENT || type == BINARY_ACK) {
            int start = i;
            while (i < len && isDigit(s.charAt(i)) && i - start < 6) {
                i++;
            }
            if (i == start || i >= len || s.charAt(i) != '-') {
                throw new MalformedPacketException("binary packet without attachment count");
            }
            attachments = Integer.parseInt(s, start, i, 10);
            if (attachments < 1) {
                throw new MalformedPacketException("binary packet with no attachments");
            }
            i++;
        }
        String nsp = "/";
        if (i < len && s.charAt(i) == '/') {
            int comma = s.indexOf(',', i);
            int end = comma < 0 ? len : comma;
            nsp = s.substring(i, end);
            int query = nsp.indexOf('?');
            if (query >= 0) {
                nsp = nsp.substring(0, query);
            }
            if (nsp.length() > 256 || !validNamespace(nsp)) {
                throw new MalformedPacketException("invalid namespace");
            }
            i = comma < 0 ? len : comma + 1;
        }
        long ackId = -1;
        int digitsStart = i;
        while (i < len && isDigit(s.charAt(i))) {
            i++;
        }
        if (i > digitsStart) {
            if (i - digitsStart > 15) {
                throw new MalformedPacketException("ack id too long");
            }
            ackId = Long.parseLong(s, digitsStart, i, 10);
        }
        JsonNode data = null;
        if (i < len) {
            try {
                data = JSON.readTree(s.substring(i));
            } catch (IOException e) {
                throw new MalformedPacketException("payload is not valid JSON");
            }
        }
        switch (type) {
            case CONNECT -> {
                if (ackId >= 0 || data != null && !data.isObject()) {
                    throw new MalformedPacketException("CONNECT payload must be an object");
                }
            }
            case DISCONNECT -> {
                if (ackId >= 0 || data != null) {
                    throw new MalformedPacketException("DISCONNECT carries no payload");
                }
            }
            case EVENT, BINARY_EVENT -> {
                if (data == null || !data.isArray() || data.isEmpty() || !data.get(0).isTextual()) {
                    throw new MalformedPacketException("EVENT payload must be an array starting with the event name");
                }
            }
            case ACK, BINARY_ACK -> {
                if (ackId < 0 || data == null || !data.isArray()) {
                    throw new MalformedPacketException("ACK needs an id and an array payload");
                }
            }
            default -> throw new MalformedPacketException("unknown packet type");
        }
        return new SioPacket(type, attachments, nsp, ackId, data);
    }

    /**
     * This ACK as a Socket.IO packet (without Engine.IO's leading {@code 4}) that carries only its
     * first argument.
     */
    String ackWithFirstArgument() {
        if (type != ACK || data == null || data.isEmpty()) {
            throw new IllegalStateException("not an ACK with arguments");
        }
        try {
            return ACK + ("/".equals(nsp) ? "" : nsp + ",") + ackId + "[" + JSON.writeValueAsString(data.get(0)) + "]";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON value cannot be written back", e);
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean validNamespace(String nsp) {
        for (int k = 1; k < nsp.length(); k++) {
            char c = nsp.charAt(k);
            if (c < 0x21 || c > 0x7e || c == ',') {
                return false;
            }
        }
        return true;
    }
}
