#!/usr/bin/env python3
"""Build PEFT Foundry's real datasets from Debian packages (Python 3 standard library only).

Run through ``data/build-datasets``, which installs the Debian packages first. Every dataset is
built deterministically: candidates are sorted before a ``random.Random(seed)`` shuffle, so the
same packages and seed give byte-identical files.

Datasets (relative to --out, default: this script's folder):

  wordnet-supersense/  classification: WordNet noun gloss -> noun supersense (10 labels)
  fortunes/            classification: fortune text -> fortune file name (8 labels)
  foldoc/              sft: {"prompt": "Define <term>:", "completion": " <definition>"}
  jargon/              continued_pretraining: {"text"} chunks of the Jargon File
  spdx/                continued_pretraining: {"text"} SPDX licence texts (needs npm; optional)
  decoder/             the small decoder's corpora (demo/decoder): pretraining text, legal text and
                       definition pairs, each split into train / held-out (built from the three above)
  licence-id/          the demo decoder's domain task: SPDX licence excerpt -> identifier, split by position
                       within each licence, plus the licences' training text for continued pretraining (npm)

Classification folders hold train.jsonl, validation.jsonl and smoke/{train,validation}.jsonl
(the smoke split is a subset of the full split, for fast tests).

``--check`` validates what is on disk instead of building: every line parses, has exactly the
expected fields, labels are the expected set and balanced, train and validation do not overlap.
"""

import argparse
import collections
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

WORDNET_DIR = "/usr/share/wordnet"
FORTUNES_DIR = "/usr/share/games/fortunes"
FOLDOC_DICT = "/usr/share/dictd/foldoc.dict.dz"
FOLDOC_INDEX = "/usr/share/dictd/foldoc.index"
JARGON_TXT = "/usr/share/doc/jargon-text/jargon.txt.gz"
SPDX_NPM_PACKAGE = "spdx-license-list@6.12.0"

DEFAULT_SEED = 42

# WordNet 3.0's lexicographer files, in lexicographer-file-number order (the "lexnames" file of
# the WordNet distribution; Debian's wordnet-base does not ship it, so this is the fallback).
WORDNET_LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
]

WORDNET_LABELS = [
    "noun.act", "noun.animal", "noun.artifact", "noun.body", "noun.communication",
    "noun.food", "noun.location", "noun.person", "noun.plant", "noun.substance",
]

# Topical fortune files with at least 500 distinct texts of 20..400 characters each.
FORTUNE_LABELS = [
    "computers", "definitions", "men-women", "people", "politics", "science", "songs-poems",
    "work",
]
FORTUNE_MIN_CHARS = 20
FORTUNE_MAX_CHARS = 400

CLASSIFICATION_SPLITS = {
    # name: (train per label, validation per label)
    "full": (300, 100),
    "smoke": (16, 8),
}

FOLDOC_MAX_COMPLETION_CHARS = 1200
JARGON_CHUNK_CHARS = 1500


# ---------------------------------------------------------------------------------------------
# helpers

def log(message):
    print(message, flush=True)


