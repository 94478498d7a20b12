#!/usr/bin/env python3
"""bench/chaos driver: the platform on private ports, 60 small jobs from 3 tenants on 3 trainer workers, while a
seeded schedule SIGKILLs workers and restarts Kafka and PostgreSQL; then checks what users rely on and writes
results.md. Started by bench/chaos/run (which builds first); stops everything it started, also on failure."""
import json, os, random, signal, subprocess, sys, time, urllib.error, urllib.request, uuid, zipfile
from collections import Counter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(ROOT, "bench", "chaos")
WORK = os.environ.get("CHAOS_WORK", os.path.join(ROOT, "target", "bench-chaos"))
SEED = int(os.environ.get("CHAOS_SEED", "20261205"))
QUICK = os.environ.get("BENCH_QUICK", "0") == "1"  # bench/run-all --quick: 15 jobs, 10 min
JOBS = int(os.environ.get("CHAOS_JOBS", "15" if QUICK else "60"))
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.md"))
TENANTS = ["chaos-a", "chaos-b", "chaos-c"]
WORKERS = 3
DEADLINE_S = int(os.environ.get("CHAOS_DEADLINE_S", "600" if QUICK else "1800"))   # everything must end by then: the run stops itself
CHAOS_S = int(os.environ.get("CHAOS_FAULT_WINDOW_S", "300" if QUICK else "600"))    # faults are injected during this window only
# one Kafka outage longer than the producers' delivery timeout (120 s): progress events sent meanwhile must not be lost
LONG_KAFKA_S = int(os.environ.get("CHAOS_LONG_KAFKA_S", "150"))
# seconds between the end of one fault and the next: jobs take ~10 s each, so denser than that to hit jobs mid-run
FAULT_GAP_S = (5, 20)
FAULT_KINDS = ["worker SIGKILL", "kafka restart", "postgres restart"] + (["long kafka outage"] if LONG_KAFKA_S > 0 else [])
HOST = "127.0.0.1"
BASE = int(os.environ.get("CHAOS_PORT_BASE", "25200"))  # ports BASE+10 … BASE+494
PORTS = dict(FOUNDRY_KAFKA_PORT=BASE + 92, FOUNDRY_KAFKA_CONTROLLER_PORT=BASE + 93, FOUNDRY_DEVSTACK_PORT=BASE + 94,
             FOUNDRY_PG_PORT=BASE + 33, FOUNDRY_S3_PORT=BASE + 10, FOUNDRY_ARTIFACT_STORE_PORT=BASE + 82,
             FOUNDRY_JOB_API_PORT=BASE + 81, FOUNDRY_EVAL_SERVICE_PORT=BASE + 84)
