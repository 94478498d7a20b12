package io.peftfoundry.support.health;

import io.quarkus.arc.properties.IfBuildProperty;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Ready only while the Kafka broker answers: asks it to describe the cluster, with a short timeout, and caches the
 * answer briefly so frequent probes do not each wait. The consumers' own health only reports their partition
 * assignment, which survives a dead broker.
 */
@Readiness
@IfBuildProperty(name = "foundry.kafka.enabled", stringValue = "true", enableIfMissing = true)
@ApplicationScoped
public class KafkaReadinessCheck implements HealthCheck {

    private final String bootstrapServers;
    private final Duration timeout;
    private final Duration cacheFor;
    private Admin admin;
    private HealthCheckResponse lastResponse;
    private long lastProbeNanos;

    public KafkaReadinessCheck(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers,
                               @ConfigProperty(name = "foundry.health.kafka-timeout", defaultValue = "2s") Duration timeout,
                               @ConfigProperty(name = "foundry.health.kafka-cache", defaultValue = "1500ms") Duration cacheFor) {
        this.bootstrapServers = bootstrapServers;
        this.timeout = timeout;
        this.cacheFor = cacheFor;
    }

    @Override
    public synchronized HealthCheckResponse call() {
        long now = System.nanoTime();
        if (lastResponse == null || now - lastProbeNanos >= cacheFor.toNanos()) {
            lastResponse = probe();
            lastProbeNanos = System.nanoTime();
        }
        return lastResponse;
    }

    private HealthCheckResponse probe() {
        try {
            DescribeClusterResult cluster = admin().describeCluster(
                    new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()));
            String clusterId = cluster.clusterId().get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
            int brokers = cluster.nodes().get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS).size();
            return HealthCheckResponse.named("kafka").up()
                    .withData("bootstrap.servers", bootstrapServers)
                    .withData("cluster.id", clusterId)
                    .withData("brokers", brokers)
                    .build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return down(e);
        } catch (Exception e) {
            return down(e);
        }
    }

    private HealthCheckResponse down(Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return HealthCheckResponse.named("kafka").down()
                .withData("bootstrap.servers", bootstrapServers)
                .withData("error", cause.getClass().getSimpleName() + ": " + cause.getMessage())
                .build();
    }

    /** One client for the life of the service; it reconnects by itself when the broker comes back. */
    private Admin admin() {
        if (admin == null) {
            int timeoutMs = (int) timeout.toMillis();
            admin = Admin.create(Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.CLIENT_ID_CONFIG, "readiness-check",
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                    AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000));
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
            admin = null;
        }
    }
}