def collapse_whitespace(text):
    return re.sub(r"\s+", " ", text).strip()


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as src:
        for number, line in enumerate(src, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not valid JSON ({err})") from err
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            rows.append((number, row))
    return rows


def balanced_splits(by_label, labels, seed):
    """Pick train/validation texts per label, disjoint, balanced; smoke = prefix of each."""
    rng = random.Random(seed)
    n_train, n_val = CLASSIFICATION_SPLITS["full"]
    s_train, s_val = CLASSIFICATION_SPLITS["smoke"]
    picks = {"train": [], "validation": [], "smoke/train": [], "smoke/validation": []}
    for label in labels:
        candidates = sorted(by_label.get(label, ()))
        if len(candidates) < n_train + n_val:
            raise SystemExit(f"label {label}: only {len(candidates)} texts, need {n_train + n_val}")
        rng.shuffle(candidates)
        train = candidates[:n_train]
        val = candidates[n_train:n_train + n_val]
        picks["train"] += [{"text": t, "label": label} for t in train]
        picks["validation"] += [{"text": t, "label": label} for t in val]
        picks["smoke/train"] += [{"text": t, "label": label} for t in train[:s_train]]
        picks["smoke/validation"] += [{"text": t, "label": label} for t in val[:s_val]]
    for rows in picks.values():
        rng.shuffle(rows)  # interleave labels so a file is never sorted by class
    return picks


def write_classification(folder, picks):
    for split, rows in picks.items():
        write_jsonl(os.path.join(folder, split + ".jsonl"), rows)
    counts = collections.Counter(r["label"] for r in picks["train"])
    val_counts = collections.Counter(r["label"] for r in picks["validation"])
    log(f"  {folder}: train {len(picks['train'])}, validation {len(picks['validation'])}, "
        f"smoke {len(picks['smoke/train'])}/{len(picks['smoke/validation'])}")
    for label in sorted(counts):
        log(f"    {label:24s} train {counts[label]:4d}  validation {val_counts[label]:4d}")


def unique_label_texts(pairs):
    """(text, label) pairs -> {label: set(text)}, dropping texts seen under more than one label."""
    owners = collections.defaultdict(set)
    for text, label in pairs:
        owners[text].add(label)
    by_label = collections.defaultdict(set)
    for text, labels in owners.items():
        if len(labels) == 1:
            by_label[next(iter(labels))].add(text)
    return by_label


# ---------------------------------------------------------------------------------------------
# WordNet supersenses

def wordnet_lexnames():
    path = os.path.join(WORDNET_DIR, "lexnames")
    if os.path.exists(path):
        names = {}
        with open(path, encoding="utf-8") as src:
            for line in src:
                parts = line.split()
                if len(parts) >= 2:
                    names[int(parts[0])] = parts[1]
        return names
    return dict(enumerate(WORDNET_LEXNAMES))


def clean_gloss(gloss):
    """Keep the definition, drop the quoted usage examples that follow it after ';'."""
    parts = [p.strip() for p in gloss.split(";")]
    definition = [p for p in parts if p and not p.startswith('"')]
    return collapse_whitespace("; ".join(definition))


def wordnet_glosses():
    names = wordnet_lexnames()
    with open(os.path.join(WORDNET_DIR, "data.noun"), encoding="utf-8") as src:
        for line in src:
            if line.startswith("  "):  # licence header
                continue
            head, sep, gloss = line.partition(" | ")
            if not sep:
                continue
            fields = head.split()
            label = names[int(fields[1])]
            text = clean_gloss(gloss)
            if len(text) >= 10:
                yield text, label


def build_wordnet(out, seed):
    folder = os.path.join(out, "wordnet-supersense")
    by_label = unique_label_texts(wordnet_glosses())
    write_classification(folder, balanced_splits(by_label, WORDNET_LABELS, seed))


# ---------------------------------------------------------------------------------------------
# fortunes

def build_fortunes(out, seed):
    folder = os.path.join(out, "fortunes")
    # Uniqueness is judged across every fortune file, so a text filed under two categories
    # (some are) never appears with a label it could equally have had otherwise.
    pairs = []
    for name in sorted(os.listdir(FORTUNES_DIR)):
        path = os.path.join(FORTUNES_DIR, name)
        if "." in name or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as src:
            for chunk in src.read().split("\n%\n"):
                text = collapse_whitespace(chunk.strip("%"))
                if FORTUNE_MIN_CHARS <= len(text) <= FORTUNE_MAX_CHARS:
                    pairs.append((text, name))
    by_label = unique_label_texts(pairs)
    write_classification(folder, balanced_splits(by_label, FORTUNE_LABELS, seed))


# ---------------------------------------------------------------------------------------------
# FOLDOC (dictd format: index lines "headword<TAB>offset<TAB>length", numbers in dictd base64)

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def dictd_number(text):
    value = 0
    for char in text:
        value = value * 64 + _B64.index(char)
    return value


def foldoc_entry(raw):
    """Entry bytes -> (term, definition) or None. Header lines name the term, then the body."""
    text = raw.decode("utf-8", errors="replace").replace("\r", "")
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) < 2:
        return None
    term = blocks[0].splitlines()[0].strip()
    paragraphs = []
    for block in blocks[1:]:
        para = collapse_whitespace(block)
        if re.fullmatch(r"\(\d{4}-\d{2}-\d{2}\)", para):  # last-edited date
            continue
        if para.startswith("[") and para.endswith("]"):  # bibliography / "[{Jargon File}]"
            continue
        para = para.replace("{", "").replace("}", "")
        para = re.sub(r"^(\d+\.\s*)?<[^>]*>\s*", r"\1", para)  # leading "<domain>" tag
        if para:
            paragraphs.append(para)
    if not paragraphs or not term:
        return None
    definition = paragraphs[0]
    for para in paragraphs[1:]:
        if len(definition) + 1 + len(para) > FOLDOC_MAX_COMPLETION_CHARS:
            break
        definition += "\n" + para
    return term, definition


