package io.peftfoundry.engine.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.adapter.CausalAdapterFiles;
import io.peftfoundry.engine.job.CausalEvaluation;
import io.peftfoundry.engine.job.CausalTrainingJob;
import io.peftfoundry.engine.model.gpt2.Gpt2Checkpoint;
import io.peftfoundry.engine.task.causal.CausalData;
import io.peftfoundry.engine.task.causal.CausalModel;
import io.peftfoundry.engine.task.causal.SpecialTokens;
import io.peftfoundry.engine.task.causal.chat.ChatTemplate;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.task.causal.GenerationConfig;
import io.peftfoundry.engine.task.causal.Generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/** train / eval / predict / merge for decoders (tasks sft and continued_pretraining). */
final class CausalCommands {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private CausalCommands() {}

    /** True when {@code modelDir}'s config.json describes a decoder (model_type gpt2, llama, mistral or qwen2). */
    static boolean isDecoder(Path modelDir) {
        Path cfg = modelDir.resolve(Gpt2Checkpoint.CONFIG);
        if (!Files.isRegularFile(cfg)) {
            return false;
        }
        try {
            String type = JSON.readTree(cfg.toFile()).path("model_type").asText();
            return type.equals("gpt2") || io.peftfoundry.engine.model.llama.LlamaConfig.FAMILIES.contains(type);
        } catch (IOException e) {
            return false;
        }
    }

    /** Decoder + method + tokenizer for eval/predict/merge. */
    private record Loaded(NDManager manager, CausalModel model, CausalTokenizer tokenizer, Path files) implements AutoCloseable {
        @Override
        public void close() {
            tokenizer.close();
            manager.close();
        }
    }

