"""Writes bench/engine-vs-hf/results.md and its PNG plots from the run's results.jsonl.

    python report.py RESULTS.jsonl RESULTS.md PLOT_DIR "COMMAND" QUICK PYTHON
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

src, dst, plots, command, quick, python = sys.argv[1:7]
rows = [json.loads(l) for l in open(src)]

LABEL = {
    "lora": "LoRA r8 α16 q+v", "full": "full fine-tune", "adapter": "bottleneck adapter (Pfeiffer, ÷16)",
    "prefix": "prefix tuning (20, MLP 512)", "prompt": "prompt tuning (20)", "ia3": "IA3 (k, v, FFN out)",
    "gpt2-lora": "GPT-2-shaped, LoRA c_attn", "llama-lora": "LLaMA-shaped, LoRA q+v",
}
TARGET = {"lora": 1.1, "full": 1.0}
cases = list(dict.fromkeys(r["case"] for r in rows))


def side(case, s):
    rs = [r for r in rows if r["case"] == case and r["side"] == s]
    ok = [r for r in rs if r["rc"] == 0 and r.get("step_seconds")]
    if not ok:
        return {"ok": False, "runs": rs}
    steady = [t for r in ok for t in r["step_seconds"][2:]]  # steps 3.. of every round
    med = statistics.median(steady)
    cpu = [t for r in ok for t in r.get("step_cpu_seconds", [])[2:]]
    tok = ok[0]["tokens_per_step"]
    return {"ok": True, "runs": rs, "median": med, "samples": len(steady), "tps": tok / med,
            "cpu": statistics.median(cpu) if cpu else None,
            "rounds": [statistics.median(r["step_seconds"][2:]) for r in ok],
            "rss": max(r["peak_rss_kb"] for r in ok) / 1024 / 1024, "tokens": tok,
            "trainable": ok[0].get("trainable"), "library": ok[0].get("library"),
            "attn": ok[0].get("attn_implementation")}


res = {c: (side(c, "engine"), side(c, "hf")) for c in cases}


def cpucol(e, h):
    if e.get("cpu") is None or h.get("cpu") is None:
        return "–"
    return f"{e['cpu']:.2f} / {h['cpu']:.2f} (**{h['cpu'] / e['cpu']:.2f}×**)"


def fmt(x, d=2):
    return f"{x:.{d}f}"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=600).stdout.strip()
    except Exception:
        return ""


hf_versions = sh(f"'{python}' -c \"import torch, transformers, peft; print(f'torch {{torch.__version__}}, "
                 f"transformers {{transformers.__version__}}, peft {{peft.__version__}}')\"")
loads = [float(r["load_before"].split()[0]) for r in rows] + [float(r["load_after"].split()[0]) for r in rows]
now = datetime.datetime.now(datetime.timezone.utc)

# plots
plot_names = []
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shown = [c for c in cases if res[c][0]["ok"] and res[c][1]["ok"]]
    if shown:
        for c in shown:
            for sd in res[c]:
                sd["tpc"] = sd["tokens"] / sd["cpu"] if sd.get("cpu") else 0
        for key, title, unit, fname in (("tps", "throughput, wall clock (higher is better)", "tokens/s", "engine-vs-hf-speed.png"),
                                         ("tpc", "throughput per CPU-second of the process (higher is better)",
                                          "tokens per CPU-s", "engine-vs-hf-cpu.png"),
                                         ("rss", "peak RSS of the training process (lower is better)", "GiB", "engine-vs-hf-memory.png")):
            fig, ax = plt.subplots(figsize=(9, 4))
            xs = range(len(shown))
            ax.bar([x - 0.2 for x in xs], [res[c][0][key] for c in shown], 0.4, label="peft-engine (DJL)")
            ax.bar([x + 0.2 for x in xs], [res[c][1][key] for c in shown], 0.4, label="HF transformers + PEFT")
            ax.set_xticks(list(xs))
            ax.set_xticklabels([LABEL.get(c, c) for c in shown], rotation=20, ha="right", fontsize=8)
            ax.set_ylabel(unit)
            ax.set_title(title + f", {now:%Y-%m-%d}")
            ax.legend()
            fig.tight_layout()
            fig.savefig(os.path.join(plots, fname), dpi=110)
            plt.close(fig)
            plot_names.append(fname)
except ImportError:
    pass

L = []
L.append("## peft-engine vs Hugging Face PEFT: training speed and peak memory")
L.append("")
L.append(f"Measured {now:%Y-%m-%d %H:%M UTC} by `{command}`"
         + (" — **quick mode** (fewer steps, one round)" if quick == "1" else "") + ". "
         "Both sides ran in this one run, one process at a time, alternating which side goes first in each round; "
         f"same weights files, same data, {os.environ.get('BENCH_THREADS', '2')} PyTorch intra-op thread(s) + 1 inter-op thread, "
         "libtorch 2.7.1 on both sides.")
L.append("")
L.append(f"- machine: {os.cpu_count()} cores visible, Linux {platform.release()}, shared with other work: 1-minute "
         f"load average {min(loads):.1f}–{max(loads):.1f} during the run (a load above 2 means the processes waited "
         f"for a core; the ratios below compare runs taken minutes apart under that load)")
L.append(f"- engine: peft-engine (DJL 0.36.0, libtorch 2.7.1 CPU), {sh('java -version 2>&1 | head -n 1')}, `-Xmx1g`, "
         f"the job classes the CLI and the worker run (`TrainingJob`: classification or causal), "
         f"step time from `TrainingListener.onStep`")
L.append(f"- Hugging Face: {hf_versions}; `bench/engine-vs-hf/hf_steps.py` (BertForSequenceClassification / "
         f"AutoModelForCausalLM + `get_peft_model`; the bottleneck adapter through the `adapters` library)")
L.append("- step = forward + loss, backward, global-norm clip 1.0, AdamW (weight decay 0), LR schedule, zero grads; "
         "tokenisation before the first step; s/step = **median of steps 3+** over all rounds; "
         "tokens/s = batch × 128 ÷ that; peak RSS = the process's maximum resident set (model load included), "
         "the largest over the rounds")
L.append("- encoder cases: all-MiniLM-L6-v2 (`engine import`), batch 16 × 128 tokens (every example > 128 tokens, "
         "truncated); decoder cases: random-init GPT-2-shaped (6 layers, 768 wide, 12 heads) and LLaMA-shaped "
         "(6 layers, 768, SwiGLU 2048, 12 heads / 4 KV heads) models with the 4,096-token BPE of demo/decoder, "
         "LoRA r8 α16 dropout 0.05 on the engine's and PEFT's default targets, SFT batch 8 × 128 tokens")
L.append("")
L.append("| case | engine s/step | HF s/step | engine tokens/s | HF tokens/s | speed engine ÷ HF (wall) | target | "
         "CPU s/step engine / HF (**speed engine ÷ HF by CPU time**) | engine peak RSS | HF peak RSS | **RSS engine ÷ HF** | trainable (engine / HF) |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
for c in cases:
    e, h = res[c]
    if not (e["ok"] and h["ok"]):
        why = []
        for name, s in (("engine", e), ("HF", h)):
            if not s["ok"] and not s["runs"]:
                why.append(f"{name} side not run in this run (stopped before it)")
            elif not s["ok"]:
                tail = " ".join(s["runs"][0].get("log_tail", "").split()[-25:])
                why.append(f"{name} failed: `{tail}`")
        extra = ""
        if e["ok"]:
            extra = f" Engine alone: {fmt(e['median'])} s/step, {e['tps']:.0f} tokens/s, {fmt(e['rss'])} GiB."
        L.append(f"| {LABEL.get(c, c)} | " + " ".join(why).replace("|", "/") + extra + " ||||||||||| ")
        continue
    speed = h["median"] / e["median"]
    rss = e["rss"] / h["rss"]
    tgt = TARGET.get(c)
    cpu_speed = h["cpu"] / e["cpu"] if e.get("cpu") and h.get("cpu") else None
    tg = "–"
    if tgt:
        tg = f"≥ {tgt}×: wall {'✅' if speed >= tgt else '❌'}" + (
            f", CPU {'✅' if cpu_speed >= tgt else '❌'}" if cpu_speed else "")
    tr = f"{e['trainable']:,}" if e.get("trainable") else "?"
    L.append(f"| {LABEL.get(c, c)} | {fmt(e['median'])} | {fmt(h['median'])} | {e['tps']:.0f} | {h['tps']:.0f} | "
             f"{speed:.2f}× | {tg} | {cpucol(e, h)} | {fmt(e['rss'])} GiB | {fmt(h['rss'])} GiB | **{rss:.2f}×** "
             f"{'✅' if rss <= 1.0 else '❌'} | {tr} / {h['trainable']:,} |")
L.append("")
L.append("Speed engine ÷ HF = HF's median s/step ÷ the engine's (above 1: the engine is faster). CPU s/step = the "
         "process's CPU seconds (all threads) per step, median of steps 3+. "
         + ("**The load during this run was far above the 2 cores, so each process got a small and varying share of a "
            "core and wall-clock ratios mostly measure the scheduler: read the CPU-time ratio**"
            + (" (also inflated by OpenMP threads spinning while they wait for a core, on both sides alike). "
               if os.environ.get("BENCH_THREADS", "2") != "1" else " (one intra-op thread: no OpenMP threads spin). ")
            if max(loads) > 8 else "")
         + "RSS target: "
         "engine ≤ HF (ratio ≤ 1) for every case. Per-round medians (s/step, engine | HF): "
         + "; ".join(f"{c} " + ", ".join(fmt(x) for x in res[c][0].get("rounds", [])) + " | "
                     + ", ".join(fmt(x) for x in res[c][1].get("rounds", [])) for c in cases) + ".")
attn = {res[c][1].get("attn") for c in cases if res[c][1]["ok"]}
L.append("")
L.append(f"HF attention implementation: {', '.join(sorted(a for a in attn if a)) or '?'}. "
         f"HF libraries per case: " + "; ".join(f"{c}: {res[c][1].get('library') or 'transformers'}" for c in cases
                                                 if res[c][1]["ok"]) + ".")
for p in plot_names:
    L.append("")
    L.append(f"![{p}](../../docs/benchmarks/{p})")
L.append("")
# hand-written analysis kept beside the script (where the time goes, what each engine change bought)
notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
if os.path.exists(notes):
    L.append(open(notes, encoding="utf-8").read().strip())
    L.append("")
with open(dst, "w", encoding="utf-8") as f:
    f.write("\n".join(L))
print("\n".join(L), file=sys.stderr)
