"""Writes the job pipeline's section of docs/benchmarks.md from bench/job-pipeline/REPORT.md.

    python3 results.py REPORT.md results.md

REPORT.md keeps every run (newest last); the section takes the newest "Sustained POST throughput" and the newest
"Dispatch latency" sections verbatim (headings one level down), so each figure keeps its date, command, machine load
and raw line. A dispatch p99 from fewer than 100 jobs is flagged: with so few samples it is close to the maximum.
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
parts = re.split(r"(?m)^## ", text)[1:]
sections = {}
for p in parts:
    title = p.splitlines()[0]
    for key in ("Sustained POST throughput", "Dispatch latency"):
        if title.startswith(key):
            sections[key] = "### " + p.strip()  # later (newer) sections replace earlier ones
out = ["## Job pipeline: POST throughput and dispatch latency", "",
       "From `bench/job-pipeline/run` (which runs `bench/job-pipeline/dispatch-latency` and "
       "`bench/job-pipeline/post-throughput`, each on its own devstack and services); the newest measurement of each "
       "from [bench/job-pipeline/REPORT.md](../../bench/job-pipeline/REPORT.md), which keeps the history.", ""]
for key in ("Sustained POST throughput", "Dispatch latency"):
    if key not in sections:
        out += [f"### {key}", "", "_not measured yet_", ""]
        continue
    s = sections[key]
    m = re.search(r'"jobs": (\d+)', s)
    if key == "Dispatch latency" and m and int(m.group(1)) < 100:
        s += (f"\n\n_Note: {m.group(1)} jobs per row — with fewer than 100 samples the p99 is effectively the maximum "
              f"(here p99 = max); `bench/job-pipeline/run` uses 100._")
    out += [s, ""]
out += ["Not measured yet (issue 12): POST throughput with PostgreSQL `synchronous_commit=off` beside the durable `on` "
        "(the numbers above are with the default `on`), and SSE fan-out to 200 watchers.", ""]
open(dst, "w", encoding="utf-8").write("\n".join(out))
