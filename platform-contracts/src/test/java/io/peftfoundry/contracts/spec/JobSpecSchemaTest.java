package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftfoundry.contracts.FieldError;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The hand-written JSON Schema must say what JobSpecs does: same fields, same defaults, same range boundaries. */
class JobSpecSchemaTest {

    private static final List<String> BLOCKS = List.of("lora", "adapter", "prefix", "prompt", "ia3");

    private final ObjectMapper mapper = new ObjectMapper();
    private final JsonNode schema = read(JobSpecs.jsonSchema());

    @Test
    void schemaHasExactlyTheFieldsTheParserKnows() {
        assertEquals(SpecReader.JOB_FIELDS, names(schema.get("properties")));
        JsonNode method = schema.get("properties").get("method").get("properties");
        assertEquals(SpecReader.METHOD_FIELDS, names(method));
        assertEquals(SpecReader.LORA_FIELDS, names(method.get("lora").get("properties")));
        assertEquals(SpecReader.ADAPTER_FIELDS, names(method.get("adapter").get("properties")));
        assertEquals(SpecReader.PREFIX_FIELDS, names(method.get("prefix").get("properties")));
        assertEquals(SpecReader.PROMPT_FIELDS, names(method.get("prompt").get("properties")));
        assertEquals(SpecReader.IA3_FIELDS, names(method.get("ia3").get("properties")));
        assertEquals(SpecReader.HYPERPARAMETER_FIELDS,
                names(schema.get("properties").get("hyperparameters").get("properties")));
    }

    @Test
    void schemaDefaultsAreTheParserDefaults() {
        JsonNode defaults = JobSpecs.toTree(JobSpec.of("m", "f"));
        compareDefaults(schema.get("properties"), defaults, "", List.of("model", "training_file", "method"));
        JsonNode method = schema.get("properties").get("method").get("properties");
        assertSame(method.get("type").get("default"), defaults.get("method").get("type"), "method.type");
        for (String block : BLOCKS) {
            JsonNode blockDefaults = JobSpecs.toTree(JobSpecs.parse(
                    "{\"model\": \"m\", \"training_file\": \"f\", \"method\": {\"type\": \"" + block + "\"}}"))
                    .get("method").get(block);
            compareDefaults(method.get(block).get("properties"), blockDefaults, "method." + block, List.of());
        }
    }

    @Test
    void schemaBoundariesAreTheParserBoundaries() {
        List<String> checked = new ArrayList<>();
        walkRanges(schema.get("properties"), "", checked);
        JsonNode method = schema.get("properties").get("method").get("properties");
        for (String block : BLOCKS) {
            walkRanges(method.get(block).get("properties"), "method." + block, checked);
        }
        walkRanges(schema.get("properties").get("hyperparameters").get("properties"), "hyperparameters", checked);
        assertTrue(checked.size() >= 20, "ranges checked: " + checked);
    }

    private void compareDefaults(JsonNode properties, JsonNode defaults, String prefix, List<String> skip) {
        Iterator<Map.Entry<String, JsonNode>> fields = properties.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String path = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            if (skip.contains(field.getKey())) {
                continue;
            }
            if (field.getValue().has("properties")) {
                compareDefaults(field.getValue().get("properties"), defaults.get(field.getKey()), path, List.of());
            } else if (field.getValue().path("default").asText().equals("auto")) {
                // an "auto" default: left out, the field is listed in the parser's hyperparameters.auto
                assertTrue(defaults.path("auto").toString().contains("\"" + field.getKey() + "\""),
                        path + ": schema default auto, parser's auto list " + defaults.path("auto"));
            } else if (field.getValue().has("default")) {
                assertSame(field.getValue().get("default"), defaults.get(field.getKey()), path);
            } else {
                assertEquals("hyperparameters.learning_rate", path, path + " has no default in the schema");
            }
        }
    }

    private void walkRanges(JsonNode properties, String prefix, List<String> checked) {
        Iterator<Map.Entry<String, JsonNode>> fields = properties.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode p = field.getValue();
            String path = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
            boolean integer = p.path("type").toString().contains("integer");
            BigDecimal step = integer ? BigDecimal.ONE : new BigDecimal("1e-9");
            if (p.has("minimum")) {
                expectValid(path, p.get("minimum").decimalValue(), integer);
                expectInvalid(path, p.get("minimum").decimalValue().subtract(step), integer);
            }
            if (p.has("maximum")) {
                expectValid(path, p.get("maximum").decimalValue(), integer);
                expectInvalid(path, p.get("maximum").decimalValue().add(step), integer);
            }
            if (p.has("exclusiveMinimum")) {
                expectInvalid(path, p.get("exclusiveMinimum").decimalValue(), integer);
                expectValid(path, p.get("exclusiveMinimum").decimalValue().add(step), integer);
            }
            if (p.has("exclusiveMaximum")) {
                expectInvalid(path, p.get("exclusiveMaximum").decimalValue(), integer);
                expectValid(path, p.get("exclusiveMaximum").decimalValue().subtract(step), integer);
            }
            if (p.has("minimum") || p.has("maximum") || p.has("exclusiveMinimum") || p.has("exclusiveMaximum")) {
                checked.add(path);
            }
        }
    }

    private void expectValid(String path, BigDecimal value, boolean integer) {
        try {
            JobSpecs.parse(specWith(path, value, integer));
        } catch (SpecValidationException e) {
            fail(path + " = " + value + " should be valid per the schema, got " + e.errors());
        }
    }

    private void expectInvalid(String path, BigDecimal value, boolean integer) {
        try {
            JobSpecs.parse(specWith(path, value, integer));
            fail(path + " = " + value + " should be rejected per the schema");
        } catch (SpecValidationException e) {
            assertEquals(List.of(path), e.errors().stream().map(FieldError::field).toList(), e.getMessage());
        }
    }

    /** A valid spec (with a validation file) in which the field at {@code path} has {@code value}. */
    private JsonNode specWith(String path, BigDecimal value, boolean integer) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode spec = f.objectNode().put("model", "m").put("training_file", "f").put("validation_file", "v");
        JsonNode number = integer ? f.numberNode(value.toBigIntegerExact()) : f.numberNode(value);
        String[] parts = path.split("\\.");
        if (parts.length == 1) {
            spec.set(parts[0], number);
        } else if (parts[0].equals("hyperparameters")) {
            spec.putObject("hyperparameters").set(parts[1], number);
        } else {
            ObjectNode method = spec.putObject("method").put("type", parts[1]);
            method.putObject(parts[1]).set(parts[2], number);
        }
        return spec;
    }

    private static void assertSame(JsonNode expected, JsonNode actual, String path) {
        boolean same = expected.isNumber() && actual != null && actual.isNumber()
                ? expected.decimalValue().compareTo(actual.decimalValue()) == 0
                : expected.equals(actual);
        assertTrue(same, path + ": schema default " + expected + ", parser default " + actual);
    }

    private static List<String> names(JsonNode properties) {
        List<String> names = new ArrayList<>();
        properties.fieldNames().forEachRemaining(names::add);
        assertFalse(names.isEmpty());
        return names;
    }

    private JsonNode read(String json) {
        try {
            return mapper.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
