"""Writes the random-init decoders bench/memory-estimate trains: published configs (GPT-2, SmolLM2-135M, Qwen2.5-0.5B,
Llama-3.2-1B), the last two with fewer layers, each saved as the published checkpoint is stored (GPT-2 float32, the
others bfloat16) with transformers' save_pretrained, plus the engine's test tokenizer (byte-level BPE, 320 tokens: the
data's ids stay below 320, the model's vocabulary and logits keep the published size) and shape.json (what
artifact-store records: model_type, parameters = elements in the safetensors, the config's sizes).
Usage: build_models.py OUT_DIR TOKENIZER_JSON"""
import json, os, shutil, struct, sys
import torch
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

out, tokenizer = sys.argv[1], sys.argv[2]


def models():
    # openai-community/gpt2 config.json
    yield "gpt2", torch.float32, GPT2LMHeadModel(GPT2Config(
        vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, bos_token_id=50256, eos_token_id=50256))
    # HuggingFaceTB/SmolLM2-135M config.json (all 30 layers)
    yield "smollm2-135m", torch.bfloat16, LlamaForCausalLM(LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True, bos_token_id=0, eos_token_id=0, hidden_act="silu"))
    # Qwen/Qwen2.5-0.5B config.json with 6 of its 24 layers
    yield "qwen2.5-0.5b-6l", torch.bfloat16, Qwen2ForCausalLM(Qwen2Config(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=6, num_attention_heads=14,
        num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151643, hidden_act="silu",
        use_sliding_window=False, max_window_layers=6))
    # meta-llama/Llama-3.2-1B config.json with 2 of its 16 layers (bench/llm-1b's --layers 2)
    yield "llama-3.2-1b-2l", torch.bfloat16, LlamaForCausalLM(LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=2, num_attention_heads=32,
        num_key_value_heads=8, head_dim=64, max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
        tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001, hidden_act="silu",
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192}))


def elements(directory):
    n = 0
    for f in os.listdir(directory):
        if f.endswith(".safetensors"):
            with open(os.path.join(directory, f), "rb") as h:
                header = json.loads(h.read(struct.unpack("<Q", h.read(8))[0]))
            for k, v in header.items():
                if k != "__metadata__":
                    size = 1
                    for d in v["shape"]:
                        size *= d
                    n += size
    return n


torch.manual_seed(0)
for name, dtype, model in models():
    d = os.path.join(out, name)
    if os.path.exists(os.path.join(d, "shape.json")):
        continue
    model = model.to(dtype)
    model.save_pretrained(d, safe_serialization=True, max_shard_size="1500MB")
    shutil.copy(tokenizer, os.path.join(d, "tokenizer.json"))
    c = model.config
    shape = {"family": c.model_type, "parameters": elements(d), "hidden_size": c.hidden_size,
             "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
             "intermediate_size": getattr(c, "intermediate_size", None) or getattr(c, "n_inner", None) or 4 * c.hidden_size,
             "vocab_size": c.vocab_size, "dtype": str(dtype).replace("torch.", "")}
    json.dump(shape, open(os.path.join(d, "shape.json"), "w"))
    print(name, shape, file=sys.stderr)
