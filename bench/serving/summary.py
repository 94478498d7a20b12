"""bench/serving: the ratios at 16 clients, from the two tables of results.md (Foundry and HF PEFT rows).

Reads results.md on stdin, prints a markdown table: per model, Foundry's mixed batch (16 clients over 8 adapters)
against Foundry all on one adapter (the issue's target, >= 0.8), against Foundry one adapter at a time, and against
HF PEFT's mixed batch and one adapter at a time on the same decoder and adapter files; then the same two first ratios
by CPU time (completion tokens per CPU-second of the decoding thread, of the Python process on the HF side).
"""
import re
import sys

rows = {}
cpu_rows = {}
model = None


def side_of(variant):
    return "hf" if variant.startswith("HF PEFT") else "foundry"


for line in sys.stdin:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 4 or cells[0] in ("model", "---"):
        continue
    if cells[0]:
        model = re.sub(r" \(HF PEFT\)$", "", cells[0])
        continue
    if cells[1] != "16":
        continue
    variant, tps = cells[2], float(cells[3])
    # tokens per CPU-second: the Foundry table's last cell "N (ratio)", the HF table's "N"
    cpu = cells[-1].split(" ")[0]
    cpu = float(cpu) if re.fullmatch(r"[0-9.]+", cpu) else None
    side = side_of(variant)
    kind = "one" if "all on one" in variant else "mixed" if ("each on its own" in variant or "mixed batch" in variant) \
        else "turns" if "one adapter at a time" in variant else None
    if kind:
        rows[(model, side, kind)] = tps
        if cpu is not None:
            cpu_rows[(model, side, kind)] = cpu

print("| model (16 clients) | Foundry mixed, 8 adapters: tokens/s | ÷ Foundry all on one adapter (target ≥ 0.8) "
      "| ÷ Foundry one adapter at a time | ÷ HF PEFT mixed batch | ÷ HF PEFT one adapter at a time "
      "| by CPU: ÷ Foundry all on one adapter | by CPU: ÷ HF PEFT mixed batch |")
print("|---|---|---|---|---|---|---|---|")
for m in dict.fromkeys(k[0] for k in rows):
    mixed = rows.get((m, "foundry", "mixed"))
    if mixed is None:
        continue

    def ratio(key):
        v = rows.get(key)
        return f"{mixed / v:.2f}x" if v else "–"

    def cpu_ratio(key):
        a, v = cpu_rows.get((m, "foundry", "mixed")), cpu_rows.get(key)
        return f"{a / v:.2f}x" if a and v else "–"

    print(f"| {m} | {mixed:.1f} | {ratio((m, 'foundry', 'one'))} | {ratio((m, 'foundry', 'turns'))} "
          f"| {ratio((m, 'hf', 'mixed'))} | {ratio((m, 'hf', 'turns'))} "
          f"| {cpu_ratio((m, 'foundry', 'one'))} | {cpu_ratio((m, 'hf', 'mixed'))} |")