    private static Loaded load(Args a) throws IOException {
        Path modelDir = a.path("model");
        Path adapter = a.opt("adapter").map(Path::of).orElse(null);
        if (adapter != null && !Files.isDirectory(adapter)) {
            throw new Main.UsageException("--adapter " + adapter + ": not a directory");
        }
        Path tok = adapter != null && Files.isRegularFile(adapter.resolve("tokenizer.json")) ? adapter.resolve("tokenizer.json")
                : modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tok)) {
            throw new Main.UsageException("--model " + modelDir + ": no tokenizer.json");
        }
        NDManager manager = NDManager.newBaseManager(a.device());
        try {
            CausalModel model;
            if (adapter == null) {
                model = CausalAdapterFiles.load(modelDir, null, manager);
            } else if (CausalAdapterFiles.isFullModel(adapter)) {
                model = CausalAdapterFiles.load(adapter, null, manager);
            } else {
                var decoder = DecoderFiles.load(modelDir, manager);
                model = CausalAdapterFiles.load(adapter, decoder, manager);
            }
            return new Loaded(manager, model, new CausalTokenizer(tok), tok.getParent());
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Loss, perplexity and token accuracy on --data (sft JSON Lines: completions only, plus exact match of greedy
     * completions; otherwise text packed into --max-seq-length blocks, default 1024 or the model's context).
     */
    static int eval(Args a) throws IOException {
        Path data = a.path("data");
        String task = a.opt("task").orElseGet(() -> looksLikeSft(data) ? "sft" : "continued_pretraining");
        if (!task.equals("sft") && !task.equals("continued_pretraining")) {
            throw new Main.UsageException("--task must be sft or continued_pretraining, got '" + task + "'");
        }
        Path model = a.path("model");
        Path adapter = a.opt("adapter").map(Path::of).orElse(null);
        if (adapter != null && !Files.isDirectory(adapter)) {
            throw new Main.UsageException("--adapter " + adapter + ": not a directory");
        }
        ObjectNode out;
        try {
            out = CausalEvaluation.run(model, adapter, data, task, intOpt(a, "max-seq-length", 1024),
                    intOpt(a, "exact-match-limit", CausalTrainingJob.EXACT_MATCH_LIMIT), a.device());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Main.UsageException("no such file: " + e.getMessage());
        }
        String json = JSON.writeValueAsString(out);
        System.out.println(json);
        if (a.opt("out").isPresent()) {
            Files.writeString(Path.of(a.required("out")), json);
        }
        return 0;
    }

    private static boolean looksLikeSft(Path data) {
        try (var lines = Files.lines(data)) {
            return lines.filter(s -> !s.isBlank()).findFirst().map(s -> {
                try {
                    JsonNode n = COMPACT.readTree(s);
                    return n.has("prompt") || n.has("messages");
                } catch (IOException e) {
                    return false;
                }
            }).orElse(false);
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /**
     * Generates a completion per prompt (--prompt TEXT, or --data FILE of JSON Lines with "prompt"): greedy by default,
     * temperature/top-p sampling when --temperature &gt; 0; --max-new-tokens, --stop, --seed.
     */
    static int predict(Args a) throws IOException {
        List<String> prompts = new ArrayList<>();
        // per prompt: the chat messages it was rendered from (null for a plain prompt)
        List<JsonNode> conversations = new ArrayList<>();
        if (a.opt("prompt").isPresent() || a.opt("text").isPresent()) {
            prompts.add(a.opt("prompt").orElseGet(() -> a.required("text")));
            conversations.add(null);
        } else if (a.opt("data").isPresent()) {
            Path data = a.path("data");
            int lineNo = 0;
            for (String line : Files.readAllLines(data)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = COMPACT.readTree(line);
                } catch (IOException e) {
                    n = null;
                }
                JsonNode p = n == null ? null : n.get("prompt");
                JsonNode msgs = n == null ? null : n.get("messages");
                if (msgs != null) {
                    String problem = checkChatPrompt(msgs);
                    if (problem != null) {
                        throw new Main.UsageException("--data " + data + " line " + lineNo + ": " + problem);
                    }
                    prompts.add(null); // rendered once the model's template is loaded
                    conversations.add(msgs);
                    continue;
                }
                if (p == null || !p.isTextual()) {
                    throw new Main.UsageException("--data " + data + " line " + lineNo + ": needs a JSON object with a string"
                            + " \"prompt\" or a \"messages\" array");
                }
                prompts.add(p.asText());
                conversations.add(null);
            }
        } else {
            throw new Main.UsageException("predict on a decoder needs --prompt TEXT or --data FILE (JSON Lines with \"prompt\" or \"messages\")");
        }
        GenerationConfig gen;
        try {
            String stop = a.opt("stop").map(s -> s.replace("\\n", "\n")).orElse(null);
            gen = new GenerationConfig(intOpt(a, "max-new-tokens", 64), doubleOpt(a, "temperature", 0), doubleOpt(a, "top-p", 1),
                    stop == null ? List.of() : List.of(stop), intOpt(a, "seed", 0));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        try (Loaded l = load(a)) {
            Generator g = l.model().generator(l.tokenizer(), SpecialTokens.read(l.files(), l.tokenizer(), l.model().eosId()));
            ChatTemplate template = conversations.stream().anyMatch(java.util.Objects::nonNull) ? ChatTemplate.load(l.files()) : null;
            for (int i = 0; i < prompts.size(); i++) {
                JsonNode conversation = conversations.get(i);
                String p;
                try {
                    p = conversation == null ? prompts.get(i)
                            : template.render(COMPACT.convertValue(conversation, new com.fasterxml.jackson.core.type.TypeReference<
                                    List<java.util.Map<String, Object>>>() {}), true);
                } catch (ChatTemplate.ChatTemplateException e) {
                    throw new Main.UsageException("--data prompt " + (i + 1) + ": " + e.getMessage());
                }
                Generator.Generation out = g.generate(l.manager(), p, gen);
                ObjectNode n = COMPACT.createObjectNode();
                if (conversation != null) {
                    n.set("messages", conversation);
                }
                n.put("prompt", p);
                n.put("completion", out.text());
                n.put("finish_reason", out.finishReason());
                n.put("new_tokens", out.tokens().length);
                System.out.println(COMPACT.writeValueAsString(n));
            }
        }
        return 0;
    }

    /** A conversation to answer: messages as in training data, without requiring an assistant turn. */
    static String checkChatPrompt(JsonNode msgs) {
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
            return "\"messages\" must be a non-empty array of {\"role\", \"content\"} objects";
        }
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            if (!m.isObject() || !m.path("role").isTextual() || !CausalData.CHAT_ROLES.contains(m.get("role").asText())
                    || !m.path("content").isTextual()) {
                return "messages[" + i + "] needs a \"role\" (" + String.join(", ", CausalData.CHAT_ROLES)
                        + ") and a string \"content\"";
            }
        }
        return null;
    }

    /** Folds a LoRA/IA3 adapter into the decoder and writes a Hugging Face GPT-2 directory (+ tokenizer.json). */
    static int merge(Args a) throws IOException {
        Path out = a.path("out");
        a.path("adapter");
        try (Loaded l = load(a)) {
            if (!l.model().method().supportsMerge()) {
                throw new Main.UsageException("a " + l.model().method().config().methodType()
                        + " adapter cannot be merged into the decoder (LoRA and IA3 can)");
            }
            l.model().method().merge();
            DecoderFiles.save(l.model().decoder(), out);
            for (String f : CausalTrainingJob.TOKENIZER_FILES) { // tokenizer, special tokens, chat template, generation settings
                if (Files.isRegularFile(l.files().resolve(f))) {
                    Files.copy(l.files().resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            System.out.println("merged " + a.required("adapter") + " into " + a.required("model") + " → " + out
                    + " (config.json, model.safetensors, tokenizer.json)");
        }
        return 0;
    }

    private static int intOpt(Args a, String name, int def) {
        try {
            return a.opt(name).map(Integer::parseInt).orElse(def);
        } catch (NumberFormatException e) {
            throw new Main.UsageException("--" + name + " must be an integer");
        }
    }

    private static double doubleOpt(Args a, String name, double def) {
        try {
            return a.opt(name).map(Double::parseDouble).orElse(def);
        } catch (NumberFormatException e) {
            throw new Main.UsageException("--" + name + " must be a number");
        }
    }
}
