"""Loads an adapter the platform trained on the tiny Qwen2 chat model into Hugging Face PEFT and answers the validation
conversations with it (greedy, the model's chat template, stop at <|im_end|>).

    /work/venv-hf/bin/python demo/chat-sft/load_in_peft.py MODEL_DIR ADAPTER_DIR VALID_JSONL
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer


def main(model_dir, adapter_dir, valid):
    tok = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter_dir)  # raises on a key or shape that does not fit
    model.eval()
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    nonzero_b = sum(1 for n, p in lora.items() if "lora_B" in n and p.abs().sum() > 0)
    print(json.dumps({"peft_type": model.peft_config["default"].peft_type.value, "lora_tensors": len(lora),
                      "trained_lora_B": nonzero_b, "target_modules": sorted(model.peft_config["default"].target_modules)}))
    hits = 0
    rows = [json.loads(l) for l in open(valid) if l.strip()]
    for r in rows:
        msgs = r["messages"][:-1]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=8, do_sample=False, eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"))
        answer = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()
        hits += answer == r["messages"][-1]["content"]
        print(json.dumps({"user": msgs[-1]["content"], "answer": answer, "reference": r["messages"][-1]["content"]}))
    print(json.dumps({"exact_match": hits / len(rows)}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
