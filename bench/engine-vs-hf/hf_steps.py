"""The Hugging Face side of bench/engine-vs-hf: the same training step as peft-engine's, in transformers + PEFT.

    python hf_steps.py --model DIR --data FILE.jsonl --method lora|full|adapter|prefix|prompt|ia3
                       --task classification|sft --steps N --batch 16 --seq 128 --threads 2 --lr LR --result OUT.json

Classification: BertForSequenceClassification.from_pretrained on the directory `engine import` wrote (pooler and
classifier newly initialised), methods through PEFT's get_peft_model with the engine's defaults (LoRA r 8 / alpha 16 /
dropout 0.05 on query+value; prefix 20 virtual tokens through a 512-wide MLP; prompt 20 random soft tokens; IA3 on
key, value, output.dense with output.dense as feed-forward), the bottleneck adapter through the `adapters` library
(AdapterHub, config seq_bn = Pfeiffer, reduction factor 16, relu) with the classifier trained as in the engine.
sft: GPT2LMHeadModel / LlamaForCausalLM (AutoModelForCausalLM) with PEFT LoRA on the engine's default targets.

Every example is tokenised before the first step (truncated to --seq; the data is made so that every example is at
least that long, so each batch is exactly batch x seq tokens). A step is forward + loss, backward, global-norm clip
to 1.0, AdamW (weight decay 0), the linear warm-up/decay schedule and zeroing the gradients; loss.item() ends it.
Writes {"step_seconds": [...], "step_cpu_seconds": [...] (process CPU time), "trainable": N, "total": N, "attn_implementation": ...} to --result.
"""
import argparse
import json
import sys
import time

import torch


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--method", required=True)
    p.add_argument("--task", default="classification")
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--result", required=True)
    p.add_argument("--profile-step", type=int, default=0, help="write a PyTorch profiler trace of step k+1 (0: none)")
    p.add_argument("--profile-out")
    return p.parse_args()


def classification_model(a, num_labels):
    from transformers import BertForSequenceClassification
    model = BertForSequenceClassification.from_pretrained(a.model, num_labels=num_labels)
    if a.method == "full":
        return model, None
    if a.method == "adapter":
        import adapters
        adapters.init(model)
        model.add_adapter("default", config=adapters.SeqBnConfig(reduction_factor=16, non_linearity="relu"))
        model.train_adapter("default")
        for p in model.classifier.parameters():  # the engine trains its head with every method
            p.requires_grad = True
        return model, "adapters " + adapters.__version__
    import peft
    if a.method == "lora":
        cfg = peft.LoraConfig(task_type="SEQ_CLS", r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["query", "value"])
    elif a.method == "prefix":
        cfg = peft.PrefixTuningConfig(task_type="SEQ_CLS", num_virtual_tokens=20, prefix_projection=True, encoder_hidden_size=512)
    elif a.method == "prompt":
        cfg = peft.PromptTuningConfig(task_type="SEQ_CLS", num_virtual_tokens=20)
    elif a.method == "ia3":
        cfg = peft.IA3Config(task_type="SEQ_CLS", target_modules=["key", "value", "output.dense"], feedforward_modules=["output.dense"])
    else:
        sys.exit(f"unknown method {a.method}")
    return peft.get_peft_model(model, cfg), "peft " + peft.__version__


def causal_model(a):
    from transformers import AutoModelForCausalLM
    import peft
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
    if a.method == "full":
        return model, None
    if a.method != "lora":
        sys.exit("sft: only lora and full here")
    if model.config.model_type == "gpt2":
        cfg = peft.LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["c_attn"], fan_in_fan_out=True)
    else:
        cfg = peft.LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj"])
    return peft.get_peft_model(model, cfg), "peft " + peft.__version__


def main():
    a = parse()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    from transformers import PreTrainedTokenizerFast, get_linear_schedule_with_warmup
    rows = [json.loads(l) for l in open(a.data, encoding="utf-8")]
    tok = PreTrainedTokenizerFast(tokenizer_file=f"{a.model}/tokenizer.json")
    need = a.steps * a.batch
    batches = []
    if a.task == "classification":
        labels = sorted({r["label"] for r in rows})
        enc = tok([r["text"] for r in rows[:need]], truncation=True, max_length=a.seq, padding="max_length", return_tensors="pt")
        if int(enc["attention_mask"].sum()) != need * a.seq:
            sys.exit("some example is shorter than --seq tokens: make the data longer")
        y = torch.tensor([labels.index(r["label"]) for r in rows[:need]])
        for i in range(0, need, a.batch):
            batches.append(dict(input_ids=enc["input_ids"][i:i + a.batch], attention_mask=enc["attention_mask"][i:i + a.batch],
                                token_type_ids=enc["token_type_ids"][i:i + a.batch], labels=y[i:i + a.batch]))
        model, lib = classification_model(a, len(labels))
    else:
        eos = tok.convert_tokens_to_ids(tok.convert_ids_to_tokens(len(tok) - 1))
        ids, lab = [], []
        for r in rows[:need]:
            p = tok(r["prompt"])["input_ids"]
            c = tok(r["completion"])["input_ids"] + [eos]
            seq = (p + c)[:a.seq]
            if len(seq) < a.seq:
                sys.exit("some example is shorter than --seq tokens: make the data longer")
            ids.append(seq)
            lab.append(([-100] * len(p) + c)[:a.seq])
        ids, lab = torch.tensor(ids), torch.tensor(lab)
        for i in range(0, need, a.batch):
            batches.append(dict(input_ids=ids[i:i + a.batch], attention_mask=torch.ones_like(ids[i:i + a.batch]),
                                labels=lab[i:i + a.batch]))
        model, lib = causal_model(a)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    total = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    sched = get_linear_schedule_with_warmup(opt, max(1, int(0.06 * a.steps)), a.steps)
    times, cpu = [], []
    prof = None
    for step, b in enumerate(batches, 1):
        if a.profile_step and step == a.profile_step + 1:
            prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            prof.__enter__()
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = model(**b).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        lv = loss.item()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if prof is not None:
            prof.__exit__(None, None, None)
            prof.export_chrome_trace(a.profile_out)
            prof = None
        print(f"hf step {step}/{len(batches)} loss {lv:.4f} {times[-1]:.3f} s", file=sys.stderr, flush=True)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    json.dump({"step_seconds": times, "step_cpu_seconds": cpu, "trainable": trainable, "total": total, "library": lib,
               "attn_implementation": getattr(base.config, "_attn_implementation", None)}, open(a.result, "w"))


if __name__ == "__main__":
    main()
