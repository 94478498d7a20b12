package io.peftfoundry.engine.job;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.task.causal.CausalTokenizer;
import io.peftfoundry.engine.task.causal.DecoderFiles;
import io.peftfoundry.engine.training.TrainingListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat SFT end to end on a tiny random LLaMA-layout decoder with the ChatML fixture tokenizer and template
 * (chat_template.jinja, eos_token &lt;|im_end|&gt;, as Qwen2 Instruct): the job renders {"messages": …} lines with the
 * template, learns only the assistant turns, and the evaluation renders the conversation up to the last answer with the
 * generation prompt, generates until the model's eos (&lt;|im_end|&gt;) and compares with the answer.
 */
class ChatSftJobTest {

    @TempDir
    Path dir;
    private final ObjectMapper json = new ObjectMapper();
    private Path model;

    static Path chatFixture(String name) throws Exception {
        return Path.of(ChatSftJobTest.class.getResource("/chat/cases.json").toURI()).getParent().resolve(name);
    }

    /** Random decoder (seed 3) with the chatml tokenizer, template and eos; config.json's eos_token_id is <|im_end|>. */
    static Path chatModel(Path where, boolean withTemplate) throws Exception {
        Files.createDirectories(where);
        Path chatml = chatFixture("chatml");
        Files.copy(chatml.resolve("tokenizer.json"), where.resolve("tokenizer.json"));
        Files.copy(chatml.resolve("tokenizer_config.json"), where.resolve("tokenizer_config.json"));
        if (withTemplate) {
            Files.copy(chatml.resolve("chat_template.jinja"), where.resolve("chat_template.jinja"));
        }
        int imEnd;
        int vocab;
        try (CausalTokenizer tok = new CausalTokenizer(where.resolve("tokenizer.json"))) {
            imEnd = (int) tok.tokenId("<|im_end|>");
            vocab = (int) tok.tokenId("</s>") + 1; // the last special token added by the fixture
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(CausalTrainingJobTest.fixture().resolve("llama-tiny/config.json").toFile());
        c.put("vocab_size", vocab).put("max_position_embeddings", 256).put("bos_token_id", imEnd).put("eos_token_id", imEnd);
        json.writeValue(where.resolve("config.json").toFile(), c);
        try (NDManager m = NDManager.newBaseManager()) {
            DecoderFiles.save(DecoderFiles.random(DecoderFiles.read(where), m, 3), where);
        }
        return where;
    }

    @BeforeEach
    void data() throws Exception {
        model = chatModel(dir.resolve("model"), true);
        String[][] qa = {{"red?", "apple"}, {"yellow?", "banana"}, {"green?", "pear"}};
        StringBuilder train = new StringBuilder();
        for (String[] p : qa) {
            train.append(json.writeValueAsString(Map.of("messages", List.of(
                    Map.of("role", "system", "content", "Fruit."),
                    Map.of("role", "user", "content", p[0]),
                    Map.of("role", "assistant", "content", p[1]))))).append('\n');
        }
        // a two-turn conversation: both answers are targets
        train.append(json.writeValueAsString(Map.of("messages", List.of(
                Map.of("role", "system", "content", "Fruit."),
                Map.of("role", "user", "content", "red?"), Map.of("role", "assistant", "content", "apple"),
                Map.of("role", "user", "content", "green?"), Map.of("role", "assistant", "content", "pear"))))).append('\n');
        Files.writeString(dir.resolve("chat.jsonl"), train.toString());
        Files.writeString(dir.resolve("chat-valid.jsonl"), train.toString());
    }

    private ObjectNode spec(String train, String valid, int maxSteps) {
        ObjectNode s = json.createObjectNode();
        s.put("model", model.toString());
        s.put("task", "sft");
        s.put("training_file", dir.resolve(train).toString());
        if (valid != null) {
            s.put("validation_file", dir.resolve(valid).toString());
        }
        s.putObject("method").put("type", "full");
        s.putObject("hyperparameters").put("batch_size", 4).put("learning_rate", 1e-2).put("max_seq_length", 128)
                .put("epochs", 200).put("max_steps", maxSteps).put("warmup_ratio", 0.0).put("eval_every_steps", 0)
                .put("checkpoint_every_steps", 0);
        s.put("seed", 7);
        return s;
    }

    private CausalTrainingJob job(ObjectNode spec) throws Exception {
        return (CausalTrainingJob) TrainingJob.fromSpecJson(json.writeValueAsString(spec), null, null);
    }

    @Test
    void chatSftLearnsTheAssistantTurnsAndAnswersUntilTheTemplatesEndToken() throws Exception {
        JsonNode before = CausalEvaluation.run(model, null, dir.resolve("chat-valid.jsonl"), "sft", 128, 4, Device.cpu());
        assertEquals(0.0, before.get("exact_match").asDouble());
        CausalTrainingJob job = job(spec("chat.jsonl", "chat-valid.jsonl", 60));
        assertEquals(4, job.trainingSequences());
        JsonNode m = job.run(dir.resolve("out"), null, TrainingListener.NONE, Device.cpu()).metrics();
        // memorised: greedy generation after "<|im_start|>assistant\n" reproduces each last answer and stops at <|im_end|>
        assertEquals(1.0, m.get("eval").get("exact_match").asDouble(), m.toString());
        assertTrue(m.get("eval").get("loss").asDouble() < 0.1, m.toString());
        // the fine-tuned directory keeps the template, so it is evaluated on chat data without the base model's files
        assertTrue(Files.isRegularFile(dir.resolve("out/adapter/chat_template.jinja")));
        JsonNode after = CausalEvaluation.run(model, dir.resolve("out/adapter"), dir.resolve("chat-valid.jsonl"), "sft", 128, 4, Device.cpu());
        assertEquals(1.0, after.get("exact_match").asDouble());
        assertEquals(4, after.get("chat_examples").asInt());
        // 4 conversations, 5 answers: each answer's tokens and the turn's "<|im_end|>\n" (2 tokens) are the targets
        long answerTokens = 0;
        try (CausalTokenizer tok = new CausalTokenizer(model.resolve("tokenizer.json"))) {
            for (String a : new String[] {"apple", "banana", "pear", "apple", "pear"}) {
                answerTokens += tok.encode(a).length + 2;
            }
        }
        assertEquals(answerTokens, after.get("target_tokens").asLong());

        // engine predict --data with {"messages"} lines: rendered with the generation prompt, stops at <|im_end|>
        Files.writeString(dir.resolve("ask.jsonl"), json.writeValueAsString(Map.of("messages", List.of(
                Map.of("role", "system", "content", "Fruit."), Map.of("role", "user", "content", "yellow?")))) + "\n");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        int code;
        try {
            code = io.peftfoundry.engine.cli.Main.run(new String[] {"predict", "--model", model.toString(), "--adapter",
                    dir.resolve("out/adapter").toString(), "--data", dir.resolve("ask.jsonl").toString()});
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        JsonNode p = json.readTree(out.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("banana", p.get("completion").asText());
        assertEquals("eos", p.get("finish_reason").asText());
        assertTrue(p.get("prompt").asText().endsWith("<|im_start|>user\nyellow?<|im_end|>\n<|im_start|>assistant\n"), p.toString());
    }

    @Test
    void aModelWithoutChatTemplateIsRefusedNamingTheFiles() throws Exception {
        model = chatModel(dir.resolve("no-template"), false);
        JobInputException e = assertThrows(JobInputException.class, () -> job(spec("chat.jsonl", null, 1)));
        assertEquals("model", e.field());
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("chat_template.jinja"), e.getMessage());
    }

    @Test
    void badChatLinesAreRefusedWithTheirLineNumber() throws Exception {
        Files.writeString(dir.resolve("bad.jsonl"), Files.readString(dir.resolve("chat.jsonl"))
                + "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"  \"}]}\n");
        JobInputException e = assertThrows(JobInputException.class, () -> job(spec("bad.jsonl", null, 1)));
        assertEquals("training_file", e.field());
        assertTrue(e.getMessage().contains("line 5") && e.getMessage().contains("no assistant message with content"), e.getMessage());
        Files.writeString(dir.resolve("bad-role.jsonl"), "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}\n");
        e = assertThrows(JobInputException.class, () -> job(spec("bad-role.jsonl", null, 1)));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("messages[0].role"), e.getMessage());
    }
}
