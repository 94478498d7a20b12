package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.WireEnum;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a JSON tree into a {@link JobSpec}, collecting every structural problem (unknown field, wrong JSON type,
 * unknown enum value) instead of stopping at the first. A field with a problem is read as absent (null). Ranges and
 * cross-field rules are {@link SpecValidator}'s job.
 */
final class SpecReader {

    static final List<String> JOB_FIELDS = List.of("model", "task", "training_file", "validation_file", "method",
            "hyperparameters", "seed", "init_adapter", "suffix", "metadata", "priority");
    static final List<String> METHOD_FIELDS = List.of("type", "lora", "adapter", "prefix", "prompt", "ia3");
    static final List<String> LORA_FIELDS = List.of("r", "alpha", "dropout", "target_modules", "use_rslora");
    static final List<String> ADAPTER_FIELDS = List.of("variant", "reduction_factor", "activation");
    static final List<String> PREFIX_FIELDS = List.of("num_virtual_tokens", "projection_hidden_size");
    static final List<String> PROMPT_FIELDS = List.of("num_virtual_tokens", "init");
    static final List<String> IA3_FIELDS = List.of("target_modules", "feedforward_modules");
    static final List<String> HYPERPARAMETER_FIELDS = List.of("epochs", "batch_size", "learning_rate",
            "max_seq_length", "warmup_ratio", "weight_decay", "gradient_accumulation_steps", "max_steps",
            "eval_every_steps", "checkpoint_every_steps", "scheduler", "max_grad_norm", "early_stopping_patience", "precision",
            "gradient_checkpointing", "auto");

    private final List<FieldError> errors = new ArrayList<>();

    List<FieldError> errors() {
        return errors;
    }

    /** Reads the spec; null when the root is not an object. */
    JobSpec readJobSpec(JsonNode root) {
        if (root == null || !root.isObject()) {
            errors.add(new FieldError("", "the job spec must be a JSON object, got " + describe(root)));
            return null;
        }
        checkFields(root, "", JOB_FIELDS);
        return new JobSpec(
                string(root, "", "model"),
                enumValue(root, "", "task", Task.class),
                string(root, "", "training_file"),
                string(root, "", "validation_file"),
                method(root, "method"),
                hyperparameters(root, "hyperparameters"),
                longValue(root, "", "seed"),
                string(root, "", "init_adapter"),
                string(root, "", "suffix"),
                stringMap(root, "", "metadata"),
                enumValue(root, "", "priority", Priority.class));
    }

    private MethodSpec method(JsonNode parent, String path) {
        JsonNode node = object(parent, "", "method", METHOD_FIELDS);
        if (node == null) {
            return null;
        }
        return new MethodSpec(
                enumValue(node, path, "type", MethodType.class),
                lora(node, path),
                adapter(node, path),
                prefix(node, path),
                prompt(node, path),
                ia3(node, path));
    }

    private LoraSpec lora(JsonNode method, String methodPath) {
        JsonNode node = object(method, methodPath, "lora", LORA_FIELDS);
        if (node == null) {
            return null;
        }
        String path = join(methodPath, "lora");
        return new LoraSpec(intValue(node, path, "r"), number(node, path, "alpha"), number(node, path, "dropout"),
                stringList(node, path, "target_modules"), bool(node, path, "use_rslora"));
    }

    private AdapterSpec adapter(JsonNode method, String methodPath) {
        JsonNode node = object(method, methodPath, "adapter", ADAPTER_FIELDS);
        if (node == null) {
            return null;
        }
        String path = join(methodPath, "adapter");
        return new AdapterSpec(enumValue(node, path, "variant", AdapterVariant.class),
                intValue(node, path, "reduction_factor"), string(node, path, "activation"));
    }

    private PrefixSpec prefix(JsonNode method, String methodPath) {
        JsonNode node = object(method, methodPath, "prefix", PREFIX_FIELDS);
        if (node == null) {
            return null;
        }
        String path = join(methodPath, "prefix");
        return new PrefixSpec(intValue(node, path, "num_virtual_tokens"),
                intValue(node, path, "projection_hidden_size"));
    }

