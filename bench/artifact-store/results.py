"""Writes artifact-store's section of docs/benchmarks.md from bench/artifact-store/REPORT.md (which `run` rewrites
on every run): the report itself, its title made a `## ` section heading and its other headings one level down.

    python3 results.py REPORT.md results.md
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().strip().splitlines()
out = []
for i, line in enumerate(lines):
    if i == 0 and line.startswith("# "):
        out.append("## artifact-store: upload and download speed, heap (" + line[2:].strip() + ")")
        out.append("")
        out.append("From `bench/artifact-store/run` ([bench/artifact-store/REPORT.md](../../bench/artifact-store/REPORT.md)).")
    elif re.match(r"^#{1,5} ", line):
        out.append("#" + line)
    else:
        out.append(line)
open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
