package io.peftfoundry.devstack;

import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.peftfoundry.devstack.kafka.KafkaTopics;
import io.peftfoundry.devstack.postgres.PostgresServer;
import io.peftfoundry.devstack.testing.DevStackControl;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One real devstack (Kafka, PostgreSQL, S3) on free ports and a temporary data folder, shared by the
 * tests below; the last test restarts it on the same data and checks that nothing was lost.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DevStackTest {

    @TempDir
    static Path dataDir;

    static DevStackConfig config;
    static DevStack stack;

    @BeforeAll
    static void startStack() {
        config = TestPorts.configOnFreePorts(dataDir);
        stack = DevStack.start(config);
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void allComponentsReportUp() {
        assertEquals(Map.of("kafka", "UP", "postgres", "UP", "s3", "UP"), stack.health());
        Map<String, String> viaHttp = DevStackControl.at(config.host(), config.controlPort()).health();
        assertEquals(List.of("kafka", "postgres", "s3"), new ArrayList<>(viaHttp.keySet()));
        assertTrue(viaHttp.values().stream().allMatch("UP"::equals), viaHttp.toString());
    }

    @Test
    @Order(2)
    void kafkaRoundTripOnThePlatformTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            Map<String, TopicDescription> topics = admin.describeTopics(KafkaTopics.names()).allTopicNames().get();
            assertEquals(KafkaTopics.all().keySet(), topics.keySet());
            assertEquals(4, topics.get("foundry.jobs.requested").partitions().size());
            assertTrue(topics.containsKey("foundry.eval.results.dlq"));
        }
        String value = "{\"job_id\":\"ftjob-1\",\"nonce\":\"" + UUID.randomUUID() + "\"}";
        RecordMetadata sent = produce("foundry.jobs.requested", "ftjob-1", value);
        List<ConsumerRecord<String, String>> read = readPartition(sent.topic(), sent.partition());
        assertTrue(read.stream().anyMatch(r -> r.key().equals("ftjob-1") && r.value().equals(value)),
                "record sent to " + sent + " not read back: " + read);
    }

    @Test
    @Order(3)
    void eachServiceLoginOwnsItsSchemaAndCanCreateTablesOnlyThere() throws Exception {
        try (Connection c = DriverManager.getConnection(stack.postgresJdbcUrl(), "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select n.nspname, r.rolname from pg_namespace n join pg_roles r on r.oid = n.nspowner"
                     + " where n.nspname in ('jobs','artifacts','evals','worker','console') order by n.nspname")) {
            List<String> owners = new ArrayList<>();
            while (rs.next()) {
                owners.add(rs.getString(1) + "=" + rs.getString(2));
            }
            assertEquals(List.of("artifacts=artifacts", "console=console", "evals=evals", "jobs=jobs", "worker=worker"), owners);
        }

        Flyway flyway = Flyway.configure()
                .dataSource(stack.postgresJdbcUrl(), "jobs", config.postgresPassword())
                .schemas("jobs")
                .createSchemas(false)
                .locations("classpath:db/jobs")
                .load();
        MigrateResult result = flyway.migrate();
        assertEquals(1, result.migrationsExecuted);

        try (Connection c = DriverManager.getConnection(stack.postgresJdbcUrl(), "jobs", config.postgresPassword());
             Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("show search_path")) {
                rs.next();
                assertEquals("jobs", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("select tableowner from pg_tables where schemaname = 'jobs' and tablename = 'job'")) {
                assertTrue(rs.next(), "Flyway's table is not in schema jobs");
                assertEquals("jobs", rs.getString(1));
            }
            SQLException inOther = assertThrows(SQLException.class, () -> s.execute("create table artifacts.sneaky (id int)"));
            assertEquals("42501", inOther.getSQLState(), inOther.getMessage()); // insufficient_privilege
            SQLException inPublic = assertThrows(SQLException.class, () -> s.execute("create table public.sneaky (id int)"));
            assertEquals("42501", inPublic.getSQLState(), inPublic.getMessage());
        }
    }

    @Test
    @Order(4)
    void s3PutAndGetReturnTheSameBytes() throws Exception {
        MinioClient s3 = minio();
        // 6 MiB with 5 MiB parts: exercises the multipart upload path as well
        byte[] data = new byte[6 * 1024 * 1024];
        new Random(42).nextBytes(data);
        String key = "blobs/sha256/" + sha256(data);
        s3.putObject(PutObjectArgs.builder().bucket(config.s3Bucket()).object(key)
                .stream(new ByteArrayInputStream(data), data.length, 5 * 1024 * 1024)
                .contentType("application/octet-stream").build());
        assertEquals(data.length, s3.statObject(StatObjectArgs.builder().bucket(config.s3Bucket()).object(key).build()).size());
        byte[] back;
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(config.s3Bucket()).object(key).build())) {
            back = in.readAllBytes();
        }
        assertEquals(sha256(data), sha256(back));
        assertArrayEquals(data, back);
    }

    @Test
    @Order(5)
    void stoppingPostgresThroughTheControlEndpointShowsDownThenUp() throws Exception {
        DevStackControl control = DevStackControl.at(config.host(), config.controlPort());
        control.stop("postgres");
        Map<String, String> down = control.health();
        assertEquals("DOWN", down.get("postgres"));
        assertEquals("UP", down.get("kafka"));
        assertEquals("UP", down.get("s3"));
        assertTrue(!control.isUp());
        assertThrows(SQLException.class, () -> DriverManager.getConnection(stack.postgresJdbcUrl(), "postgres", "").close());

        control.start("postgres");
        assertEquals(Map.of("kafka", "UP", "postgres", "UP", "s3", "UP"), control.health());
        try (Connection c = DriverManager.getConnection(stack.postgresJdbcUrl(), "postgres", "");
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
        }
        assertThrows(IllegalStateException.class, () -> control.stop("mongodb"));
    }

    @Test
    @Order(6)
    void aTakenPortIsReportedWithItsVariable() throws Exception {
        // the running stack holds its S3 port: a second devstack on the same ports must refuse to start
        DevStackConfig clash = TestPorts.configOnFreePorts(dataDir.resolve("other")).toBuilder()
                .s3Port(config.s3Port()).build();
        PortInUseException e = assertThrows(PortInUseException.class, () -> DevStack.start(clash));
        assertEquals(config.s3Port(), e.port());
        assertEquals("FOUNDRY_S3_PORT", e.variable());
        assertTrue(e.getMessage().contains(String.valueOf(config.s3Port())) && e.getMessage().contains("FOUNDRY_S3_PORT"),
                e.getMessage());
    }

    @Test
    @Order(7)
    void aDataDirectoryInUseIsRefusedAndKeptIntact() {
        // other free ports, same data folder, --fresh: must neither start nor delete the live data
        DevStackConfig sameDir = TestPorts.configOnFreePorts(dataDir).toBuilder().fresh(true).build();
        DataDirInUseException e = assertThrows(DataDirInUseException.class, () -> DevStack.start(sameDir));
        assertTrue(e.getMessage().contains(dataDir.toAbsolutePath().normalize().toString()), e.getMessage());
        assertEquals(Map.of("kafka", "UP", "postgres", "UP", "s3", "UP"), stack.health());
        assertTrue(java.nio.file.Files.isRegularFile(config.postgresDir().resolve("PG_VERSION")));
    }

    @Test
    @Order(8)
    void aRestartOnTheSameDataKeepsRowsObjectsAndRecords() throws Exception {
        String marker = UUID.randomUUID().toString();
        try (Connection c = DriverManager.getConnection(stack.postgresJdbcUrl(), "jobs", config.postgresPassword());
             PreparedStatement ps = c.prepareStatement("insert into job (id, status) values (?, 'queued')")) {
            ps.setString(1, marker);
            assertEquals(1, ps.executeUpdate());
        }
        byte[] object = marker.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        minio().putObject(PutObjectArgs.builder().bucket(config.s3Bucket()).object("restart/" + marker)
                .stream(new ByteArrayInputStream(object), object.length, -1).build());
        RecordMetadata sent = produce("foundry.jobs.events", "restart", marker);

        stack.close();
        stack = null;
        assertTrue(!DevStackControl.at(config.host(), config.controlPort()).isUp());
        stack = DevStack.start(config); // same ports, same data, not fresh

        try (Connection c = DriverManager.getConnection(stack.postgresJdbcUrl(), "jobs", config.postgresPassword());
             PreparedStatement ps = c.prepareStatement("select status from job where id = ?")) {
            ps.setString(1, marker);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "row lost in restart");
                assertEquals("queued", rs.getString(1));
            }
        }
        try (InputStream in = minio().getObject(GetObjectArgs.builder().bucket(config.s3Bucket()).object("restart/" + marker).build())) {
            assertArrayEquals(object, in.readAllBytes());
        }
        List<ConsumerRecord<String, String>> read = readPartition(sent.topic(), sent.partition());
        assertTrue(read.stream().anyMatch(r -> r.offset() == sent.offset() && r.value().equals(marker)),
                "record lost in restart: " + read.stream().map(ConsumerRecord::value).collect(Collectors.toList()));
    }

    private MinioClient minio() {
        return MinioClient.builder().endpoint(stack.s3Endpoint())
                .credentials(config.s3AccessKey(), config.s3SecretKey()).build();
    }

    private RecordMetadata produce(String topic, String key, String value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            return producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    /** Every record of one partition, from the beginning to the end offset seen at the start. */
    private List<ConsumerRecord<String, String>> readPartition(String topic, int partition) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "devstack-test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.position(tp, Duration.ofSeconds(30)) < end && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        return records;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
