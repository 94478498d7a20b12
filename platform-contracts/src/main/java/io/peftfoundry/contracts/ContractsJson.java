package io.peftfoundry.contracts;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * An {@link ObjectMapper} configured the way the services' (Quarkus) mapper is: ISO-8601 instants, unknown
 * properties of events ignored so producers can add fields. For code outside Quarkus (CLI, tests, plain clients).
 * The job spec is read through {@link io.peftfoundry.contracts.spec.JobSpecs#parse}, which is strict.
 */
public final class ContractsJson {

    private ContractsJson() {
    }

    /** A new mapper; configure your copy freely. */
    public static ObjectMapper newMapper() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
