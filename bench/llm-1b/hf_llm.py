"""The Hugging Face side of bench/llm-1b: from_pretrained(torch_dtype=bfloat16), PEFT LoRA r 16 (alpha 32, no dropout)
on q/k/v/o_proj, STEPS AdamW steps (lr 1e-4) of causal-LM loss on the same row of token ids as the engine side.
With a 6th argument "checkpointing", gradient checkpointing is on (transformers' gradient_checkpointing_enable, the
non-reentrant torch.utils.checkpoint, so no input needs to require a gradient under frozen embeddings).
Usage: hf_llm.py MODEL_DIR IDS_FILE STEPS THREADS RESULT.json [checkpointing]"""
import json
import os
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model_dir, ids_file, steps, threads, result = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
checkpointing = len(sys.argv) > 6 and sys.argv[6] == "checkpointing"
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
ids = torch.tensor([[int(l) for l in open(ids_file) if l.strip()]])
t0 = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16)
load = time.perf_counter() - t0
print(f"hf: loaded in {load:.1f} s", file=sys.stderr, flush=True)
if os.environ.get("BENCH_LAUNCH_NS"):  # interpreter start, imports (torch, transformers, peft) and the load
    print(f"hf: model loaded {(time.time_ns() - int(os.environ['BENCH_LAUNCH_NS'])) / 1e9:.2f} s after launch",
          file=sys.stderr, flush=True)
if checkpointing:
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                                         target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
# PEFT keeps the LoRA weights in the base layer's dtype (bf16 here) unless told otherwise; the engine trains them
# in float32, so they are float32 here too (autocast_adapter_dtype does the same in newer PEFT)
for n, p in model.named_parameters():
    if p.requires_grad:
        p.data = p.data.float()
model.train()
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
times, losses = [], []
for s in range(steps):
    a = time.perf_counter()
    out = model(input_ids=ids, labels=ids)
    out.loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    times.append(time.perf_counter() - a)
    losses.append(out.loss.item())
    print(f"hf: step {s + 1} {times[-1]:.1f} s loss {losses[-1]:.4f}", file=sys.stderr, flush=True)
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
json.dump({"gradient_checkpointing": checkpointing, "load_seconds": load, "step_seconds": times, "losses": losses, "trainable": trainable}, open(result, "w"))
