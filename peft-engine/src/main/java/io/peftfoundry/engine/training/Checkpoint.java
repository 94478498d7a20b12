package io.peftfoundry.engine.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.engine.io.SafeTensors;
import io.peftfoundry.engine.io.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A resumable training state on disk: {@code trainable.safetensors} (method + head parameters by
 * name), {@code optimizer.safetensors} (AdamW moments, {@code <name>.exp_avg}/{@code .exp_avg_sq})
 * and {@code trainer_state.json} (step, epoch, data position, seed, early-stopping state, tokens, and the fp16 loss
 * scaler's state: {@code loss_scale}, {@code loss_scale_good_steps}, {@code skipped_steps}).
 * The random state is not a blob: shuffling and dropout are re-derived from (seed, epoch, step).
 */
public record Checkpoint(long step, int epoch, int nextBatch, long seed, long totalSteps, double bestEvalLoss,
        int evalsWithoutImprovement, long tokens, double lossScale, long lossScaleGoodSteps, long skippedSteps,
        Map<String, Tensor> trainable, Map<String, Tensor> optimizer) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String STATE = "trainer_state.json";

    public void write(Path dir) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        Files.createDirectories(tmp);
        SafeTensors.write(tmp.resolve("trainable.safetensors"), trainable);
        SafeTensors.write(tmp.resolve("optimizer.safetensors"), optimizer);
        ObjectNode n = JSON.createObjectNode();
        n.put("step", step);
        n.put("epoch", epoch);
        n.put("next_batch", nextBatch);
        n.put("seed", seed);
        n.put("total_steps", totalSteps);
        n.put("best_eval_loss", bestEvalLoss);
        n.put("evals_without_improvement", evalsWithoutImprovement);
        n.put("tokens", tokens);
        n.put("loss_scale", lossScale);
        n.put("loss_scale_good_steps", lossScaleGoodSteps);
        n.put("skipped_steps", skippedSteps);
        JSON.writeValue(tmp.resolve(STATE).toFile(), n);
        // write-then-rename: a crash mid-write never leaves a half checkpoint under the final name
        if (Files.exists(dir)) {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
        Files.move(tmp, dir);
    }

    public static Checkpoint read(Path dir) throws IOException {
        Path state = dir.resolve(STATE);
        if (!Files.isRegularFile(state)) {
            throw new IOException(dir + ": not a checkpoint (no " + STATE + ")");
        }
        var n = JSON.readTree(state.toFile());
        return new Checkpoint(n.path("step").asLong(), n.path("epoch").asInt(), n.path("next_batch").asInt(),
                n.path("seed").asLong(), n.path("total_steps").asLong(), n.path("best_eval_loss").asDouble(Double.POSITIVE_INFINITY),
                n.path("evals_without_improvement").asInt(), n.path("tokens").asLong(),
                n.path("loss_scale").asDouble(0), n.path("loss_scale_good_steps").asLong(), n.path("skipped_steps").asLong(),
                SafeTensors.read(dir.resolve("trainable.safetensors")), SafeTensors.read(dir.resolve("optimizer.safetensors")));
    }
}
