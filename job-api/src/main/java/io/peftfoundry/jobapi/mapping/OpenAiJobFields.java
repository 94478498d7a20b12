package io.peftfoundry.jobapi.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.spec.Hyperparameters;
import io.peftfoundry.contracts.spec.MethodType;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * OpenAI fine-tuning request fields that mean what one of ours means, rewritten into our job spec before it is parsed
 * (the spec itself stays one shape everywhere: REST, CLI, Kafka, the worker). What is mapped:
 * <ul>
 *   <li>{@code method: {"type": "supervised", "supervised": {"hyperparameters": {...}}}} — OpenAI's supervised
 *       fine-tuning learns from examples with targets, which both our {@code classification} and {@code sft} tasks
 *       do. It becomes our default method ({@code lora}, as for a plain OpenAI-shaped job); with no {@code task} the
 *       task follows the model ({@link #taskFromModel}: {@code sft} on a decoder, {@code classification} on an
 *       encoder); {@code task: continued_pretraining} (no targets) is refused naming {@code method.type}.</li>
 *   <li>{@code n_epochs} → {@code hyperparameters.epochs}, {@code batch_size} → {@code hyperparameters.batch_size}
 *       (same meaning: passes over the training file, examples a step); both take {@code "auto"}.</li>
 *   <li>{@code learning_rate_multiplier} → {@code hyperparameters.learning_rate} = multiplier × the method's default
 *       learning rate ({@link Hyperparameters#defaultLearningRate}: OpenAI scales its own base rate the same way);
 *       {@code "auto"} → {@code "auto"}.</li>
 *   <li>The same three inside the top-level {@code hyperparameters} (OpenAI's older form).</li>
 * </ul>
 * Refused with a 400 naming the field the caller sent: OpenAI's {@code dpo} and {@code reinforcement} methods (another
 * objective: preference pairs, a grader), an OpenAI field and ours for the same value at once, unknown fields inside
 * {@code method.supervised}, and a multiplier that is not a positive number. Errors the spec parser finds in a
 * mapped value (say {@code n_epochs: 0}) name the OpenAI field too ({@link Mapped#rename}).
 */
public final class OpenAiJobFields {

    /** OpenAI's name → ours, inside {@code hyperparameters}. */
    private static final Map<String, String> HYPERPARAMETERS = Map.of(
            "n_epochs", "epochs", "batch_size", "batch_size", "learning_rate_multiplier", "learning_rate");

    private OpenAiJobFields() {
    }

    /**
     * The spec tree to parse, where each mapped field of ours came from (to name it in errors) and whether the task is
     * to be chosen from the model's architecture.
     */
    public record Mapped(JsonNode spec, Map<String, String> sourceOf, boolean taskFromModel, List<FieldError> errors,
                         boolean changed) {

        /** {@code errors} with our field names replaced by the OpenAI ones the caller sent, where mapped. */
        public List<FieldError> rename(List<FieldError> found) {
            List<FieldError> renamed = new ArrayList<>();
            for (FieldError e : found) {
                String source = sourceOf.get(e.field());
                if (source == null) {
                    renamed.add(e);
                } else {
                    String note = source.endsWith("learning_rate_multiplier")
                            ? " (learning_rate = learning_rate_multiplier × the method's default learning rate)"
                            : " (" + source + " is read as " + e.field() + ")";
                    renamed.add(new FieldError(source, e.message() + note, e.line()));
                }
            }
            return renamed;
        }
    }

    /** The task of an OpenAI {@code supervised} job without a {@code task}: {@code sft} on a decoder, else classification. */
    public static String taskFromModel(boolean decoder) {
        return decoder ? "sft" : "classification";
    }

    /** Rewrites {@code body} (left untouched: a copy is returned); refusals are in {@link Mapped#errors}. */
    public static Mapped map(JsonNode body) {
        Map<String, String> sourceOf = new LinkedHashMap<>();
        List<FieldError> errors = new ArrayList<>();
        if (body == null || !body.isObject()) {
            return new Mapped(body, sourceOf, false, errors, false);
        }
        ObjectNode spec = ((ObjectNode) body).deepCopy();
        boolean taskFromModel = false;
        MethodType methodType = MethodType.LORA;

        JsonNode method = spec.get("method");
        ObjectNode openAiHyperparameters = null;
        String openAiPath = null;
        if (method != null && method.isObject() && method.path("type").isTextual()) {
            String type = method.path("type").asText();
            switch (type) {
                case "supervised" -> {
                    Iterator<String> names = method.fieldNames();
                    while (names.hasNext()) {
                        String name = names.next();
                        if (!name.equals("type") && !name.equals("supervised")) {
                            errors.add(new FieldError("method." + name, "not allowed with method type 'supervised'"
                                    + " (OpenAI's); for one of our methods set method.type to lora, adapter, prefix,"
                                    + " prompt, ia3 or full"));
                        }
                    }
                    openAiPath = "method.supervised.hyperparameters";
                    openAiHyperparameters = supervisedHyperparameters(method.get("supervised"), errors);
                    JsonNode task = spec.get("task");
                    if (task == null || task.isNull()) {
                        taskFromModel = true;
                    } else if ("continued_pretraining".equals(task.asText())) {
                        errors.add(new FieldError("method.type", "'supervised' learns from examples with targets;"
                                + " task continued_pretraining has none: use method.type lora (or another of our"
                                + " methods) for continued pretraining"));
                    }
                    spec.set("method", JsonNodeFactory.instance.objectNode().put("type", "lora"));
                }
                case "dpo", "reinforcement" -> errors.add(new FieldError("method.type", "OpenAI's '" + type
                        + "' fine-tuning (" + (type.equals("dpo") ? "preference pairs" : "a grader")
                        + ") is not supported; use 'supervised' or one of ours: lora, adapter, prefix, prompt, ia3,"
                        + " full"));
                default -> methodType = parseType(type);
            }
        }

        JsonNode hyper = spec.get("hyperparameters");
        ObjectNode ours = hyper != null && hyper.isObject() ? (ObjectNode) hyper : null;
        // the older top-level form: OpenAI names beside ours in one object
        if (ours != null) {
            for (String openAi : List.of("n_epochs", "learning_rate_multiplier")) {
                if (ours.has(openAi)) {
                    JsonNode value = ours.remove(openAi);
                    move(ours, "hyperparameters", openAi, value, methodType, sourceOf, errors);
                }
            }
        }
        if (openAiHyperparameters != null && !openAiHyperparameters.isEmpty()) {
            if (ours == null) {
                if (hyper != null && !hyper.isNull()) {
                    // not an object: the parser reports it; the supervised values have nowhere to go
                    return new Mapped(spec, sourceOf, taskFromModel, errors, true);
                }
                ours = spec.putObject("hyperparameters");
            }
            Iterator<Map.Entry<String, JsonNode>> fields = openAiHyperparameters.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                move(ours, openAiPath, f.getKey(), f.getValue(), methodType, sourceOf, errors);
            }
        }
        return new Mapped(spec, sourceOf, taskFromModel, errors, taskFromModel || !errors.isEmpty()
                || !spec.equals(body));
    }

    /** {@code method.supervised.hyperparameters}, checked: only OpenAI's three fields. */
    private static ObjectNode supervisedHyperparameters(JsonNode supervised, List<FieldError> errors) {
        if (supervised == null || supervised.isNull()) {
            return null;
        }
        if (!supervised.isObject()) {
            errors.add(new FieldError("method.supervised", "must be an object, got " + supervised.getNodeType()
                    .toString().toLowerCase(Locale.ROOT)));
            return null;
        }
        Iterator<String> names = supervised.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.equals("hyperparameters")) {
                errors.add(new FieldError("method.supervised." + name, "unknown field; allowed here: hyperparameters"));
            }
        }
        JsonNode h = supervised.get("hyperparameters");
        if (h == null || h.isNull()) {
            return null;
        }
        if (!h.isObject()) {
            errors.add(new FieldError("method.supervised.hyperparameters", "must be an object, got "
                    + h.getNodeType().toString().toLowerCase(Locale.ROOT)));
            return null;
        }
        ObjectNode known = JsonNodeFactory.instance.objectNode();
        Iterator<Map.Entry<String, JsonNode>> fields = h.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (HYPERPARAMETERS.containsKey(f.getKey())) {
                known.set(f.getKey(), f.getValue());
            } else {
                errors.add(new FieldError("method.supervised.hyperparameters." + f.getKey(),
                        "unknown field; allowed here: n_epochs, batch_size, learning_rate_multiplier (OpenAI's); our"
                                + " other hyperparameters go in the top-level hyperparameters"));
            }
        }
        return known;
    }

    /** Puts OpenAI's {@code name} (at {@code path}) into our hyperparameters object under our name. */
    private static void move(ObjectNode ours, String path, String name, JsonNode value, MethodType methodType,
                             Map<String, String> sourceOf, List<FieldError> errors) {
        String source = path + "." + name;
        String target = HYPERPARAMETERS.get(name);
        if (ours.has(target) && !ours.get(target).isNull()) {
            errors.add(new FieldError(source, "sets what hyperparameters." + target + " also sets; give one of them"));
            return;
        }
        if (value == null || value.isNull()) {
            return; // absent: our default ("auto" for these three)
        }
        if (name.equals("learning_rate_multiplier") && !(value.isTextual() && value.asText().equals("auto"))) {
            if (!value.isNumber() || !(value.asDouble() > 0)) {
                errors.add(new FieldError(source, "must be a number > 0 or \"auto\", got " + value));
                return;
            }
            double rate = value.asDouble() * Hyperparameters.defaultLearningRate(methodType);
            ours.put(target, rate);
        } else {
            ours.set(target, value);
        }
        sourceOf.put("hyperparameters." + target, source);
    }

    private static MethodType parseType(String wire) {
        for (MethodType t : MethodType.values()) {
            if (t.wire().equals(wire)) {
                return t;
            }
        }
        return MethodType.LORA; // unknown: the parser names method.type
    }
}
