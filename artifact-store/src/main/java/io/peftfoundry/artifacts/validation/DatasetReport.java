package io.peftfoundry.artifacts.validation;

import io.peftfoundry.contracts.FieldError;

import java.util.List;

/**
 * Outcome of validating a dataset: the task (declared or inferred), the number of examples, the
 * sorted label set (classification), how many sft examples are chat conversations ({@code {"messages": …}}) and the
 * faults found (first N, by line).
 */
public record DatasetReport(DatasetTask task, boolean plainText, long lineCount, List<String> labels,
                            List<FieldError> errors, long totalErrors, long chatExamples) {

    public boolean valid() {
        return totalErrors == 0;
    }
}
