import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.resources.MemoryEstimate;
import io.peftfoundry.contracts.resources.ModelShape;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Prints every run of runs.jsonl beside platform-contracts' MemoryEstimate of its spec on its model's shape
 * (shape.json: what artifact-store records) as a Markdown table. Error = (estimate − measured) ÷ measured, where
 * measured = peak − start RSS of the run (MemoryRun). Usage: {@code EstimateReport RUNS.jsonl MODELS_DIR}.
 */
public final class EstimateReport {

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path models = Path.of(args[1]);
        System.out.println("| run | model | method | precision | batch × seq | checkpointing | weights | grads + optimizer"
                + " | activations | workspace | estimate | measured | error |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode r = json.readTree(line);
            JobSpec spec = JobSpecs.parse(r.get("spec").toString());
            String model = Path.of(spec.model()).getFileName().toString();
            JsonNode s = json.readTree(models.resolve(model).resolve("shape.json").toFile());
            ModelShape shape = new ModelShape(s.get("family").asText(), s.get("parameters").asLong(),
                    s.get("hidden_size").asInt(), s.get("num_hidden_layers").asInt(), s.get("num_attention_heads").asInt(),
                    s.get("intermediate_size").asInt(), s.get("vocab_size").asInt());
            MemoryEstimate e = MemoryEstimate.of(shape, spec);
            JobSpec d = spec.withDefaults();
            long measured = r.get("added_bytes").asLong();
            double err = (e.peakBytes() - measured) / (double) measured;
            lo = Math.min(lo, err);
            hi = Math.max(hi, err);
            System.out.printf(Locale.ROOT, "| %s | %s (%s) | %s | %s | %d × %d | %s | %s | %s | %s | %s | %s | %s | %+.1f%% |%n",
                    r.get("label").asText(), model, s.get("dtype").asText(), d.method().type().wire(),
                    d.hyperparameters().precision().wire(), d.hyperparameters().batchSize(),
                    d.hyperparameters().maxSeqLength(), d.hyperparameters().gradientCheckpointing() ? "yes" : "no",
                    mib(e.weightsBytes()), mib(e.gradientsBytes() + e.optimizerBytes()), mib(e.activationsBytes()),
                    mib(e.workspaceBytes()), mib(e.peakBytes()), mib(measured), 100 * err);
        }
        System.out.printf(Locale.ROOT, "%nerror range: %+.1f%% to %+.1f%%%n", 100 * lo, 100 * hi);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,d MiB", bytes >> 20);
    }
}
