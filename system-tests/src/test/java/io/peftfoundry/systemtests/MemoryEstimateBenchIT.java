package io.peftfoundry.systemtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.contracts.event.JobEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Benchmark (run by {@code bench/scheduling/run}, skipped otherwise): job-api's memory estimate against what real runs
 * added to a worker's RSS ({@code peak_rss_bytes − start_rss_bytes} of the succeeded event). Each job runs on a fresh
 * worker process, so nothing an earlier job left allocated hides part of the next one's growth. Backbone: a random BERT
 * with MiniLM-L6's shape (H 384, 6 layers, 12 heads, I 1536, dropout 0.1); data: 64 long texts, so every sequence is cut
 * at {@code max_seq_length} and the estimate's S is the real one.
 */
@EnabledIfSystemProperty(named = "foundry.bench", matches = "true")
class MemoryEstimateBenchIT {

    @BeforeAll
    static void start() throws Exception {
        JobPipelineIT.startPlatform();
    }

    @AfterAll
    static void stop() throws Exception {
        JobPipelineIT.stopPlatform();
    }

    @Test
    void estimateAgainstMeasuredRssGrowth() throws Exception {
        JobPipelineIT.setWorkers(0);
        Path dir = JobPipelineIT.work.resolve("memory-bench");
        Files.createDirectories(dir);
        List<String> glosses = Files.readAllLines(ServiceProcess.repoRoot().resolve("data/wordnet-supersense/smoke/train.jsonl"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            StringBuilder text = new StringBuilder();
            for (int k = 0; text.length() < 3000; k++) {
                text.append(JobPipelineIT.JSON.readTree(glosses.get((i * 7 + k) % glosses.size())).path("text").asText())
                        .append(' ');
            }
            String label = JobPipelineIT.JSON.readTree(glosses.get(i % glosses.size())).path("label").asText();
            lines.add(JobPipelineIT.JSON.createObjectNode().put("text", text.toString().trim()).put("label", label)
                    .toString());
        }
        Path data = dir.resolve("long.jsonl");
        Files.write(data, lines);
        String file = JobPipelineIT.artifacts.uploadFile(data, "fine-tune", "classification").path("id").asText();
        Path backbone = TinyBackbone.write(dir.resolve("minilm-shape"), List.of(data), 11, 384, 6, 12, 1536);
        String model = JobPipelineIT.registerModel(backbone, "minilm-shape-" + UUID.randomUUID().toString().substring(0, 6));

        record Config(String method, int batch, int seq) {
        }
        List<Config> configs = List.of(new Config("lora", 8, 128), new Config("lora", 32, 128),
                new Config("lora", 16, 256), new Config("full", 8, 128), new Config("full", 32, 128));
        StringBuilder json = new StringBuilder("[");
        int n = 0;
        for (Config c : configs) {
            String name = "mem-" + n++;
            ServiceProcess worker = JobPipelineIT.newWorker(name, JobPipelineIT.commonEnv, "16G");
            worker.start();
            try {
                worker.awaitReady(Duration.ofMinutes(8));
                String id = JobPipelineIT.submit("""
                        {"model": "%s", "task": "classification", "training_file": "%s",
                         "method": {"type": "%s"},
                         "hyperparameters": {"epochs": 1, "max_steps": 2, "batch_size": %d, "max_seq_length": %d,
                                             "learning_rate": 0.0001, "eval_every_steps": 0, "checkpoint_every_steps": 0},
                         "seed": 7}""".formatted(model, file, c.method(), c.batch(), c.seq()));
                JobEvent end = JobPipelineIT.events.awaitEnd(id, Duration.ofMinutes(20));
                assertEquals("succeeded", end.status().wire(), JobPipelineIT.events.summary(id));
                JsonNode e = JobPipelineIT.api.job(id).path("memory_estimate");
                long measured = JobPipelineIT.longOf(end, "peak_rss_bytes") - JobPipelineIT.longOf(end, "start_rss_bytes");
                String row = String.format(Locale.ROOT, "{\"method\": \"%s\", \"batch\": %d, \"seq\": %d,"
                                + " \"estimate\": %d, \"weights\": %d, \"gradients\": %d, \"optimizer\": %d,"
                                + " \"activations\": %d, \"workspace\": %d, \"measured\": %d, \"peak_rss\": %d,"
                                + " \"start_rss\": %d}", c.method(), c.batch(), c.seq(), e.path("peak_bytes").asLong(),
                        e.path("weights_bytes").asLong(), e.path("gradients_bytes").asLong(),
                        e.path("optimizer_bytes").asLong(), e.path("activations_bytes").asLong(),
                        e.path("workspace_bytes").asLong(), measured, JobPipelineIT.longOf(end, "peak_rss_bytes"),
                        JobPipelineIT.longOf(end, "start_rss_bytes"));
                System.out.println("[bench] memory: " + row);
                json.append(json.length() > 1 ? ",\n" : "\n").append(row);
            } finally {
                worker.stop();
            }
        }
        Path out = ServiceProcess.repoRoot().resolve("system-tests/target/system-tests/memory.json");
        Files.writeString(out, json.append("\n]\n").toString());
    }
}
