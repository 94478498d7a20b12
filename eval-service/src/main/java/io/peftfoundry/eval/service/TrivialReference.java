package io.peftfoundry.eval.service;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a classifier that never looked at the text scores on the validation set — the floor a trained model has to
 * clear before its score (or its retention against a baseline) means anything. Two references, both from label
 * counts only:
 * <ul>
 *   <li><b>majority class</b>: always predict the label most frequent in the training data (ties: the
 *       alphabetically first) — its accuracy is that label's share of the validation set, its macro-F1 is
 *       {@code F1(majority) / K} with {@code F1 = 2s/(1+s)} for validation share {@code s};</li>
 *   <li><b>label prior</b>: predict a label drawn at random with the training label frequencies {@code p}.
 *       Expected accuracy {@code Σ p(c)·q(c)} with validation frequencies {@code q}; per class, expected precision
 *       {@code q(c)} and recall {@code p(c)}, so expected F1 {@code 2pq/(p+q)} averaged over the K classes.</li>
 * </ul>
 * K counts every label seen in training or validation, as the evaluation's macro-F1 does over the model's labels.
 */
public record TrivialReference(String majorityLabel, double majorityAccuracy, double majorityMacroF1,
                               double labelPriorAccuracy, double labelPriorMacroF1) {

    public static TrivialReference of(List<String> trainingLabels, List<String> validationLabels) {
        if (trainingLabels.isEmpty() || validationLabels.isEmpty()) {
            throw new IllegalArgumentException("a trivial reference needs training and validation labels");
        }
        Map<String, Integer> train = counts(trainingLabels);
        Map<String, Integer> valid = counts(validationLabels);
        TreeMap<String, Integer> all = new TreeMap<>();
        train.keySet().forEach(l -> all.put(l, 0));
        valid.keySet().forEach(l -> all.put(l, 0));
        String majority = null;
        for (Map.Entry<String, Integer> e : new TreeMap<>(train).entrySet()) {
            if (majority == null || e.getValue() > train.get(majority)) {
                majority = e.getKey();
            }
        }
        double nTrain = trainingLabels.size();
        double nValid = validationLabels.size();
        double k = all.size();
        double majorityShare = valid.getOrDefault(majority, 0) / nValid;
        double majorityF1 = majorityShare == 0 ? 0 : 2 * majorityShare / (1 + majorityShare);
        double priorAccuracy = 0;
        double priorF1Sum = 0;
        for (String label : all.keySet()) {
            double p = train.getOrDefault(label, 0) / nTrain;
            double q = valid.getOrDefault(label, 0) / nValid;
            priorAccuracy += p * q;
            priorF1Sum += p + q == 0 ? 0 : 2 * p * q / (p + q);
        }
        return new TrivialReference(majority, majorityShare, majorityF1 / k, priorAccuracy, priorF1Sum / k);
    }

    /** The better of the two references for a metric (accuracy or macro_f1); null for other metrics. */
    public Double best(String metric) {
        return switch (metric) {
            case "accuracy" -> Math.max(majorityAccuracy, labelPriorAccuracy);
            case "macro_f1" -> Math.max(majorityMacroF1, labelPriorMacroF1);
            default -> null;
        };
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("majority_label", majorityLabel);
        m.put("majority_accuracy", majorityAccuracy);
        m.put("majority_macro_f1", majorityMacroF1);
        m.put("label_prior_accuracy", labelPriorAccuracy);
        m.put("label_prior_macro_f1", labelPriorMacroF1);
        return m;
    }

    private static Map<String, Integer> counts(List<String> labels) {
        Map<String, Integer> c = new TreeMap<>();
        labels.forEach(l -> c.merge(l, 1, Integer::sum));
        return c;
    }
}
