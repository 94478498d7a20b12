package io.peftfoundry.jobapi.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.event.JobEvent;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static io.restassured.RestAssured.given;

/** Test inputs in the real artifact-store, and Kafka helpers. */
public final class Fixtures {

    private Fixtures() {
    }

    /** Registers a tiny BERT-layout model for the key's tenant; returns its name. */
    public static String registerTinyModel(String key) throws IOException {
        return registerModel(key, "{\"model_type\":\"bert\",\"hidden_size\":2,\"num_hidden_layers\":1,\"vocab_size\":2}");
    }

    /**
     * Registers a model whose config.json is {@code configJson} (artifact-store records its sizes as they are; the
     * weights are one 2×2 tensor, so {@code parameters} is 4); returns its name.
     */
    public static String registerModel(String key, String configJson) throws IOException {
        String name = "tiny-bert-" + UUID.randomUUID().toString().substring(0, 8);
        // header: one F32 tensor of shape [2,2] = 16 bytes of data
        byte[] header = "{\"embeddings.word_embeddings.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer weights = ByteBuffer.allocate(8 + header.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        weights.putLong(header.length).put(header);
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(zip)) {
            entry(out, "config.json", configJson.getBytes(StandardCharsets.UTF_8));
            entry(out, "model.safetensors", weights.array());
            entry(out, "tokenizer.json", "{\"version\":\"1.0\",\"model\":{\"type\":\"WordPiece\"}}"
                    .getBytes(StandardCharsets.UTF_8));
        }
        Path file = Files.createTempFile("tiny-model-", ".zip");
        Files.write(file, zip.toByteArray());
        given().header("Authorization", "Bearer " + key)
                .multiPart("file", file.toFile(), "application/zip").multiPart("name", name)
                .post(ArtifactStoreTestResource.url() + "/v1/models").then().statusCode(201);
        return name;
    }

    /** Uploads a small dataset of the task (unique content); returns its file id. */
    public static String uploadDataset(String key, String task) throws IOException {
        String nonce = UUID.randomUUID().toString();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            switch (task) {
                case "classification" -> sb.append("{\"text\":\"example ").append(i).append(' ').append(nonce)
                        .append("\",\"label\":\"").append(i % 2 == 0 ? "pos" : "neg").append("\"}\n");
                case "sft" -> sb.append("{\"prompt\":\"q ").append(i).append(' ').append(nonce)
                        .append("\",\"completion\":\"a ").append(i).append("\"}\n");
                default -> sb.append("{\"text\":\"line ").append(i).append(' ').append(nonce).append("\"}\n");
            }
        }
        Path file = Files.createTempFile("dataset-", ".jsonl");
        Files.writeString(file, sb.toString());
        return given().header("Authorization", "Bearer " + key)
                .multiPart("file", file.toFile(), "application/jsonl").multiPart("purpose", "fine-tune")
                .multiPart("task", task)
                .post(ArtifactStoreTestResource.url() + "/v1/files").then().statusCode(201)
                .extract().path("id");
    }

    private static void entry(ZipOutputStream out, String name, byte[] bytes) throws IOException {
        out.putNextEntry(new ZipEntry(name));
        out.write(bytes);
        out.closeEntry();
    }

    /** The first record on the topic with this key that matches, read from the beginning with a fresh group. */
    public static ConsumerRecord<String, String> findRecord(String bootstrap, String topic, String key,
                                                            Predicate<String> valueMatches, Duration within) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    if (key.equals(record.key()) && valueMatches.test(record.value())) {
                        return record;
                    }
                }
            }
        }
        throw new AssertionError("no matching record with key " + key + " on " + topic + " within " + within);
    }

    /** Publishes one record as it is (unparseable payloads included), waiting for the ack. */
    public static void publishRaw(String bootstrap, String topic, String key, String value) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        }
    }

    /** The keys of every record on the topic now: read from the beginning up to the end offsets taken at the start. */
    public static Set<String> keysOnTopic(String bootstrap, String topic) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            Set<String> keys = new HashSet<>();
            while (partitions.stream().anyMatch(p -> consumer.position(p, Duration.ofSeconds(30)) < end.get(p))) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    keys.add(record.key());
                }
            }
            return keys;
        }
    }

    /** Publishes job events (as a trainer worker would), in the given order, waiting for each ack. */
    public static void publishEvents(ObjectMapper mapper, String bootstrap, List<JobEvent> events) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            for (JobEvent e : events) {
                producer.send(new ProducerRecord<>("foundry.jobs.events", e.jobId(),
                        mapper.writeValueAsString(e))).get(30, TimeUnit.SECONDS);
            }
        }
    }
}
