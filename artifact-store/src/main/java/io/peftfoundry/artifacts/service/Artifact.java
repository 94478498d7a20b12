package io.peftfoundry.artifacts.service;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.OffsetDateTime;
import java.util.List;

/** One manifest row of the {@code artifacts} table. */
public record Artifact(
        String id,
        String tenant,
        String kind,
        String name,
        String digest,
        long size,
        String mediaType,
        ObjectNode annotations,
        OffsetDateTime createdAt,
        String purpose,
        String task,
        Long lineCount,
        List<String> labels,
        String jobId,
        Integer attempt,
        Long step) {

    public static final String DATASET = "dataset";
    public static final String MODEL = "model";
    public static final String ADAPTER = "adapter";
    public static final String CHECKPOINT = "checkpoint";
}
