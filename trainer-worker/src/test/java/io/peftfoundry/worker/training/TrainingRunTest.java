package io.peftfoundry.worker.training;

import ai.djl.Device;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.engine.job.JobInputException;
import io.peftfoundry.engine.model.bert.BertCheckpoint;
import io.peftfoundry.engine.model.bert.BertConfig;
import io.peftfoundry.engine.training.TrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worker runs the engine's job classes, so it refuses what {@code peft-engine train} refuses, naming the field. */
class TrainingRunTest {

    @TempDir
    Path dir;

    @Test
    void maxSeqLengthBeyondTheModelsPositionsIsRefusedNamingTheFieldBeforeAnyTraining() throws Exception {
        Path model = dir.resolve("model");
        BertConfig config = BertConfig.tiny(40, 16, 1, 2, 32); // 64 positions
        // the length check comes before the weights and the tokenizer are read (and before libtorch loads: the
        // module's Quarkus tests hold it in another classloader)
        Files.createDirectories(model);
        config.write(model.resolve(BertCheckpoint.CONFIG));
        Files.writeString(model.resolve("tokenizer.json"), "{}");
        Path train = Files.writeString(dir.resolve("train.jsonl"), "{\"text\": \"a\", \"label\": \"x\"}\n");
        JobSpec spec = JobSpecs.parse("{\"model\": \"m\", \"training_file\": \"t\", \"hyperparameters\": "
                + "{\"max_seq_length\": " + (config.maxPositionEmbeddings() + 1) + "}}");
        Path work = Files.createDirectories(dir.resolve("work"));

        TrainingRun run = new TrainingRun(spec, Device.cpu());
        JobInputException e = assertThrows(JobInputException.class, () -> run.run(model, train, null, null, null,
                work.resolve("adapter"), TrainingListener.NONE));

        assertEquals("hyperparameters.max_seq_length", e.field());
        assertTrue(e.getMessage().contains("65 exceeds the model's 64 positions"), e.getMessage());
        assertFalse(Files.exists(work.resolve("adapter")));
    }
}