    private PromptSpec prompt(JsonNode method, String methodPath) {
        JsonNode node = object(method, methodPath, "prompt", PROMPT_FIELDS);
        if (node == null) {
            return null;
        }
        String path = join(methodPath, "prompt");
        return new PromptSpec(intValue(node, path, "num_virtual_tokens"),
                enumValue(node, path, "init", PromptInit.class));
    }

    private Ia3Spec ia3(JsonNode method, String methodPath) {
        JsonNode node = object(method, methodPath, "ia3", IA3_FIELDS);
        if (node == null) {
            return null;
        }
        String path = join(methodPath, "ia3");
        return new Ia3Spec(stringList(node, path, "target_modules"), stringList(node, path, "feedforward_modules"));
    }

    private Hyperparameters hyperparameters(JsonNode parent, String path) {
        JsonNode node = object(parent, "", "hyperparameters", HYPERPARAMETER_FIELDS);
        if (node == null) {
            return null;
        }
        List<String> auto = new ArrayList<>();
        List<String> listed = stringList(node, path, "auto");
        if (listed != null) {
            for (int i = 0; i < listed.size(); i++) {
                if (!Hyperparameters.AUTO_FIELDS.contains(listed.get(i))) {
                    errors.add(new FieldError(join(path, "auto") + "[" + i + "]", "must be one of "
                            + Hyperparameters.AUTO_FIELDS + ", got \"" + listed.get(i) + "\""));
                } else if (!auto.contains(listed.get(i))) {
                    auto.add(listed.get(i));
                }
            }
        }
        for (String f : Hyperparameters.AUTO_FIELDS) {
            JsonNode v = present(node, f);
            if (v != null && v.isTextual() && v.asText().equals("auto") && !auto.contains(f)) {
                auto.add(f);
            }
        }
        return new Hyperparameters(
                auto.contains("epochs") && isAutoText(node, "epochs") ? null : intValue(node, path, "epochs"),
                auto.contains("batch_size") && isAutoText(node, "batch_size") ? null : intValue(node, path, "batch_size"),
                auto.contains("learning_rate") && isAutoText(node, "learning_rate") ? null
                        : number(node, path, "learning_rate"),
                intValue(node, path, "max_seq_length"),
                number(node, path, "warmup_ratio"),
                number(node, path, "weight_decay"),
                intValue(node, path, "gradient_accumulation_steps"),
                intValue(node, path, "max_steps"),
                intValue(node, path, "eval_every_steps"),
                intValue(node, path, "checkpoint_every_steps"),
                enumValue(node, path, "scheduler", Scheduler.class),
                number(node, path, "max_grad_norm"),
                intValue(node, path, "early_stopping_patience"),
                enumValue(node, path, "precision", Precision.class),
                bool(node, path, "gradient_checkpointing"),
                auto.isEmpty() ? null : List.copyOf(auto));
    }

    private static boolean isAutoText(JsonNode node, String name) {
        JsonNode v = node.get(name);
        return v != null && v.isTextual() && v.asText().equals("auto");
    }

    // ---------------------------------------------------------------------------------------------- primitives

