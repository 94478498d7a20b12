#!/usr/bin/env python3
"""Writes demo/decoder/REPORT.md (and the bench section bench/two-stage/results.md) from the metrics that
`demo/decoder/run recipe` left on disk.

Reads <work>/runs/<name>/metrics.json (peft-engine train), <work>/evals/<name>.json (peft-engine eval),
<work>/specs/<name>.json and <work>/run-info.json; <data>/licences.jsonl for the task's licences. A missing run
or evaluation shows as "not run" and is left out of the means. Every number and every verdict sentence is
computed here from those files: nothing is typed in by hand.
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess

METHODS = (("lora", "LoRA"), ("full", "full fine-tune"))
ARMS = (("sft", "(a) SFT only"), ("cptsft", "(b) CPT → SFT"), ("sftlong", "(c) SFT only, same total steps"))


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def mean_sd(values):
    """'m ± sd' text parts and the numbers; sd is the sample standard deviation (n - 1), 0 for one value."""
    if not values:
        return None, None
    m = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return m, sd


def fmt(m, sd, digits=1, scale=1.0, unit=""):
    if m is None:
        return "not run"
    return f"{m * scale:.{digits}f} ± {sd * scale:.{digits}f}{unit}"


class Results:
    def __init__(self, work, data):
        self.work = work
        self.runs = lambda n: load(os.path.join(work, "runs", n, "metrics.json"))
        self.evals = lambda n: load(os.path.join(work, "evals", n + ".json"))
        self.specs = lambda n: load(os.path.join(work, "specs", n + ".json"))
        self.info = load(os.path.join(work, "run-info.json")) or {}
        self.licences = []
        path = os.path.join(data, "licences.jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.licences = [json.loads(line) for line in f if line.strip()]
        seeds = set()
        for d in (os.path.join(work, "specs"),):
            if os.path.isdir(d):
                for name in os.listdir(d):
                    if "-s" in name and name.endswith(".json"):
                        seeds.add(int(name.rsplit("-s", 1)[1][:-5]))
        self.seeds = sorted(seeds)

    def per_seed(self, arm, method, key):
        """{seed: metric} over the seeds whose evaluation exists."""
        out = {}
        for seed in self.seeds:
            ev = self.evals(f"{arm}-{method}-s{seed}")
            if ev is not None and ev.get(key) is not None:
                out[seed] = ev[key]
        return out

    def steps(self, arm, method):
        for seed in self.seeds:
            s = self.specs(f"{arm}-{method}-s{seed}")
            if s:
                return s["hyperparameters"]["max_steps"]
        return None


def paired(a, b):
    """Per-seed differences b - a over the seeds both have."""
    return [b[s] - a[s] for s in sorted(set(a) & set(b))]


def judge(diffs, better_is_higher):
    """held (better on every seed) / held on average only / did not hold, for per-seed differences (b) - other."""
    sign = 1 if better_is_higher else -1
    m, _ = mean_sd(diffs)
    wins = sum(1 for x in diffs if sign * x > 0)
    if sign * m > 0 and wins == len(diffs):
        return "**held**", wins
    if sign * m > 0:
        return "**held on average only**", wins
    return "**did not hold**", wins


def verdict_sentence(label, other, em_a, em_b, ppl_a, ppl_b):
    """One plain sentence: does (b) beat `other` on exact match and on perplexity, by how much, on how many seeds."""
    d = paired(em_a, em_b)
    dp = paired(ppl_a, ppl_b)
    if not d or not dp:
        return f"- {label}, CPT → SFT vs {other}: not run."
    m, sd = mean_sd(d)
    pm, psd = mean_sd(dp)
    base_ppl, _ = mean_sd([ppl_a[s] for s in sorted(set(ppl_a) & set(ppl_b))])
    if not any(em_a.values()) and not any(em_b.values()):
        em_held, wins = "**undecided** (neither got a single held-out excerpt right)", 0
    else:
        em_held, wins = judge(d, True)
    p_held, p_wins = judge(dp, False)
    return (f"- {label}, CPT → SFT vs {other}: on exact match {em_held}, {round(m * 100, 1) + 0.0:+.1f} ± {sd * 100:.1f} points "
            f"(better on {wins} of {len(d)} seeds); on held-out perplexity {p_held}, {pm:+.2f} ± {psd:.2f} "
            f"({pm / base_ppl * 100:+.0f} % of {base_ppl:.2f}; better on {p_wins} of {len(dp)} seeds) — mean ± sd "
            f"of the per-seed differences.")


def results_table(r):
    """The markdown table: method × arm, exact match and perplexity as mean ± sd over seeds, per-seed values."""
    lines = ["| method | arm | steps (CPT + SFT) | exact match, % (mean ± sd) | held-out perplexity (mean ± sd) "
             "| token accuracy, % | exact match per seed, % | train time per seed |",
             "|---|---|---|---|---|---|---|---|"]
    base = r.evals("base-sft")
    if base:
        lines.append(f"| pretrained decoder | no training (reference) | – | {base['exact_match'] * 100:.1f} "
                     f"| {base['perplexity']:.2f} | {base['token_accuracy'] * 100:.1f} | – | – |")
    for method, mlabel in METHODS:
        for arm, alabel in ARMS:
            em = r.per_seed(arm, method, "exact_match")
            ppl = r.per_seed(arm, method, "perplexity")
            acc = r.per_seed(arm, method, "token_accuracy")
            steps = r.steps(arm, method)
            cpt = r.steps("cpt", method) if arm == "cptsft" else 0
            steps_text = "–" if steps is None else f"{cpt or 0} + {steps}"
            secs = []
            for seed in r.seeds:
                parts = [r.runs(f"{arm}-{method}-s{seed}")]
                if arm == "cptsft":
                    parts.append(r.runs(f"cpt-{method}-s{seed}"))
                if all(parts):
                    secs.append(sum(p["train_seconds"] for p in parts))
            em_m, em_sd = mean_sd(list(em.values()))
            p_m, p_sd = mean_sd(list(ppl.values()))
            a_m, a_sd = mean_sd(list(acc.values()))
            per_seed = " / ".join(f"{em[s] * 100:.1f}" for s in sorted(em)) or "–"
            time_text = " / ".join(f"{x:.0f} s" for x in secs) or "–"
            lines.append(f"| {mlabel} | {alabel} | {steps_text} | {fmt(em_m, em_sd, 1, 100)} | {fmt(p_m, p_sd, 2)} "
                         f"| {fmt(a_m, a_sd, 1, 100)} | {per_seed} | {time_text} |")
    return lines


def chance_line(r):
    n = len(r.licences)
    if not n:
        return ""
    return (f"Reference points: a uniform guess among the {n} identifiers gets {100 / n:.1f} % exact match; the pretrained "
            f"decoder itself (first row) gets the identifier's tokens at the perplexity shown. An exact match near "
            f"{100 / n:.1f} % means the model names a licence but not yet the right one; the perplexity of the "
            f"identifier is then the finer measure of how far training got.")


def cpt_table(r):
    """What continued pretraining did to the held-out licence text (the held-out positions)."""
    lines = ["| model | held-out licence text perplexity (mean ± sd over seeds) |", "|---|---|"]
    base = r.evals("base-text")
    if base:
        lines.append(f"| pretrained decoder | {base['perplexity']:.2f} |")
    for method, mlabel in METHODS:
        ppl = [ev["perplexity"] for s in r.seeds if (ev := r.evals(f"cpt-{method}-s{s}-text"))]
        m, sd = mean_sd(ppl)
        lines.append(f"| {mlabel} after CPT ({r.steps('cpt', method) or '–'} steps) | {fmt(m, sd, 2)} |")
    return lines


def overall(r):
    """One generated sentence: for which methods the claim held on both metrics, per comparison."""
    fair, extra, ppl_only = [], [], []
    for method, mlabel in METHODS:
        em = {arm: r.per_seed(arm, method, "exact_match") for arm, _ in ARMS}
        ppl = {arm: r.per_seed(arm, method, "perplexity") for arm, _ in ARMS}
        if not paired(em["sftlong"], em["cptsft"]) or not paired(em["sft"], em["cptsft"]):
            return "**Overall:** not every arm has run."
        both = lambda a: (judge(paired(em[a], em["cptsft"]), True)[0] == "**held**"
                          and judge(paired(ppl[a], ppl["cptsft"]), False)[0] == "**held**")
        if both("sftlong"):
            fair.append(mlabel)
        if both("sft"):
            extra.append(mlabel)
        elif judge(paired(ppl["sft"], ppl["cptsft"]), False)[0] == "**held**":
            ppl_only.append(mlabel)
    names = lambda xs: " and ".join(xs) if xs else "neither method"
    return (f"**Overall:** against SFT only with the same total steps (the CPT steps spent on SFT instead: the fair "
            f"comparison), the claim held on both exact match and perplexity for {names(fair)}. Against SFT only with the "
            f"same SFT steps (CPT as extra compute) it held on both for {names(extra)}"
            + (f", on perplexity only for {names(ppl_only)}" if ppl_only else "") + ".")


def verdicts(r):
    lines = []
    for method, mlabel in METHODS:
        em = {arm: r.per_seed(arm, method, "exact_match") for arm, _ in ARMS}
        ppl = {arm: r.per_seed(arm, method, "perplexity") for arm, _ in ARMS}
        lines.append(verdict_sentence(mlabel, "SFT only (same SFT steps)", em["sft"], em["cptsft"], ppl["sft"], ppl["cptsft"]))
        lines.append(verdict_sentence(mlabel, "SFT only with the same total steps", em["sftlong"], em["cptsft"],
                                      ppl["sftlong"], ppl["cptsft"]))
    return lines


def settings(r):
    out = []
    for method, _ in METHODS:
        for arm in ("cpt", "sft", "cptsft", "sftlong"):
            s = r.specs(f"{arm}-{method}-s{r.seeds[0]}") if r.seeds else None
            if s:
                h = s["hyperparameters"]
                init = "; `init_adapter` = the CPT adapter" if s.get("init_adapter") else (
                    "; model = the CPT decoder (the job spec takes no `init_adapter` with `full`)"
                    if arm == "cptsft" else "")
                out.append(f"- `{arm}-{method}`: task `{s['task']}` on `{os.path.basename(s['training_file'])}`, "
                           f"method `{json.dumps(s['method'])}`, lr {h['learning_rate']} (cosine, warmup "
                           f"{h['warmup_ratio']}), batch {h['batch_size']} × ≤ {h['max_seq_length']} tokens, "
                           f"max_steps {h['max_steps']}, weight decay {h['weight_decay']}{init}")
    return out


PARALLEL_TEXT = {"seeds": "one process per method and seed, all side by side",
                 "1": "LoRA and full as two processes side by side", "True": "LoRA and full as two processes side by side"}


def run_line(r):
    i = r.info
    if not i:
        return "Run time: not recorded."
    return (f"Run: started {i['started']}, {i['seconds'] / 60:.1f} min wall for everything above "
            f"({PARALLEL_TEXT.get(str(i.get('parallel')), 'one run after the other')}, "
            f"{i.get('threads')} PyTorch thread each); 1/5/15-min load average {i['load_start']} at the start, "
            f"{i['load_end']} at the end (2 cores shared with other work).")


def command(r):
    """The command line that reproduces the run, with its sizes."""
    sft = r.steps("sft", "lora") or r.steps("sft", "full")
    cpt = r.steps("cpt", "lora") or r.steps("cpt", "full")
    par = r.info.get("parallel", "seeds")
    par = "seeds" if par is True else par
    return (f"SFT_STEPS={sft} CPT_STEPS={cpt} SEEDS=\"{' '.join(map(str, r.seeds))}\" THREADS={r.info.get('threads', 1)} "
            f"PARALLEL={par} demo/decoder/run")


def work_rel(work):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rel = os.path.relpath(os.path.abspath(work), root)
    return work if rel.startswith("..") else rel


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or "?"
    except OSError:
        return "?"


def experiment_intro(r, data_link):
    n_train = n_held = 0
    for lic in r.licences:
        n_train += lic["train_excerpts"]
        n_held += lic["heldout_excerpts"]
    seeds = ", ".join(str(s) for s in r.seeds) or "none"
    return [
        f"Domain: SPDX licence texts, which the demo decoder never saw (it was pretrained on the Jargon File and "
        f"FOLDOC). Task: a 24-word licence excerpt → its SPDX identifier (`Licence excerpt: … \\nSPDX identifier:` → "
        f"` MPL-2.0`), {len(r.licences)} licences, {n_train:,} training excerpts, {n_held} held-out excerpts. Every "
        f"licence's words are split by position: one contiguous fifth (at a random place) is held out, the rest is "
        f"training text. The held-out excerpts come only from the held-out fifths; continued pretraining (CPT) reads "
        f"only the training text (the same text the training excerpts come from), so no arm sees a held-out word "
        f"before the test. Data and the argument for the split: [{data_link}/SOURCE.md]({data_link}/SOURCE.md).",
        "",
        f"Arms, for LoRA and for full fine-tuning, seeds {seeds} (the spec's `seed`: data order and adapter init): "
        "(a) SFT only; (b) CPT on the training licence text, then SFT continuing the same adapter (`init_adapter`); "
        "(c) SFT only with (b)'s total number of steps (the CPT steps spent on more SFT instead). Every model is scored "
        "by `peft-engine eval` on all held-out excerpts: exact match = the greedy completion equals the identifier; "
        "perplexity = exp(mean next-token loss) over the identifier's tokens (and end of text) given the excerpt.",
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--data", required=True, help="data/licence-id")
    ap.add_argument("--out", required=True)
    ap.add_argument("--bench-out", help="also write the bench section (bench/two-stage/results.md)")
    a = ap.parse_args()
    r = Results(a.work, a.data)

    pre = load(os.path.join(a.pretrained, "pretrain-metrics.json"))
    cfg = load(os.path.join(a.pretrained, "config.json")) or {}
    verdict = verdicts(r)
    table = results_table(r)

    lines = ["# A small decoder pretrained here, and the two-stage recipe measured on it", "",
             f"Generated by `demo/decoder/run` (`recipe`; the numbers come from `{work_rel(a.work)}/`). "
             "Perplexities use this decoder's own 4,096-token byte-level BPE: not comparable with other tokenizers.", "",
             "## Does continued pretraining before SFT beat SFT alone on a domain task?", ""]
    lines += experiment_intro(r, "../../data/licence-id") + [""]
    lines += ["**Verdict** (differences paired by seed; \"held\" = CPT → SFT better on every seed):", ""] + verdict + [""]
    lines += [overall(r), ""]
    lines += [chance_line(r), ""]
    lines += table + [""]
    lines += ["What CPT itself did to held-out licence text (the held-out fifths, packed 128-token blocks):", ""]
    lines += cpt_table(r) + [""]
    lines += [f"Settings (specs under `{work_rel(a.work)}/specs/`; every seed's spec differs only in `seed`):", ""]
    lines += settings(r) + [""]
    lineage = load(os.path.join(a.work, "runs", f"cptsft-lora-s{r.seeds[0]}", "adapter", "lineage.json")) if r.seeds else None
    if lineage:
        lines += ["The (b) LoRA adapter's `lineage.json` lists both stages:", "", "```json",
                  json.dumps([{k: st.get(k) for k in ("stage", "task", "method", "init_adapter", "steps", "seed")}
                              for st in lineage.get("stages", [])]), "```", ""]
    lines += [f"Command: `{command(r)}` (the defaults). {run_line(r)}",
              f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; code at commit {commit()}.", ""]

    lines += ["## The pretrained decoder", ""]
    if pre:
        pre_h = (pre.get("lineage") or [{}])[0]
        lines += [
            f"GPT-2 layout, {cfg.get('n_layer')} layers, d_model {cfg.get('n_embd')}, {cfg.get('n_head')} heads, "
            f"context {cfg.get('n_positions')}, vocabulary {cfg.get('vocab_size')} (tied input/output embedding): "
            f"{pre['total_parameters']:,} parameters, pretrained from random init by `demo/decoder/run pretrain` "
            f"(method `full`, task `continued_pretraining` on Jargon File + FOLDOC text, `data/decoder/`): "
            f"{pre['steps']} steps, {pre['trained_tokens']:,} tokens, {pre['train_seconds'] / 60:.1f} min, final "
            f"train loss {pre['final_train_loss']:.3f}, held-out Jargon perplexity "
            f"{pre['eval']['perplexity'] if pre.get('eval') else float('nan'):.2f} (uniform guess: "
            f"{cfg.get('vocab_size')}). Committed in `demo/decoder/pretrained/`.", ""]
    else:
        lines += ["not run", ""]
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "REPORT-notes.md")
    if os.path.exists(notes):
        with open(notes, encoding="utf-8") as f:
            lines += [f.read().rstrip(), ""]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"wrote {a.out}")

    if a.bench_out:
        versions = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
        b = ["## Two-stage recipe: continued pretraining → SFT against SFT alone (demo decoder, SPDX licences)", "",
             f"Measured by `{command(r)}` (`bench/two-stage/run` runs the same from scratch). {run_line(r)} "
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; {versions[0] if versions else 'java ?'}; "
             f"DJL 0.36.0 on libtorch 2.7.1; code at commit {commit()}. Full write-up, settings and the data split: "
             "[demo/decoder/REPORT.md](../../demo/decoder/REPORT.md).", ""]
        if os.environ.get("BENCH_QUICK") == "1":
            b += ["**Quick mode** (`BENCH_QUICK=1`): fewer seeds and steps than the committed run; not the measurement "
                  "REPORT.md reports.", ""]
        b += experiment_intro(r, "../../data/licence-id") + [""]
        b += ["**Verdict** (differences paired by seed; \"held\" = CPT → SFT better on every seed):", ""] + verdict + [""]
        b += [overall(r), ""]
        b += [chance_line(r), ""]
        b += table + [""]
        os.makedirs(os.path.dirname(os.path.abspath(a.bench_out)), exist_ok=True)
        with open(a.bench_out, "w", encoding="utf-8") as f:
            f.write("\n".join(b))
        print(f"wrote {a.bench_out}")


if __name__ == "__main__":
    main()
