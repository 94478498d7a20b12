"""Side-by-side operator summary of one profiled training step, engine vs HF (bench/engine-vs-hf/run --profile).

    python profile_summary.py WORK CASE...

Reads WORK/runs/CASE-{engine,hf}-1/trace.json (Chrome trace format from DJL's JniUtils.stopProfile and from
torch.profiler's export_chrome_trace), computes every operator's self time (its duration minus that of the events
nested in it on the same thread) and prints, per case, the operators ordered by the larger self time of the two
sides: calls and self milliseconds on each side. The profiler slows every operator by a similar amount, so compare
the calls and the shares, not absolute times with the timed runs.
"""
import collections
import json
import os
import sys


def summary(path):
    data = json.load(open(path))
    events = data["traceEvents"] if isinstance(data, dict) else data
    # operators only: DJL's legacy profiler writes aten ops; torch.profiler adds python/user annotations
    events = [e for e in events if e.get("ph") == "X" and e.get("cat", "cpu_op") in ("cpu_op", "Operator", "operator")]
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    self_us, calls = collections.Counter(), collections.Counter()
    total = 0.0
    for es in by_thread.values():
        es.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in es:
            e["self"] = e["dur"]
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
                stack.pop()
            if stack:
                stack[-1]["self"] -= e["dur"]
            else:
                total += e["dur"]
            stack.append(e)
        for e in es:
            self_us[e["name"]] += e["self"]
            calls[e["name"]] += 1
    return self_us, calls, total


work, cases = sys.argv[1], sys.argv[2:]
for c in cases:
    sides = {}
    for s in ("engine", "hf"):
        f = os.path.join(work, "runs", f"{c}-{s}-1", "trace.json")
        if os.path.exists(f):
            sides[s] = summary(f)
    if len(sides) < 2:
        print(f"\n{c}: no trace from " + ", ".join(s for s in ("engine", "hf") if s not in sides))
        continue
    (es, ec, et), (hs, hc, ht) = sides["engine"], sides["hf"]
    print(f"\n### {c}: one profiled step (step 3)\n")
    print(f"operator calls: engine {sum(ec.values()):,}, HF {sum(hc.values()):,}; "
          f"top-level operator time: engine {et / 1e3:.0f} ms, HF {ht / 1e3:.0f} ms\n")
    print("| operator | engine calls | engine self ms | engine share | HF calls | HF self ms | HF share |")
    print("|---|---|---|---|---|---|---|")
    names = sorted(set(es) | set(hs), key=lambda n: -max(es.get(n, 0), hs.get(n, 0)))
    for n in names[:25]:
        print(f"| `{n}` | {ec.get(n, 0)} | {es.get(n, 0) / 1e3:.1f} | {100 * es.get(n, 0) / et:.1f} % | "
              f"{hc.get(n, 0)} | {hs.get(n, 0) / 1e3:.1f} | {100 * hs.get(n, 0) / ht:.1f} % |")
