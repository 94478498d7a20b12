package io.peftfoundry.eval.config;

import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.eval.client.ArtifactFiles;
import io.peftfoundry.eval.client.JobApiClient;
import io.peftfoundry.eval.service.BaselineSubmitter;
import io.peftfoundry.eval.serving.ModelSource;
import io.peftfoundry.eval.serving.PredictionService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** The clients of job-api and artifact-store, built from {@link EvalConfig}, with the service key. */
@ApplicationScoped
public class ClientsProducer {

    /** Also the {@link BaselineSubmitter}: baselines go through job-api's POST /v1/fine_tuning/jobs. */
    @Produces
    @ApplicationScoped
    JobApiClient jobApiClient(EvalConfig config) {
        return new JobApiClient(config.jobApiUrl(), config.adminKey().orElse(null), config.jobApiTimeout());
    }

    @Produces
    @ApplicationScoped
    PredictionService predictionService(ArtifactFiles artifacts, EvalConfig config) {
        return new PredictionService(new ModelSource() {
            @Override
            public Path backbone(String model) throws IOException {
                return artifacts.model(model);
            }

            @Override
            public Path adapter(String adapterId) throws IOException {
                return artifacts.adapter(adapterId);
            }
        }, config.adapterCacheBytes(), config.maxSeqLength());
    }

    void closePredictions(@Disposes PredictionService predictions) {
        predictions.close();
    }

    @Produces
    @ApplicationScoped
    ArtifactFiles artifactFiles(EvalConfig config) {
        ArtifactClient client = new ArtifactClient(config.artifactStoreUrl(), config.adminKey().orElse(""), 3,
                Duration.ofMillis(200), Duration.ofMinutes(10));
        return new ArtifactFiles(client, Path.of(config.cacheDir()));
    }
}
