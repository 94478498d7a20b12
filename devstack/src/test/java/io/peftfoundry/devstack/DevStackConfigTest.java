package io.peftfoundry.devstack;

import io.peftfoundry.devstack.control.ControlServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevStackConfigTest {

    @Test
    void defaultsAreTheTeamDefaults() {
        DevStackConfig c = DevStackConfig.fromArgs(new String[0], Map.of());
        assertEquals("127.0.0.1", c.host());
        assertEquals(9092, c.kafkaPort());
        assertEquals(9093, c.kafkaControllerPort());
        assertEquals(5433, c.postgresPort());
        assertEquals(9000, c.s3Port());
        assertEquals(9094, c.controlPort());
        assertEquals(Path.of(".foundry/data").toAbsolutePath().normalize(), c.dataDir());
        assertEquals("foundry", c.s3Bucket());
        assertEquals("foundry", c.s3AccessKey());
        assertEquals("foundry-secret", c.s3SecretKey());
        assertFalse(c.fresh());
        assertEquals("DEVSTACK READY kafka=127.0.0.1:9092 postgres=127.0.0.1:5433 s3=http://127.0.0.1:9000", Main.readyLine(c));
    }

    @Test
    void flagsWinOverEnvironmentWhichWinsOverDefaults() {
        Map<String, String> env = Map.of("FOUNDRY_KAFKA_PORT", "19092", "FOUNDRY_PG_PORT", "15433", "FOUNDRY_DATA_DIR", "/tmp/x");
        DevStackConfig c = DevStackConfig.fromArgs(new String[] {"--pg-port", "25433", "--fresh", "--s3-port=29000"}, env);
        assertEquals(19092, c.kafkaPort());
        assertEquals(25433, c.postgresPort());
        assertEquals(29000, c.s3Port());
        assertEquals(Path.of("/tmp/x"), c.dataDir());
        assertTrue(c.fresh());
        assertEquals("jdbc:postgresql://127.0.0.1:25433/foundry", c.postgresJdbcUrl());
    }

    @Test
    void badValuesNameTheVariable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DevStackConfig.fromArgs(new String[0], Map.of("FOUNDRY_S3_PORT", "nine")));
        assertTrue(e.getMessage().contains("FOUNDRY_S3_PORT"), e.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> DevStackConfig.fromArgs(new String[] {"--kafka"}, Map.of()));
        assertTrue(unknown.getMessage().contains("--kafka"), unknown.getMessage());
    }

    @Test
    void healthJsonHasTheDocumentedShape() {
        Map<String, String> health = new LinkedHashMap<>();
        health.put("kafka", "UP");
        health.put("postgres", "DOWN");
        health.put("s3", "UP");
        assertEquals("{\"status\":\"DOWN\",\"components\":{\"kafka\":\"UP\",\"postgres\":\"DOWN\",\"s3\":\"UP\"}}",
                ControlServer.healthJson(health));
    }
}
