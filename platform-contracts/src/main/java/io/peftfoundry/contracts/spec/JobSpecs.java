package io.peftfoundry.contracts.spec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftfoundry.contracts.ContractsJson;
import io.peftfoundry.contracts.FieldError;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading, writing and validating the job spec.
 *
 * <p>{@link #parse} is strict: unknown fields, wrong JSON types and out-of-range values are all reported at once in a
 * {@link SpecValidationException}, each naming its field ({@code hyperparameters.learning_rate},
 * {@code method.lora.target_modules[1]}). Absent fields and explicit {@code null}s take their documented defaults
 * (see {@link JobSpec}, {@link MethodSpec}, {@link Hyperparameters} and the method records). Only {@code model} and
 * {@code training_file} are required.
 */
public final class JobSpecs {

    /** Classpath location of the JSON Schema (draft 2020-12) of the job spec, for forms, editors and docs. */
    public static final String SCHEMA_RESOURCE = "/io/peftfoundry/contracts/job-spec.schema.json";

    private static final ObjectMapper MAPPER = ContractsJson.newMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JobSpecs() {
    }

    /** Parses, fills in defaults and validates; throws listing every problem. */
    public static JobSpec parse(String json) {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new SpecValidationException(List.of(
                    new FieldError("", "the job spec is not valid JSON" + where + ": " + e.getOriginalMessage())));
        }
        return parse(tree);
    }

    /** Like {@link #parse(String)} for an already parsed tree. */
    public static JobSpec parse(JsonNode tree) {
        SpecReader reader = new SpecReader();
        JobSpec read = reader.readJobSpec(tree);
        List<FieldError> errors = new ArrayList<>(reader.errors());
        JobSpec spec = read == null ? null : read.withDefaults();
        if (spec != null) {
            // a field that already has a structural error was read as null; don't also report it as missing
            for (FieldError error : SpecValidator.validate(spec)) {
                if (errors.stream().noneMatch(e -> covers(e.field(), error.field()))) {
                    errors.add(error);
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new SpecValidationException(errors);
        }
        return spec;
    }

    /**
     * The range and cross-field problems of a spec built in code (absent fields count as their defaults); empty when
     * valid. Does not throw.
     */
    public static List<FieldError> validate(JobSpec spec) {
        return List.copyOf(SpecValidator.validate(spec));
    }

    /** {@code spec.withDefaults()}, or a {@link SpecValidationException} listing every problem. */
    public static JobSpec requireValid(JobSpec spec) {
        JobSpec withDefaults = spec.withDefaults();
        List<FieldError> errors = SpecValidator.validate(withDefaults);
        if (!errors.isEmpty()) {
            throw new SpecValidationException(errors);
        }
        return withDefaults;
    }

    /** The spec as JSON (snake_case, as it is; call {@link JobSpec#withDefaults()} first to write the defaults). */
    public static String toJson(JobSpec spec) {
        try {
            return MAPPER.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JobSpec could not be written as JSON", e);
        }
    }

    /** The spec as a JSON tree. */
    public static JsonNode toTree(JobSpec spec) {
        return MAPPER.valueToTree(spec);
    }

    /**
     * The JSON Schema of the job spec (types, ranges, defaults). {@link #parse} is the authority: it also checks the
     * cross-field rules listed in the schema's description.
     */
    public static String jsonSchema() {
        try (InputStream in = JobSpecs.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA_RESOURCE + " is missing from the platform-contracts jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean covers(String reported, String field) {
        return reported.equals(field) || field.startsWith(reported + ".") || field.startsWith(reported + "[");
    }
}
