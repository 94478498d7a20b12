package io.peftfoundry.contracts.spec;

import io.peftfoundry.contracts.FieldError;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Ranges and cross-field rules of a {@link JobSpec}. An absent (null) optional field is fine: its default applies.
 * Every rule reports the field it concerns; all problems are collected.
 */
final class SpecValidator {

    static final int MAX_ID_LENGTH = 1024;
    static final int MAX_MODULES = 64;
    static final int MAX_MODULE_NAME_LENGTH = 128;
    static final int MAX_METADATA_ENTRIES = 16;
    static final int MAX_METADATA_KEY_LENGTH = 64;
    static final int MAX_METADATA_VALUE_LENGTH = 512;
    static final long MAX_SEED = 4_294_967_295L;
    static final int MAX_STEPS = 10_000_000;
    static final Pattern SUFFIX = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final List<FieldError> errors = new ArrayList<>();

    static List<FieldError> validate(JobSpec spec) {
        SpecValidator validator = new SpecValidator();
        validator.job(spec);
        return validator.errors;
    }

    private void job(JobSpec spec) {
        requiredId("model", spec.model());
        requiredId("training_file", spec.trainingFile());
        optionalId("validation_file", spec.validationFile());
        optionalId("init_adapter", spec.initAdapter());
        if (spec.seed() != null) {
            range("seed", spec.seed(), 0, MAX_SEED);
        }
        if (spec.suffix() != null && !SUFFIX.matcher(spec.suffix()).matches()) {
            add("suffix", "must be 1–64 characters of letters, digits, '.', '_' or '-', got \"" + spec.suffix() + "\"");
        }
        metadata(spec.metadata());
        MethodType type = spec.method() != null && spec.method().type() != null
                ? spec.method().type() : MethodSpec.DEFAULT_TYPE;
        if (spec.method() != null) {
            method(spec.method(), type);
        }
        if (type == MethodType.FULL && spec.initAdapter() != null) {
            add("init_adapter", "must be null when method.type is \"full\" (a full fine-tune has no adapter to continue)");
        }
        if (spec.hyperparameters() != null) {
            hyperparameters(spec.hyperparameters(), spec.validationFile() != null);
            Precision precision = spec.hyperparameters().precision();
            if (type == MethodType.FULL && (precision == Precision.FP16 || precision == Precision.BF16)) {
                String held = precision == Precision.FP16 ? "float16" : "bfloat16";
                add("hyperparameters.precision", "\"" + precision.wire() + "\" holds the frozen backbone in " + held
                        + "; method.type \"full\" trains every weight, which must stay float32: use \"fp32\" or a "
                        + "parameter-efficient method");
            }
            if (Boolean.TRUE.equals(spec.hyperparameters().gradientCheckpointing()) && spec.task() == Task.CLASSIFICATION) {
                add("hyperparameters.gradient_checkpointing", "recomputes decoder layers in the backward pass of causal "
                        + "tasks (sft, continued_pretraining); task \"classification\" does not support it: set it to false");
            }
        }
    }

