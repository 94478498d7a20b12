package io.peftfoundry.devstack.s3;

import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.peftfoundry.devstack.Component;
import io.peftfoundry.devstack.DevStackConfig;
import io.peftfoundry.devstack.DevStackException;
import io.peftfoundry.devstack.Ports;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Properties;

/**
 * An S3 API server (S3Proxy, in this JVM) on a filesystem backend in {@code <data>/s3}: bucket
 * {@code foundry} is the folder {@code <data>/s3/foundry}. The bucket is created with the MinIO
 * client, the same client the services use.
 */
public final class S3Server implements Component {

    private static final Logger LOG = LoggerFactory.getLogger(S3Server.class);

    private final DevStackConfig config;
    private volatile S3Proxy proxy;
    private volatile BlobStoreContext context;

    public S3Server(DevStackConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "s3";
    }

    @Override
    public synchronized void start() {
        if (proxy != null) {
            return;
        }
        try {
            Files.createDirectories(config.s3Dir());
            Properties overrides = new Properties();
            overrides.setProperty("jclouds.filesystem.basedir", config.s3Dir().toString());
            context = ContextBuilder.newBuilder("filesystem-nio2")
                    .credentials(config.s3AccessKey(), config.s3SecretKey())
                    .overrides(overrides)
                    .build(BlobStoreContext.class);
            proxy = S3Proxy.builder()
                    .blobStore(new TemporaryFileCleaningBlobStore(context.getBlobStore(), config.s3Dir()))
                    .endpoint(URI.create(config.s3Endpoint()))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, config.s3AccessKey(), config.s3SecretKey())
                    .jettyMaxThreads(32)
                    .build();
            proxy.start();
            awaitBucket();
            LOG.info("S3 ready on {} (bucket {}, data {})", config.s3Endpoint(), config.s3Bucket(), config.s3Dir());
        } catch (Exception e) {
            stop();
            throw new DevStackException("could not start the S3 server on port " + config.s3Port() + ": " + e.getMessage(), e);
        }
    }

    /** Creates the bucket when absent, then waits until {@code bucketExists} says yes. */
    private void awaitBucket() throws Exception {
        MinioClient client = client();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                BucketExistsArgs exists = BucketExistsArgs.builder().bucket(config.s3Bucket()).build();
                if (client.bucketExists(exists)) {
                    return;
                }
                client.makeBucket(MakeBucketArgs.builder().bucket(config.s3Bucket()).build());
                LOG.info("created bucket {}", config.s3Bucket());
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw last != null ? last : new DevStackException("bucket " + config.s3Bucket() + " did not appear");
    }

    /** A MinIO client for this server with the configured credentials. */
    public MinioClient client() {
        return MinioClient.builder()
                .endpoint(config.s3Endpoint())
                .credentials(config.s3AccessKey(), config.s3SecretKey())
                .build();
    }

    @Override
    public synchronized void stop() {
        S3Proxy p = proxy;
        BlobStoreContext c = context;
        proxy = null;
        context = null;
        if (p != null) {
            try {
                p.stop();
                LOG.info("S3 server stopped");
            } catch (Exception e) {
                LOG.warn("S3 server did not stop cleanly: {}", e.getMessage());
            }
        }
        if (c != null) {
            c.close();
        }
    }

    @Override
    public boolean isUp() {
        S3Proxy p = proxy;
        return p != null && "STARTED".equals(p.getState()) && Ports.answers(config.host(), config.s3Port(), 1000);
    }
}
