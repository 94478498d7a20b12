package io.peftfoundry.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gradient (activation) checkpointing of a decoder's layers for one training forward and backward — what
 * {@code torch.utils.checkpoint} does, built on DJL's PyTorch engine, which has no equivalent.
 *
 * <p>Forward: each layer runs with autograd off ({@code JniUtils.setGradMode(false)}) in a scratch manager that is
 * closed right after, so nothing of the layer survives but its inputs (kept here) and its hidden output, which
 * becomes a leaf that requires a gradient. Backward ({@link #backward}): the loss is backpropagated as usual, which
 * stops at the last layer's output leaf; then, from the last layer to the first, the layer is run again with autograd
 * on from detached copies of its inputs, and {@code JniUtils.backward(output, incoming gradient)} — a
 * vector-Jacobian product that PyTorch's engine takes directly — accumulates the parameters' gradients and gives
 * the inputs' gradients, passed on to the previous layer's output leaf or, below the first layer, into the graph
 * that made the inputs (embeddings, prompt and prefix encoders). Peak activation memory is then the layers' inputs
 * (B·T·H each) plus one layer's activations, for one extra forward pass of every layer.
 *
 * <p>Dropout: the engine RNG is reseeded before a layer's forward and before its recompute with the same seed (the
 * seeds are drawn from the engine RNG, which the training loop reseeds per micro-batch), so the recompute sees
 * the same masks and the gradient is that of the loss the forward computed. The masks differ from those of an
 * unchecked run with the same seed; without dropout both give the same loss and gradients.
 *
 * <p>Use: {@link #forwardParameters()} passed to the model's forward call (the decoders look the instance up in their
 * forward parameters under {@link #KEY}), then {@link #backward} instead of {@code collector.backward(loss)}. One
 * instance per micro-batch. Under checkpointing the layers' key/value cache is not returned (null entries).
 */
public final class GradientCheckpointing {

    /** The forward parameter under which decoders find the instance. */
    public static final String KEY = "gradient_checkpointing";

    private record Segment(HfModule block, ParameterStore ps, NDList inputs, int[] differentiable, NDArray output,
            long seed) {}

    private final List<Segment> segments = new ArrayList<>();
    private final Set<NDArray> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
    private final long seedBase;

    /** Draws the layers' dropout seeds from the engine RNG (reseeded by the training loop per micro-batch). */
    public GradientCheckpointing(NDManager manager) {
        try (NDArray r = manager.randomInteger(0, 1L << 40, new Shape(), DataType.INT64)) {
            seedBase = r.getLong();
        }
    }

    /** The instance, if {@code params} of a forward call carry one. */
    public static GradientCheckpointing of(PairList<String, Object> params) {
        if (params == null) {
            return null;
        }
        Object v = params.get(KEY);
        return v instanceof GradientCheckpointing g ? g : null;
    }

    /** Layers checkpointed by the forward pass so far (0 again after {@link #backward}). */
    public int checkpointedLayers() {
        return segments.size();
    }

    /** Forward parameters that carry this instance. */
    public PairList<String, Object> forwardParameters() {
        PairList<String, Object> p = new PairList<>();
        p.add(KEY, this);
        return p;
    }

    /**
     * Runs {@code block} (training mode) on {@code inputs} without keeping its activations; returns
     * {@code NDList(hidden)} with hidden a gradient-requiring leaf attached to the manager of {@code inputs.get(0)},
     * padded with nulls to the block's output count. {@code differentiable}: the indices of the inputs a gradient may
     * flow back to (the hidden states, a prefix's keys and values; not masks or rotary tables). The inputs stay
     * referenced until {@link #backward}: the caller must not close them.
     */
    public NDList forward(HfModule block, ParameterStore ps, NDList inputs, int... differentiable) {
        long seed = seedBase + segments.size();
        NDManager outer = inputs.get(0).getManager();
        NDList out;
        NDArray hidden;
        boolean gradMode = JniUtils.isGradMode();
        try (NDManager scope = outer.newSubManager()) {
            NDList in = detachedCopies(inputs, scope, new int[0]);
            JniUtils.setSeed(seed);
            JniUtils.setGradMode(false);
            try {
                out = block.forward(ps, in, true);
            } finally {
                JniUtils.setGradMode(gradMode);
            }
            hidden = out.get(0);
            hidden.attach(outer);
        } // frees every intermediate of the layer, and its key/value cache
        hidden.setRequiresGradient(true);
        segments.add(new Segment(block, ps, inputs, differentiable, hidden, seed));
        outputs.add(hidden);
        NDList result = new NDList(out.size());
        result.add(hidden);
        for (int i = 1; i < out.size(); i++) {
            result.add(null);
        }
        return result;
    }

    /**
     * Backpropagates {@code loss} (a scalar of the graph built above the checkpointed layers) through the collector,
     * then through every checkpointed layer (recomputed, last to first) and the graph below them, leaving the
     * gradients in the parameters exactly as {@code collector.backward(loss)} does without checkpointing.
     */
    public void backward(GradientCollector collector, NDArray loss) {
        collector.backward(loss);
        Map<NDArray, NDArray> below = new IdentityHashMap<>(); // inputs made below the layers → their gradient
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            NDManager outer = s.output().getManager();
            try (NDArray g = s.output().getGradient(); NDManager scope = outer.newSubManager()) {
                NDList replay = detachedCopies(s.inputs(), scope, s.differentiable());
                JniUtils.setSeed(s.seed());
                NDArray y = s.block().forward(s.ps(), replay, true).get(0);
                // y depends on the hidden-state copy, which requires a gradient: it always has a graph to walk
                JniUtils.backward((PtNDArray) y, (PtNDArray) g, false, false);
                for (int j : s.differentiable()) {
                    NDArray source = s.inputs().get(j);
                    NDArray copy = replay.get(j);
                    if (copy == null) {
                        continue;
                    }
                    NDArray grad = copy.getGradient();
                    if (outputs.contains(source)) {
                        // the previous layer's output leaf: accumulate into its gradient
                        JniUtils.backward((PtNDArray) source, (PtNDArray) grad, false, false);
                        grad.close();
                    } else {
                        grad.attach(outer);
                        NDArray sum = below.get(source);
                        if (sum == null) {
                            below.put(source, grad);
                        } else {
                            sum.addi(grad);
                            grad.close();
                        }
                    }
                }
            } // frees the recomputed activations
            s.output().close();
        }
        backwardBelow(collector, below);
        segments.clear();
        outputs.clear();
    }

    /**
     * One backward through the graph below the layers, of {@code Σ sum(input · its gradient)}, whose gradient with
     * respect to each input is that input's gradient. DJL cannot tell whether a non-leaf array requires a gradient
     * ({@code requiresGrad} answers false for every non-leaf), and the inputs may not (frozen embeddings under LoRA):
     * a zero leaf that requires one is added so the backward always has a graph, reaching whatever inputs do.
     */
    private static void backwardBelow(GradientCollector collector, Map<NDArray, NDArray> below) {
        if (below.isEmpty()) {
            return;
        }
        NDManager m = below.values().iterator().next().getManager();
        try (NDManager scope = m.newSubManager()) {
            NDArray total = scope.zeros(new Shape(), DataType.FLOAT32);
            total.setRequiresGradient(true);
            for (Map.Entry<NDArray, NDArray> e : below.entrySet()) {
                NDArray term = e.getKey().mul(e.getValue());
                term.attach(scope);
                NDArray sum = term.sum();
                sum.attach(scope);
                NDArray wide = sum.toType(DataType.FLOAT32, false);
                wide.attach(scope);
                total = total.add(wide);
                total.attach(scope);
                e.getValue().close();
            }
            collector.backward(total);
        }
    }

    /**
     * Each input as a new handle in {@code scope} on the same storage, cut from its graph (so the layer's
     * intermediates land in {@code scope}, DJL attaching an op's result to its first operand's manager); those at
     * the {@code leaves} indices become leaves that require a gradient.
     */
    private static NDList detachedCopies(NDList inputs, NDManager scope, int[] leaves) {
        NDList copies = new NDList(inputs.size());
        for (NDArray x : inputs) {
            if (x == null) {
                copies.add(null);
                continue;
            }
            NDArray c = x.stopGradient();
            c.attach(scope);
            copies.add(c);
        }
        for (int j : leaves) {
            if (copies.get(j) != null) {
                copies.get(j).setRequiresGradient(true);
            }
        }
        return copies;
    }
}