    private void metadata(Map<String, String> metadata) {
        if (metadata == null) {
            return;
        }
        if (metadata.size() > MAX_METADATA_ENTRIES) {
            add("metadata", "must have at most " + MAX_METADATA_ENTRIES + " entries, got " + metadata.size());
        }
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            String path = "metadata." + entry.getKey();
            if (entry.getKey().isEmpty() || entry.getKey().length() > MAX_METADATA_KEY_LENGTH) {
                add(path, "keys must be 1–" + MAX_METADATA_KEY_LENGTH + " characters long");
            }
            if (entry.getValue() == null) {
                add(path, "must be a string, got null");
            } else if (entry.getValue().length() > MAX_METADATA_VALUE_LENGTH) {
                add(path, "must be at most " + MAX_METADATA_VALUE_LENGTH + " characters long, got "
                        + entry.getValue().length());
            }
        }
    }

    private void method(MethodSpec method, MethodType type) {
        wrongBlock(method.lora(), MethodType.LORA, type);
        wrongBlock(method.adapter(), MethodType.ADAPTER, type);
        wrongBlock(method.prefix(), MethodType.PREFIX, type);
        wrongBlock(method.prompt(), MethodType.PROMPT, type);
        wrongBlock(method.ia3(), MethodType.IA3, type);
        switch (type) {
            case LORA -> lora(method.lora());
            case ADAPTER -> adapter(method.adapter());
            case PREFIX -> prefix(method.prefix());
            case PROMPT -> prompt(method.prompt());
            case IA3 -> ia3(method.ia3());
            case FULL -> {
                // no settings
            }
        }
    }

    private void wrongBlock(Object block, MethodType blockType, MethodType type) {
        if (block != null && blockType != type) {
            add("method." + blockType.wire(), "only allowed when method.type is \"" + blockType.wire()
                    + "\"; this job's method.type is \"" + type.wire() + "\"");
        }
    }

    private void lora(LoraSpec lora) {
        if (lora == null) {
            return;
        }
        if (lora.r() != null) {
            range("method.lora.r", lora.r(), 1, 512);
        }
        if (lora.alpha() != null && !(lora.alpha() > 0 && lora.alpha() <= 4096)) {
            add("method.lora.alpha", "must be > 0 and ≤ 4096, got " + lora.alpha());
        }
        if (lora.dropout() != null && !(lora.dropout() >= 0 && lora.dropout() < 1)) {
            add("method.lora.dropout", "must be ≥ 0 and < 1, got " + lora.dropout());
        }
        modules("method.lora.target_modules", lora.targetModules());
    }

    private void adapter(AdapterSpec adapter) {
        if (adapter == null) {
            return;
        }
        if (adapter.reductionFactor() != null) {
            range("method.adapter.reduction_factor", adapter.reductionFactor(), 1, 1024);
        }
        if (adapter.activation() != null && !AdapterSpec.ACTIVATIONS.contains(adapter.activation())) {
            add("method.adapter.activation", "must be one of " + String.join(", ", AdapterSpec.ACTIVATIONS)
                    + ", got \"" + adapter.activation() + "\"");
        }
    }

    private void prefix(PrefixSpec prefix) {
        if (prefix == null) {
            return;
        }
        if (prefix.numVirtualTokens() != null) {
            range("method.prefix.num_virtual_tokens", prefix.numVirtualTokens(), 1, 512);
        }
        if (prefix.projectionHiddenSize() != null) {
            range("method.prefix.projection_hidden_size", prefix.projectionHiddenSize(), 0, 8192);
        }
    }

    private void prompt(PromptSpec prompt) {
        if (prompt != null && prompt.numVirtualTokens() != null) {
            range("method.prompt.num_virtual_tokens", prompt.numVirtualTokens(), 1, 512);
        }
    }

    private void ia3(Ia3Spec ia3) {
        if (ia3 == null) {
            return;
        }
        modules("method.ia3.target_modules", ia3.targetModules());
        List<String> feedforward = ia3.feedforwardModules();
        List<String> targets = ia3.targetModules() != null ? ia3.targetModules() : Ia3Spec.DEFAULT_TARGET_MODULES;
        if (feedforward == null || targets.isEmpty()) {
            return; // an empty target list is already reported
        }
        for (int i = 0; i < feedforward.size(); i++) {
            if (!targets.contains(feedforward.get(i))) {
                add("method.ia3.feedforward_modules[" + i + "]", "\"" + feedforward.get(i)
                        + "\" must also be listed in method.ia3.target_modules");
            }
        }
    }

    private void modules(String path, List<String> modules) {
        if (modules == null) {
            return;
        }
        if (modules.isEmpty()) {
            add(path, "must name at least one module");
            return;
        }
        if (modules.size() > MAX_MODULES) {
            add(path, "must name at most " + MAX_MODULES + " modules, got " + modules.size());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < modules.size(); i++) {
            String name = modules.get(i);
            String itemPath = path + "[" + i + "]";
            if (name == null || name.isBlank()) {
                add(itemPath, "must be a module name such as \"query\", got an empty string");
            } else if (name.length() > MAX_MODULE_NAME_LENGTH) {
                add(itemPath, "must be at most " + MAX_MODULE_NAME_LENGTH + " characters long");
            } else if (!seen.add(name)) {
                add(itemPath, "\"" + name + "\" is listed twice");
            }
        }
    }

    private void hyperparameters(Hyperparameters h, boolean hasValidationFile) {
        String p = "hyperparameters.";
        if (h.epochs() != null) {
            range(p + "epochs", h.epochs(), 1, 1000);
        }
        if (h.batchSize() != null) {
            range(p + "batch_size", h.batchSize(), 1, 4096);
        }
        if (h.learningRate() != null && !(h.learningRate() > 0 && h.learningRate() <= 1)) {
            add(p + "learning_rate", "must be > 0 and ≤ 1, got " + h.learningRate());
        }
        if (h.maxSeqLength() != null) {
            range(p + "max_seq_length", h.maxSeqLength(), 2, 16384);
        }
        if (h.warmupRatio() != null && !(h.warmupRatio() >= 0 && h.warmupRatio() < 1)) {
            add(p + "warmup_ratio", "must be ≥ 0 and < 1, got " + h.warmupRatio());
        }
        if (h.weightDecay() != null && !(h.weightDecay() >= 0 && h.weightDecay() <= 1)) {
            add(p + "weight_decay", "must be ≥ 0 and ≤ 1, got " + h.weightDecay());
        }
        if (h.gradientAccumulationSteps() != null) {
            range(p + "gradient_accumulation_steps", h.gradientAccumulationSteps(), 1, 1024);
        }
        if (h.maxSteps() != null) {
            range(p + "max_steps", h.maxSteps(), 1, MAX_STEPS);
        }
        if (h.evalEverySteps() != null) {
            range(p + "eval_every_steps", h.evalEverySteps(), 0, MAX_STEPS);
        }
        if (h.checkpointEverySteps() != null) {
            range(p + "checkpoint_every_steps", h.checkpointEverySteps(), 0, MAX_STEPS);
        }
        if (h.maxGradNorm() != null && !(h.maxGradNorm() >= 0 && h.maxGradNorm() <= 1000)) {
            add(p + "max_grad_norm", "must be ≥ 0 and ≤ 1000 (0 turns clipping off), got " + h.maxGradNorm());
        }
        if (h.earlyStoppingPatience() != null) {
            range(p + "early_stopping_patience", h.earlyStoppingPatience(), 1, 1000);
            if (!hasValidationFile) {
                add(p + "early_stopping_patience", "needs a validation_file to measure improvement on");
            }
        }
    }

    private void requiredId(String field, String value) {
        if (value == null) {
            add(field, "is required");
        } else {
            optionalId(field, value);
        }
    }

    private void optionalId(String field, String value) {
        if (value == null) {
            return;
        }
        if (value.isBlank()) {
            add(field, "must not be blank");
        } else if (value.length() > MAX_ID_LENGTH) {
            add(field, "must be at most " + MAX_ID_LENGTH + " characters long, got " + value.length());
        }
    }

    private void range(String field, long value, long min, long max) {
        if (value < min || value > max) {
            add(field, "must be between " + min + " and " + max + ", got " + value);
        }
    }

    private void add(String field, String message) {
        errors.add(new FieldError(field, message));
    }
}
