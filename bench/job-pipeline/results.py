"""Writes the job pipeline's section of docs/benchmarks.md from bench/job-pipeline/REPORT.md.

    python3 results.py REPORT.md results.md

REPORT.md keeps every run (newest last); the section takes the newest "Sustained POST throughput" (of the product's
setting alone, and of synchronous_commit on vs off), "Dispatch latency" and "SSE fan-out" sections verbatim (headings one level down), so each figure keeps its date, command, machine load
and raw line. A dispatch p99 from fewer than 100 jobs is flagged: with so few samples it is close to the maximum.
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
SYNC = "Sustained POST throughput, synchronous_commit on vs off"
KEYS = ("Sustained POST throughput", SYNC, "Dispatch latency", "SSE fan-out")
parts = re.split(r"(?m)^## ", text)[1:]
sections = {}
for p in parts:
    title = p.splitlines()[0]
    for key in KEYS:
        if title.startswith(key):
            # the side-by-side synchronous_commit runs are kept beside the newest run of the product's setting alone
            sections[SYNC if "synchronous_commit" in title else key] = "### " + p.strip()  # newer replace older
out = ["## Job pipeline: POST throughput, dispatch latency and SSE fan-out", "",
       "From `bench/job-pipeline/run` (which runs `bench/job-pipeline/dispatch-latency`, "
       "`bench/job-pipeline/post-throughput` and `bench/job-pipeline/sse-fan-out`, each on its own devstack and services); the newest measurement of each "
       "from [bench/job-pipeline/REPORT.md](../../bench/job-pipeline/REPORT.md), which keeps the history.", ""]
for key in KEYS:
    if key not in sections:
        out += [f"### {key}", "", "_not measured yet_", ""]
        continue
    s = sections[key]
    m = re.search(r'"jobs": (\d+)', s)
    if key == "Dispatch latency" and m and int(m.group(1)) < 100:
        s += (f"\n\n_Note: {m.group(1)} jobs per row — with fewer than 100 samples the p99 is effectively the maximum "
              f"(here p99 = max); `bench/job-pipeline/run` uses 100._")
    out += [s, ""]
missing = []
if SYNC not in sections:
    missing.append("POST throughput with PostgreSQL `synchronous_commit=off` beside the durable `on` (the numbers above "
                   "are with the default `on`)")
if "SSE fan-out" not in sections:
    missing.append("SSE fan-out to 200 watchers")
if missing:
    out += ["Not measured yet (issue 12): " + ", and ".join(missing) + ".", ""]
open(dst, "w", encoding="utf-8").write("\n".join(out))
