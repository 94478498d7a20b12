package io.peftfoundry.engine.training;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Classification metrics. {@code confusion[i][j]} counts examples of true class i predicted as j.
 * Precision/recall of a class that is never predicted/never present is 0; macro-F1 averages the
 * per-class F1 over all classes. {@code correct[i]} says whether example i (in data order) was predicted right:
 * what a paired comparison of two models on the same examples needs.
 */
public record EvalResult(List<String> labels, double loss, double accuracy, double macroF1, double[] precision,
        double[] recall, long[][] confusion, int examples, boolean[] correct) {

    /** Metrics from true and predicted class ids and the summed loss. */
    public static EvalResult of(List<String> labels, int[] truth, int[] predicted, double lossSum) {
        int k = labels.size();
        long[][] c = new long[k][k];
        int correct = 0;
        boolean[] right = new boolean[truth.length];
        for (int i = 0; i < truth.length; i++) {
            c[truth[i]][predicted[i]]++;
            if (truth[i] == predicted[i]) {
                correct++;
                right[i] = true;
            }
        }
        double[] p = new double[k];
        double[] r = new double[k];
        double f1sum = 0;
        for (int j = 0; j < k; j++) {
            long tp = c[j][j];
            long predictedJ = 0;
            long actualJ = 0;
            for (int i = 0; i < k; i++) {
                predictedJ += c[i][j];
                actualJ += c[j][i];
            }
            p[j] = predictedJ == 0 ? 0 : (double) tp / predictedJ;
            r[j] = actualJ == 0 ? 0 : (double) tp / actualJ;
            f1sum += p[j] + r[j] == 0 ? 0 : 2 * p[j] * r[j] / (p[j] + r[j]);
        }
        int n = truth.length;
        return new EvalResult(labels, n == 0 ? Double.NaN : lossSum / n, n == 0 ? 0 : (double) correct / n, f1sum / k,
                p, r, c, n, right);
    }

    public ObjectNode toJson() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("accuracy", accuracy);
        n.put("macro_f1", macroF1);
        n.put("loss", loss);
        n.put("examples", examples);
        ObjectNode per = n.putObject("per_class");
        for (int i = 0; i < labels.size(); i++) {
            ObjectNode c = per.putObject(labels.get(i));
            c.put("precision", precision[i]);
            c.put("recall", recall[i]);
        }
        var lab = n.putArray("labels");
        labels.forEach(lab::add);
        var cm = n.putArray("confusion_matrix");
        for (long[] row : confusion) {
            var a = cm.addArray();
            for (long v : row) {
                a.add(v);
            }
        }
        return n;
    }
}
