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
from transformers import GPT2Config, GPT2LMHeadModel

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
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