def build_foldoc(out, seed):
    del seed  # dictionary order, nothing sampled
    folder = os.path.join(out, "foldoc")
    with gzip.open(FOLDOC_DICT) as src:  # dictzip is gzip with an extra header field
        data = src.read()
    seen = set()
    rows = []
    with open(FOLDOC_INDEX, encoding="utf-8") as idx:
        for line in idx:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00-database"):
                continue
            start, length = dictd_number(parts[1]), dictd_number(parts[2])
            if (start, length) in seen:  # aliases point at the same entry
                continue
            seen.add((start, length))
            entry = foldoc_entry(data[start:start + length])
            if entry:
                term, definition = entry
                rows.append((start, {"prompt": f"Define {term}:", "completion": " " + definition}))
    rows.sort(key=lambda r: r[0])
    write_jsonl(os.path.join(folder, "definitions.jsonl"), [r for _, r in rows])
    log(f"  {folder}: definitions {len(rows)}")


# ---------------------------------------------------------------------------------------------
# Jargon File (continued pretraining text)

def build_jargon(out, seed):
    del seed
    folder = os.path.join(out, "jargon")
    with gzip.open(JARGON_TXT, "rt", encoding="utf-8") as src:
        text = src.read()
    # Skip the table of contents: the body starts at the second "Welcome to the Jargon File".
    first = text.find("Welcome to the Jargon File")
    second = text.find("Welcome to the Jargon File", first + 1)
    if second > 0:
        text = text[second:]
    paragraphs = [collapse_whitespace(p) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p and not re.fullmatch(r"[═─=\-_*\s]+", p)]
    chunks, current = [], ""
    for para in paragraphs:
        if current and len(current) + 1 + len(para) > JARGON_CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current = (current + "\n" + para) if current else para
    if current:
        chunks.append(current)
    write_jsonl(os.path.join(folder, "text.jsonl"), [{"text": c} for c in chunks])
    log(f"  {folder}: text chunks {len(chunks)}, characters {sum(len(c) for c in chunks)}")


# ---------------------------------------------------------------------------------------------
# SPDX licence texts (npm package spdx-license-list, CC0); skipped when npm is unavailable

def spdx_licences():
    """{spdx_id: {"name", "url", "osiApproved", "licenseText"}} from the npm package's spdx-full.json,
    fetched with `npm pack` (build time only); (None, reason) when npm is missing or the fetch fails."""
    npm = shutil.which("npm")
    if not npm:
        return None, f"npm not installed; it fetches {SPDX_NPM_PACKAGE}"
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run([npm, "pack", SPDX_NPM_PACKAGE, "--silent"], cwd=tmp,
                                capture_output=True, text=True)
        tarballs = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if result.returncode != 0 or not tarballs:
            return None, f"npm pack {SPDX_NPM_PACKAGE} failed: {(result.stderr or result.stdout).strip()[:200]}"
        with tarfile.open(os.path.join(tmp, tarballs[0])) as tar:
            member = tar.getmember("package/spdx-full.json")
            return json.load(tar.extractfile(member)), None


