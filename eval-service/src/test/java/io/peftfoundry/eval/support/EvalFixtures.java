package io.peftfoundry.eval.support;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.contracts.Topics;
import io.peftfoundry.engine.adapter.AdapterFiles;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.TextTokenizer;
import io.peftfoundry.engine.task.classification.ClassificationData;
import io.peftfoundry.engine.task.classification.ClassificationModel;
import io.peftfoundry.engine.task.classification.Example;
import io.peftfoundry.engine.training.ClassificationTrainer;
import io.peftfoundry.engine.training.EvalResult;
import io.peftfoundry.engine.training.TrainingConfig;
import io.peftfoundry.eval.serving.TinyModels;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A tenant's tiny model, datasets and a trained LoRA adapter in the real artifact-store, and job-api's messages. */
public final class EvalFixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EvalFixtures() {
    }

    /** What a test evaluates: the job's spec and adapter, and the local files to score them directly. */
    public record Prepared(String modelId, String trainId, String validId, String adapterId, Path backboneDir,
                           Path adapterDir, Path validFile, ObjectNode spec) {}

    /**
     * Registers a tiny backbone (seeded), uploads a training file and a validation file holding {@code unique} (so its
     * digest is new and nothing of it is cached yet) and a LoRA adapter trained here, all as tenant acme.
     */
    public static Prepared prepare(Path tmp, long seed, String unique, io.peftfoundry.engine.method.MethodConfig method)
            throws Exception {
        Path backboneDir = TinyModels.backbone(tmp.resolve("backbone"), seed);
        ArtifactClient acme = new ArtifactClient(ArtifactStoreProcess.url(), "key-acme");
        String modelId = registerModel(backboneDir, "tiny-bert-" + unique);
        Path trainFile = writeJsonl(tmp.resolve("train.jsonl"), TinyModels.toyTask(48, seed + 1));
        List<Example> valid = new ArrayList<>(TinyModels.toyTask(16, seed + 2));
        valid.add(new Example("good " + unique, null, "pos"));
        Path validFile = writeJsonl(tmp.resolve("valid.jsonl"), valid);
        String trainId = acme.uploadFile(trainFile, "fine-tune", "classification").path("id").asText();
        String validId = acme.uploadFile(validFile, "fine-tune", "classification").path("id").asText();
        Path adapterDir = TinyModels.trainAdapter(backboneDir, method, seed + 3, tmp.resolve("adapter"));
        String adapterId = acme.uploadAdapter(adapterDir, Map.of("job_id", "ftjob-" + unique, "base_model", modelId,
                "method", "lora")).path("id").asText();
        ObjectNode spec = JSON.createObjectNode();
        spec.put("model", modelId).put("task", "classification").put("training_file", trainId)
                .put("validation_file", validId);
        spec.putObject("method").put("type", "lora");
        spec.putObject("hyperparameters").put("epochs", 2).put("batch_size", 8).put("learning_rate", 5e-3)
                .put("max_seq_length", TinyModels.MAX_SEQ);
        spec.put("seed", 7);
        spec.putObject("metadata");
        return new Prepared(modelId, trainId, validId, adapterId, backboneDir, adapterDir, validFile, spec);
    }

    public static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
    }

    /** {@code JobRequested} as job-api's outbox sends it, for tenant acme. */
    public static void sendRequested(KafkaProducer<String, String> kafka, String jobId, ObjectNode spec) throws Exception {
        ObjectNode m = JSON.createObjectNode();
        m.put("job_id", jobId).put("tenant", "acme").put("attempt", 1).putNull("resume_from");
        m.set("spec", spec);
        kafka.send(new ProducerRecord<>(Topics.JOBS_REQUESTED, jobId, m.toString())).get();
    }

    /** A worker's status event. */
    public static void sendStatus(KafkaProducer<String, String> kafka, String jobId, long seq, String status,
                                  Map<String, Object> data) throws Exception {
        ObjectNode m = JSON.createObjectNode();
        m.put("job_id", jobId).put("seq", seq).put("type", "status").put("status", status)
                .put("at", Instant.now().toString());
        m.set("data", JSON.valueToTree(data));
        kafka.send(new ProducerRecord<>(Topics.JOBS_EVENTS, jobId, m.toString())).get();
    }

    /** peft-engine's own score of the adapter on the validation file. */
    public static EvalResult evaluateDirectly(Prepared p) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             TextTokenizer tok = new TextTokenizer(p.backboneDir().resolve("tokenizer.json"), TinyModels.MAX_SEQ, 0)) {
            ClassificationModel model = AdapterFiles.load(p.adapterDir(), BertCheckpoint.load(p.backboneDir(), m), m);
            return new ClassificationTrainer(model, tok, TrainingConfig.defaults(1e-3, 7), m)
                    .evaluate(ClassificationData.read(p.validFile(), true));
        }
    }

    private static Path writeJsonl(Path file, List<Example> examples) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Example e : examples) {
            lines.add(JSON.createObjectNode().put("text", e.text()).put("label", e.label()).toString());
        }
        return Files.write(file, lines);
    }

    /** {@code POST /v1/models} (multipart: the zipped HF directory and a name) as tenant acme. */
    public static String registerModel(Path dir, String name) throws Exception {
        Path zip = ArtifactClient.zipDirectory(dir);
        String boundary = "----evaltest" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + name + "\r\n--"
                + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.zip\"\r\n"
                + "Content-Type: application/zip\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] file = Files.readAllBytes(zip);
        byte[] all = new byte[head.length + file.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(file, 0, all, head.length, file.length);
        System.arraycopy(tail, 0, all, head.length + file.length, tail.length);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(ArtifactStoreProcess.url() + "/v1/models"))
                .header("Authorization", "Bearer key-acme")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(all)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new AssertionError("registering the model: HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).path("id").asText();
    }
}
