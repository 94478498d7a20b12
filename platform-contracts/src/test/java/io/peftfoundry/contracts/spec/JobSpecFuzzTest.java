package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.FieldError;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Fuzzing of the job-spec parser (jqwik): whatever JSON (or non-JSON) arrives, {@link JobSpecs#parse(String)} gives a
 * spec or a {@link SpecValidationException} whose every error names a field and says what is wrong — never another
 * exception. A spec it accepts writes out and reads back to the same spec.
 */
class JobSpecFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Field names of the spec (and a few that are not), so random documents reach deep into the validator. */
    private static final List<String> KEYS = List.of("model", "task", "training_file", "validation_file", "method",
            "type", "lora", "r", "alpha", "dropout", "target_modules", "use_rslora", "adapter", "variant",
            "reduction_factor", "activation", "prefix", "num_virtual_tokens", "projection_hidden_size", "prompt", "init",
            "ia3", "feedforward_modules", "full", "hyperparameters", "epochs", "batch_size", "learning_rate",
            "max_seq_length", "warmup_ratio", "weight_decay", "gradient_accumulation_steps", "max_steps",
            "eval_every_steps", "checkpoint_every_steps", "early_stopping_patience", "max_grad_norm", "scheduler",
            "precision", "gradient_checkpointing", "priority", "seed", "init_adapter", "suffix", "metadata", "unknown", "");

    private static final List<String> WORDS = List.of("lora", "adapter", "prefix", "prompt", "ia3", "full",
            "classification", "sft", "continued_pretraining", "houlsby", "pfeiffer", "parallel", "random", "vocab",
            "auto", "query", "value", "linear", "cosine", "constant", "fp32", "bf16", "high", "normal", "low",
            "minilm-l6-v2", "file-abc", "", " ", "\u0000", "é\uD83D\uDE00");

    @Property
    void anyJsonDocumentGivesASpecOrErrorsNamingFields(@ForAll("documents") Object document) throws Exception {
        specOrFieldErrors(JSON.writeValueAsString(document));
    }

    @Property
    void aValidSpecWithRandomChangesGivesASpecOrErrorsNamingFields(@ForAll("mutatedSpecs") Map<String, Object> spec)
            throws Exception {
        specOrFieldErrors(JSON.writeValueAsString(spec));
    }

    @Property
    void anyTextGivesASpecOrErrorsNamingFields(@ForAll("texts") String text) {
        specOrFieldErrors(text);
    }

    private static void specOrFieldErrors(String json) {
        JobSpec spec;
        try {
            spec = JobSpecs.parse(json);
        } catch (SpecValidationException e) {
            assertFalse(e.errors().isEmpty(), "a refusal lists its errors");
            for (FieldError error : e.errors()) {
                assertNotNull(error.field(), "each error names a field ('' is the whole document)");
                assertFalse(error.message().isBlank(), "each error says what is wrong: " + error);
            }
            return;
        }
        assertNotNull(spec);
        assertEquals(spec, JobSpecs.parse(JobSpecs.toJson(spec)), "an accepted spec reads back as itself");
    }

    @Provide
    Arbitrary<Object> documents() {
        return value(4);
    }

    @Provide
    Arbitrary<String> texts() {
        Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(200);
        Arbitrary<String> jsonish = Arbitraries.strings().withChars("{}[]\":,0123456789.eE-+truefalsn \\u").ofMaxLength(80);
        return Arbitraries.oneOf(any, jsonish);
    }

    /** A full valid spec, then 1–4 fields (anywhere in it) replaced by random values or removed. */
    @Provide
    Arbitrary<Map<String, Object>> mutatedSpecs() {
        Arbitrary<Tuple.Tuple3<List<String>, Object, Boolean>> change = Combinators.combine(
                Arbitraries.of(KEYS).list().ofMinSize(1).ofMaxSize(3), value(2), Arbitraries.of(true, false)).as(Tuple::of);
        return change.list().ofMinSize(1).ofMaxSize(4).map(changes -> {
            Map<String, Object> spec = validSpec();
            for (Tuple.Tuple3<List<String>, Object, Boolean> c : changes) {
                apply(spec, c.get1(), c.get2(), c.get3());
            }
            return spec;
        });
    }

    @SuppressWarnings("unchecked")
    private static void apply(Map<String, Object> spec, List<String> path, Object value, boolean remove) {
        Map<String, Object> at = spec;
        for (int i = 0; i < path.size() - 1; i++) {
            Object next = at.get(path.get(i));
            if (!(next instanceof Map)) {
                next = new LinkedHashMap<String, Object>();
                at.put(path.get(i), next);
            }
            at = (Map<String, Object>) next;
        }
        if (remove) {
            at.remove(path.get(path.size() - 1));
        } else {
            at.put(path.get(path.size() - 1), value);
        }
    }

    private static Map<String, Object> validSpec() {
        Map<String, Object> lora = new LinkedHashMap<>(Map.of("r", 8, "alpha", 16, "dropout", 0.05,
                "target_modules", new ArrayList<>(List.of("query", "value"))));
        Map<String, Object> method = new LinkedHashMap<>(Map.of("type", "lora", "lora", lora));
        Map<String, Object> hp = new LinkedHashMap<>(Map.of("epochs", 3, "batch_size", 16, "learning_rate", 5e-4,
                "max_seq_length", 128, "warmup_ratio", 0.06, "weight_decay", 0.0, "gradient_accumulation_steps", 1,
                "eval_every_steps", 100, "checkpoint_every_steps", 200));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("model", "minilm-l6-v2");
        spec.put("task", "classification");
        spec.put("training_file", "file-train");
        spec.put("validation_file", "file-valid");
        spec.put("method", method);
        spec.put("hyperparameters", hp);
        spec.put("seed", 42);
        spec.put("suffix", "support-intents");
        spec.put("metadata", new LinkedHashMap<>(Map.of("team", "search")));
        return spec;
    }

    /** Random JSON values nested up to {@code depth}: objects with spec-like keys, arrays, numbers at the edges. */
    private static Arbitrary<Object> value(int depth) {
        Arbitrary<Object> scalar = Arbitraries.oneOf(
                Arbitraries.just(null),
                Arbitraries.of(true, false),
                Arbitraries.integers().map(i -> (Object) i),
                Arbitraries.longs().map(l -> (Object) l),
                Arbitraries.of(0, -1, 1, 2, 8, 1_000_000, Integer.MAX_VALUE, Integer.MIN_VALUE).map(i -> (Object) i),
                Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE).map(l -> (Object) l),
                Arbitraries.doubles().map(d -> (Object) d),
                Arbitraries.of(0.0, -0.0, 1e-300, 1e300, 0.5, 1.5, Double.MAX_VALUE, Double.MIN_VALUE).map(d -> (Object) d),
                Arbitraries.bigIntegers().between(java.math.BigInteger.TEN.pow(30).negate(), java.math.BigInteger.TEN.pow(30))
                        .map(b -> (Object) b),
                Arbitraries.of(WORDS).map(s -> (Object) s),
                Arbitraries.strings().ofMaxLength(20).map(s -> (Object) s));
        if (depth <= 0) {
            return scalar;
        }
        Arbitrary<Object> nested = Arbitraries.lazy(() -> value(depth - 1));
        Arbitrary<Object> array = nested.list().ofMaxSize(4).map(l -> (Object) l);
        Arbitrary<Object> object = Combinators.combine(
                Arbitraries.oneOf(Arbitraries.of(KEYS), Arbitraries.strings().ofMaxLength(8)), nested)
                .as((k, v) -> (Map.Entry<String, Object>) new java.util.AbstractMap.SimpleEntry<>(k, v)).list().ofMaxSize(6).map(entries -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    entries.forEach(e -> m.put(e.getKey(), e.getValue()));
                    return (Object) m;
                });
        return Arbitraries.frequencyOf(Tuple.of(4, scalar), Tuple.of(2, array), Tuple.of(5, object));
    }
}
