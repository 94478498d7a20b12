package io.peftfoundry.engine.adapter;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.method.full.FullFineTune;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.DecoderFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and loads a trained decoder (the causal tasks' counterpart of {@link AdapterFiles}).
 *
 * <p>PEFT methods are written exactly as Hugging Face PEFT writes a {@code CAUSAL_LM} adapter of a
 * {@code GPT2LMHeadModel} (or {@code LlamaForCausalLM}: the same, keys {@code base_model.model.model.layers.0.self_attn.q_proj…}, fan_in_fan_out false): {@code adapter_config.json} with {@code task_type: CAUSAL_LM} (and {@code fan_in_fan_out:
 * true} for LoRA and IA3: GPT-2's projections are Conv1D, stored (in, out)), and {@code adapter_model.safetensors}
 * with keys {@code base_model.model.transformer.h.0.attn.c_attn.lora_A.weight} — no adapter name, no head (the LM
 * head is tied to the embedding). LoRA's A (r, in) and B (out, r) have the same shapes whatever fan_in_fan_out says,
 * so the tensors load into PEFT as they are.
 *
 * <p>A full fine-tune (and a merged adapter) is a Hugging Face GPT-2 model directory instead ({@code config.json} +
 * {@code model.safetensors}), loadable by transformers' {@code GPT2LMHeadModel.from_pretrained}.
 */
public final class CausalAdapterFiles {

    public static final String TASK_TYPE = "CAUSAL_LM";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CausalAdapterFiles() {}

    /** True when {@code dir} holds a causal adapter (adapter_config.json with task_type CAUSAL_LM). */
    public static boolean isCausalAdapter(Path dir) {
        Path cfg = dir.resolve(AdapterFiles.ADAPTER_CONFIG);
        if (!Files.isRegularFile(cfg)) {
            return false;
        }
        try {
            return TASK_TYPE.equals(JSON.readTree(cfg.toFile()).path("task_type").asText());
        } catch (IOException e) {
            return false;
        }
    }

    /** True when {@code dir} is a decoder model directory (a full fine-tune or a merge): weights, no adapter config. */
    public static boolean isFullModel(Path dir) {
        return !Files.exists(dir.resolve(AdapterFiles.ADAPTER_CONFIG)) && io.peftfoundry.engine.io.CheckpointWeights.present(dir)
                && Files.isRegularFile(dir.resolve(DecoderFiles.CONFIG));
    }

    public static void save(CausalModel model, Path dir, String baseModelNameOrPath) throws IOException {
        Files.createDirectories(dir);
        InjectedMethod method = model.method();
        if (method.config() instanceof FullFineTune.Config) {
            DecoderFiles.save(model.decoder(), dir);
            return;
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("base_model_name_or_path", baseModelNameOrPath);
        cfg.put("task_type", TASK_TYPE);
        cfg.put("inference_mode", true);
        cfg.putNull("modules_to_save");
        cfg.putNull("revision");
        cfg.setAll(method.adapterConfig());
        if (cfg.has("fan_in_fan_out") && DecoderFiles.usesConv1d(model.decoder())) {
            cfg.put("fan_in_fan_out", true); // what PEFT sets (and warns about) for GPT-2's Conv1D layers
        }
        JSON.writeValue(dir.resolve(AdapterFiles.ADAPTER_CONFIG).toFile(), cfg);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        String prefix = method.keysSavedVerbatim() ? "" : AdapterFiles.PREFIX;
        method.stateDict().forEach((k, t) -> tensors.put(prefix + k, t));
        SafeTensors.write(dir.resolve(method.weightsFileName()), tensors, Map.of("format", "pt"));
    }

    /**
     * Loads a saved decoder: a full/merged model directory on its own ({@code backbone} is ignored and may be
     * null), or an adapter onto {@code backbone} (the decoder it was trained on; missing or mis-shaped tensors fail
     * naming them).
     */
    public static CausalModel load(Path dir, CausalDecoder backbone, NDManager manager) throws IOException {
        if (isFullModel(dir)) {
            CausalDecoder own = DecoderFiles.load(dir, manager);
            return CausalModel.create(own, new FullFineTune.Config(), manager, 0);
        }
        Path cfgFile = dir.resolve(AdapterFiles.ADAPTER_CONFIG);
        if (!Files.isRegularFile(cfgFile)) {
            throw new IOException(dir + ": neither an adapter (no " + AdapterFiles.ADAPTER_CONFIG + ") nor a model directory");
        }
        JsonNode cfg = JSON.readTree(cfgFile.toFile());
        if (!cfg.isObject()) {
            throw new IOException(cfgFile + ": not a JSON object");
        }
        String task = cfg.path("task_type").asText("");
        if (!TASK_TYPE.equals(task)) {
            throw new IOException(cfgFile + ": task_type is '" + task + "', not " + TASK_TYPE
                    + " (a classification adapter cannot be loaded onto a decoder)");
        }
        if (backbone == null) {
            throw new IllegalArgumentException(dir + " is an adapter: give the decoder it was trained on (--model)");
        }
        MethodConfig method = PeftMethods.parseAdapterConfig((ObjectNode) cfg);
        CausalModel model = CausalModel.create(backbone, method, manager, 0);
        Path weights = dir.resolve(model.method().weightsFileName());
        if (!Files.isRegularFile(weights)) {
            throw new IOException(dir + ": no " + weights.getFileName());
        }
        String prefix = model.method().keysSavedVerbatim() ? "" : AdapterFiles.PREFIX;
        Map<String, Tensor> methodTensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : SafeTensors.read(weights).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                throw new IOException(weights + ": unexpected tensor '" + e.getKey() + "' (keys start with " + prefix + ")");
            }
            methodTensors.put(e.getKey().substring(prefix.length()), e.getValue());
        }
        try {
            model.method().loadStateDict(methodTensors, manager);
        } catch (IOException e) {
            throw new IOException(weights + ": " + e.getMessage(), e);
        }
        return model;
    }
}
