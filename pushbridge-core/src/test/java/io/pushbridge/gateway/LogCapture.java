package io.pushbridge.gateway;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event (message, arguments, exceptions with their causes and stack traces) while
 * open, with some loggers turned up for the time; {@link #close()} restores their levels. For tests
 * that look for what must never be logged. Public (and in the test-jar) for the starter's tests.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final List<String> lines = new ArrayList<>();
    private final Map<Logger, Level> saved = new LinkedHashMap<>();
    private final Logger root;

    private LogCapture(Map<String, Level> levels) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        setContext(context);
        root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        levels.forEach((name, level) -> {
            Logger logger = context.getLogger(name);
            saved.put(logger, logger.getLevel());
            logger.setLevel(level);
        });
        start();
        root.addAppender(this);
    }

    /** Starts capturing, with the given loggers (such as {@code ROOT}) at the given levels meanwhile. */
    public static LogCapture start(Map<String, Level> levels) {
        return new LogCapture(levels);
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(event.getLevel() + " " + event.getLoggerName() + " " + event.getFormattedMessage());
        if (event.getThrowableProxy() != null) {
            line.append('\n').append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
        }
        lines.add(line.toString());
    }

    /** Everything captured so far, one event per line (exceptions on the lines after it). */
    public synchronized String text() {
        return String.join("\n", lines);
    }

    public synchronized int size() {
        return lines.size();
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
        saved.forEach(Logger::setLevel);
    }
}
