"""Writes the small reference fixtures that peft-engine's decoder tests compare against.

Run through `interop/run fixtures` (it creates interop/.venv with torch, transformers, tokenizers).
Everything is built here from a seed: a byte-level BPE tokenizer trained on text in this
repository, a tiny random GPT-2 (transformers' GPT2LMHeadModel) and the logits transformers
computes for fixed token ids. Output: peft-engine/src/test/resources/decoders/.
"""
import json
import pathlib
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "peft-engine/src/test/resources/decoders"


def corpus():
    # permissive text that lives in this repository: our own docs
    for p in sorted((ROOT / "shared").glob("*.md")) if (ROOT / "shared").exists() else []:
        yield p.read_text(encoding="utf-8")
    for p in sorted(ROOT.glob("*.md")):
        yield p.read_text(encoding="utf-8")
    yield (ROOT / "peft-engine/README.md").read_text(encoding="utf-8")


def tokenizer(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    return tok


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # the tokenizer is trained once: its corpus (this repository's docs) changes with every commit, so a
    # committed tokenizer.json is reused unless --retrain-tokenizer is given
    if (OUT / "tokenizer.json").exists() and "--retrain-tokenizer" not in sys.argv:
        tok = Tokenizer.from_file(str(OUT / "tokenizer.json"))
    else:
        tok = tokenizer(320)
        tok.save(str(OUT / "tokenizer.json"))
    texts = ["The adapter is trained on a frozen backbone.", "LoRA r=8, alpha 16 -> 2x", "naïve café ✓"]
    enc = [{"text": t, "ids": tok.encode(t).ids} for t in texts]
    (OUT / "tokenizer-cases.json").write_text(json.dumps(enc, ensure_ascii=False, indent=1))

    torch.manual_seed(7)
    eos = tok.token_to_id("<|endoftext|>")
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=32, n_embd=16, n_layer=2, n_head=2,
                     bos_token_id=eos, eos_token_id=eos, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(OUT / "gpt2-tiny", safe_serialization=True)
    ids = torch.tensor([enc[0]["ids"][:10], enc[1]["ids"][:10]])
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # right padding on the second row
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.contiguous()},
              str(OUT / "gpt2-tiny-logits.safetensors"))
    llama(tok, ids, mask)
    families(tok, ids, mask)
    print("wrote", OUT, file=sys.stderr)


def llama(tok, ids, mask):
    """A tiny random LlamaForCausalLM with grouped-query attention (4 query heads share 2 key/value heads),
    an untied head and a non-default rope_theta; weights drawn wider than LLaMA's 0.02 (and RMSNorm weights
    away from 1) so that the logits are far from zero and every tensor matters to the comparison."""
    torch.manual_seed(11)
    eos = tok.token_to_id("<|endoftext|>")
    cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32, rms_norm_eps=1e-6,
                      rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, tie_word_embeddings=False,
                      bos_token_id=eos, eos_token_id=eos, pad_token_id=None)
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    model.save_pretrained(OUT / "llama-tiny", safe_serialization=True)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.contiguous()},
              str(OUT / "llama-tiny-logits.safetensors"))


def widen(model):
    """Weights drawn wider than the 0.02 default (norm scales away from 1) so every tensor moves the logits."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))


def families(tok, ids, mask):
    """One tiny model per family feature peft-engine reads (see LlamaFamiliesTest):
    llama3-tiny  -- rope_scaling llama3 (original_max_position_embeddings shrunk to 16 so the scaled bands reach
                    the test positions), tied embeddings, attention_bias, head_dim 12 != hidden/heads; saved in
                    3 shards with model.safetensors.index.json
    mistral-tiny -- sliding_window 4 over rows of 10 tokens
    qwen2-tiny   -- q/k/v biases, tied embeddings, rope_scaling linear (factor 2); saved in bfloat16 (the logits
                    are transformers' float32 forward on those bf16-rounded weights)
    Each <name>-logits.safetensors holds input_ids, attention_mask, logits and the rotary inv_freq."""
    eos = tok.token_to_id("<|endoftext|>")
    vocab = tok.get_vocab_size()
    common = dict(vocab_size=vocab, max_position_embeddings=64, bos_token_id=eos, eos_token_id=eos,
                  pad_token_id=None, attn_implementation="eager")
    specs = [
        ("llama3-tiny", LlamaForCausalLM, LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
            head_dim=12, rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True, attention_bias=True,
            rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 16}, **common), "40KB", torch.float32),
        ("mistral-tiny", MistralForCausalLM, MistralConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=4, tie_word_embeddings=False, **common),
         None, torch.float32),
        ("qwen2-tiny", Qwen2ForCausalLM, Qwen2Config(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
            rope_scaling={"rope_type": "linear", "factor": 2.0}, **common), None, torch.bfloat16),
    ]
    for i, (name, cls, cfg, shard, dtype) in enumerate(specs):
        torch.manual_seed(20 + i)
        model = cls(cfg).eval()
        widen(model)
        if dtype != torch.float32:
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(dtype).to(torch.float32))  # the stored bf16 values, computed in float32
        kwargs = {"max_shard_size": shard} if shard else {}
        model.to(dtype).save_pretrained(OUT / name, safe_serialization=True, **kwargs)
        # the reference is what a user gets: the saved directory loaded back in float32 (rotary buffers recomputed)
        model = cls.from_pretrained(OUT / name, dtype=torch.float32, attn_implementation="eager").eval()
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits
        inv_freq = model.model.rotary_emb.inv_freq.to(torch.float32)
        save_file({"input_ids": ids, "attention_mask": mask, "logits": logits.contiguous(), "inv_freq": inv_freq},
                  str(OUT / f"{name}-logits.safetensors"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["families"]:
        # only the family fixtures (the others stay as committed)
        t = Tokenizer.from_file(str(OUT / "tokenizer.json"))
        enc = json.loads((OUT / "tokenizer-cases.json").read_text())
        ids = torch.tensor([enc[0]["ids"][:10], enc[1]["ids"][:10]])
        mask = torch.ones_like(ids)
        mask[1, 7:] = 0
        families(t, ids, mask)
    else:
        main()
