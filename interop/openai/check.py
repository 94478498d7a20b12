"""OpenAI Python client against eval-service's /v1 endpoints (see ./run for what is checked)."""
import io
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import openai

ROOT = Path(os.environ["FOUNDRY_ROOT"])
HOST = "http://127.0.0.1"
JOB_API = f"{HOST}:{os.environ.get('FOUNDRY_JOB_API_PORT', '8081')}"
STORE = f"{HOST}:{os.environ.get('FOUNDRY_ARTIFACT_STORE_PORT', '8082')}"
EVAL = f"{HOST}:{os.environ.get('FOUNDRY_EVAL_SERVICE_PORT', '8084')}"
ADMIN = (ROOT / ".foundry" / "admin-key").read_text().strip()
FAILED = []
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}Assistant:{% endif %}")


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + (f"  ({detail})" if detail else ""), flush=True)
    if not ok:
        FAILED.append(name)


def call(method, url, key, body=None, headers=None, data=None):
    h = {"Authorization": f"Bearer {key}"}
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {url}: HTTP {e.code}: {e.read()[:500]!r}")


def multipart(url, key, fields, filename, content, ctype):
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
              f"Content-Type: {ctype}\r\n\r\n".encode())
    out.write(content)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return call("POST", url, key, data=out.getvalue(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def tenant(name):
    call("POST", f"{JOB_API}/v1/admin/tenants", ADMIN, {"name": name})
    return call("POST", f"{JOB_API}/v1/admin/tenants/{name}/keys", ADMIN, {"name": "openai-check"})["key"]


def setup():
    stamp = time.strftime("%H%M%S") + f"-{random.randrange(1000):03d}"
    key = tenant(f"openai-{stamp}")
    other = tenant(f"openai-other-{stamp}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in ("config.json", "model.safetensors", "tokenizer.json"):
            z.write(ROOT / "demo" / "decoder" / "pretrained" / f, f)
    model = multipart(f"{STORE}/v1/models", key, {"name": f"demo-decoder-{stamp}"}, "model.zip", buf.getvalue(),
                      "application/zip")
    # the same decoder with a chat template (a plain role-prefixed one: the demo tokenizer has no chat tokens)
    with zipfile.ZipFile(buf, "a") as z:
        z.writestr("chat_template.jinja", CHAT_TEMPLATE)
    chat_model = multipart(f"{STORE}/v1/models", key, {"name": f"demo-decoder-chat-{stamp}"}, "model.zip",
                           buf.getvalue(), "application/zip")
    if os.environ.get("OPENAI_ADAPTER_DIR"):
        # an adapter saved by peft-engine (PEFT layout) uploaded as it is, for when no trainer is free
        adir = Path(os.environ["OPENAI_ADAPTER_DIR"])
        zbuf = io.BytesIO()
        with zipfile.ZipFile(zbuf, "w") as z:
            for f in adir.iterdir():
                z.write(f, f.name)
        lineage = json.dumps({"base_model": model["id"], "method": "lora", "job_id": "uploaded-by-interop-openai"})
        up = multipart(f"{STORE}/v1/adapters", key, {"lineage": lineage}, "adapter.zip", zbuf.getvalue(), "application/zip")
        print(f"setup: tenant key …{key[-4:]}, model {model['id']}, uploaded adapter {up['id']} from {adir}", flush=True)
        return key, other, model, up["id"], chat_model
    # SFT pairs from the fortunes data in the repository: "A fortune about <category>:" -> " <text>"
    rows = [json.loads(l) for l in (ROOT / "data" / "fortunes" / "train.jsonl").read_text().splitlines()[:64]]
    sft = "".join(json.dumps({"prompt": f"A fortune about {r['label']}:", "completion": " " + r["text"][:200]}) + "\n"
                  for r in rows).encode()
    # a small validation file: the worker's final evaluation generates greedily for every pair
    valid = b"".join(sft.splitlines(keepends=True)[:8])
    files = [multipart(f"{STORE}/v1/files", key, {"purpose": "fine-tune", "task": "sft"}, n, data, "application/jsonl")["id"]
             for n, data in (("train.jsonl", sft), ("valid.jsonl", valid))]
    job = call("POST", f"{JOB_API}/v1/fine_tuning/jobs", key, {
        "model": model["id"], "task": "sft", "training_file": files[0], "validation_file": files[1],
        "method": {"type": "lora", "lora": {"r": 8, "alpha": 16, "target_modules": ["c_attn"]}},
        "hyperparameters": {"max_steps": 8, "batch_size": 8, "max_seq_length": 64, "learning_rate": 0.003}})
    deadline = time.time() + 1800
    while True:
        job = call("GET", f"{JOB_API}/v1/fine_tuning/jobs/{job['id']}", key)
        if job["status"] in ("succeeded", "failed", "cancelled") or time.time() > deadline:
            break
        time.sleep(3)
    if job["status"] != "succeeded":
        raise SystemExit(f"setup: the LoRA job ended {job['status']}: {job.get('error')}")
    print(f"setup: tenant key …{key[-4:]}, model {model['id']}, LoRA job {job['id']} -> {job['adapter']}", flush=True)
    return key, other, model, job["adapter"], chat_model


def main():
    key, other_key, model, adapter, chat_model = setup()
    base = model["id"]
    client = openai.OpenAI(api_key=key, base_url=f"{EVAL}/v1", max_retries=0, timeout=300)

    ids = {m.id: m for m in client.models.list().data}
    check("models.list shows the tenant's decoder and its adapter", base in ids and adapter in ids,
          f"{len(ids)} models")
    check("models.list hides other tenants' adapters",
          adapter not in {m.id for m in openai.OpenAI(api_key=other_key, base_url=f"{EVAL}/v1", max_retries=0).models.list().data})

    prompt = "A fortune about computers:"
    c = client.completions.create(model=base, prompt=prompt, max_tokens=12, temperature=0)
    check("completion on the base model", c.object == "text_completion" and len(c.choices) == 1
          and c.choices[0].finish_reason in ("length", "stop") and c.usage.completion_tokens <= 12
          and c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens,
          repr(c.choices[0].text)[:80])
    a = client.completions.create(model=adapter, prompt=prompt, max_tokens=12, temperature=0)
    check("completion on the adapter (by id)", a.usage.completion_tokens > 0, repr(a.choices[0].text)[:80])
    ft = client.completions.create(model=f"ft:{base}:{adapter}", prompt=prompt, max_tokens=12, temperature=0)
    check("ft:<base>:<adapter> alias gives the same greedy text", ft.choices[0].text == a.choices[0].text)
    check("the adapter changes the answer", a.choices[0].text != c.choices[0].text)

    chunks = list(client.completions.create(model=adapter, prompt=prompt, max_tokens=12, temperature=0, stream=True))
    streamed = "".join(ch.choices[0].text for ch in chunks if ch.choices)
    check("streamed completion equals the non-streamed one", streamed == a.choices[0].text,
          f"{len(chunks)} chunks, {streamed!r}"[:100])
    check("the stream ends with a finish_reason", chunks[-1].choices[0].finish_reason in ("length", "stop"))

    s1 = client.completions.create(model=adapter, prompt=prompt, max_tokens=20, temperature=0.9, top_p=0.9, seed=7)
    s2 = client.completions.create(model=adapter, prompt=prompt, max_tokens=20, temperature=0.9, top_p=0.9, seed=7)
    check("sampling with a seed repeats", s1.choices[0].text == s2.choices[0].text, repr(s1.choices[0].text)[:60])

    full = a.choices[0].text
    if len(full.strip()) > 2:
        stop = full.strip()[1:3]
        st = client.completions.create(model=adapter, prompt=prompt, max_tokens=12, temperature=0, stop=[stop])
        check("a stop sequence cuts the text before it", st.choices[0].finish_reason == "stop"
              and stop not in st.choices[0].text and full.startswith(st.choices[0].text), f"stop {stop!r}")

    # chat: the demo decoder has no chat template -> OpenAI-shaped 400 naming messages
    try:
        client.chat.completions.create(model=adapter, messages=[{"role": "user", "content": "hello"}])
        check("chat on a model without a chat template is refused", False, "no error")
    except openai.BadRequestError as e:
        check("chat on a model without a chat template is a 400 naming messages",
              e.status_code == 400 and e.body.get("param") == "messages", e.body.get("message", "")[:100])
    try:
        stream = client.chat.completions.create(model=adapter, messages=[{"role": "user", "content": "hi"}], stream=True)
        list(stream)
        check("streamed chat without a template is refused", False, "no error")
    except openai.BadRequestError as e:
        check("streamed chat without a template is refused before streaming (400)", e.status_code == 400)

    # chat on the model with a template: non-streamed and streamed give the same greedy answer
    msgs = [{"role": "system", "content": "You answer with fortunes."}, {"role": "user", "content": "Tell me about computers."}]
    ch = client.chat.completions.create(model=chat_model["id"], messages=msgs, max_tokens=16, temperature=0)
    check("chat completion on a model with a chat template", ch.object == "chat.completion"
          and ch.choices[0].message.role == "assistant" and isinstance(ch.choices[0].message.content, str)
          and ch.usage.completion_tokens > 0 and ch.choices[0].finish_reason in ("stop", "length"),
          repr(ch.choices[0].message.content)[:80])
    # the rendered prompt counts its tokens: "System: …\nUser: …\nAssistant:" is longer than the user text alone
    check("chat usage counts the rendered template", ch.usage.prompt_tokens > 8, f"prompt_tokens {ch.usage.prompt_tokens}")
    parts = list(client.chat.completions.create(model=chat_model["id"], messages=msgs, max_tokens=16, temperature=0,
                                                stream=True, stream_options={"include_usage": True}))
    content = "".join(p.choices[0].delta.content or "" for p in parts if p.choices)
    check("streamed chat: chat.completion.chunk events, role first, same text as non-streamed",
          all(p.object == "chat.completion.chunk" for p in parts) and parts[0].choices[0].delta.role == "assistant"
          and content == ch.choices[0].message.content, f"{len(parts)} chunks")
    finals = [p for p in parts if p.choices and p.choices[0].finish_reason]
    check("streamed chat: one finish_reason, usage in the last chunk", len(finals) == 1
          and parts[-1].usage is not None and parts[-1].usage.completion_tokens == ch.usage.completion_tokens)

    errors = [
        ("unknown model -> 404 model_not_found", openai.NotFoundError,
         lambda cl: cl.completions.create(model="no-such-model", prompt="x")),
        ("another tenant's adapter -> 404", openai.NotFoundError,
         lambda cl: openai.OpenAI(api_key=other_key, base_url=f"{EVAL}/v1", max_retries=0).completions.create(
             model=adapter, prompt="x")),
        ("temperature 5 -> 400 naming temperature", openai.BadRequestError,
         lambda cl: cl.completions.create(model=base, prompt="x", temperature=5)),
        ("n = 2 -> 400 naming n", openai.BadRequestError,
         lambda cl: cl.completions.create(model=base, prompt="x", n=2)),
        ("max_tokens past the context -> 400", openai.BadRequestError,
         lambda cl: cl.completions.create(model=base, prompt="x", max_tokens=100000)),
        ("bad key -> 401", openai.AuthenticationError,
         lambda cl: openai.OpenAI(api_key="sk-wrong", base_url=f"{EVAL}/v1", max_retries=0).completions.create(
             model=base, prompt="x")),
    ]
    for name, kind, fn in errors:
        try:
            fn(client)
            check(name, False, "no error")
        except kind as e:
            body = e.body if isinstance(e.body, dict) else {}
            shaped = kind is openai.AuthenticationError or {"message", "type", "param", "code"} <= set(body)
            check(name, shaped, f"{e.status_code} {body.get('param')} {str(body.get('message'))[:70]}")
        except openai.APIError as e:
            check(name, False, f"{type(e).__name__}: {e}")

    print(f"{'FAILED ' + str(len(FAILED)) if FAILED else 'all passed'}")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
