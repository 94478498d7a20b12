"""Writes the chat-template fixtures that peft-engine's ChatTemplateFixturesTest compares against.

Run through `interop/run fixtures` (or `interop/run chat-fixtures` for this part alone). Three model directories
(tokenizer files only, no weights) under peft-engine/src/test/resources/chat/, each with a chat template written
here from the published templates' structure:
  chatml/   ChatML as Qwen2/Qwen2.5 use it (system default, tools as JSON via tojson, <|im_start|>role ... <|im_end|>),
            written as chat_template.jinja beside tokenizer_config.json (transformers 5 layout); assistant turns
            wrapped in {% generation %} so transformers' return_assistant_tokens_mask gives an independent mask
  llama3/   Llama 3 (<|begin_of_text|>, <|start_header_id|>role<|end_header_id|>, content | trim, <|eot_id|>),
            in tokenizer_config.json's chat_template (transformers 4 layout)
  mistral/  Mistral [INST] ... [/INST] with strict user/assistant alternation (raise_exception) and eos after answers
The tokenizer is the byte-level BPE of the decoder fixtures (decoders/tokenizer.json) with the templates' special
tokens added. cases.json holds, per template and conversation, what tokenizer.apply_chat_template returns: the text,
the token ids (add_generation_prompt false and true) and, where the template marks generation, the assistant mask.
Nothing is downloaded.
"""
import json
import pathlib
import shutil
import sys

from tokenizers import AddedToken, Tokenizer
from transformers import AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
BASE_TOKENIZER = ROOT / "peft-engine/src/test/resources/decoders/tokenizer.json"
OUT = ROOT / "peft-engine/src/test/resources/chat"

SPECIAL = ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
           "<|end_header_id|>", "<|eot_id|>", "<s>", "</s>"]

CHATML = """{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0]['role'] == 'system' %}
{{- messages[0]['content'] }}
{%- else %}
{{- 'You are a helpful assistant.' }}
{%- endif %}
{{- '\\n\\n# Tools\\n\\n<tools>' }}
{%- for tool in tools %}
{{- '\\n' }}{{- tool | tojson }}
{%- endfor %}
{{- '\\n</tools><|im_end|>\\n' }}
{%- else %}
{%- if messages[0]['role'] == 'system' %}
{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
{%- else %}
{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
{%- endif %}
{%- endif %}
{%- for message in messages %}
{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
{%- elif message.role == 'assistant' %}
{{- '<|im_start|>assistant\\n' }}
{%- generation %}
{{- message.content.strip() + '<|im_end|>\\n' }}
{%- endgeneration %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>'"
          " + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
          "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")

MISTRAL = ("{{ bos_token }}{% for message in messages %}"
           "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
           "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}"
           "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")

MODELS = {
    # name: (template, in .jinja file?, bos, eos, pad)
    "chatml": (CHATML, True, None, "<|im_end|>", "<|endoftext|>"),
    "llama3": (LLAMA3, False, "<|begin_of_text|>", "<|eot_id|>", None),
    "mistral": (MISTRAL, False, "<s>", "</s>", None),
}

CONVERSATIONS = [
    [{"role": "user", "content": "What is LoRA?"},
     {"role": "assistant", "content": "A low-rank update of frozen weights."}],
    [{"role": "system", "content": "Answer briefly."},
     {"role": "user", "content": "Name the adapter."},
     {"role": "assistant", "content": "  LoRA, rank 8.  "},
     {"role": "user", "content": "And its alpha?"},
     {"role": "assistant", "content": "Sixteen: naïve café ✓"}],
    [{"role": "user", "content": "  padded question\n"},
     {"role": "assistant", "content": "An answer\nover two lines."},
     {"role": "user", "content": "Thanks!"}],
]

TOOLS = [{"type": "function", "function": {"name": "get_rank", "description": "Rank of an adapter, e.g. \"r\"",
                                           "parameters": {"type": "object", "properties": {"name": {"type": "string"}},
                                                          "required": ["name"]}}}]


def supported(name, conv):
    if name == "mistral":
        return all(m["role"] != "system" for m in conv)
    return True


def main():
    base = Tokenizer.from_file(str(BASE_TOKENIZER))
    base.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    if OUT.exists():
        shutil.rmtree(OUT)
    cases = []
    for name, (template, jinja_file, bos, eos, pad) in MODELS.items():
        d = OUT / name
        d.mkdir(parents=True)
        base.save(str(d / "tokenizer.json"))
        cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 64, "clean_up_tokenization_spaces": False,
               "bos_token": bos, "eos_token": eos, "pad_token": pad, "unk_token": None}
        if jinja_file:
            (d / "chat_template.jinja").write_text(template, encoding="utf-8")
        else:
            cfg["chat_template"] = template
        (d / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf-8")
        tok = AutoTokenizer.from_pretrained(str(d))
        assert tok.chat_template == template, name
        for i, conv in enumerate(CONVERSATIONS):
            if not supported(name, conv):
                continue
            for tools in ([None, TOOLS] if name == "chatml" else [None]):
                case = {"template": name, "conversation": i, "messages": conv, "tools": tools}
                for gen in (False, True):
                    text = tok.apply_chat_template(conv, tools=tools, tokenize=False, add_generation_prompt=gen)
                    enc = tok.apply_chat_template(conv, tools=tools, tokenize=True, add_generation_prompt=gen,
                                                  return_dict=True, return_assistant_tokens_mask=name == "chatml")
                    key = "generation_prompt" if gen else "plain"
                    case[key] = {"text": text, "ids": list(enc["input_ids"])}
                    if name == "chatml":
                        case[key]["assistant_masks"] = list(enc["assistant_masks"])
                cases.append(case)
        # a conversation the template refuses: what transformers reports
        if name == "mistral":
            bad = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
            try:
                tok.apply_chat_template(bad, tokenize=False)
                raise AssertionError("mistral template accepted two user turns")
            except Exception as e:  # jinja2 TemplateError raised by raise_exception
                cases.append({"template": name, "messages": bad, "error": str(e)})
    (OUT / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", OUT, len(cases), "cases", file=sys.stderr)


if __name__ == "__main__":
    main()
