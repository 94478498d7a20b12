"""bench/quality report: mean ± sd over seeds of every method's validation accuracy and macro-F1, and of its accuracy
minus the full fine-tune's with the same seed (paired), from the runs' metrics.json; writes results.md."""
import collections
import json
import os
import statistics
import sys

work, dst, command, when, load0, load1, commit = sys.argv[1:8]
ORDER = ["lora", "adapter", "prefix", "prompt", "ia3", "full"]
NAMES = {"lora": "LoRA", "adapter": "bottleneck adapter", "prefix": "prefix tuning", "prompt": "prompt tuning",
         "ia3": "IA3", "full": "full fine-tune"}

runs = collections.defaultdict(dict)  # (dataset, method) -> seed -> metrics
failed = []
for line in open(os.path.join(work, "plan.txt"), encoding="utf-8"):
    dataset, method, seed = line.split()
    path = os.path.join(work, dataset, f"{method}-{seed}", "out", "metrics.json")
    if not os.path.exists(path):
        failed.append(f"{dataset} {method} seed {seed}")
        continue
    runs[(dataset, method)][int(seed)] = json.load(open(path, encoding="utf-8"))


def ms(values, scale=100.0, digits=1):
    """'mean ± sd' (sd over seeds; a single value has none)."""
    if not values:
        return "–"
    mean = statistics.mean(values) * scale
    if len(values) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}"


def majority(dataset):
    """Accuracy of always answering the training split's most common label, on the validation split."""
    def labels(split):
        path = os.path.join("data", dataset, "smoke", f"{split}.jsonl")
        return [json.loads(l)["label"] for l in open(path, encoding="utf-8") if l.strip()]
    top = collections.Counter(labels("train")).most_common(1)[0][0]
    valid = labels("validation")
    return sum(1 for y in valid if y == top) / len(valid), len(valid)


def describe(dataset):
    """'160 training / 80 validation examples, 10 labels' from the smoke split's files."""
    def rows(split):
        path = os.path.join("data", dataset, "smoke", f"{split}.jsonl")
        return [json.loads(l)["label"] for l in open(path, encoding="utf-8") if l.strip()]
    train, valid = rows("train"), rows("validation")
    return f"{len(train)} training / {len(valid)} validation examples, {len(set(train) | set(valid))} labels"


L = ["## Quality: every method against a full fine-tune, 3 seeds (MiniLM on WordNet supersenses and fortunes)", ""]
L.append(f"Measured {when} by `{command}` (code at {commit}); 1-minute load average {load0.split()[0]} at the start, "
         f"{load1.split()[0]} at the end (2 cores). all-MiniLM-L6-v2 (`engine import`), the smoke splits of "
         f"`data/wordnet-supersense` ({describe('wordnet-supersense')}) and `data/fortunes` ({describe('fortunes')}); "
         "every setting as a job gets it by default: `auto` epochs, batch size "
         "and learning rate from the dataset size (job-api/README.md), each method's default configuration, "
         "`max_seq_length` 64. Accuracy and macro-F1 of the validation split after the last epoch, in %, mean ± sd "
         "over the seeds; Δ accuracy = the method's accuracy minus the full fine-tune's with the same seed "
         "(paired), mean ± sd of those differences.")
L.append("")
for dataset in sorted({d for d, _ in runs}, key=lambda d: ["wordnet-supersense", "fortunes"].index(d)
                      if d in ("wordnet-supersense", "fortunes") else 9):
    maj, n_valid = majority(dataset)
    L.append(f"### {dataset}")
    L.append("")
    L.append("| method | seeds | accuracy, % | macro-F1, % | Δ accuracy vs full, points | Δ > 0 in | trainable % | train s (mean) |")
    L.append("|---|---|---|---|---|---|---|---|")
    full = runs.get((dataset, "full"), {})
    for method in ORDER:
        seeds = runs.get((dataset, method))
        if not seeds:
            continue
        acc = [m["eval"]["accuracy"] for m in seeds.values()]
        f1 = [m["eval"]["macro_f1"] for m in seeds.values()]
        paired = [seeds[s]["eval"]["accuracy"] - full[s]["eval"]["accuracy"] for s in seeds if s in full]
        better = f"{sum(1 for d in paired if d > 0)} of {len(paired)}" if method != "full" and paired else "–"
        delta = ms(paired) if method != "full" else "–"
        trainable = statistics.mean(m["trainable_percent"] for m in seeds.values())
        secs = statistics.mean(m["train_seconds"] for m in seeds.values())
        L.append(f"| {NAMES[method]} | {len(seeds)} | {ms(acc)} | {ms(f1)} | {delta} | {better} | {trainable:.3g} | {secs:.0f} |")
    L.append("")
    L.append(f"Majority class (the training split's most common label) on the {n_valid} validation examples: "
             f"{maj * 100:.1f} %. With {n_valid} examples one example is {100 / n_valid:.2g} points, so differences of a "
             "few points are within what another seed moves.")
    L.append("")
# hand-written reading kept beside the script, appended as it is
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
if os.path.exists(notes):
    L.append(open(notes, encoding="utf-8").read().strip())
    L.append("")
if failed:
    L.append("Failed or missing runs (no metrics.json): " + ", ".join(failed) + ".")
    L.append("")
open(dst, "w", encoding="utf-8").write("\n".join(L))
print("\n".join(L), file=sys.stderr)
