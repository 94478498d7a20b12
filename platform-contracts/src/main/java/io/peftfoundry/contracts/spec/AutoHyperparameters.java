package io.peftfoundry.contracts.spec;

/**
 * Chooses {@code batch_size}, {@code epochs} and {@code learning_rate} for the fields a spec leaves to
 * {@code "auto"}, from the number of training examples and the method, so that a few hundred examples still get
 * enough optimizer steps and a large set is not trained on for needlessly many passes. The rule, in order:
 * <ol>
 *   <li><b>batch_size</b> = the largest power of two ≤ {@code n / 10}, between 1 and 16 (8 for causal tasks,
 *       whose sequences are longer): a small set still gets about ten batches an epoch.</li>
 *   <li><b>epochs</b>: enough passes for {@value #MIN_STEPS} optimizer steps
 *       ({@code ⌈MIN_STEPS · batch · accumulation / n⌉}), at least {@value #MIN_EPOCHS}, at most
 *       {@value #MAX_EPOCHS}, and never more than {@code ⌊MAX_EXAMPLES / n⌋} (≥ 1) so the examples seen stay
 *       under {@value #MAX_EXAMPLES} — like OpenAI's fine-tuning API, which raises the epochs of small sets and lowers
 *       those of large ones. 200 examples → 12 epochs (150 steps of 16); 20,000 → 2 epochs.</li>
 *   <li><b>learning_rate</b> = the method's default ({@link Hyperparameters#defaultLearningRate}) scaled by
 *       {@code √(batch / 16)} (square-root scaling for Adam-type optimizers when the batch shrinks).</li>
 * </ol>
 * A value the spec sets explicitly is kept; only fields listed in {@code hyperparameters.auto} change. With
 * {@code max_steps} set the epochs only matter up to that cap.
 */
public final class AutoHyperparameters {

    public static final int MIN_STEPS = 150;
    public static final int MIN_EPOCHS = 3;
    public static final int MAX_EPOCHS = 30;
    public static final long MAX_EXAMPLES = 50_000;

    private AutoHyperparameters() {}

    /**
     * @param spec             a spec with defaults filled in ({@link JobSpec#withDefaults()})
     * @param trainingExamples examples (JSONL lines) in the training file; ≤ 0 leaves the spec as it is
     */
    public static JobSpec resolve(JobSpec spec, long trainingExamples) {
        Hyperparameters h = spec.hyperparameters();
        if (trainingExamples <= 0 || h == null || h.auto() == null || h.auto().isEmpty()) {
            return spec;
        }
        boolean causal = spec.task() == Task.SFT || spec.task() == Task.CONTINUED_PRETRAINING;
        int batch = h.isAuto("batch_size") ? batchSize(trainingExamples, causal) : h.batchSize();
        int accumulation = h.gradientAccumulationSteps() == null ? 1 : h.gradientAccumulationSteps();
        int epochs = h.isAuto("epochs") ? epochs(trainingExamples, batch * accumulation) : h.epochs();
        double lr = h.isAuto("learning_rate") ? learningRate(spec.method().type(), batch) : h.learningRate();
        return spec.withHyperparameters(h.withAutoValues(epochs, batch, lr));
    }

    static int batchSize(long examples, boolean causal) {
        int cap = causal ? 8 : 16;
        long target = Math.max(1, examples / 10);
        int b = 1;
        while (b * 2L <= target && b * 2 <= cap) {
            b *= 2;
        }
        return b;
    }

    static int epochs(long examples, int examplesPerStep) {
        long forSteps = (MIN_STEPS * (long) examplesPerStep + examples - 1) / examples;
        long e = Math.max(MIN_EPOCHS, forSteps);
        long budget = Math.max(1, MAX_EXAMPLES / examples);
        return (int) Math.max(1, Math.min(Math.min(e, MAX_EPOCHS), budget));
    }

    static double learningRate(MethodType method, int batch) {
        return Hyperparameters.defaultLearningRate(method) * Math.sqrt(batch / 16.0);
    }
}