ADMIN_KEY = "chaos-admin-" + uuid.uuid4().hex
AS = f"http://{HOST}:{PORTS['FOUNDRY_ARTIFACT_STORE_PORT']}"
JA = f"http://{HOST}:{PORTS['FOUNDRY_JOB_API_PORT']}"
EV = f"http://{HOST}:{PORTS['FOUNDRY_EVAL_SERVICE_PORT']}"
DEV = f"http://{HOST}:{PORTS['FOUNDRY_DEVSTACK_PORT']}"
WORDS_POS = ["good", "great", "fine", "nice"]
WORDS_NEG = ["bad", "awful", "poor", "sad"]
FILLER = ["the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "it", "was", "very", "day"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

procs = {}
log = []


def say(msg):
    line = f"[chaos {time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    log.append(line)


def env(extra):
    e = dict(os.environ)
    e.update({k: str(v) for k, v in PORTS.items()})
    e.update(FOUNDRY_HOST=HOST, FOUNDRY_ADMIN_KEY=ADMIN_KEY, FOUNDRY_JOB_API_URL=JA, FOUNDRY_ARTIFACT_STORE_URL=AS)
    e.update({k: str(v) for k, v in extra.items()})
    return e


def start(name, cmd, extra):
    out = open(os.path.join(WORK, "logs", name + ".log"), "ab")
    procs[name] = subprocess.Popen(cmd, env=env(extra), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                   start_new_session=True)


def service(name, module, heap, extra):
    start(name, ["java", f"-Xmx{heap}", "-jar", os.path.join(ROOT, module, "target", "quarkus-app", "quarkus-run.jar")],
          extra)


def worker(i):
    n = f"worker-{i}"
    service(n, "trainer-worker", "768m", dict(FOUNDRY_TRAINER_WORKER_PORT=BASE + 83 + 100 * i, FOUNDRY_WORKER_ID=n,
                                              FOUNDRY_DATA_DIR=os.path.join(WORK, n), FOUNDRY_DEVICE="cpu",
                                              FOUNDRY_WORKER_LEASE_TTL="10s", FOUNDRY_WORKER_LEASE_RENEW_EVERY="2s",
                                              FOUNDRY_WORKER_SESSION_TIMEOUT_MS="10000"))


def stop_all():
    for name, p in list(procs.items()):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for name, p in list(procs.items()):
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def http(method, url, key=None, body=None, headers=None, timeout=30):
    h = dict(headers or {})
    if key:
        h["Authorization"] = "Bearer " + key
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def wait_ok(url, within, what):
    t = time.time()
    while time.time() - t < within:
        try:
            if http("GET", url, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{what} did not become ready within {within}s ({url})")


def multipart(fields, files):
    b = "----chaos" + uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
    for k, (fname, data, ctype) in files.items():
        out += (f"--{b}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{fname}\"\r\n"
                f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{b}--\r\n".encode(), "multipart/form-data; boundary=" + b


def toy(n, rnd):
    lines = []
    for i in range(n):
        pos = i % 2 == 0
        words = [rnd.choice(FILLER) for _ in range(rnd.randint(3, 6))]
        words.insert(rnd.randint(0, len(words)), rnd.choice(WORDS_POS if pos else WORDS_NEG))
        lines.append(json.dumps({"text": " ".join(words), "label": "pos" if pos else "neg"}))
    return ("\n".join(lines) + "\n").encode()


def tokenizer(vocab):
    post = {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {s: {"id": s, "ids": [SPECIALS.index(s)], "tokens": [s]} for s in ("[CLS]", "[SEP]")}}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)],
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                           "lowercase": True, "strip_accents": None},
            "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": post,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": {w: i for i, w in enumerate(vocab)}}}


def tiny_model_zip():
    d = os.path.join(WORK, "tiny-bert")
    os.makedirs(d, exist_ok=True)
    vocab = SPECIALS + sorted(set(WORDS_POS + WORDS_NEG + FILLER))
    cp = f"{ROOT}/peft-engine/target/peft-engine.jar:{ROOT}/peft-engine/target/lib/*"
    subprocess.run(["java", "-cp", cp, os.path.join(HERE, "TinyWeights.java"), d, str(len(vocab)), str(SEED)],
                   check=True, cwd=ROOT)
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tokenizer(vocab), f)
    z = os.path.join(WORK, "tiny-bert.zip")
    with zipfile.ZipFile(z, "w") as zf:
        for n in ("config.json", "model.safetensors", "tokenizer.json"):
            zf.write(os.path.join(d, n), n)
    return open(z, "rb").read()


def setup():
    """Tenants and keys, each tenant's model and files; returns {tenant: (key, model, train, valid)}."""
    model_zip = tiny_model_zip()
    rnd = random.Random(SEED)
    out = {}
    for t in TENANTS:
        s, _ = http("POST", JA + "/v1/admin/tenants", ADMIN_KEY, {"id": t, "name": t})
        assert s in (200, 201), s
        s, k = http("POST", f"{JA}/v1/admin/tenants/{t}/keys", ADMIN_KEY, {"name": "chaos"})
        assert s == 201, (s, k)
        key = k["key"]
        body, ctype = multipart({"name": "tiny-bert"}, {"file": ("m.zip", model_zip, "application/zip")})
        s, m = http("POST", AS + "/v1/models", key, body, {"Content-Type": ctype}, timeout=120)
        assert s == 201, (s, m)
        ids = []
        for n in (64, 16):
            body, ctype = multipart({"purpose": "fine-tune", "task": "classification"},
                                    {"file": ("d.jsonl", toy(n, rnd), "application/jsonl")})
            s, f = http("POST", AS + "/v1/files", key, body, {"Content-Type": ctype}, timeout=120)
            assert s == 201, (s, f)
            ids.append(f["id"])
        # by id: a job naming its tenant's model by name fails in the worker, which resolves names in its service key's
        # tenant (issue 14 finding 6, service-core's)
        out[t] = (key, m["id"], ids[0], ids[1])
    return out