def build_spdx(out, seed):
    del seed
    folder = os.path.join(out, "spdx")
    licences, reason = spdx_licences()
    if licences is None:
        log(f"  {folder}: SKIPPED ({reason})")
        return
    rows = []
    for spdx_id in sorted(licences):
        text = (licences[spdx_id].get("licenseText") or "").strip()
        if text:
            rows.append({"text": text})
    write_jsonl(os.path.join(folder, "licenses.jsonl"), rows)
    log(f"  {folder}: licence texts {len(rows)}, characters {sum(len(r['text']) for r in rows)}")


# ---------------------------------------------------------------------------------------------
# The small decoder's corpora (demo/decoder): derived from foldoc/, jargon/ and spdx/

DECODER_HELDOUT_DEFINITIONS = 200       # FOLDOC pairs never seen in pretraining nor SFT
DECODER_HELDOUT_JARGON_FRACTION = 0.03  # Jargon File chunks kept out of pretraining
DECODER_HELDOUT_LEGAL_CHARS = 40_000    # SPDX licence groups held out until this many characters
DECODER_LEGAL_GROUP_CHARS = 300         # licences sharing their first 300 characters are one group


def _ensure_built(out, seed, name, path):
    if not os.path.exists(path):
        log(f"  decoder: {path} missing, building {name} first")
        BUILDERS[name](out, seed)
    if not os.path.exists(path):
        raise SystemExit(f"decoder: {path} could not be built (see above)")
    return [row for _, row in read_jsonl(path)]


def definition_text(pair):
    """A FOLDOC pair as running text for pretraining: 'term: definition'."""
    term = pair["prompt"][len("Define "):-1]
    return f"{term}:{pair['completion']}"


def build_decoder(out, seed):
    folder = os.path.join(out, "decoder")
    pairs = _ensure_built(out, seed, "foldoc", os.path.join(out, "foldoc", "definitions.jsonl"))
    jargon = _ensure_built(out, seed, "jargon", os.path.join(out, "jargon", "text.jsonl"))
    legal = _ensure_built(out, seed, "spdx", os.path.join(out, "spdx", "licenses.jsonl"))
    rng = random.Random(seed)

    # Definitions: one shuffled order; the first N are held out of everything.
    order = list(range(len(pairs)))
    rng.shuffle(order)
    held_def = [pairs[i] for i in sorted(order[:DECODER_HELDOUT_DEFINITIONS])]
    train_def = [pairs[i] for i in sorted(order[DECODER_HELDOUT_DEFINITIONS:])]

    # Jargon File: a fraction of the chunks held out of pretraining.
    order = list(range(len(jargon)))
    rng.shuffle(order)
    n_held = max(1, int(len(jargon) * DECODER_HELDOUT_JARGON_FRACTION))
    held_jargon = [jargon[i] for i in sorted(order[:n_held])]
    train_jargon = [jargon[i] for i in sorted(order[n_held:])]

    # Licences: exact and near duplicates (GPL-2.0-only / -or-later, variants sharing a preamble)
    # are grouped by their first characters so a held-out text has no twin in the training side.
    groups = collections.OrderedDict()
    for row in legal:
        key = collapse_whitespace(row["text"].lower())[:DECODER_LEGAL_GROUP_CHARS]
        groups.setdefault(key, [])
        if row["text"] not in groups[key]:
            groups[key].append(row["text"])
    keys = sorted(groups)
    rng.shuffle(keys)
    held_legal, train_legal, held_chars = [], [], 0
    for key in keys:
        texts = groups[key]
        if held_chars < DECODER_HELDOUT_LEGAL_CHARS:
            held_legal += texts
            held_chars += sum(len(t) for t in texts)
        else:
            train_legal += texts

    files = {
        "pretrain-train.jsonl": [{"text": r["text"]} for r in train_jargon]
                                + [{"text": definition_text(p)} for p in train_def],
        "pretrain-heldout.jsonl": [{"text": r["text"]} for r in held_jargon],
        "legal-train.jsonl": [{"text": t} for t in train_legal],
        "legal-heldout.jsonl": [{"text": t} for t in held_legal],
        "definitions-train.jsonl": train_def,
        "definitions-heldout.jsonl": held_def,
    }
    rng.shuffle(files["pretrain-train.jsonl"])  # interleave jargon and definitions
    for name, rows in files.items():
        write_jsonl(os.path.join(folder, name), rows)
        chars = sum(len(v) for r in rows for v in r.values())
        log(f"  {folder}/{name}: {len(rows)} rows, {chars} characters")


