"""peft-engine against Hugging Face transformers and PEFT: one PASS/FAIL line per check, exit 1 on any FAIL.

Run through `interop/run check`. In a fresh work directory it
  1. builds tiny random GPT-2, LLaMA (grouped-query attention) and BERT models with transformers and saves them
     in Hugging Face layout, with two rows of token ids (the second right-padded) and transformers' outputs;
  2. trains LoRA adapters with peft-engine's CLI `train`: on the BERT model (classification, CLS pooling) and on
     the GPT-2 and LLaMA models (sft on a toy term -> definition set; the decoders get the committed byte-level BPE
     tokenizer);
  3. runs peft-engine's InteropDriver (Java): it loads each model and computes its outputs, trains LoRA, prefix
     tuning and prompt tuning on each decoder (causal-LM loss, a few AdamW steps), saves each in PEFT's CAUSAL_LM
     layout, and computes the logits of every adapted model;
  4. loads each adapter with PEFT's PeftModel.from_pretrained and compares.
Tolerance 1e-4 (max abs difference, float32 on both sides), over the real (unpadded) tokens.
"""
import json
import os
import warnings

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")
import pathlib
import subprocess
import sys
import tempfile

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (AutoConfig, AutoModelForCausalLM, BertConfig, BertForSequenceClassification, GPT2Config,
                          GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM)

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOL = 1e-4
REAL = 7  # tokens of the second row that are not padding
BPE = ROOT / "peft-engine/src/test/resources/decoders/tokenizer.json"
failures = []


def report(ok, name, detail):
    print(("PASS" if ok else "FAIL") + f"  {name}: {detail}", flush=True)
    if not ok:
        failures.append(name)


def max_diff(a, b):
    """Max abs difference over row 0 and the real tokens of row 1."""
    return max((a[0] - b[0]).abs().max().item(), (a[1, :REAL] - b[1, :REAL]).abs().max().item())


