"""A tiny random Qwen2-shaped chat model for the chat SFT walk-through (README.md beside this file).

Built with transformers from a Qwen2Config (2 layers, hidden 64, grouped-query attention 4/2 heads, q/k/v biases, tied
embeddings), weights in bfloat16 and saved in shards (model.safetensors.index.json + model-0000i-of-0000n.safetensors),
with the ChatML tokenizer and template of peft-engine's chat fixtures (chat_template.jinja, eos_token <|im_end|>).
Random weights: nothing is downloaded. Also writes chat SFT data (train/valid JSON Lines of {"messages": [...]}).

    /work/venv-hf/bin/python demo/chat-sft/make_model.py OUT_DIR
"""
import json
import pathlib
import shutil
import sys
import zipfile

import torch
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHATML = ROOT / "peft-engine/src/test/resources/chat/chatml"


def main(out):
    out = pathlib.Path(out)
    model_dir = out / "qwen2-chat-tiny"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tok = AutoTokenizer.from_pretrained(str(CHATML))
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    torch.manual_seed(5)
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      tie_word_embeddings=True, bos_token_id=None, eos_token_id=im_end, torch_dtype=torch.bfloat16)
    model = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
    model.generation_config.eos_token_id = [im_end]
    model.save_pretrained(model_dir, max_shard_size="150KB", safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(CHATML / f, model_dir / f)
    with zipfile.ZipFile(out / "qwen2-chat-tiny.zip", "w", zipfile.ZIP_STORED) as z:
        for p in sorted(model_dir.iterdir()):
            z.write(p, p.name)

    facts = [("red?", "apple"), ("yellow?", "banana"), ("green?", "pear"), ("purple?", "plum"), ("orange?", "orange")]
    def conv(q, a, more=None):
        m = [{"role": "system", "content": "Name the fruit."}, {"role": "user", "content": q},
             {"role": "assistant", "content": a}]
        if more:
            m += [{"role": "user", "content": more[0]}, {"role": "assistant", "content": more[1]}]
        return {"messages": m}
    train = [conv(q, a) for q, a in facts] * 8 + [conv("red?", "apple", ("green?", "pear"))] * 4
    (out / "chat-train.jsonl").write_text("".join(json.dumps(x) + "\n" for x in train))
    (out / "chat-valid.jsonl").write_text("".join(json.dumps(conv(q, a)) + "\n" for q, a in facts))
    shards = sorted(p.name for p in model_dir.glob("model-*.safetensors"))
    print(json.dumps({"model_dir": str(model_dir), "zip": str(out / "qwen2-chat-tiny.zip"), "shards": len(shards),
                      "parameters": sum(p.numel() for p in model.parameters()), "dtype": str(model.dtype),
                      "eos": im_end}))


if __name__ == "__main__":
    main(sys.argv[1])