def check_decoder(folder, errors):
    names = {"pretrain": ("text",), "legal": ("text",), "definitions": ("prompt", "completion")}
    for stem, fields in names.items():
        seen = {}
        for split in ("train", "heldout"):
            path = os.path.join(folder, f"{stem}-{split}.jsonl")
            check_fields(path, fields, errors)
            if os.path.exists(path):
                seen[split] = {json.dumps(r, sort_keys=True) for _, r in read_jsonl(path)}
        if seen.get("train", set()) & seen.get("heldout", set()):
            errors.append(f"{folder}: {stem} train and heldout overlap")
    # No held-out definition may reach pretraining.
    held = os.path.join(folder, "definitions-heldout.jsonl")
    pre = os.path.join(folder, "pretrain-train.jsonl")
    if os.path.exists(held) and os.path.exists(pre):
        texts = {r["text"] for _, r in read_jsonl(pre)}
        leaked = [r for _, r in read_jsonl(held) if definition_text(r) in texts]
        if leaked:
            errors.append(f"{folder}: {len(leaked)} held-out definitions are in pretrain-train.jsonl")


# ---------------------------------------------------------------------------------------------
# A licence-domain task for the demo decoder (demo/decoder): excerpt -> SPDX identifier, with the
# excerpts of every licence split by position; continued-pretraining text = the training positions.
# Committed (data/licence-id/), so demo/decoder/run needs no network; rebuilding needs npm.

LICENCE_ID_LICENCES = 32          # licences in the task (labels)
LICENCE_ID_MIN_CHARS = 6_000      # long enough to hold out a fifth and still train on the rest
LICENCE_ID_MAX_OVERLAP = 0.2      # a licence is skipped when >20 % of its 8-grams are in a chosen one
LICENCE_ID_EXCERPT_WORDS = 24
LICENCE_ID_MAX_EXCERPT_COST = 220  # characters + capitals (the demo BPE splits capitals finely): fits 128 tokens
LICENCE_ID_TRAIN_STRIDE = 12      # training excerpts overlap by half; held-out ones do not overlap
LICENCE_ID_HELDOUT_FRACTION = 0.2  # one contiguous span of a fifth of each licence's words
LICENCE_ID_TRAIN_PER_LICENCE = 48
LICENCE_ID_HELDOUT_PER_LICENCE = 6
LICENCE_ID_SHARED_MAX = 0.5       # an excerpt is dropped when >50 % of its 8-grams occur in another chosen licence
LICENCE_ID_PROMPT = "Licence excerpt: {excerpt}\nSPDX identifier:"


def _ngrams(words, n=8):
    low = [w.lower() for w in words]
    return {tuple(low[i:i + n]) for i in range(len(low) - n + 1)}


def _windows(words, size, stride):
    """Start offsets of full windows of `size` words every `stride` words, plus one flush with the end."""
    if len(words) < size:
        return []
    starts = list(range(0, len(words) - size + 1, stride))
    if starts[-1] != len(words) - size:
        starts.append(len(words) - size)
    return starts


