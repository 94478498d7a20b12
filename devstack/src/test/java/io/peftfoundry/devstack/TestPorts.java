package io.peftfoundry.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Free ports for a test devstack, so tests never collide with a platform on the default ports. */
final class TestPorts {

    private TestPorts() {
    }

    static DevStackConfig configOnFreePorts(Path dataDir) {
        Set<Integer> ports = new HashSet<>();
        while (ports.size() < 5) {
            ports.add(freePort());
        }
        Integer[] p = ports.toArray(new Integer[0]);
        return DevStackConfig.builder()
                .host("127.0.0.1")
                .kafkaPort(p[0])
                .kafkaControllerPort(p[1])
                .postgresPort(p[2])
                .s3Port(p[3])
                .controlPort(p[4])
                .dataDir(dataDir)
                .build();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
