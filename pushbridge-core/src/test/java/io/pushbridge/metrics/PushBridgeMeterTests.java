package io.pushbridge.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The meters' documentation enum against itself and against the metrics reference in docs/operations.md. */
class PushBridgeMeterTests {

    private static final Pattern ROW = Pattern.compile("^\\|\\s*`(pushbridge\\.[a-z.]+)`\\s*\\|\\s*([a-z]+)\\s*\\|([^|]*)\\|(.*)\\|\\s*$");
    private static final Pattern CODE = Pattern.compile("`([a-z_]+)`");

    @Test
    void namesAreUniqueWellFormedAndTimersHaveBuckets() {
        Set<String> names = new HashSet<>();
        for (PushBridgeMeter meter : PushBridgeMeter.values()) {
            assertThat(names.add(meter.meterName())).as("%s is named once", meter).isTrue();
            assertThat(meter.meterName()).matches("pushbridge(\\.[a-z]+)+");
            assertThat(meter.description()).isNotBlank();
            if (meter.type() == PushBridgeMeter.Type.TIMER) {
                assertThat(meter.buckets()).as("%s buckets", meter).isNotEmpty().isSorted();
                assertThat(meter.baseUnit()).isNull();
            } else {
                assertThat(meter.buckets()).isEmpty();
                assertThat(meter.baseUnit()).isIn(null, "seconds");
            }
        }
    }

    @Test
    void badInputsAreDistinctAndFoundByTheirCounters() {
        Set<String> pairs = new HashSet<>();
        for (BadInput input : BadInput.values()) {
            assertThat(pairs.add(input.entryPoint().tag() + "/" + input.reason())).as(input.name()).isTrue();
            assertThat(input.reason()).matches("[a-z_]+");
            for (String key : input.statsKeys()) {
                assertThat(BadInput.ofStatsKey(key)).isEqualTo(input);
            }
        }
        assertThat(BadInput.ofStatsKey("connects")).isNull();
    }

    @Test
    void connectRefusalsMapUnknownCodesToOther() {
        assertThat(ConnectRefusal.of("auth_timeout")).isEqualTo(ConnectRefusal.AUTH_TIMEOUT);
        assertThat(ConnectRefusal.of("my-own-code")).isEqualTo(ConnectRefusal.OTHER);
        assertThat(ConnectRefusal.of("other")).isEqualTo(ConnectRefusal.OTHER);
    }

    /**
     * docs/operations.md's metrics reference has one row per meter: the same name, type and tag
     * keys as the enum (so that the table is regenerated whenever a meter changes).
     */
    @Test
    void everyMeterIsDocumentedInTheOperationsGuide() throws IOException {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        Map<String, String> types = new LinkedHashMap<>();
        String section = metricsSection();
        for (String line : section.split("\n")) {
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                types.put(m.group(1), m.group(2));
                List<String> tags = CODE.matcher(m.group(3)).results().map(r -> r.group(1)).toList();
                assertThat(rows.put(m.group(1), tags)).as("%s is documented once", m.group(1)).isNull();
            }
        }
        Map<String, PushBridgeMeter> declared = Arrays.stream(PushBridgeMeter.values())
                .collect(Collectors.toMap(PushBridgeMeter::meterName, x -> x, (a, b) -> a, LinkedHashMap::new));
        assertThat(rows.keySet()).as("meters in docs/operations.md").containsExactlyInAnyOrderElementsOf(declared.keySet());
        declared.forEach((name, meter) -> {
            assertThat(types.get(name)).as("type of %s", name).isEqualTo(meter.type().toString());
            assertThat(rows.get(name)).as("tags of %s", name)
                    .containsExactlyElementsOf(meter.tagKeys().stream().map(PushBridgeMeter.TagKey::key).toList());
        });
        // and the reasons of the bad inputs are listed
        for (BadInput input : BadInput.values()) {
            assertThat(section).as(input.name()).contains("`" + input.reason() + "`");
        }
    }

    private static String metricsSection() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "operations.md"));
        int start = doc.indexOf("\n## Metrics");
        assertThat(start).as("docs/operations.md has a Metrics section").isNotNegative();
        int end = doc.indexOf("\n## ", start + 1);
        return end < 0 ? doc.substring(start) : doc.substring(start, end);
    }
}
