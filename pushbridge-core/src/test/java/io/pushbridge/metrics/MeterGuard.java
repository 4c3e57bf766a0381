package io.pushbridge.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The cardinality guard, for tests of every module: each {@code pushbridge.*} meter in a registry
 * is one of {@link PushBridgeMeter}'s, with exactly its declared tag keys, and every tag value comes
 * from the configured sites or a fixed set.
 */
public final class MeterGuard {

    /** Outcomes of meters whose outcomes are not an enum of this package. */
    private static final Set<String> OUTCOMES = Set.of("admitted", "handled", "refused", "unhandled", "failed", "timeout",
            "too_many_pending", "rate_limited", "unsupported", "failed_attempts", "dead_lettered", "malformed", "trimmed", "handle_timeouts");

    private MeterGuard() {
    }

    /** The allowed values of each tag key, with these site names. */
    public static Map<String, Set<String>> allowedValues(Set<String> sites) {
        Set<String> reasons = new HashSet<>();
        Arrays.stream(ConnectRefusal.values()).map(ConnectRefusal::code).forEach(reasons::add);
        Arrays.stream(ResyncReason.values()).map(ResyncReason::tag).forEach(reasons::add);
        Arrays.stream(BadInput.values()).map(BadInput::reason).forEach(reasons::add);
        Arrays.stream(io.pushbridge.gateway.Limit.values()).map(io.pushbridge.gateway.Limit::key).forEach(reasons::add);
        Set<String> outcomes = new HashSet<>(OUTCOMES);
        Arrays.stream(ConnectRefusal.values()).map(ConnectRefusal::code).forEach(outcomes::add);
        return Map.of(
                "site", sites,
                "transport", Set.of("websocket", "polling"),
                "reason", reasons,
                "outcome", outcomes,
                "source", Arrays.stream(MessageSource.values()).map(MessageSource::tag).collect(Collectors.toSet()),
                "entry_point", Arrays.stream(BadInput.EntryPoint.values()).map(BadInput.EntryPoint::tag)
                        .collect(Collectors.toSet()));
    }

    /**
     * Checks every meter of the registry.
     *
     * @return how many meters were checked
     */
    public static int assertDeclaredWithFixedTags(MeterRegistry registry, Set<String> sites) {
        Map<String, PushBridgeMeter> declared = Arrays.stream(PushBridgeMeter.values())
                .collect(Collectors.toMap(PushBridgeMeter::meterName, m -> m));
        Map<String, Set<String>> allowed = allowedValues(sites);
        assertThat(allowed.keySet()).isEqualTo(PushBridgeMeter.ALLOWED_TAG_KEYS);
        List<Meter> meters = registry.getMeters();
        for (Meter meter : meters) {
            String name = meter.getId().getName();
            List<Tag> tags = meter.getId().getTags();
            if (name.endsWith(".histogram")) {
                // the registry's own view of a timer's buckets (SimpleMeterRegistry), tagged with the bucket
                name = name.substring(0, name.length() - ".histogram".length());
                assertThat(declared.get(name)).as("timer of %s", name).isNotNull()
                        .extracting(PushBridgeMeter::type).isEqualTo(PushBridgeMeter.Type.TIMER);
                tags = tags.stream().filter(t -> !t.getKey().equals("le")).toList();
            }
            PushBridgeMeter m = declared.get(name);
            assertThat(m).as("meter %s is declared in PushBridgeMeter", name).isNotNull();
            assertThat(tags.stream().map(Tag::getKey).toList()).as("tag keys of %s", name)
                    .containsExactlyInAnyOrderElementsOf(m.tagKeys().stream().map(PushBridgeMeter.TagKey::key).toList());
            for (Tag tag : tags) {
                assertThat(allowed.get(tag.getKey())).as("value of tag %s of %s", tag.getKey(), name).contains(tag.getValue());
            }
        }
        return meters.size();
    }
}
