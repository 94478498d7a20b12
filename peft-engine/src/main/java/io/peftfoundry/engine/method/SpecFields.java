package io.peftfoundry.engine.method;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads one method's sub-object of the job spec ({@code method.<type>}) with errors that name the
 * field: {@code method.prefix.num_virtual_tokens: must be an integer, got "x"}.
 */
public final class SpecFields {

    private final JsonNode node;
    private final String prefix;

    private SpecFields(JsonNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    /** Checks that {@code node} is an object holding only {@code known} fields. */
    public static SpecFields of(JsonNode node, String methodType, Set<String> known) {
        String prefix = "method." + methodType + ".";
        if (node != null && !node.isNull() && !node.isObject()) {
            throw new IllegalArgumentException("method." + methodType + ": must be an object, got " + node);
        }
        if (node != null) {
            Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String f = names.next();
                if (!known.contains(f)) {
                    throw new IllegalArgumentException(prefix + f + ": unknown field (known: " + known + ")");
                }
            }
        }
        return new SpecFields(node, prefix);
    }

    private JsonNode get(String f) {
        JsonNode v = node == null ? null : node.get(f);
        return v == null || v.isNull() ? null : v;
    }

    public int integer(String f, int def) {
        JsonNode v = get(f);
        if (v == null) {
            return def;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(prefix + f + ": must be an integer, got " + v);
        }
        return v.asInt();
    }

    public double number(String f, double def) {
        JsonNode v = get(f);
        if (v == null) {
            return def;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException(prefix + f + ": must be a number, got " + v);
        }
        return v.asDouble();
    }

    public String text(String f, String def) {
        JsonNode v = get(f);
        if (v == null) {
            return def;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(prefix + f + ": must be a string, got " + v);
        }
        return v.asText();
    }

    public List<String> strings(String f, List<String> def) {
        JsonNode v = get(f);
        if (v == null) {
            return def;
        }
        return stringList(v, prefix + f);
    }

    /** A JSON list of non-empty strings (also accepts a single string, as PEFT's configs do). */
    public static List<String> stringList(JsonNode v, String field) {
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException(field + ": must be a list of module names");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual() || e.asText().isBlank()) {
                throw new IllegalArgumentException(field + ": entries must be non-empty strings, got " + e);
            }
            out.add(e.asText());
        }
        return out;
    }

    /** The full field name for messages, e.g. {@code method.adapter.reduction_factor}. */
    public String field(String f) {
        return prefix + f;
    }
}