    /** The child object, its unknown fields reported; null when absent, JSON null or not an object. */
    private JsonNode object(JsonNode parent, String parentPath, String name, List<String> known) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        String path = join(parentPath, name);
        if (!node.isObject()) {
            errors.add(new FieldError(path, "must be an object, got " + describe(node)));
            return null;
        }
        checkFields(node, path, known);
        return node;
    }

    private void checkFields(JsonNode node, String path, List<String> known) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                errors.add(new FieldError(join(path, name),
                        "unknown field; allowed here: " + String.join(", ", known)));
            }
        }
    }

    private String string(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            errors.add(new FieldError(join(parentPath, name), "must be a string, got " + describe(node)));
            return null;
        }
        return node.textValue();
    }

    private Boolean bool(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            errors.add(new FieldError(join(parentPath, name), "must be true or false, got " + describe(node)));
            return null;
        }
        return node.booleanValue();
    }

    private Double number(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        if (!node.isNumber() || !Double.isFinite(node.doubleValue())) {
            errors.add(new FieldError(join(parentPath, name), "must be a number, got " + describe(node)));
            return null;
        }
        return node.doubleValue();
    }

    /** A whole number (3 and 3.0 both accepted), or null with an error. */
    private Long longValue(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        String path = join(parentPath, name);
        if (node.isIntegralNumber()) {
            if (!node.canConvertToLong()) {
                errors.add(new FieldError(path, "is out of range, got " + describe(node)));
                return null;
            }
            return node.longValue();
        }
        if (node.isNumber() && Double.isFinite(node.doubleValue())
                && node.doubleValue() == Math.rint(node.doubleValue())
                && Math.abs(node.doubleValue()) < 9.0e15) {
            return (long) node.doubleValue();
        }
        errors.add(new FieldError(path, "must be a whole number, got " + describe(node)));
        return null;
    }

    private Integer intValue(JsonNode parent, String parentPath, String name) {
        int before = errors.size();
        Long value = longValue(parent, parentPath, name);
        if (value == null) {
            return null;
        }
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            if (errors.size() == before) {
                errors.add(new FieldError(join(parentPath, name), "is out of range, got " + value));
            }
            return null;
        }
        return value.intValue();
    }

    private <E extends Enum<E> & WireEnum> E enumValue(JsonNode parent, String parentPath, String name,
                                                       Class<E> type) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        String path = join(parentPath, name);
        if (!node.isTextual()) {
            errors.add(new FieldError(path, "must be one of " + WireEnum.allowed(type) + ", got " + describe(node)));
            return null;
        }
        return WireEnum.find(type, node.textValue()).orElseGet(() -> {
            errors.add(new FieldError(path, "must be one of " + WireEnum.allowed(type) + ", got " + describe(node)));
            return null;
        });
    }

    private List<String> stringList(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        String path = join(parentPath, name);
        if (!node.isArray()) {
            errors.add(new FieldError(path, "must be an array of strings, got " + describe(node)));
            return null;
        }
        List<String> values = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (!item.isTextual()) {
                errors.add(new FieldError(path + "[" + i + "]", "must be a string, got " + describe(item)));
                ok = false;
            } else {
                values.add(item.textValue());
            }
        }
        return ok ? values : null;
    }

    private Map<String, String> stringMap(JsonNode parent, String parentPath, String name) {
        JsonNode node = present(parent, name);
        if (node == null) {
            return null;
        }
        String path = join(parentPath, name);
        if (!node.isObject()) {
            errors.add(new FieldError(path, "must be an object of string values, got " + describe(node)));
            return null;
        }
        Map<String, String> values = new LinkedHashMap<>();
        boolean ok = true;
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (!field.getValue().isTextual()) {
                errors.add(new FieldError(join(path, field.getKey()),
                        "must be a string, got " + describe(field.getValue())));
                ok = false;
            } else {
                values.put(field.getKey(), field.getValue().textValue());
            }
        }
        return ok ? values : null;
    }

    /** The child, or null when it is absent or JSON null (both mean "use the default"). */
    private static JsonNode present(JsonNode parent, String name) {
        JsonNode node = parent.get(name);
        return node == null || node.isNull() ? null : node;
    }

    static String join(String parentPath, String name) {
        return parentPath.isEmpty() ? name : parentPath + "." + name;
    }

    /** A short description of a JSON value for error messages. */
    static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        if (node.isTextual()) {
            String text = node.textValue();
            return "\"" + (text.length() > 40 ? text.substring(0, 40) + "…" : text) + "\"";
        }
        if (node.isArray()) {
            return "an array";
        }
        if (node.isObject()) {
            return "an object";
        }
        return node.toString();
    }
}
