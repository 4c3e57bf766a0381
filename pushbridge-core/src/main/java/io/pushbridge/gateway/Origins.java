package io.pushbridge.gateway;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A list of allowed browser origins and the test of an {@code Origin} header against it. An entry is
 * {@code scheme://host[:port]} (http or https; a default port may be left out), {@code
 * scheme://*.domain[:port]} for every subdomain of a domain (not the domain itself; the domain has
 * two labels or more, so {@code https://*.com} is refused, and a two-label public suffix such as
 * {@code https://*.co.uk} is warned about once, at start-up), or {@code *} for any origin. Scheme and host compare without regard to case. The header {@code null} (sent by
 * sandboxed frames and {@code file:} pages) matches only {@code *}. Immutable.
 */
final class Origins {

    /** Every origin (an empty list of allowed origins means this). */
    static final Origins ANY = new Origins(List.of(), true);

    private record Entry(String scheme, String host, boolean subdomains, int port) {
        boolean matches(Parsed origin) {
            if (!scheme.equals(origin.scheme) || port != origin.port) {
                return false;
            }
            return subdomains ? origin.host.endsWith("." + host) : origin.host.equals(host);
        }
    }

    private record Parsed(String scheme, String host, int port) {
    }

    private final List<Entry> entries;
    private final boolean any;
    private final List<String> shown;

    private Origins(List<Entry> entries, boolean any) {
        this.entries = List.copyOf(entries);
        this.any = any;
        this.shown = any ? List.of("*") : entries.stream().map(e -> e.scheme + "://" + (e.subdomains ? "*." : "") + e.host
                + ":" + e.port).toList();
    }

    /** The allowed origins of a list of entries (each {@link #valid}); an empty list allows any. */
    static Origins of(List<String> list) {
        if (list.isEmpty() || list.contains("*")) {
            return ANY;
        }
        List<Entry> entries = new ArrayList<>();
        for (String entry : list) {
            entries.add(entry(entry));
        }
        return new Origins(entries, false);
    }

    /** Whether an entry is well-formed. */
    static boolean valid(@Nullable String entry) {
        if (entry == null) {
            return false;
        }
        if (entry.equals("*")) {
            return true;
        }
        try {
            entry(entry);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The origins a site admits: its own list when it has one, else the gateway's.
     */
    static Origins forSite(SiteOptions site, GatewayOptions gateway) {
        return of(site.allowedOrigins().isEmpty() ? gateway.allowedOrigins() : site.allowedOrigins());
    }

    /**
     * The origins the Engine.IO handshake admits, before the site is known: those of every site
     * (any, when one site admits any origin).
     */
    static Origins union(Collection<Origins> sites) {
        List<Entry> all = new ArrayList<>();
        for (Origins site : sites) {
            if (site.any) {
                return ANY;
            }
            all.addAll(site.entries);
        }
        return all.isEmpty() ? ANY : new Origins(all, false);
    }

    boolean allowsAny() {
        return any;
    }

    /** Whether an {@code Origin} header value is allowed; a missing header is the caller's decision. */
    boolean allows(String origin) {
        if (any) {
            return true;
        }
        Parsed parsed = parse(origin);
        if (parsed == null) {
            return false;
        }
        for (Entry entry : entries) {
            if (entry.matches(parsed)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return String.join(", ", shown);
    }

    private static Entry entry(String text) {
        String t = text.trim();
        boolean subdomains = false;
        int sep = t.indexOf("://");
        if (sep > 0 && t.startsWith("*.", sep + 3)) {
            subdomains = true;
            t = t.substring(0, sep + 3) + t.substring(sep + 5);
        }
        Parsed parsed = parse(t);
        if (parsed == null || (subdomains && (parsed.host.startsWith("[") || !parsed.host.contains(".")))) {
            // *.com would allow every .com site
            throw new IllegalArgumentException("'" + text + "' is not scheme://host[:port] or scheme://*.domain[:port]");
        }
        if (subdomains && looksLikePublicSuffix(parsed.host) && WARNED.add(parsed.host)) {
            LOG.warn("Allowed origin '{}' admits every site under '{}', which looks like a public suffix (such as co.uk):"
                    + " list the domain itself, such as *.example.{}", text.trim(), parsed.host, parsed.host);
        }
        return new Entry(parsed.scheme, parsed.host, subdomains, parsed.port);
    }

    /** Second-level labels that registries sell names under in country domains (co.uk, com.au, ...). */
    private static final java.util.Set<String> SECOND_LEVELS = java.util.Set.of("ac", "co", "com", "edu", "gob", "go",
            "gov", "ltd", "me", "mil", "ne", "net", "nom", "or", "org", "plc", "sch");
    private static final java.util.Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Origins.class);

    /**
     * Whether a two-label domain looks like a public suffix ({@code co.uk}, {@code com.au}): a known
     * second-level label under a two-letter country domain. A heuristic, not the public-suffix list.
     */
    static boolean looksLikePublicSuffix(String host) {
        String[] labels = host.split("\\.");
        return labels.length == 2 && labels[1].length() == 2 && SECOND_LEVELS.contains(labels[0]);
    }

    /** An origin as browsers send it: {@code scheme://host[:port]}, nothing after; else null. */
    private static @Nullable Parsed parse(String origin) {
        int sep = origin.indexOf("://");
        if (sep <= 0) {
            return null;
        }
        String scheme = origin.substring(0, sep).toLowerCase(Locale.ROOT);
        int defaultPort = switch (scheme) {
            case "http" -> 80;
            case "https" -> 443;
            default -> -1;
        };
        if (defaultPort < 0) {
            return null;
        }
        String authority = origin.substring(sep + 3);
        if (authority.isEmpty() || authority.contains("/") || authority.contains("@") || authority.contains("?")
                || authority.contains("#") || authority.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            return null;
        }
        String host;
        String port = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = authority.substring(0, close + 1);
            String rest = authority.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return null;
                }
                port = rest.substring(1);
            }
        } else {
            int colon = authority.indexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            port = colon < 0 ? null : authority.substring(colon + 1);
            if (!host.matches("[A-Za-z0-9.-]+") || host.startsWith(".") || host.endsWith(".") || host.contains("..")) {
                return null;
            }
        }
        int portNumber = defaultPort;
        if (port != null) {
            if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
                return null;
            }
            portNumber = Integer.parseInt(port);
            if (portNumber < 1 || portNumber > 65535) {
                return null;
            }
        }
        return new Parsed(scheme, host.toLowerCase(Locale.ROOT), portNumber);
    }
}
