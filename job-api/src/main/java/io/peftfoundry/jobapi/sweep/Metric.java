package io.peftfoundry.jobapi.sweep;

import java.util.Map;

/** The validation metrics a sweep can rank its children by, and whether larger is better. */
final class Metric {

    static final Map<String, Boolean> KNOWN = Map.of(
            "accuracy", true, "macro_f1", true, "token_accuracy", true, "exact_match", true,
            "loss", false, "perplexity", false);

    private Metric() {}
}