def build_licence_id(out, seed):
    folder = os.path.join(out, "licence-id")
    licences, reason = spdx_licences()
    if licences is None:
        log(f"  {folder}: SKIPPED ({reason}); the committed files are kept")
        return
    rng = random.Random(seed)
    def fits(text):  # long enough, and written in ASCII (a byte-level BPE spends several tokens a non-ASCII char)
        return len(text) >= LICENCE_ID_MIN_CHARS and sum(c.isascii() for c in text) >= 0.99 * len(text)
    candidates = sorted(i for i, v in licences.items() if fits((v.get("licenseText") or "").strip()))
    rng.shuffle(candidates)
    chosen, grams = [], {}
    for spdx_id in candidates:
        words = licences[spdx_id]["licenseText"].split()
        g = _ngrams(words)
        if any(len(g & other) > LICENCE_ID_MAX_OVERLAP * min(len(g), len(other)) for other in grams.values()):
            continue
        chosen.append(spdx_id)
        grams[spdx_id] = g
        if len(chosen) == LICENCE_ID_LICENCES:
            break
    chosen.sort()
    n = LICENCE_ID_EXCERPT_WORDS

    def ambiguous(spdx_id, excerpt_words):
        g = _ngrams(excerpt_words)
        shared = {x for x in g if any(x in grams[o] for o in chosen if o != spdx_id)}
        return len(shared) > LICENCE_ID_SHARED_MAX * len(g)

    cpt_train, cpt_held, sft_train, sft_held, table = [], [], [], [], []
    dropped_ambiguous = dropped_repeated = dropped_long = 0
    for spdx_id in chosen:
        words = licences[spdx_id]["licenseText"].split()
        span = round(len(words) * LICENCE_ID_HELDOUT_FRACTION)
        start = rng.randrange(0, len(words) - span + 1)
        before, held, after = words[:start], words[start:start + span], words[start + span:]
        pieces = [p for p in (before, after) if p]
        train_text = [" ".join(p) for p in pieces]
        cpt_train += [{"text": t} for t in train_text]
        cpt_held.append({"text": " ".join(held)})

        def excerpts(piece, stride):
            nonlocal dropped_long
            out = [piece[i:i + n] for i in _windows(piece, n, stride)]
            fit = [e for e in out if sum(1 + c.isupper() for c in " ".join(e)) <= LICENCE_ID_MAX_EXCERPT_COST]
            dropped_long += len(out) - len(fit)
            return fit

        train_ex = [e for p in pieces for e in excerpts(p, LICENCE_ID_TRAIN_STRIDE)]
        held_ex = excerpts(held, n)
        keep = [e for e in train_ex if not ambiguous(spdx_id, e)]
        dropped_ambiguous += len(train_ex) - len(keep)
        train_ex = keep
        unambiguous = [e for e in held_ex if not ambiguous(spdx_id, e)]
        dropped_ambiguous += len(held_ex) - len(unambiguous)
        # a held-out excerpt repeated verbatim on the training side of its licence is not unseen
        held_ex = [e for e in unambiguous if not any(" ".join(e) in t for t in train_text)]
        dropped_repeated += len(unambiguous) - len(held_ex)
        if len(train_ex) > LICENCE_ID_TRAIN_PER_LICENCE:
            train_ex = [train_ex[i] for i in sorted(rng.sample(range(len(train_ex)), LICENCE_ID_TRAIN_PER_LICENCE))]
        if len(held_ex) > LICENCE_ID_HELDOUT_PER_LICENCE:
            held_ex = [held_ex[i] for i in sorted(rng.sample(range(len(held_ex)), LICENCE_ID_HELDOUT_PER_LICENCE))]
        pair = lambda e: {"prompt": LICENCE_ID_PROMPT.format(excerpt=" ".join(e)), "completion": " " + spdx_id}
        sft_train += [pair(e) for e in train_ex]
        sft_held += [pair(e) for e in held_ex]
        table.append({"id": spdx_id, "name": licences[spdx_id]["name"], "words": len(words),
                      "heldout_words": [start, start + span], "train_excerpts": len(train_ex),
                      "heldout_excerpts": len(held_ex)})
    rng.shuffle(sft_train)
    rng.shuffle(cpt_train)
    files = {"cpt-train.jsonl": cpt_train, "cpt-heldout.jsonl": cpt_held,
             "sft-train.jsonl": sft_train, "sft-heldout.jsonl": sft_held, "licences.jsonl": table}
    for name, rows in files.items():
        write_jsonl(os.path.join(folder, name), rows)
        log(f"  {folder}/{name}: {len(rows)} rows")
    log(f"  {folder}: {len(chosen)} licences; excerpts dropped as shared with another licence: "
        f"{dropped_ambiguous}, held-out excerpts dropped as repeated on the training side: {dropped_repeated}, "
        f"excerpts too long for 128 tokens dropped: {dropped_long}")


