package io.peftfoundry.artifacts.service;

import io.peftfoundry.artifacts.storage.BlobStore;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/** Makes sure the bucket exists at start (readiness stays DOWN while S3 does not answer). */
@ApplicationScoped
public class StartupTasks {

    private static final Logger LOG = Logger.getLogger(StartupTasks.class);

    void onStart(@Observes StartupEvent event, BlobStore blobs) {
        try {
            blobs.ensureBucket();
            LOG.infof("bucket %s ready", blobs.bucket());
        } catch (Exception e) {
            LOG.warnf("S3 bucket not reachable at start (%s); readiness stays DOWN until it answers", e.getMessage());
        }
    }
}
