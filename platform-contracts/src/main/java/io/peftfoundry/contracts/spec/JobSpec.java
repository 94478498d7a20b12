package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.Map;

/**
 * The one job spec: the same JSON in REST, the CLI, Kafka and the worker. Read it with {@link JobSpecs#parse}, which
 * rejects unknown fields, fills in the defaults and validates.
 *
 * @param model           backbone id (artifact-store model id, or a local directory for the CLI); required
 * @param task            default {@code classification}
 * @param trainingFile    file id (or a local path for the CLI); required
 * @param validationFile  file id or path; default null (no validation set: no evaluation during training)
 * @param method          default LoRA with its defaults; see {@link MethodSpec}
 * @param hyperparameters see {@link Hyperparameters} for defaults and ranges
 * @param seed            seed for initialisation, shuffling and dropout, 0–4294967295; default {@value #DEFAULT_SEED}
 * @param initAdapter     adapter id to continue training (e.g. SFT after continued pretraining); default null;
 *                        not allowed with method {@code full}
 * @param suffix          up to 64 characters of {@code [A-Za-z0-9._-]}, added to the adapter's name; default null
 * @param metadata        up to 16 string pairs (keys up to 64 characters, values up to 512); default empty
 * @param priority        {@code high}, {@code normal} or {@code low}: the job's place in the queue; default
 *                        {@code normal}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record JobSpec(String model, Task task, String trainingFile, String validationFile, MethodSpec method,
                      Hyperparameters hyperparameters, Long seed, String initAdapter, String suffix,
                      Map<String, String> metadata, Priority priority) {

    public static final Task DEFAULT_TASK = Task.CLASSIFICATION;
    public static final long DEFAULT_SEED = 42;
    public static final Priority DEFAULT_PRIORITY = Priority.NORMAL;

    public JobSpec {
        metadata = Lists.copyOrNull(metadata);
    }

    /** A spec without a priority (the default, {@code normal}, applies). */
    public JobSpec(String model, Task task, String trainingFile, String validationFile, MethodSpec method,
                   Hyperparameters hyperparameters, Long seed, String initAdapter, String suffix,
                   Map<String, String> metadata) {
        this(model, task, trainingFile, validationFile, method, hyperparameters, seed, initAdapter, suffix, metadata,
                null);
    }

    /** The smallest valid spec: a model and a training file, everything else default. */
    public static JobSpec of(String model, String trainingFile) {
        return new JobSpec(model, null, trainingFile, null, null, null, null, null, null, null).withDefaults();
    }

    /** A copy with every absent field replaced by its documented default (nested objects included). */
    public JobSpec withDefaults() {
        MethodSpec m = (method != null ? method : MethodSpec.defaults()).withDefaults();
        Hyperparameters h = (hyperparameters != null ? hyperparameters : Hyperparameters.empty()).withDefaults(m.type());
        return new JobSpec(model, task != null ? task : DEFAULT_TASK, trainingFile, validationFile, m, h,
                seed != null ? seed : DEFAULT_SEED, initAdapter, suffix, metadata != null ? metadata : Map.of(),
                priority != null ? priority : DEFAULT_PRIORITY);
    }

    public JobSpec withMethod(MethodSpec newMethod) {
        return new JobSpec(model, task, trainingFile, validationFile, newMethod, hyperparameters, seed, initAdapter,
                suffix, metadata, priority);
    }

    public JobSpec withHyperparameters(Hyperparameters newHyperparameters) {
        return new JobSpec(model, task, trainingFile, validationFile, method, newHyperparameters, seed, initAdapter,
                suffix, metadata, priority);
    }
}
