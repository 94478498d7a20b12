package io.peftfoundry.devstack.testing;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class DevStackControlTest {

    @Test
    void readsTheComponentsOfAHealthDocumentInOrder() {
        Map<String, String> c = DevStackControl.components(
                "{\"status\":\"DOWN\",\"components\":{\"kafka\":\"UP\",\"postgres\":\"DOWN\",\"s3\":\"UP\"}}");
        assertEquals(List.of("kafka", "postgres", "s3"), List.copyOf(c.keySet()));
        assertEquals("DOWN", c.get("postgres"));
    }

    @Test
    void aDevStackThatDoesNotAnswerIsNotUp() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertFalse(DevStackControl.at("127.0.0.1", port).isUp());
    }
}