def widen(model, scale=0.3):
    """Wider random weights than the 0.02 initialisers (norm weights near 1) so outputs are far from zero."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif "norm" in name.lower():
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))


def wordpiece(vocab_size):
    corpus = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("*.md"))]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size,
                                        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", tok.token_to_id("[CLS]")),
                                                                       ("[SEP]", tok.token_to_id("[SEP]"))])
    return tok


def build(work):
    torch.manual_seed(2024)
    vocab = 200
    ids = torch.randint(5, vocab, (2, 10))
    mask = torch.ones_like(ids)
    mask[1, REAL:] = 0
    ids[1, REAL:] = 0
    save_file({"input_ids": ids, "attention_mask": mask}, str(work / "inputs.safetensors"))
    ref = {}

    # GPT-2 gets the committed byte-level BPE tokenizer (320 tokens) so that the causal CLI can train it
    bpe = Tokenizer.from_file(str(BPE))
    eos = bpe.token_to_id("<|endoftext|>")
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=bpe.get_vocab_size(), n_positions=32, n_embd=32, n_layer=2, n_head=4,
                                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                      bos_token_id=eos, eos_token_id=eos)).eval()
    widen(gpt2, 0.15)
    gpt2.save_pretrained(work / "gpt2")
    bpe.save(str(work / "gpt2" / "tokenizer.json"))

    llama = LlamaForCausalLM(LlamaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
                                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                                         bos_token_id=eos, eos_token_id=eos, pad_token_id=None)).eval()
    widen(llama)
    llama.save_pretrained(work / "llama")
    bpe.save(str(work / "llama" / "tokenizer.json"))

    tok = wordpiece(vocab)
    bert = BertForSequenceClassification(BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                                                    num_attention_heads=4, intermediate_size=64, max_position_embeddings=64,
                                                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                                                    num_labels=2)).eval()
    widen(bert, 0.1)
    bert.save_pretrained(work / "bert")
    tok.save(str(work / "bert" / "tokenizer.json"))
    with torch.no_grad():
        ref["gpt2"] = gpt2(input_ids=ids, attention_mask=mask).logits
        ref["llama"] = llama(input_ids=ids, attention_mask=mask).logits
        ref["bert"] = bert.bert(input_ids=ids, attention_mask=mask,
                                token_type_ids=torch.zeros_like(ids)).last_hidden_state
    return ids, mask, ref


# The published configs of four open LLMs (config.json of each hub repository), shrunk: 2 layers, hidden size and
# intermediate size cut down keeping the query/key-value head ratio, the 320-token test vocabulary, and the features
# kept -- rope_theta, rope scaling, rms_norm_eps, tied/untied head, biases, sliding window. Positions in the check are
# 0..9, so two lengths are shrunk with them, to reach those positions: Llama 3's original_max_position_embeddings
# 8192 -> 16 (the llama3 scaling bands) and Mistral's sliding_window 4096 -> 4.
FAMILIES = {
    # meta-llama/Llama-3.2-1B: hidden 2048, 32 heads / 8 kv heads, head_dim 64, intermediate 8192, 16 layers
    "llama-3.2-1b": dict(model_type="llama", hidden_size=64, num_attention_heads=8, num_key_value_heads=2, head_dim=8,
                         intermediate_size=256, num_hidden_layers=2, max_position_embeddings=131072,
                         rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True, attention_bias=False,
                         mlp_bias=False, hidden_act="silu",
                         rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
    # Qwen/Qwen2.5-0.5B: hidden 896, 14 heads / 2 kv heads, intermediate 4864, 24 layers, q/k/v biases
    "qwen2.5-0.5b": dict(model_type="qwen2", hidden_size=56, num_attention_heads=7, num_key_value_heads=1,
                         intermediate_size=304, num_hidden_layers=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
                         rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
                         sliding_window=32768, max_window_layers=2, hidden_act="silu"),
    # mistralai/Mistral-7B-v0.1: hidden 4096, 32 heads / 8 kv heads, intermediate 14336, 32 layers, window 4096
    "mistral-7b": dict(model_type="mistral", hidden_size=64, num_attention_heads=8, num_key_value_heads=2,
                       intermediate_size=224, num_hidden_layers=2, max_position_embeddings=32768, rms_norm_eps=1e-5,
                       rope_theta=10000.0, sliding_window=4, tie_word_embeddings=False, hidden_act="silu"),
    # HuggingFaceTB/SmolLM2-135M: llama, hidden 576, 9 heads / 3 kv heads, intermediate 1536, 30 layers, tied
    "smollm2-135m": dict(model_type="llama", hidden_size=48, num_attention_heads=3, num_key_value_heads=1,
                         intermediate_size=128, num_hidden_layers=2, max_position_embeddings=8192, rms_norm_eps=1e-5,
                         rope_theta=100000.0, tie_word_embeddings=True, attention_bias=False, mlp_bias=False,
                         hidden_act="silu"),
}
FAMILY_METHODS = ("lora", "ia3", "prefix", "prompt")


def build_families(work, ids, mask, ref):
    bpe = Tokenizer.from_file(str(BPE))
    eos = bpe.token_to_id("<|endoftext|>")
    for i, (name, fields) in enumerate(FAMILIES.items()):
        torch.manual_seed(300 + i)
        fields = dict(fields)
        cfg = AutoConfig.for_model(fields.pop("model_type"), vocab_size=bpe.get_vocab_size(), bos_token_id=eos,
                                   eos_token_id=eos, pad_token_id=None, **fields)
        model = AutoModelForCausalLM.from_config(cfg).eval()
        widen(model, 0.15)
        model.save_pretrained(work / name)
        bpe.save(str(work / name / "tokenizer.json"))
        with torch.no_grad():
            ref[name] = model(input_ids=ids, attention_mask=mask).logits
    (work / "families.txt").write_text("".join(n + "\n" for n in FAMILIES))


def bert_training_files(work):
    """A toy sentiment set the classifier can fit: a few positive and negative words in templates."""
    pos = ["adapter trains well", "the platform works", "tests pass", "the model learns fast", "a good result"]
    neg = ["the job failed", "a broken build", "tests fail", "the loss went nan", "a bad result"]
    rows = [{"text": t, "label": "pos"} for t in pos] + [{"text": t, "label": "neg"} for t in neg]
    for name in ("train.jsonl", "valid.jsonl"):
        (work / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = {"model": str(work / "bert"), "task": "classification",
            "training_file": str(work / "train.jsonl"), "validation_file": str(work / "valid.jsonl"),
            "method": {"type": "lora", "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["query", "value"]}},
            "hyperparameters": {"epochs": 2, "batch_size": 5, "learning_rate": 1e-2, "max_seq_length": 16,
                                "warmup_ratio": 0.0, "eval_every_steps": 100, "checkpoint_every_steps": 100},
            "seed": 5}
    (work / "bert-spec.json").write_text(json.dumps(spec, indent=1))


def gpt2_training_files(work):
    """A toy SFT set for the causal CLI: term -> definition pairs made up here."""
    pairs = [("term: LoRA\n", "low-rank adapters on frozen weights"), ("term: IA3\n", "learned scaling vectors"),
             ("term: prefix\n", "trained keys and values per layer"), ("term: prompt\n", "soft tokens before the input"),
             ("term: full\n", "every weight is trained")]
    rows = "".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in pairs)
    (work / "sft.jsonl").write_text(rows)
    spec = {"model": str(work / "gpt2"), "task": "sft",
            "training_file": str(work / "sft.jsonl"), "validation_file": str(work / "sft.jsonl"),
            "method": {"type": "lora", "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["c_attn", "c_fc"]}},
            "hyperparameters": {"epochs": 3, "batch_size": 5, "learning_rate": 1e-2, "max_seq_length": 32,
                                "warmup_ratio": 0.0, "eval_every_steps": 100, "checkpoint_every_steps": 100},
            "seed": 5}
    (work / "gpt2-spec.json").write_text(json.dumps(spec, indent=1))
    spec["model"] = str(work / "llama")
    spec["method"]["lora"]["target_modules"] = ["q_proj", "v_proj"]
    (work / "llama-spec.json").write_text(json.dumps(spec, indent=1))


def java(args, log):
    cp = os.environ["ENGINE_CP"]
    cmd = [os.environ.get("JAVA", "java"), "-Xmx2g", "-cp", cp] + args
    with open(log, "w") as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT).returncode


def main():
    work = pathlib.Path(os.environ.get("INTEROP_WORK") or tempfile.mkdtemp(prefix="interop-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work directory: {work}", flush=True)
    ids, mask, ref = build(work)
    build_families(work, ids, mask, ref)
    bert_training_files(work)
    gpt2_training_files(work)

    rc = java(["io.peftfoundry.engine.cli.Main", "train", "--spec", str(work / "bert-spec.json"),
               "--out", str(work / "bert-train"), "--pooling", "cls", "--threads", "1"], work / "bert-train.log")
    report(rc == 0, "bert: peft-engine CLI train (LoRA on query/value)", f"exit {rc}, log {work / 'bert-train.log'}")
    rc = java(["io.peftfoundry.engine.cli.Main", "train", "--spec", str(work / "gpt2-spec.json"),
               "--out", str(work / "gpt2-train"), "--threads", "1"], work / "gpt2-train.log")
    report(rc == 0, "gpt2: peft-engine CLI train (sft, LoRA on c_attn/c_fc)", f"exit {rc}, log {work / 'gpt2-train.log'}")
    rc = java(["io.peftfoundry.engine.cli.Main", "train", "--spec", str(work / "llama-spec.json"),
               "--out", str(work / "llama-train"), "--threads", "1"], work / "llama-train.log")
    report(rc == 0, "llama: peft-engine CLI train (sft, LoRA on q_proj/v_proj)", f"exit {rc}, log {work / 'llama-train.log'}")
    rc = java(["io.peftfoundry.engine.interop.InteropDriver", str(work)], work / "driver.log")
    report(rc == 0, "peft-engine InteropDriver (load 3 models + 4 families; train LoRA, prefix, prompt on gpt2 and "
           "llama, LoRA, IA3, prefix, prompt on each family)",
           f"exit {rc}, log {work / 'driver.log'}")
    if rc != 0:
        sys.exit(1)
    engine = load_file(str(work / "engine-logits.safetensors"))

    for name, what in [("gpt2", "logits"), ("llama", "logits"), ("bert", "last hidden state")] + [
            (f, "logits") for f in FAMILIES]:
        d = max_diff(engine[name], ref[name])
        report(d <= TOL, f"{name}: peft-engine {what} equal transformers'", f"max abs diff {d:.2e} (tolerance {TOL:g})")

    checks = [("gpt2", m, work / f"gpt2-{m}") for m in ("lora", "prefix", "prompt")]
    checks.append(("gpt2", "cli-lora", work / "gpt2-train/adapter"))
    checks += [("llama", m, work / f"llama-{m}") for m in ("lora", "prefix", "prompt")]
    checks.append(("llama", "cli-lora", work / "llama-train/adapter"))
    checks += [(f, m, work / f"{f}-{m}") for f in FAMILIES for m in FAMILY_METHODS]
    for name, method, adapter in checks:
        base = AutoModelForCausalLM.from_pretrained(work / name).eval()
        model = PeftModel.from_pretrained(base, adapter).eval()
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits
        if method == "prompt":
            logits = logits[:, logits.shape[1] - ids.shape[1]:]  # PEFT returns the virtual tokens' logits too
        key = f"{name}-{method}"
        change = max_diff(engine[key], engine[name])
        report(change > 1e-3, f"{name}: {method} trained by peft-engine changes the logits", f"max change {change:.2e}")
        d = max_diff(engine[key], logits)
        report(d <= TOL, f"{name}: PEFT PeftModel.from_pretrained(peft-engine's {method}) logits equal peft-engine's",
               f"max abs diff {d:.2e} (tolerance {TOL:g})")

    labels = json.loads((work / "bert-train/adapter/labels.json").read_text())
    base = BertForSequenceClassification.from_pretrained(work / "bert", num_labels=2).eval()
    model = PeftModel.from_pretrained(base, work / "bert-train/adapter").eval()
    inner = model.base_model.model
    with torch.no_grad():
        h = inner.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        logits = inner.classifier(h[:, 0])  # peft-engine's CLS pooling: the classifier on [CLS], no pooler
    change = max_diff(h, ref["bert"])
    report(change > 1e-3, "bert: LoRA trained by the CLI changes the encoder's output", f"max change {change:.2e}")
    d = (engine["bert-lora"] - logits).abs().max().item()
    report(d <= TOL, "bert: PEFT PeftModel.from_pretrained(CLI-trained LoRA + classifier) logits equal peft-engine's",
           f"max abs diff {d:.2e} (tolerance {TOL:g}; labels {labels.get('id2label', labels)})")

    print(f"FAIL: {len(failures)} check(s) failed" if failures else "PASS: all checks", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
