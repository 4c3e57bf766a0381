package io.pushbridge.badinput;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.LoggerFactory;

/**
 * What the bad-input suites share: waiting for a condition (never a fixed sleep), reading the error
 * code of a JSON answer, and watching the log, where client input must never cause an ERROR line.
 *
 * <p>The suites are one table per entry point, one row per bad input with its answer:
 * {@link SendApiBadInputIntegrationTests} (HTTP send API), {@link SocketIoBadInputIntegrationTests}
 * (Socket.IO packets and Engine.IO requests), {@link RedisBadInputIntegrationTests} (Redis channels
 * and streams) and {@link ConfigurationBadInputTests} ({@code pushbridge.*} properties).
 */
final class BadInputSupport {

    static final Duration WAIT = Duration.ofSeconds(10);

    private BadInputSupport() {
    }

    /** Waits until {@code condition} holds; fails after {@code wait} with {@code what}. */
    static void await(String what, Duration wait, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + wait.toMillis() + " ms: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Waits until a counter reaches {@code expected}, then checks it went no further. */
    static void awaitCount(String what, LongSupplier counter, long expected) throws InterruptedException {
        await(what + " reaches " + expected + " (is " + counter.getAsLong() + ")", WAIT, () -> counter.getAsLong() >= expected);
        assertThat(counter.getAsLong()).as("%s moved by exactly the expected amount", what).isEqualTo(expected);
    }

    /**
     * The error code of a JSON error answer: {@code {"error": "code", ...}} (the send API) or
     * {@code {"error": {"code": ...}}} (the shape of client event answers).
     */
    static String errorCode(JsonNode body) {
        JsonNode error = body.path("error");
        return error.isObject() ? error.path("code").asText(null) : error.asText(null);
    }

    /** The human-readable part of an error answer: its message and its list of problems, if any. */
    static String errorText(JsonNode body) {
        JsonNode error = body.path("error");
        JsonNode holder = error.isObject() ? error : body;
        return holder.path("message").asText("") + " " + holder.path("errors");
    }

    /**
     * Records every log event of the test JVM (a Logback appender on the root logger), so that a
     * suite can check that a bad input caused no ERROR line: client and Redis input is answered,
     * counted and logged at WARN at most, never reported as a server failure.
     */
    static final class LogCapture implements AutoCloseable {

        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
        private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

        private LogCapture() {
            appender.setName("bad-input-capture");
            appender.start();
            root.addAppender(appender);
        }

        static LogCapture start() {
            return new LogCapture();
        }

        /** A position in the log; see {@link #errorsSince}. */
        int mark() {
            synchronized (appender) {
                return appender.list.size();
            }
        }

        /** The ERROR events logged since {@code mark}, as {@code logger: message} lines. */
        List<String> errorsSince(int mark) {
            List<String> out = new ArrayList<>();
            synchronized (appender) {
                for (ILoggingEvent event : appender.list.subList(mark, appender.list.size())) {
                    if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
                        out.add(event.getLoggerName() + ": " + event.getFormattedMessage()
                                + (event.getThrowableProxy() == null ? "" : " (" + event.getThrowableProxy().getClassName()
                                        + ": " + event.getThrowableProxy().getMessage() + ")"));
                    }
                }
            }
            return out;
        }

        /** Every event since {@code mark} whose formatted message contains {@code text}. */
        List<String> containing(int mark, String text) {
            List<String> out = new ArrayList<>();
            synchronized (appender) {
                for (ILoggingEvent event : appender.list.subList(mark, appender.list.size())) {
                    if (event.getFormattedMessage().contains(text)) {
                        out.add(event.getFormattedMessage());
                    }
                }
            }
            return out;
        }

        @Override
        public void close() {
            root.detachAppender(appender);
            appender.stop();
        }
    }
}
