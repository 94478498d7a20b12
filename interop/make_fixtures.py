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
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

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


if __name__ == "__main__":
    main()
