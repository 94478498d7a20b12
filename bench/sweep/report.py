"""Follows a sweep until its children and their comparisons are in, then writes its part of the results (a `###`
section for one data set) and its Pareto chart.

Reads KEY, JA (job-api URL), ES (eval-service URL), SWEEP, STARTED, TIMEOUT, PLOTS, RESULTS, NAME, REQUEST from the
environment (bench/sweep/run sets them)."""
import json
import os
import platform
import subprocess
import sys
import time
import urllib.error
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

env = os.environ
key, ja, es, sweep_id = env["KEY"], env["JA"], env["ES"], env["SWEEP"]
deadline = int(env["STARTED"]) + int(env["TIMEOUT"])


def get(url):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def comparison(job_id):
    try:
        return get(f"{es}/v1/comparisons/{job_id}")
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


sweep = None
comparisons = {}
while time.time() < deadline:
    sweep = get(f"{ja}/v1/sweeps/{sweep_id}")
    done = [c for c in sweep["children"] if c["status"] == "succeeded"]
    comparisons = {c["job_id"]: comparison(c["job_id"]) for c in done}
    finished = sweep["status"] != "running"
    compared = all(v is not None and v.get("comparison") is not None for v in comparisons.values())
    baseline_failed = any(v is not None and (v.get("baseline") or {}).get("status") == "failed" for v in comparisons.values())
    print(f"{time.strftime('%H:%M:%S')} sweep {sweep['status']}: {sweep['progress']}, compared {sum(1 for v in comparisons.values() if v and v.get('comparison'))}/{len(done)}", flush=True)
    if finished and (compared or baseline_failed):
        break
    time.sleep(15)
else:
    print("timed out: writing what there is", file=sys.stderr)

elapsed = time.time() - int(env["STARTED"])
rows = []
baseline_acc = trivial = ci_best = None
for c in sweep["children"]:
    cmp = comparisons.get(c["job_id"]) or {}
    comp = cmp.get("comparison") or {}
    method = c["params"]["method"]["type"]
    if method == "lora":
        method += f" r{c['params']['method']['lora']['r']}"
    frac = 100.0 * c["trainable_parameters"] / c["total_parameters"] if c.get("trainable_parameters") else None
    acc = (cmp.get("metrics") or {}).get("accuracy")
    ref = comp.get("reference") or (cmp.get("metrics") or {}).get("reference") or {}
    if comp.get("baseline"):
        baseline_acc = comp["baseline"].get("accuracy")
    if ref:
        trivial = max(ref.get("majority_accuracy", 0), ref.get("label_prior_accuracy", 0))
    rows.append(dict(job=c["job_id"], method=method, status=c["status"], val_acc=c.get("metric"), acc=acc, frac=frac,
                     secs=c.get("train_seconds"), delta=(comp.get("delta") or {}).get("accuracy"),
                     ci=comp.get("accuracy_delta_ci95"), retention=(comp.get("retention_percent") or {}).get("accuracy"),
                     degenerate=comp.get("degenerate")))

# Pareto chart: accuracy (eval-service) against trainable share and training seconds, baseline and trivial as lines
pts = [r for r in rows if r["acc"] is not None and r["frac"]]
png = f"sweep-pareto-{env['NAME']}.png"
if pts:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, xkey, xlabel, log in ((axes[0], "frac", "trainable parameters (% of the model, log)", True),
                                  (axes[1], "secs", "training seconds", False)):
        for r in pts:
            if r[xkey] is None:
                continue
            ax.scatter(r[xkey], r["acc"], s=50)
            ax.annotate(r["method"], (r[xkey], r["acc"]), textcoords="offset points", xytext=(5, 4), fontsize=8)
        front, best = [], -1
        for r in sorted((r for r in pts if r[xkey] is not None), key=lambda r: r[xkey]):
            if r["acc"] > best:
                best = r["acc"]
                front.append((r[xkey], r["acc"]))
        if front:
            ax.plot(*zip(*front), color="black", linewidth=1, label="Pareto front")
        if baseline_acc is not None:
            ax.axhline(baseline_acc, color="green", linestyle="--", label="full fine-tune baseline")
        if trivial is not None:
            ax.axhline(trivial, color="red", linestyle=":", label="trivial reference")
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("validation accuracy")
        ax.legend(fontsize=7)
    fig.suptitle(f"6-method sweep on all-MiniLM-L6-v2, {env['NAME']}")
    fig.tight_layout()
    fig.savefig(os.path.join(env["PLOTS"], png), dpi=110)


def fmt(v, d=3):
    return "–" if v is None else (f"{v:.{d}f}" if isinstance(v, float) else str(v))


load = os.getloadavg()
lines = [f"### {env['NAME']}", "",
         f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average at the end {load[0]:.1f}; sweep "
         f"`{sweep_id}` ({sweep['status']}) took {elapsed / 60:.1f} min with the shared baseline.", "",
         "Request: `" + " ".join(env["REQUEST"].split()) + "`", "",
         "| method | status | val. accuracy (worker) | accuracy (eval-service) | Δ vs full | 95 % CI of Δ | retention | trainable % | train s |",
         "|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    ci = f"[{r['ci']['low']:+.3f}, {r['ci']['high']:+.3f}]" if r["ci"] else "–"
    ret = "degenerate" if r["degenerate"] else fmt(r["retention"], 1)
    lines.append(f"| {r['method']} | {r['status']} | {fmt(r['val_acc'])} | {fmt(r['acc'])} | {fmt(r['delta'])} | {ci} | {ret} | "
                 f"{fmt(r['frac'], 3)} | {fmt(r['secs'], 0)} |")
lines += ["", f"Full fine-tune baseline accuracy {fmt(baseline_acc)}; trivial reference (better of majority class and "
          f"label prior) {fmt(trivial)}. Best child by validation accuracy: "
          f"{(sweep.get('best') or {}).get('job_id', '–')}.", "", f"![Pareto chart](../../docs/benchmarks/{png})", ""]
with open(env["RESULTS"], "w") as f:
    f.write("\n".join(lines))
print("\n".join(lines))
