package io.peftfoundry.jobapi.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.FieldError;
import io.peftfoundry.contracts.spec.JobSpec;
import io.peftfoundry.contracts.spec.JobSpecs;
import io.peftfoundry.contracts.spec.SpecValidationException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A sweep request turned into its children's job specs, before anything is stored. Pure: no I/O.
 *
 * <pre>
 * {"base": &lt;job spec&gt;,
 *  "grid": {"method": [{…}, {…}], "hyperparameters.learning_rate": [1e-4, 1e-3], "method.lora.r": [4, 16]}
 *  — or —
 *  "random": {"method": [{…}, {…}], "hyperparameters.learning_rate": {"log_uniform": [1e-5, 1e-2]},
 *             "hyperparameters.epochs": {"int_uniform": [1, 5]}, "method.lora.r": [4, 8, 16]},
 *  "trials": 8, "seed": 7,
 *  "metric": "accuracy", "early_stopping": true}
 * </pre>
 * A dimension is {@code method} (whole method objects) or a dotted path into the spec under {@code method.},
 * {@code hyperparameters.} or {@code seed}. The grid is the cartesian product in key order; a random search draws
 * each dimension independently from a seeded generator (a list: uniform choice; {@code uniform}, {@code log_uniform},
 * {@code int_uniform}: ranges). A {@code method.<block>.…} value applies only to children whose method is that block
 * (a LoRA rank means nothing to IA3), and children that end up with the same spec are kept once. Every child is
 * validated as a job spec; an error names the trial and the field.
 */
public final class SweepPlan {

    public static final int MAX_CHILDREN = 64;
    static final List<String> FIELDS = List.of("base", "grid", "random", "trials", "seed", "metric", "early_stopping");

    /** One child: its parameters (dimension → value) and its spec as JSON. */
    public record Trial(int index, Map<String, JsonNode> params, ObjectNode spec) {}

    public record Plan(List<Trial> trials, String metric, boolean higherIsBetter, boolean earlyStopping) {}

    private SweepPlan() {}