def check_licence_id(folder, errors):
    for name, fields in (("cpt-train", ("text",)), ("cpt-heldout", ("text",)),
                         ("sft-train", ("prompt", "completion")), ("sft-heldout", ("prompt", "completion"))):
        check_fields(os.path.join(folder, name + ".jsonl"), fields, errors)
    paths = {n: os.path.join(folder, n + ".jsonl") for n in ("cpt-train", "sft-train", "sft-heldout", "licences")}
    if not all(os.path.exists(p) for p in paths.values()):
        return
    ids = {r["id"] for _, r in read_jsonl(paths["licences"])}
    cpt = [r["text"] for _, r in read_jsonl(paths["cpt-train"])]
    train_prompts = {r["prompt"] for _, r in read_jsonl(paths["sft-train"])}
    for split in ("sft-train", "sft-heldout"):
        for number, r in read_jsonl(paths[split]):
            if r.get("completion", "").strip() not in ids:
                errors.append(f"{paths[split]}:{number}: completion {r.get('completion')!r} is not a chosen licence")
    prefix, suffix = LICENCE_ID_PROMPT.split("{excerpt}")
    for number, r in read_jsonl(paths["sft-heldout"]):
        excerpt = r["prompt"][len(prefix):len(r["prompt"]) - len(suffix)]
        if r["prompt"] in train_prompts or any(excerpt in t for t in cpt):
            errors.append(f"{paths['sft-heldout']}:{number}: held-out excerpt occurs on the training side")
    # The decoder's pretraining corpus (when built: data/decoder/) should hold next to none of the domain's text.
    pretrain = os.path.join(os.path.dirname(folder), "decoder", "pretrain-train.jsonl")
    if os.path.exists(pretrain):
        seen = set()
        for _, r in read_jsonl(pretrain):
            seen |= _ngrams(r["text"].split())
        grams = [_ngrams(r["prompt"][len(prefix):len(r["prompt"]) - len(suffix)].split())
                 for _, r in read_jsonl(paths["sft-heldout"])]
        shared = sum(len(g & seen) for g in grams)
        log(f"  {folder}: held-out excerpts' word 8-grams in the decoder's pretraining corpus: {shared} of "
            f"{sum(len(g) for g in grams)}; excerpts with any: {sum(1 for g in grams if g & seen)} of {len(grams)}")


BUILDERS = {
    "wordnet-supersense": build_wordnet,
    "fortunes": build_fortunes,
    "foldoc": build_foldoc,
    "jargon": build_jargon,
    "spdx": build_spdx,
    "decoder": build_decoder,
    "licence-id": build_licence_id,
}


# ---------------------------------------------------------------------------------------------
# --check

