package io.peftfoundry.devstack.kafka;

import java.io.IOException;
import java.io.InputStream;

/**
 * Entry point of the Kafka child JVM: runs {@code kafka.Kafka} and exits when its standard input
 * closes, which is what happens when the parent devstack dies, even from SIGKILL. That way a broker
 * never outlives the process that started it.
 */
public final class KafkaChildMain {

    private KafkaChildMain() {
    }

    public static void main(String[] args) throws Exception {
        Thread watchdog = new Thread(() -> {
            try (InputStream in = System.in) {
                byte[] buffer = new byte[256];
                while (in.read(buffer) >= 0) {
                    // the parent never writes; we only wait for end of stream
                }
            } catch (IOException ignored) {
                // a broken pipe means the parent is gone too
            }
            System.err.println("devstack: parent process gone, stopping Kafka");
            System.exit(0);
        }, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        kafka.Kafka.main(args);
    }
}
