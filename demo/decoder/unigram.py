#!/usr/bin/env python3
"""Reference point for REPORT.md: the perplexity of a unigram model (token frequencies of the
pretraining corpus, add-one smoothed) on the held-out files, with the decoder's tokenizer.

A decoder that has learned nothing beyond token frequencies scores about this; lower means it uses
context. Needs the Python `tokenizers` package (interop's venv has it):
    /work/main/interop/.venv/bin/python demo/decoder/unigram.py
Approximation: every token of a held-out text plus one end-of-text per text is scored (peft-engine's
eval skips the first token of each 128-token block, under 1 % of the tokens).
"""
import collections
import json
import math
import os
import sys

from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "data", "decoder")
tok = Tokenizer.from_file(os.path.join(here, "init", "tokenizer.json"))
eot = tok.token_to_id("<|endoftext|>")
vocab = tok.get_vocab_size()


def texts(name):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield row["text"] if "text" in row else None, row


counts = collections.Counter()
for text, _ in texts("pretrain-train.jsonl"):
    counts.update(tok.encode(text).ids)
    counts[eot] += 1
total = sum(counts.values())


def nll(ids):
    return -sum(math.log((counts[i] + 1) / (total + vocab)) for i in ids)


for name in ("pretrain-heldout.jsonl", "legal-heldout.jsonl"):
    loss = n = 0
    for text, _ in texts(name):
        ids = tok.encode(text).ids + [eot]
        loss += nll(ids)
        n += len(ids)
    print(f"{name}: unigram perplexity {math.exp(loss / n):.1f} over {n} tokens")
# definitions: completion tokens + end-of-text, as the sft evaluation scores them
loss = n = 0
for _, row in texts("definitions-heldout.jsonl"):
    ids = (tok.encode(row["completion"]).ids + [eot])
    p = len(tok.encode(row["prompt"]).ids)
    ids = ids[:max(0, 128 - p)]
    loss += nll(ids)
    n += len(ids)
print(f"definitions-heldout.jsonl (completions): unigram perplexity {math.exp(loss / n):.1f} over {n} tokens")