def check_classification(folder, labels, errors):
    texts = {}
    for split, (n_train, n_val) in CLASSIFICATION_SPLITS.items():
        prefix = "" if split == "full" else "smoke/"
        for name, per_label in (("train", n_train), ("validation", n_val)):
            path = os.path.join(folder, prefix + name + ".jsonl")
            if not os.path.exists(path):
                errors.append(f"{path}: missing")
                continue
            counts = collections.Counter()
            seen = set()
            for number, row in read_jsonl(path):
                if set(row) != {"text", "label"}:
                    errors.append(f"{path}:{number}: fields {sorted(row)}, expected text, label")
                    continue
                if not isinstance(row["text"], str) or not row["text"].strip():
                    errors.append(f"{path}:{number}: empty text")
                if row["label"] not in labels:
                    errors.append(f"{path}:{number}: unexpected label {row['label']!r}")
                if row["text"] in seen:
                    errors.append(f"{path}:{number}: duplicate text")
                seen.add(row["text"])
                counts[row["label"]] += 1
            wrong = {l: counts.get(l, 0) for l in labels if counts.get(l, 0) != per_label}
            if wrong:
                errors.append(f"{path}: expected {per_label} per label, got {wrong}")
            texts[prefix + name] = seen
    if texts.get("train", set()) & texts.get("validation", set()):
        errors.append(f"{folder}: train and validation overlap")
    if not texts.get("smoke/train", set()) <= texts.get("train", set()):
        errors.append(f"{folder}: smoke/train is not a subset of train")
    if not texts.get("smoke/validation", set()) <= texts.get("validation", set()):
        errors.append(f"{folder}: smoke/validation is not a subset of validation")
    log(f"  {folder}: {sum(len(v) for v in texts.values())} rows checked")


def check_fields(path, fields, errors, required=True):
    if not os.path.exists(path):
        if required:
            errors.append(f"{path}: missing")
        else:
            log(f"  {path}: not built (optional)")
        return
    count = 0
    for number, row in read_jsonl(path):
        count += 1
        if set(row) != set(fields):
            errors.append(f"{path}:{number}: fields {sorted(row)}, expected {sorted(fields)}")
        elif any(not isinstance(row[f], str) or not row[f].strip() for f in fields):
            errors.append(f"{path}:{number}: empty field")
    if count == 0:
        errors.append(f"{path}: empty file")
    log(f"  {path}: {count} rows checked")


def check(out, names):
    errors = []
    if "wordnet-supersense" in names:
        check_classification(os.path.join(out, "wordnet-supersense"), WORDNET_LABELS, errors)
    if "fortunes" in names:
        check_classification(os.path.join(out, "fortunes"), FORTUNE_LABELS, errors)
    if "foldoc" in names:
        path = os.path.join(out, "foldoc", "definitions.jsonl")
        check_fields(path, ("prompt", "completion"), errors)
    if "jargon" in names:
        check_fields(os.path.join(out, "jargon", "text.jsonl"), ("text",), errors)
    if "spdx" in names:
        check_fields(os.path.join(out, "spdx", "licenses.jsonl"), ("text",), errors, required=False)
    if "decoder" in names:
        check_decoder(os.path.join(out, "decoder"), errors)
    if "licence-id" in names:
        check_licence_id(os.path.join(out, "licence-id"), errors)
    for error in errors[:50]:
        log("ERROR " + error)
    if errors:
        log(f"check FAILED: {len(errors)} problem(s)")
        return 1
    log("check OK")
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="output folder (default: the folder holding this script)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--only", action="append", choices=sorted(BUILDERS),
                        help="build/check only this dataset (repeatable)")
    parser.add_argument("--no-spdx", action="store_true", help="skip the npm-based SPDX texts")
    parser.add_argument("--check", action="store_true", help="validate existing files, build nothing")
    args = parser.parse_args(argv)
    names = args.only or [n for n in BUILDERS if not (n in ("spdx", "decoder", "licence-id") and args.no_spdx)]
    if args.check:
        return check(args.out, names)
    log(f"building {', '.join(names)} into {args.out} (seed {args.seed})")
    for name in names:
        BUILDERS[name](args.out, args.seed)
    return check(args.out, names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
