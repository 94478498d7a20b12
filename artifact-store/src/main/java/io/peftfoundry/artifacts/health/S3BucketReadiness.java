package io.peftfoundry.artifacts.health;

import io.peftfoundry.artifacts.config.S3Config;
import io.peftfoundry.artifacts.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only when the S3 bucket answers (within foundry.s3.health-timeout). PostgreSQL has Quarkus' own check. */
@Readiness
@ApplicationScoped
public class S3BucketReadiness implements HealthCheck {

    private final BlobStore blobs;
    private final S3Config config;

    public S3BucketReadiness(BlobStore blobs, S3Config config) {
        this.blobs = blobs;
        this.config = config;
    }

    @Override
    public HealthCheckResponse call() {
        boolean up = blobs.bucketAnswers();
        return HealthCheckResponse.named("s3-bucket")
                .status(up)
                .withData("endpoint", config.endpoint())
                .withData("bucket", config.bucket())
                .build();
    }
}