def submit(tenants):
    jobs = []
    for i in range(JOBS):
        t = TENANTS[i % len(TENANTS)]
        key, model, train, valid = tenants[t]
        spec = {"model": model, "task": "classification", "training_file": train, "validation_file": valid,
                "method": {"type": "lora", "lora": {"r": 4, "alpha": 8, "target_modules": ["query", "value"]}},
                "hyperparameters": {"epochs": 1, "batch_size": 8, "max_seq_length": 32, "max_steps": 6,
                                    "eval_every_steps": 6, "checkpoint_every_steps": 2}, "seed": i}
        for attempt in range(60):  # job-api itself may be briefly unready while PostgreSQL restarts
            try:
                s, j = http("POST", JA + "/v1/fine_tuning/jobs", key, spec, {"Idempotency-Key": f"chaos-{SEED}-{i}"})
            except OSError:
                s, j = 0, None
            if s in (200, 201):
                jobs.append((t, j["id"]))
                break
            time.sleep(2)
        else:
            raise SystemExit(f"job {i} could not be submitted: {s} {j}")
    return jobs


def status_of(tenants, jobs):
    out = {}
    for t, jid in jobs:
        try:
            s, j = http("GET", f"{JA}/v1/fine_tuning/jobs/{jid}", tenants[t][0], timeout=10)
            out[jid] = j.get("status") if s == 200 else None
        except OSError:
            out[jid] = None
    return out


def fault_plan(rnd):
    """The seeded order of faults: each kind once first (in a seeded order), so a run that ends early has still had a
    worker SIGKILLed, Kafka and PostgreSQL restarted and the long Kafka outage; then random ones (60% SIGKILL, 20%
    Kafka, 20% PostgreSQL)."""
    first = list(FAULT_KINDS)
    rnd.shuffle(first)
    while True:
        if first:
            yield first.pop(0)
        else:
            r = rnd.random()
            yield "worker SIGKILL" if r < 0.6 else "kafka restart" if r < 0.8 else "postgres restart"


def component(comp, action):
    """Stops or starts a devstack component; it answers with its health (503 while anything is down) once done."""
    s, body = http("POST", f"{DEV}/components/{comp}/{action}", timeout=180)
    want = "DOWN" if action == "stop" else "UP"
    if s not in (200, 503) or not isinstance(body, dict) or body.get("components", {}).get(comp) != want:
        raise SystemExit(f"devstack could not {action} {comp}: HTTP {s} {body}")


def chaos(tenants, jobs, rnd):
    actions = Counter()
    plan = fault_plan(rnd)
    t0 = time.time()
    next_fault = t0 + rnd.uniform(10, 25)
    while time.time() - t0 < DEADLINE_S:
        st = status_of(tenants, jobs)
        done = sum(1 for v in st.values() if v in ("succeeded", "failed", "cancelled"))
        if done == len(jobs):
            say(f"all {len(jobs)} jobs ended after {time.time() - t0:.0f} s")
            return actions, time.time() - t0
        for i in range(WORKERS):  # a killed worker is started again a few seconds later
            n = f"worker-{i}"
            if procs[n].poll() is not None and time.time() >= restart_at.get(n, 0):
                worker(i)
                say(f"{n} started again")
        if time.time() >= next_fault and time.time() - t0 < CHAOS_S:
            kind = next(plan)
            if kind == "worker SIGKILL":
                live = [i for i in range(WORKERS) if procs[f"worker-{i}"].poll() is None]
                if live:
                    n = f"worker-{rnd.choice(live)}"
                    os.killpg(procs[n].pid, signal.SIGKILL)
                    procs[n].wait()
                    restart_at[n] = time.time() + rnd.uniform(2, 10)
                    actions[kind] += 1
                    say(f"SIGKILL {n} ({done}/{len(jobs)} jobs ended)")
            else:
                comp = "postgres" if kind == "postgres restart" else "kafka"
                down = LONG_KAFKA_S if kind == "long kafka outage" else rnd.uniform(3, 15)
                say(f"stopping {comp} for {down:.0f} s ({done}/{len(jobs)} jobs ended)")
                component(comp, "stop")
                time.sleep(down)
                component(comp, "start")
                say(f"{comp} started again")
                actions[kind] += 1
            next_fault = time.time() + rnd.uniform(*FAULT_GAP_S)
        time.sleep(3)
    say(f"deadline of {DEADLINE_S} s reached")
    return actions, time.time() - t0


