package io.peftfoundry.engine.interop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;
import io.peftfoundry.engine.method.InjectedMethod;
import io.peftfoundry.engine.method.PeftMethods;
import io.peftfoundry.engine.method.MethodConfig;
import io.peftfoundry.engine.method.ia3.Ia3Config;
import io.peftfoundry.engine.method.lora.LoraConfig;
import io.peftfoundry.engine.method.prefix.PrefixConfig;
import io.peftfoundry.engine.method.prompt.PromptConfig;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertModel;
import io.peftfoundry.engine.model.CausalDecoder;
import io.peftfoundry.engine.model.HfModule;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.CausalBatch;
import io.peftfoundry.engine.task.causal.CausalLmLoss;
import io.peftfoundry.engine.task.causal.TokenSequence;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.training.AdamW;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java half of {@code interop/run check} (not a test: {@code interop/check.py} runs it). In the work
 * directory the Python half prepared ({@code gpt2/}, {@code llama/}, {@code bert/} saved by transformers,
 * {@code inputs.safetensors} with {@code input_ids}/{@code attention_mask}, and {@code bert-lora/} trained by
 * the CLI's {@code train} in {@code bert-train/adapter/}) it writes {@code engine-logits.safetensors}:
 * <ul>
 *   <li>{@code gpt2}, {@code llama}: peft-engine's logits of the loaded checkpoints; {@code bert}: the encoder's
 *       last hidden state;</li>
 *   <li>{@code <arch>-lora}, {@code <arch>-prefix}, {@code <arch>-prompt} (arch gpt2, llama): logits after training
 *       that method here (causal-LM loss on the input rows, a few AdamW steps); the adapter is written to the
 *       directory of the same name in PEFT's CAUSAL_LM layout;</li>
 *   <li>{@code gpt2-cli-lora}, {@code llama-cli-lora}: logits with the LoRA adapter the causal CLI trained in
 *       {@code <arch>-train/adapter/};</li>
 *   <li>{@code bert-lora}: the CLI-trained classifier's logits (LoRA + head loaded from {@code bert-train/adapter/}).</li>
 * </ul>
 * Usage: {@code InteropDriver WORKDIR}.
 */
public final class InteropDriver {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final int TRAIN_STEPS = 8;

    private InteropDriver() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Map<String, Tensor> inputs = SafeTensors.read(work.resolve("inputs.safetensors"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ids = inputs.get("input_ids").toNDArray(m, DataType.INT64);
            NDArray mask = inputs.get("attention_mask").toNDArray(m, DataType.INT64);
            ParameterStore ps = new ParameterStore(m, false);

            List<String> decoders = new ArrayList<>(List.of("gpt2", "llama"));
            Path families = work.resolve("families.txt");
            if (Files.exists(families)) {
                Files.readAllLines(families).stream().filter(l -> !l.isBlank()).forEach(decoders::add);
            }
            for (String arch : decoders) {
                Path dir = work.resolve(arch);
                CausalDecoder base = CausalDecoder.load(dir, m);
                out.put(arch, Tensor.of(((HfModule) base).forward(ps, new NDList(ids, mask), false).head()));
                List<String> targets = arch.equals("gpt2") ? List.of("c_attn", "c_fc") : List.of("q_proj", "v_proj", "down_proj");
                Map<String, MethodConfig> methods = new LinkedHashMap<>();
                methods.put("lora", new LoraConfig(4, 8, 0.0, targets, false));
                if (!arch.equals("gpt2") && !arch.equals("llama")) {
                    // the shrunk published families also get IA3 (PEFT's LLaMA defaults: k, v, down; down is feed-forward)
                    methods.put("ia3", new Ia3Config(List.of("k_proj", "v_proj", "down_proj"), List.of("down_proj")));
                }
                methods.put("prefix", new PrefixConfig(3, 0, false));
                methods.put("prompt", new PromptConfig(3, PromptConfig.Init.VOCAB));
                for (Map.Entry<String, MethodConfig> e : methods.entrySet()) {
                    String name = arch + "-" + e.getKey();
                    out.put(name, Tensor.of(train(CausalDecoder.load(dir, m), e.getValue(), ids, mask, work.resolve(name), dir, m)));
                }
            }

            // the LoRA adapters the causal CLI trained (sft) in <arch>-train/adapter/
            for (String arch : List.of("gpt2", "llama")) {
                CausalModel cli = CausalAdapterFiles.load(work.resolve(arch + "-train/adapter"),
                        CausalDecoder.load(work.resolve(arch), m), m);
                out.put(arch + "-cli-lora", Tensor.of(cli.logits(new NDList(ids, mask), false)));
            }

            NDArray types = m.zeros(ids.getShape(), DataType.INT64);
            BertModel bert = BertCheckpoint.load(work.resolve("bert"), m);
            out.put("bert", Tensor.of(bert.forward(ps, new NDList(ids, types, mask), false).head()));
            ClassificationModel classifier = AdapterFiles.load(work.resolve("bert-train/adapter"),
                    BertCheckpoint.load(work.resolve("bert"), m), m);
            out.put("bert-lora", Tensor.of(classifier.logits(new NDList(ids, types, mask), false)));
        }
        SafeTensors.write(work.resolve("engine-logits.safetensors"), out, Map.of("format", "pt"));
    }

    /** Trains a method on the rows' real tokens (causal-LM loss), saves it in PEFT's layout and returns the new logits. */
    static NDArray train(CausalDecoder decoder, MethodConfig config, NDArray ids, NDArray mask, Path adapterDir,
            Path baseModel, NDManager m) throws Exception {
        HfModule model = (HfModule) decoder;
        InjectedMethod method = PeftMethods.byType(config.methodType()).inject(decoder, config, m, 17);
        long[][] rows = toRows(ids);
        long[][] keep = toRows(mask);
        List<TokenSequence> seqs = new ArrayList<>();
        for (int b = 0; b < rows.length; b++) {
            int n = 0;
            while (n < keep[b].length && keep[b][n] != 0) {
                n++;
            }
            seqs.add(TokenSequence.allTargets(java.util.Arrays.copyOf(rows[b], n)));
        }
        CausalBatch batch = CausalBatch.of(seqs, 0);
        Map<String, Parameter> params = method.trainableParameters();
        AdamW adam = new AdamW();
        double first = 0;
        double last = 0;
        for (int step = 0; step < TRAIN_STEPS; step++) {
            try (NDManager sub = m.newSubManager()) {
                NDList in = new NDList(CausalBatch.create(sub, batch.ids()), CausalBatch.create(sub, batch.mask()));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.forward(new ParameterStore(sub, false), in, true).head();
                    NDArray loss = CausalLmLoss.compute(logits, batch.ids(), batch.targets()).mean();
                    last = loss.getFloat();
                    first = step == 0 ? last : first;
                    gc.backward(loss);
                }
            }
            adam.step(params, 2e-2, 0.0, n -> true);
            for (Parameter p : params.values()) {
                try (NDArray g = p.getArray().getGradient()) {
                    g.muli(0);
                }
            }
        }
        System.err.printf("%s: %s %d steps, loss %.4f -> %.4f%n", baseModel.getFileName(), config.methodType(), TRAIN_STEPS,
                first, last);
        if (!Double.isFinite(last)) {
            throw new IllegalStateException(baseModel.getFileName() + ": " + config.methodType() + " training loss is " + last);
        }
        saveCausalAdapter(method, adapterDir, baseModel.toString());
        return model.forward(new ParameterStore(m, false), new NDList(ids, mask), false).head();
    }

    /** PEFT's CAUSAL_LM layout: adapter_config.json + adapter_model.safetensors with {@code base_model.model.} keys. */
    static void saveCausalAdapter(InjectedMethod method, Path dir, String baseModel) throws Exception {
        Files.createDirectories(dir);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("base_model_name_or_path", baseModel);
        cfg.put("task_type", "CAUSAL_LM");
        cfg.put("inference_mode", true);
        cfg.putNull("revision");
        cfg.setAll(method.adapterConfig());
        JSON.writeValue(dir.resolve(AdapterFiles.ADAPTER_CONFIG).toFile(), cfg);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        method.stateDict().forEach((k, t) -> tensors.put((method.keysSavedVerbatim() ? "" : AdapterFiles.PREFIX) + k, t));
        SafeTensors.write(dir.resolve(method.weightsFileName()), tensors, Map.of("format", "pt"));
    }

    private static long[][] toRows(NDArray a) {
        int b = (int) a.getShape().get(0);
        int t = (int) a.getShape().get(1);
        long[] flat = a.toLongArray();
        long[][] rows = new long[b][t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(flat, i * t, rows[i], 0, t);
        }
        return rows;
    }
}
