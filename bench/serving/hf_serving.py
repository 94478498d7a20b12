"""bench/serving, the Hugging Face side: the same decoder and the same 8 LoRA adapters (written by ServingBench in
PEFT layout) served with transformers + PEFT, greedy, the same prompts and completion length.

Variants for C clients (client c on adapter c mod 8, or all on adapter 0), each client sending R requests:
  - "HF PEFT, all on one adapter": R rounds of one generate() over the C prompts (left padded), adapter 0 active;
  - "HF PEFT, mixed batch": R rounds of one generate() over the C prompts with adapter_names=[…] (PEFT's mixed-adapter
    batch inference: each row through its own adapter);
  - "HF PEFT, one adapter at a time": for each adapter, R rounds of one generate() over its own clients' prompts.
min_new_tokens = max_new_tokens, so every request produces exactly MAX_TOKENS tokens (no EOS), as on the Java side.
Prints markdown rows `| | clients | variant | tokens/s | TTFT | |` (TTFT = the time of the round's first token: prefill
plus one step, measured with a streamer-free max_new_tokens=1 call per round shape) and tokens per CPU-second of the
process (time.process_time, one torch thread: what the tokens cost when other processes share the cores).

Usage: hf_serving.py WORK_DIR MAX_TOKENS REQUESTS THREADS [ROUNDS [CLIENTS [MODELS]]] (the variants interleaved ROUNDS
times, each reporting its best round; CLIENTS e.g. 1,16 (default), MODELS demo, llama or demo,llama (default))
"""
import sys
import time
from pathlib import Path

import torch
from peft import PeftModel
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

PROMPTS = ["The hacker", "A program is", "In the beginning the system", "Real programmers", "The kernel", "An editor",
           "The network", "A bug", "The compiler", "Unix", "The manual", "A wizard", "The terminal", "Memory is",
           "The user", "A hack"]


def batch(tok, prompts, pad_id):
    ids = [tok.encode(p).ids for p in prompts]
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):  # left padding: every row's last prompt token is at the same position
        input_ids[i, width - len(x):] = torch.tensor(x)
        mask[i, width - len(x):] = 1
    return input_ids, mask


def generate(model, tok, prompts, names, max_tokens, pad_id):
    input_ids, mask = batch(tok, prompts, pad_id)
    kw = {"adapter_names": names} if names is not None else {}
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_tokens,
                             min_new_tokens=max_tokens, do_sample=False, pad_token_id=pad_id, **kw)
    return int((out.shape[1] - input_ids.shape[1]) * out.shape[0])


def main():
    work, max_tokens, requests, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    client_counts = [int(c) for c in (sys.argv[6] if len(sys.argv) > 6 else "1,16").split(",")]
    wanted = (sys.argv[7] if len(sys.argv) > 7 else "demo,llama").split(",")
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    models = [("demo decoder (GPT-2, 4 x 128, 5.3 MB)", Path("demo/decoder/pretrained").resolve(), "pretrained"),
              ("LLaMA-shaped (4 x 256, GQA 8/2, SwiGLU, 16 MB)", work / "llama", "llama")]
    for title, base_dir, stem in models:
        if ("demo" if stem == "pretrained" else "llama") not in wanted:
            continue
        tok = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
        pad_id = base.config.eos_token_id if base.config.eos_token_id is not None else 0
        adapters = [work / f"{stem}-lora-{i}" for i in range(8)]
        model = PeftModel.from_pretrained(base, adapters[0], adapter_name="a0").eval()
        for i, a in enumerate(adapters[1:], start=1):
            model.load_adapter(a, adapter_name=f"a{i}")
        names = [f"a{i}" for i in range(8)]
        # warm-up: every adapter once
        for n in names:
            model.set_adapter(n)
            generate(model, tok, PROMPTS[:1], None, 4, pad_id)
        print(f"| {title} (HF PEFT) | | | | | |", flush=True)
        for clients in client_counts:
            prompts = [PROMPTS[c % len(PROMPTS)] for c in range(clients)]
            own = [names[c % 8] for c in range(clients)]
            best = {}
            for _ in range(rounds):  # the variants interleaved; each keeps its best round
                model.set_adapter("a0")
                keep(best, "HF PEFT, all on one adapter", measure(model, tok, prompts, None, max_tokens, requests, pad_id))
                if clients > 1:
                    keep(best, f"HF PEFT, mixed batch ({min(clients, 8)} adapters, adapter_names)",
                         measure(model, tok, prompts, own, max_tokens, requests, pad_id))
                    keep(best, f"HF PEFT, one adapter at a time ({min(clients, 8)} adapters in turn)",
                         turns(model, tok, prompts, names, max_tokens, requests, pad_id))
            for variant, (tps, ttft, per_cpu) in best.items():
                ttft_s = f"{ttft * 1000:.0f}" if ttft is not None else "–"
                print(f"| | {clients} | {variant} | {tps:.1f} | {ttft_s} | {per_cpu:.0f} |", flush=True)


def keep(best, variant, result):
    """The best round by wall time, with the best round's tokens per CPU-second (each the least disturbed)."""
    if variant not in best:
        best[variant] = result
        return
    wall = result if result[0] > best[variant][0] else best[variant]
    best[variant] = (wall[0], wall[1], max(result[2], best[variant][2]))


def measure(model, tok, prompts, names, max_tokens, requests, pad_id):
    """(tokens/s, TTFT s): `requests` rounds of one generate over all prompts; TTFT from a 1-token generate first."""
    f0 = time.perf_counter()
    generate(model, tok, prompts, names, 1, pad_id)
    first = time.perf_counter() - f0
    t0, c0 = time.perf_counter(), time.process_time()
    tokens = sum(generate(model, tok, prompts, names, max_tokens, pad_id) for _ in range(requests))
    return tokens / (time.perf_counter() - t0), first, tokens / (time.process_time() - c0)


def turns(model, tok, prompts, names, max_tokens, requests, pad_id):
    """Each adapter's own clients batched alone, all their requests, then the next adapter's."""
    t0, c0 = time.perf_counter(), time.process_time()
    tokens = 0
    for a in range(min(len(prompts), len(names))):
        mine = [prompts[c] for c in range(len(prompts)) if c % len(names) == a]
        model.set_adapter(names[a])
        for _ in range(requests):
            tokens += generate(model, tok, mine, None, max_tokens, pad_id)
    return tokens / (time.perf_counter() - t0), None, tokens / (time.process_time() - c0)


if __name__ == "__main__":
    main()