restart_at = {}


TERMINAL = ("succeeded", "failed", "cancelled")
CHECKS = ["fault kinds not injected", "stuck (not terminal)", "jobs without exactly one terminal event",
          "jobs with a lost event (gap in an attempt's seqs)", "jobs with a duplicated event",
          "terminal events on the topic, beyond one per job",
          "seqs carried by two different events on the topic", "events on the topic missing from job-api's history",
          "succeeded jobs without exactly one adapter", "succeeded jobs without exactly one succeeded evaluation",
          "cross-tenant reads that did not get 404/empty"]


def judge(actions, jobs, topic):
    """The checks, on what was collected (pure, so --self-test can show each one fails when it should).
    jobs: [{id, status, events: [{seq, type, status}], adapters, evaluations: [status], foreign: [HTTP status or
    leak text]}]; topic: [JobEvent dicts as the workers put them on foundry.jobs.events]."""
    res, problems = Counter(), []
    missing = [k for k in FAULT_KINDS if actions.get(k, 0) == 0]
    if missing:
        res["fault kinds not injected"] += len(missing)
        problems.append(f"faults never injected: {', '.join(missing)}")
    on_topic = {}
    for e in topic:
        on_topic.setdefault(e["job_id"], []).append(e)
    for j in jobs:
        jid, status, events = j["id"], j["status"], j["events"]
        res["status " + str(status)] += 1
        if (j.get("attempt") or 1) > 1:
            res["ran more than one attempt (a worker lost mid-run)"] += 1
        if status not in TERMINAL:
            res["stuck (not terminal)"] += 1
            problems.append(f"{jid}: {status}")
        seqs = [e["seq"] for e in events]
        if len(seqs) != len(set(seqs)):
            res["jobs with a duplicated event"] += 1
            problems.append(f"{jid}: duplicated seq in the history {sorted(seqs)}")
        by_attempt = {}
        for q in seqs:
            by_attempt.setdefault(q // 1_000_000, []).append(q % 1_000_000)
        for a, ns in sorted(by_attempt.items()):
            if sorted(set(ns)) != list(range(1, max(ns) + 1)):
                res["jobs with a lost event (gap in an attempt's seqs)"] += 1
                problems.append(f"{jid}: attempt {a} seqs {sorted(ns)}")
                break
        terminal = [e for e in events if e["type"] == "status" and e.get("status") in TERMINAL]
        if len(terminal) != 1 and status in TERMINAL:
            res["jobs without exactly one terminal event"] += 1
            problems.append(f"{jid}: {len(terminal)} terminal events ({[e.get('status') for e in terminal]})")
        mine = on_topic.get(jid, [])
        terminal_seqs = {e["seq"] for e in mine if e["type"] == "status" and e.get("status") in TERMINAL}
        if len(terminal_seqs) > 1:
            res["terminal events on the topic, beyond one per job"] += len(terminal_seqs) - 1
            problems.append(f"{jid}: terminal events with seqs {sorted(terminal_seqs)} on the topic")
        by_seq = {}
        for e in mine:  # a redelivery is the same event again; a different event under a used seq is one job-api drops
            body = {k: v for k, v in e.items() if k != "at"}
            if by_seq.setdefault(e["seq"], body) != body:
                res["seqs carried by two different events on the topic"] += 1
                problems.append(f"{jid}: seq {e['seq']} carried {by_seq[e['seq']]} and {body}")
        unseen = sorted({e["seq"] for e in mine} - set(seqs))
        if unseen:
            res["events on the topic missing from job-api's history"] += len(unseen)
            problems.append(f"{jid}: seqs {unseen} on the topic, not in the history")
        if status == "succeeded":
            if j["adapters"] != 1:
                res["succeeded jobs without exactly one adapter"] += 1
                problems.append(f"{jid}: {j['adapters']} adapters")
            if len(j["evaluations"]) != 1 or j["evaluations"][0] != "succeeded":
                res["succeeded jobs without exactly one succeeded evaluation"] += 1
                problems.append(f"{jid}: evaluations {j['evaluations']}")
        for leak in j["foreign"]:
            res["cross-tenant reads that did not get 404/empty"] += 1
            problems.append(f"{jid}: {leak}")
    return res, problems


def self_test():
    """Each check fails on a case built to break it, and none fails on a clean job (so a 0 in the report means
    something): run before every chaos run, and alone with `bench/chaos/run --self-test`."""
    def ev(seq, typ="metrics", status=None):
        return {"seq": seq, "type": typ, "status": status}

    def job(jid="ftjob-1", status="succeeded", events=None, adapters=1, evaluations=("succeeded",), foreign=()):
        if events is None:
            events = [ev(1_000_001, "status", "running"), ev(1_000_002), ev(1_000_003, "status", "succeeded")]
        return {"id": jid, "status": status, "events": events, "adapters": adapters,
                "evaluations": list(evaluations), "foreign": list(foreign)}

    def topic_of(jobs):
        return [dict(e, job_id=j["id"], data={}, at="t") for j in jobs for e in j["events"]]

    every_fault = {k: 1 for k in FAULT_KINDS}
    clean = [job(), job("ftjob-2", events=[ev(1_000_001, "status", "running"), ev(1_000_002),  # lost attempt 1
                                           ev(2_000_001, "status", "running"), ev(2_000_002, "checkpoint"),
                                           ev(2_000_003, "status", "succeeded")])]
    res, problems = judge(every_fault, clean, topic_of(clean))
    assert not problems and all(res[k] == 0 for k in CHECKS), (res, problems)
    ok = job()
    cases = {
        "fault kinds not injected": (dict(every_fault, **{"kafka restart": 0}), [ok], None),
        "stuck (not terminal)": (every_fault, [job(status="running", events=[ev(1_000_001, "status", "running")])], None),
        "jobs without exactly one terminal event": (every_fault, [job(events=[
            ev(1_000_001, "status", "running"), ev(1_000_002, "status", "succeeded"), ev(2_000_001, "status", "succeeded")])], []),
        "jobs with a lost event (gap in an attempt's seqs)": (every_fault, [job(events=[
            ev(1_000_001, "status", "running"), ev(1_000_003, "status", "succeeded")])], None),
        "jobs with a duplicated event": (every_fault, [job(events=[
            ev(1_000_001, "status", "running"), ev(1_000_002), ev(1_000_002), ev(1_000_003, "status", "succeeded")])], None),
        "terminal events on the topic, beyond one per job": (every_fault, [ok], topic_of([ok]) + [
            dict(job_id=ok["id"], seq=2_000_001, type="status", status="succeeded", data={}, at="t")]),
        "seqs carried by two different events on the topic": (every_fault, [ok], topic_of([ok]) + [
            dict(job_id=ok["id"], seq=1_000_002, type="message", status=None, data={"message": "x"}, at="t")]),
        "events on the topic missing from job-api's history": (every_fault, [job(events=[
            ev(1_000_001, "status", "running"), ev(1_000_002, "status", "succeeded")])], topic_of([ok])),
        "succeeded jobs without exactly one adapter": (every_fault, [job(adapters=2)], None),
        "succeeded jobs without exactly one succeeded evaluation": (every_fault, [job(evaluations=("failed",))], None),
        "cross-tenant reads that did not get 404/empty": (every_fault, [job(foreign=["tenant chaos-b got HTTP 200"])], None),
    }
    assert set(cases) == set(CHECKS), set(CHECKS) ^ set(cases)
    for name, (actions, jobs, topic) in cases.items():
        res, _ = judge(actions, jobs, topic if topic is not None else topic_of(jobs))
        failed = [k for k in CHECKS if res[k]]
        assert name in failed, f"case '{name}' was reported as {failed}"
    say(f"self-test: each of the {len(CHECKS)} checks fails on its broken case, none on clean jobs")


def all_events(jid, key):
    out, after = [], None
    while True:
        s, page = http("GET", f"{JA}/v1/fine_tuning/jobs/{jid}/events?limit=100" + (f"&after={after}" if after else ""), key)
        if s != 200:
            raise SystemExit(f"events of {jid}: HTTP {s} {page}")
        out += [{"seq": int(e["id"].rsplit("-", 1)[1]), "type": e.get("type"), "status": e.get("status")}
                for e in page.get("data", [])]
        if not page.get("has_more"):
            return out
        after = page["last_id"]


def topic_events():
    cp = f"{ROOT}/devstack/target/lib/*"
    out = subprocess.run(["java", "-cp", cp, os.path.join(HERE, "TopicDump.java"),
                          f"{HOST}:{PORTS['FOUNDRY_KAFKA_PORT']}", "foundry.jobs.events"],
                         check=True, capture_output=True, text=True, cwd=ROOT, timeout=600).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def wait_evaluations(tenants, jobs, within=600):
    """Evaluations of the last succeeded jobs run after the chaos loop; wait until each has a terminal one (bounded)."""
    t0 = time.time()
    while time.time() - t0 < within:
        pending = 0
        for t, jid in jobs:
            key = tenants[t][0]
            s, j = http("GET", f"{JA}/v1/fine_tuning/jobs/{jid}", key)
            if s == 200 and j.get("status") == "succeeded":
                s, evs = http("GET", f"{EV}/v1/evaluations?job_id={jid}", key)
                if s != 200 or not any(e.get("status") in ("succeeded", "failed") for e in evs.get("data", [])):
                    pending += 1
        if pending == 0:
            return
        time.sleep(5)
    say(f"evaluations still pending after {within} s")


def collect(tenants, jobs):
    keys = {t: tenants[t][0] for t in TENANTS}
    adapters_by_job = Counter()
    for t in TENANTS:
        s, lst = http("GET", AS + "/v1/adapters?limit=100", keys[t], timeout=60)
        assert s == 200 and not lst.get("has_more"), (s, "adapters of " + t)
        for a in lst.get("data", []):
            adapters_by_job[a.get("job_id")] += 1
    out = []
    for t, jid in jobs:
        key = keys[t]
        s, j = http("GET", f"{JA}/v1/fine_tuning/jobs/{jid}", key)
        status = j.get("status") if s == 200 else f"HTTP {s}"
        s, evs = http("GET", f"{EV}/v1/evaluations?job_id={jid}", key)
        foreign = []
        for other in TENANTS:
            if other == t:
                continue
            s1, _ = http("GET", f"{JA}/v1/fine_tuning/jobs/{jid}", keys[other])
            s2, foreign_evals = http("GET", f"{EV}/v1/evaluations?job_id={jid}", keys[other])
            if s1 != 404 or (s2 == 200 and foreign_evals.get("data")):
                foreign.append(f"tenant {other} got HTTP {s1} / evaluations {s2}")
        out.append({"id": jid, "status": status, "attempt": j.get("attempt") if s == 200 else None,
                    "events": all_events(jid, key), "adapters": adapters_by_job[jid],
                    "evaluations": [e.get("status") for e in (evs.get("data", []) if s == 200 else [])],
                    "foreign": foreign})
    mine = {jid for _, jid in jobs}
    for t in TENANTS:
        s, lst = http("GET", f"{JA}/v1/fine_tuning/jobs?limit=100", keys[t])
        foreign = [j["id"] for j in lst.get("data", []) if (t, j["id"]) not in jobs]
        if foreign:  # charged to a job of this tenant's, so judge() counts it
            out[0]["foreign"].append(f"tenant {t} lists foreign jobs {foreign}")
    return out, [e for e in topic_events() if e.get("job_id") in mine]


def main():
    self_test()
    if "--self-test" in sys.argv:
        return
    os.makedirs(os.path.join(WORK, "logs"), exist_ok=True)
    rnd = random.Random(SEED)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        start("devstack", ["java", "-Xmx384m", "-cp", f"{ROOT}/devstack/target/devstack.jar:{ROOT}/devstack/target/lib/*",
                           "io.peftfoundry.devstack.Main", "--fresh", "--data-dir", os.path.join(WORK, "devstack")], {})
        wait_ok(DEV + "/health", 300, "devstack")
        service("artifact-store", "artifact-store", "512m", dict(FOUNDRY_IMPORT_BUILTIN_MODELS="false",
                                                                 FOUNDRY_DATA_DIR=os.path.join(WORK, "artifact-store")))
        wait_ok(AS + "/q/health/ready", 300, "artifact-store")
        service("job-api", "job-api", "384m", {})
        wait_ok(JA + "/q/health/ready", 300, "job-api")
        # no automatic baselines: exactly the 60 submitted jobs run
        service("eval-service", "eval-service", "768m", dict(FOUNDRY_EVAL_SUBMIT_BASELINES="false",
                                                             FOUNDRY_EVAL_CACHE_DIR=os.path.join(WORK, "eval-cache")))
        wait_ok(EV + "/q/health/ready", 300, "eval-service")
        for i in range(WORKERS):
            worker(i)
        for i in range(WORKERS):
            wait_ok(f"http://{HOST}:{BASE + 83 + 100 * i}/q/health/ready", 300, f"worker-{i}")
        tenants = setup()
        say("platform up; submitting jobs")
        jobs = submit(tenants)
        say(f"{len(jobs)} jobs submitted; faults for {CHAOS_S} s, deadline {DEADLINE_S} s")
        actions, took = chaos(tenants, jobs, rnd)
        wait_evaluations(tenants, jobs)
        collected, topic = collect(tenants, jobs)
        res, problems = judge(actions, collected, topic)
        write(started, jobs, actions, took, res, problems, len(topic))
    finally:
        stop_all()


def write(started, jobs, actions, took, res, problems, topic_records):
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    zero = lambda k: res.get(k, 0)
    rows = [("jobs submitted", len(jobs))] + sorted((k, v) for k, v in res.items() if k.startswith("status ")) + [
        ("ran more than one attempt (a worker lost mid-run)", res.get("ran more than one attempt (a worker lost mid-run)", 0))]
    checks = CHECKS
    with open(RESULTS, "w") as f:
        f.write(f"## Chaos: {len(jobs)} jobs, 3 tenants, 3 workers, workers SIGKILLed, Kafka and PostgreSQL restarted\n\n")
        cmd = " ".join(f"{k}={os.environ[k]}" for k in ("CHAOS_SEED", "CHAOS_JOBS", "CHAOS_DEADLINE_S",
                                                          "CHAOS_FAULT_WINDOW_S", "CHAOS_LONG_KAFKA_S", "BENCH_QUICK") if k in os.environ)
        f.write(f"Command: `{cmd + ' ' if cmd else ''}bench/chaos/run` (seed {SEED}{', quick run' if QUICK else ''}) — {started}, {os.cpu_count()} cores shared with the other "
                f"sessions, {java}; devstack (Kafka 4.1.2, PostgreSQL 14, S3Proxy) and the services from this commit.\n\n")
        f.write(f"{len(jobs)} LoRA jobs (tiny random BERT, 6 steps, checkpoint every 2) from {len(TENANTS)} tenants on "
                f"{WORKERS} trainer workers; automatic baselines off so exactly these jobs run. During the first "
                f"{CHAOS_S} s a seeded schedule injected, every {FAULT_GAP_S[0]}–{FAULT_GAP_S[1]} s after the previous one: first one fault of each "
                f"kind in a seeded order, then at random: SIGKILL of a random worker (started again 2–10 s later; 60%), "
                f"or Kafka or PostgreSQL stopped for 3–15 s through devstack's control port (20% each)"
                + (f"; the long Kafka outage stops Kafka for {LONG_KAFKA_S} s, longer than the producers' 120 s delivery "
                   f"timeout" if LONG_KAFKA_S > 0 else "") + f". Time until every job ended (or the {DEADLINE_S} s "
                f"deadline): {took:.0f} s. Checked through job-api, artifact-store and eval-service as each tenant "
                f"sees them, and against the {topic_records} records the workers put on `foundry.jobs.events` for these "
                f"jobs (read from the beginning of the topic). Each check is shown to fail on a case built to break it "
                f"before the run (`bench/chaos/run --self-test`).\n\n")
        f.write("| faults injected | count |\n|---|---:|\n")
        for k, v in sorted(actions.items()):
            f.write(f"| {k} | {v} |\n")
        f.write("\n| outcome | jobs |\n|---|---:|\n")
        for k, v in rows:
            f.write(f"| {k} | {v} |\n")
        f.write("\n| check (target 0) | found |\n|---|---:|\n")
        for k in checks:
            f.write(f"| {k} | {zero(k)} |\n")
        if problems:
            f.write("\nFirst problems found:\n\n")
            for p in problems[:15]:
                f.write(f"- {p}\n")
        f.write("\n")
    print(open(RESULTS).read())


if __name__ == "__main__":
    main()