    public static Plan of(JsonNode request) {
        List<FieldError> errors = new ArrayList<>();
        if (request == null || !request.isObject()) {
            throw new SpecValidationException(List.of(new FieldError("", "a sweep is a JSON object with base and grid"
                    + " or random")));
        }
        request.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                errors.add(new FieldError(f, "unknown field; a sweep takes " + FIELDS));
            }
        });
        JsonNode base = request.get("base");
        if (base == null || !base.isObject()) {
            errors.add(new FieldError("base", "required: the job spec every child starts from"));
        }
        boolean grid = request.hasNonNull("grid");
        boolean random = request.hasNonNull("random");
        if (grid == random) {
            errors.add(new FieldError(grid ? "random" : "grid", "give exactly one of grid and random"));
        }
        if (!errors.isEmpty()) {
            throw new SpecValidationException(errors);
        }
        JobSpec baseSpec;
        try {
            baseSpec = JobSpecs.parse(base);
        } catch (SpecValidationException e) {
            throw new SpecValidationException(e.errors().stream()
                    .map(x -> new FieldError(x.field().isEmpty() ? "base" : "base." + x.field(), x.message())).toList());
        }
        List<Map<String, JsonNode>> assignments = grid ? gridAssignments(request.get("grid"), errors)
                : randomAssignments(request, errors);
        if (!errors.isEmpty()) {
            throw new SpecValidationException(errors);
        }
        String metric = request.hasNonNull("metric") ? request.get("metric").asText() : defaultMetric(baseSpec);
        if (!Metric.KNOWN.containsKey(metric)) {
            throw new SpecValidationException(List.of(new FieldError("metric", "must be one of "
                    + Metric.KNOWN.keySet() + ", got \"" + metric + "\"")));
        }
        JsonNode es = request.get("early_stopping");
        if (es != null && !es.isNull() && !es.isBoolean()) {
            throw new SpecValidationException(List.of(new FieldError("early_stopping", "must be true or false")));
        }
        boolean earlyStopping = (es == null || es.isNull() ? true : es.asBoolean()) && baseSpec.validationFile() != null;

        List<Trial> trials = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Map<String, JsonNode> a : assignments) {
            ObjectNode spec = base.deepCopy();
            Map<String, JsonNode> applied = new LinkedHashMap<>();
            if (a.containsKey("method")) {
                spec.set("method", a.get("method").deepCopy());
                applied.put("method", a.get("method"));
            }
            String methodType = spec.path("method").path("type").asText("lora");
            for (Map.Entry<String, JsonNode> e : a.entrySet()) {
                String key = e.getKey();
                if (key.equals("method")) {
                    continue;
                }
                String[] path = key.split("\\.");
                if (path[0].equals("method") && path.length > 2 && !path[1].equals(methodType)) {
                    continue; // e.g. method.lora.r on an ia3 child
                }
                set(spec, path, e.getValue());
                applied.put(key, e.getValue());
            }
            int index = trials.size();
            try {
                JobSpec child = JobSpecs.parse(spec);
                if (!seen.add(JobSpecs.toJson(child))) {
                    continue;
                }
            } catch (SpecValidationException ex) {
                throw new SpecValidationException(ex.errors().stream()
                        .map(x -> new FieldError("trials[" + index + "]." + x.field(), x.message() + " (parameters "
                                + applied + ")")).toList());
            }
            trials.add(new Trial(index, applied, spec));
        }
        return new Plan(trials, metric, Metric.KNOWN.get(metric), earlyStopping);
    }

    /** The metric a sweep ranks by unless told: accuracy for classification, validation loss otherwise. */
    static String defaultMetric(JobSpec spec) {
        return spec.task() == io.peftfoundry.contracts.spec.Task.CLASSIFICATION ? "accuracy" : "loss";
    }

    private static List<Map<String, JsonNode>> gridAssignments(JsonNode grid, List<FieldError> errors) {
        if (!grid.isObject() || grid.isEmpty()) {
            errors.add(new FieldError("grid", "must be an object of dimension → list of values"));
            return List.of();
        }
        List<Map<String, JsonNode>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        long product = 1;
        Iterator<Map.Entry<String, JsonNode>> it = grid.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> d = it.next();
            String field = "grid." + d.getKey();
            if (!checkDimension(d.getKey(), field, errors)) {
                continue;
            }
            if (!d.getValue().isArray() || d.getValue().isEmpty()) {
                errors.add(new FieldError(field, "must be a non-empty list of values"));
                continue;
            }
            product *= d.getValue().size();
            if (product > MAX_CHILDREN) {
                errors.add(new FieldError("grid", "the grid has more than " + MAX_CHILDREN
                        + " combinations; use a random search with trials ≤ " + MAX_CHILDREN));
                return List.of();
            }
            List<Map<String, JsonNode>> next = new ArrayList<>();
            for (Map<String, JsonNode> partial : out) {
                for (JsonNode v : d.getValue()) {
                    Map<String, JsonNode> m = new LinkedHashMap<>(partial);
                    m.put(d.getKey(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    private static List<Map<String, JsonNode>> randomAssignments(JsonNode request, List<FieldError> errors) {
        JsonNode space = request.get("random");
        if (!space.isObject() || space.isEmpty()) {
            errors.add(new FieldError("random", "must be an object of dimension → list or range"));
            return List.of();
        }
        JsonNode trialsNode = request.get("trials");
        if (trialsNode == null || !trialsNode.canConvertToInt() || trialsNode.asInt() < 1
                || trialsNode.asInt() > MAX_CHILDREN) {
            errors.add(new FieldError("trials", "required with random: a whole number from 1 to " + MAX_CHILDREN));
            return List.of();
        }
        long seed = request.path("seed").asLong(0);
        SplittableRandom rng = new SplittableRandom(seed);
        List<Map<String, JsonNode>> out = new ArrayList<>();
        for (int t = 0; t < trialsNode.asInt(); t++) {
            Map<String, JsonNode> m = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = space.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> d = it.next();
                String field = "random." + d.getKey();
                if (!checkDimension(d.getKey(), field, errors)) {
                    continue;
                }
                JsonNode v = draw(d.getValue(), field, rng, errors);
                if (v != null) {
                    m.put(d.getKey(), v);
                }
            }
            if (!errors.isEmpty()) {
                return List.of();
            }
            out.add(m);
        }
        return out;
    }

    private static JsonNode draw(JsonNode dist, String field, SplittableRandom rng, List<FieldError> errors) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (dist.isArray() && !dist.isEmpty()) {
            return dist.get(rng.nextInt(dist.size()));
        }
        if (dist.isObject() && dist.size() == 1) {
            String kind = dist.fieldNames().next();
            JsonNode range = dist.get(kind);
            if (range.isArray() && range.size() == 2 && range.get(0).isNumber() && range.get(1).isNumber()
                    && range.get(0).asDouble() <= range.get(1).asDouble()) {
                double lo = range.get(0).asDouble();
                double hi = range.get(1).asDouble();
                switch (kind) {
                    case "uniform":
                        return f.numberNode(lo + rng.nextDouble() * (hi - lo));
                    case "log_uniform":
                        if (lo > 0) {
                            return f.numberNode(Math.exp(Math.log(lo) + rng.nextDouble() * (Math.log(hi) - Math.log(lo))));
                        }
                        break;
                    case "int_uniform":
                        return f.numberNode((long) Math.floor(lo) + rng.nextLong((long) Math.floor(hi) - (long) Math.floor(lo) + 1));
                    default:
                        break;
                }
            }
        }
        errors.add(new FieldError(field, "must be a non-empty list of choices or {\"uniform\"|\"log_uniform\" (> 0)|"
                + "\"int_uniform\": [low, high]}"));
        return null;
    }

    private static boolean checkDimension(String key, String field, List<FieldError> errors) {
        boolean ok = key.equals("method") || key.equals("seed") || key.startsWith("method.")
                || key.startsWith("hyperparameters.");
        if (!ok || key.endsWith(".") || key.contains("..") || key.equals("method.type")) {
            errors.add(new FieldError(field, "a dimension is \"method\", \"seed\" or a dotted path under method.<block>."
                    + " or hyperparameters. (e.g. hyperparameters.learning_rate, method.lora.r)"));
            return false;
        }
        return true;
    }

    private static void set(ObjectNode root, String[] path, JsonNode value) {
        ObjectNode node = root;
        for (int i = 0; i < path.length - 1; i++) {
            JsonNode child = node.get(path[i]);
            if (child == null || !child.isObject()) {
                child = node.putObject(path[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(path[path.length - 1], value.deepCopy());
    }
}
