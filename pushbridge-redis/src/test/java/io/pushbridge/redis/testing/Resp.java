package io.pushbridge.redis.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal RESP2 client over a plain {@link Socket}: one connection per command, no pooling, no
 * pipelining. The harness uses it instead of Lettuce so that the code under test and the code that
 * controls Redis stay apart.
 *
 * <p>Replies are decoded to {@link String} (simple strings and bulk strings), {@link Long}
 * (integers), {@link Error} (error replies), {@link List} (arrays) and {@code null} (nil). Stateless and
 * thread-safe.
 */
final class Resp {

    /** An error reply, such as {@code ERR unknown command}. */
    record Error(String message) {
        @Override
        public String toString() {
            return message;
        }
    }

    private Resp() {
    }

    /**
     * Connects, sends one command, reads one reply and closes.
     *
     * @throws IOException when the server cannot be reached, closes the connection or does not
     *     answer within {@code timeout}
     */
    static Object call(String host, int port, Duration timeout, String... args) throws IOException {
        try (Socket socket = new Socket()) {
            int millis = (int) Math.max(1, timeout.toMillis());
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            out.write(encode(args));
            out.flush();
            return read(new BufferedInputStream(socket.getInputStream()));
        }
    }

    /** Sends one command and does not wait for the reply (for {@code SHUTDOWN}, which closes the link). */
    static void send(String host, int port, Duration timeout, String... args) throws IOException {
        try (Socket socket = new Socket()) {
            int millis = (int) Math.max(1, timeout.toMillis());
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            OutputStream out = socket.getOutputStream();
            out.write(encode(args));
            out.flush();
            try {
                // wait until the server acts on it: it replies with an error or closes the connection
                socket.getInputStream().read();
            } catch (IOException ignored) {
                // closed or reset by the server going away
            }
        }
    }

    /**
     * Renders a decoded reply as text: strings, errors and integers as their text, arrays as their
     * elements joined by {@code \n} (nested arrays flattened the same way), nil as {@code null} at the
     * top level and as an empty line inside an array.
     */
    static String render(Object reply) {
        if (reply == null) {
            return null;
        }
        if (reply instanceof List<?> list) {
            StringBuilder text = new StringBuilder();
            for (Object element : list) {
                if (text.length() > 0) {
                    text.append('\n');
                }
                String rendered = render(element);
                text.append(rendered == null ? "" : rendered);
            }
            return text.toString();
        }
        return reply.toString();
    }

    private static byte[] encode(String... args) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        writeAscii(buffer, "*" + args.length + "\r\n");
        for (String arg : args) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            writeAscii(buffer, "$" + bytes.length + "\r\n");
            buffer.writeBytes(bytes);
            writeAscii(buffer, "\r\n");
        }
        return buffer.toByteArray();
    }

    private static void writeAscii(ByteArrayOutputStream buffer, String text) {
        buffer.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed before a reply");
        }
        String line = readLine(in);
        switch (type) {
            case '+':
                return line;
            case '-':
                return new Error(line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length);
                if (bytes.length < length) {
                    throw new EOFException("connection closed inside a bulk reply");
                }
                readLine(in); // the CRLF after the payload
                return new String(bytes, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<Object> elements = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    elements.add(read(in));
                }
                return elements;
            }
            default:
                throw new IOException("unexpected RESP type '" + (char) type + "' followed by: " + line);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed inside a reply");
            }
            if (b == '\r') {
                int next = in.read();
                if (next == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
                if (next < 0) {
                    throw new EOFException("connection closed inside a reply");
                }
                line.write(next);
            } else {
                line.write(b);
            }
        }
    }
}
