package io.pushbridge.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonSizeTests {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static void sameAsJackson(Object value) throws JsonProcessingException {
        assertThat(JsonSize.of(value, JSON)).as(String.valueOf(value)).isEqualTo(JSON.writeValueAsBytes(value).length);
    }

    @Test
    void measuresWhatJacksonWrites() throws Exception {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("id", 1);
        nested.put("name", "Zoë \"the\" \\ one\n\t\r\b\f\u0001\u001f\u007f");
        nested.put("none", null);
        nested.put("big", Long.MAX_VALUE);
        nested.put("small", Long.MIN_VALUE);
        nested.put("neg", -42);
        nested.put("flag", true);
        nested.put("off", false);
        nested.put("list", new ArrayList<>(List.of("a", 2, List.of(), Map.of())));
        nested.put("€ key ✓", "日本語 😀 emoji");
        List<Object> values = Arrays.asList(
                List.of(), List.of("x"), Arrays.asList(null, null), List.of(nested),
                List.of(0, -1, 9, 10, 99, 100, Integer.MIN_VALUE, Integer.MAX_VALUE, 1234567890123L),
                List.of(1.5, 0.1, 1e300, -0.0, 3.0f), List.of(new BigInteger("123456789012345678901234567890")),
                List.of(new BigDecimal("1.10")), List.of((short) 3, (byte) 4, 'c'), List.of(new int[] {1, 2}),
                List.of(Map.of(1, "non-string key")), List.of(new HashMap<>(Map.of("a", List.of(Map.of("b", "c"))))),
                List.of("\ud83d\ude00"), List.of(""), List.of(" "));
        for (Object value : values) {
            sameAsJackson(value);
        }
        // deeper than the walk goes: written instead, same answer
        Object deep = "leaf";
        for (int i = 0; i < 100; i++) {
            deep = List.of(deep);
        }
        sameAsJackson(deep);
    }

    @Test
    void stringsWithSurrogatesPairedOrNotMeasureAsJacksonWritesThem() throws Exception {
        for (String s : List.of("a\ud83d", "\ude00b", "\ud83d\ude00", "x\ud83d\ude00y\ud83d")) {
            sameAsJackson(List.of(s));
            sameAsJackson(List.of(Map.of(s, s)));
        }
    }

    @Test
    void aValueJacksonCannotWriteFailsTheSameWay() {
        Object notAJsonValue = new Object();
        assertThatThrownBy(() -> JsonSize.of(List.of(notAJsonValue), JSON)).isInstanceOf(JsonProcessingException.class);
    }
}
