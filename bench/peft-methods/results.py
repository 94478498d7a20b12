"""Writes peft-methods' section of docs/benchmarks.md (quality and cost of every method on MiniLM x WordNet) from the
report `bench/peft-methods/run` wrote: the report itself, its title made a `## ` heading, other headings one level down.

    python3 results.py REPORT.md results.md
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding="utf-8").read().strip().splitlines()
out = []
for i, line in enumerate(lines):
    if i == 0 and line.startswith("# "):
        out.append("## Quality and cost of every method (" + line[2:].strip() + ")")
        out.append("")
        out.append("From `bench/peft-methods/run` (" + ("[bench/peft-methods/REPORT.md](../../bench/peft-methods/REPORT.md)"
                   if src.endswith("bench/peft-methods/REPORT.md") else "a quick run: `BENCH_QUICK=1`") + "); one seed.")
    elif re.match(r"^#{1,5} ", line):
        out.append("#" + line)
    else:
        out.append(line)
open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")
