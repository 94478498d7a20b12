package io.peftfoundry.eval.config;

import io.peftfoundry.artifacts.client.ArtifactClient;
import io.peftfoundry.engine.job.Devices;
import io.peftfoundry.eval.client.ArtifactFiles;
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

/** The artifact-store client (plain artifact-client) and the prediction service, built from {@link EvalConfig}. */
@ApplicationScoped
public class ClientsProducer {

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
    DecoderServing decoderServing(ArtifactFiles artifacts, ResidentSet resident, EvalConfig config) {
        return new DecoderServing(source(artifacts), resident, Devices.select(config.device()));
    }

    @Produces
    @ApplicationScoped
    PredictionService predictionService(ArtifactFiles artifacts, EvalConfig config, ResidentSet resident) {
        return new PredictionService(source(artifacts), resident, config.maxSeqLength(), Devices.select(config.device()));
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
