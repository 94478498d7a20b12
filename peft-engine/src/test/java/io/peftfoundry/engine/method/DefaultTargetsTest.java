package io.peftfoundry.engine.method;

import io.peftfoundry.contracts.spec.Ia3Spec;
import io.peftfoundry.contracts.spec.LoraSpec;
import io.peftfoundry.contracts.spec.MethodSpec;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.lora.LoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The job spec's default target modules (which name BERT's layers) mean each architecture's own modules, as in Hugging
 * Face PEFT's per-model mappings (peft 0.17 {@code utils/constants.py}); a spec that names its targets keeps them.
 */
class DefaultTargetsTest {

    private static LoraConfig lora(LoraSpec spec, String modelType) {
        return (LoraConfig) PeftMethods.fromSpec(MethodSpec.lora(spec), modelType);
    }

    private static Ia3Config ia3(Ia3Spec spec, String modelType) {
        return (Ia3Config) PeftMethods.fromSpec(MethodSpec.ia3(spec), modelType);
    }

    @Test
    void loraDefaultsArePeftsQueryAndValueProjectionsPerArchitecture() {
        assertEquals(List.of("query", "value"), lora(LoraSpec.defaults(), "bert").targetModules());
        assertEquals(List.of("c_attn"), lora(LoraSpec.defaults(), "gpt2").targetModules());
        for (String family : List.of("llama", "mistral", "qwen2")) {
            assertEquals(List.of("q_proj", "v_proj"), lora(LoraSpec.defaults(), family).targetModules(), family);
        }
        // absent settings (null) take the contract's defaults, so they resolve the same way
        assertEquals(List.of("c_attn"), lora(new LoraSpec(4, null, null, null, null), "gpt2").targetModules());
    }

    @Test
    void ia3DefaultsAreKeyValueAndTheFeedForwardOutputPerArchitecture() {
        Ia3Config bert = ia3(Ia3Spec.defaults(), "bert");
        assertEquals(List.of("key", "value", "output.dense"), bert.targetModules());
        assertEquals(List.of("output.dense"), bert.feedforwardModules());
        Ia3Config gpt2 = ia3(Ia3Spec.defaults(), "gpt2");
        assertEquals(List.of("c_attn", "mlp.c_proj"), gpt2.targetModules());
        assertEquals(List.of("mlp.c_proj"), gpt2.feedforwardModules());
        for (String family : List.of("llama", "mistral", "qwen2")) {
            Ia3Config c = ia3(Ia3Spec.defaults(), family);
            assertEquals(List.of("k_proj", "v_proj", "down_proj"), c.targetModules(), family);
            assertEquals(List.of("down_proj"), c.feedforwardModules(), family);
        }
    }

    @Test
    void targetsTheSpecNamesAreKeptOnEveryArchitecture() {
        LoraSpec all = new LoraSpec(8, 16.0, 0.0, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false);
        assertEquals(all.targetModules(), lora(all, "llama").targetModules());
        Ia3Spec kv = new Ia3Spec(List.of("c_attn"), List.of());
        assertEquals(List.of("c_attn"), ia3(kv, "gpt2").targetModules());
        assertEquals(List.of(), ia3(kv, "gpt2").feedforwardModules());
        // an architecture without a table entry keeps the spec's list as it is
        assertEquals(List.of("query", "value"), lora(LoraSpec.defaults(), "t5").targetModules());
    }
}
