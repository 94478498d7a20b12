package io.peftfoundry.eval.config;

import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.eval.client.ArtifactFiles;
import io.peftfoundry.eval.client.JobApiClient;
import io.peftfoundry.eval.service.BaselineSubmitter;
import io.peftfoundry.eval.serving.ModelSource;
import io.peftfoundry.eval.serving.DecoderServing;
import io.peftfoundry.eval.serving.PredictionService;
import io.peftfoundry.eval.serving.ResidentSet;
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

    /** The one LRU under one memory budget for every backbone and adapter the service keeps loaded. */
    @Produces
    @ApplicationScoped
    ResidentSet residentSet(EvalConfig config) {
        return new ResidentSet(config.modelCacheBytes());
    }

    void closeResident(@Disposes ResidentSet resident) {
        resident.close();
    }

    @Produces
    @ApplicationScoped
    DecoderServing decoderServing(ArtifactFiles artifacts, ResidentSet resident) {
        return new DecoderServing(source(artifacts), resident);
    }

    @Produces
    @ApplicationScoped
    PredictionService predictionService(ArtifactFiles artifacts, EvalConfig config, ResidentSet resident) {
        return new PredictionService(source(artifacts), resident, config.maxSeqLength());
    }

    private static ModelSource source(ArtifactFiles artifacts) {
        return new ModelSource() {
            @Override
            public Path backbone(String model) throws IOException {
                return artifacts.model(model);
            }

            @Override
            public Path adapter(String adapterId) throws IOException {
                return artifacts.adapter(adapterId);
            }
        };
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
