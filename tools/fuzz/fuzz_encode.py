#!/usr/bin/env python3
"""Coverage-guided fuzzing of the encoder (JSON document -> stream).

    pip install atheris
    mkdir -p /tmp/corpus-json && python tools/fuzz/fuzz_encode.py /tmp/corpus-json tools/fuzz/seeds/json -max_total_time=600

(new inputs go to the first folder; the seeds folder stays as committed)

An input that parses as JSON is encoded as it is.  Any other input drives
structural mutations (``atheris.FuzzedDataProvider``) of one of the decoded
seed documents: a value anywhere in the tree is replaced by another JSON
value (huge, negative, float, string, list, object, null, a deep nest), a
key is removed or added.  Each document is encoded with two schema sets and
both byte orders (and the document's own).  Only ``EncodeError`` (or another
``KstateError``) may come out; anything else is a crash.  When encoding
succeeds the stream must decode again without an error diagnostic (unless
the document holds ``raw`` bytes, which are written as given, or repeats an
instance, which the decoder reports and the encoder does not check).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path(__file__).resolve().parent / "seeds" / "json"

with atheris.instrument_imports():
    import kstate
    import kstate.codec
    import kstate.codec.decoder
    import kstate.codec.encoder
    import kstate.codec.records
    import kstate.codec.values
    from kstate.codec import codecs_for, decode, encode
    from kstate.errors import KstateError

CODECS = [codecs_for(kstate.load(ROOT / "schemas")),
          codecs_for(kstate.load(ROOT / "tests" / "fixtures" / "codec"))]
DOCS = [json.loads(p.read_text()) for p in sorted(SEEDS.glob("*.json"))]
KEYS = ["entries", "fields", "raw", "state", "state_id", "version", "instance_id", "section",
        "subsections", "size", "offset", "byteorder", "bytes", "x", "n", "kid", "pts", "blob"]


def _value(fdp, depth: int = 0):
    kind = fdp.ConsumeIntInRange(0, 13)
    if kind == 0:
        return fdp.ConsumeIntInRange(-3, 3)
    if kind == 1:
        return fdp.ConsumeInt(9) - (1 << 63) * fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeBool()
    if kind == 3:
        return None
    if kind == 4:
        return fdp.ConsumeRegularFloat()
    if kind == 5:
        return fdp.ConsumeUnicode(12)
    if kind == 6:
        return fdp.ConsumeBytes(8).hex()
    if kind == 7:
        return fdp.PickValueInList(KEYS)
    if kind == 8 and depth < 4:
        return [_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if kind == 9 and depth < 4:
        return {fdp.PickValueInList(KEYS): _value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}
    if kind == 10:
        deep: object = 0
        for _ in range(fdp.ConsumeIntInRange(1, 3000)):
            deep = [deep] if fdp.ConsumeBool() else {"fields": deep}
        return deep
    if kind == 11:
        return [fdp.ConsumeIntInRange(0, 255)] * fdp.ConsumeIntInRange(0, 5000)
    if kind == 12:
        return ["RED", "GREEN", "R", "W", "X", "little", "big", "section", "subsection"][
            fdp.ConsumeIntInRange(0, 8)]
    return 1 << fdp.ConsumeIntInRange(0, 70)


def _containers(root, out: list) -> None:
    """Every dict and list of the tree, breadth first, at most 200 of them."""
    todo = [root]
    while todo and len(out) < 200:
        node = todo.pop(0)
        if isinstance(node, dict):
            out.append(node)
            todo += node.values()
        elif isinstance(node, list):
            out.append(node)
            todo += node[:50]


def mutate(data: bytes):
    fdp = atheris.FuzzedDataProvider(data)
    doc = json.loads(json.dumps(DOCS[fdp.ConsumeIntInRange(0, len(DOCS) - 1)]))
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        nodes: list = []
        _containers(doc, nodes)
        node = nodes[fdp.ConsumeIntInRange(0, len(nodes) - 1)]
        op = fdp.ConsumeIntInRange(0, 3)
        if isinstance(node, dict):
            keys = list(node)
            if op == 0 and keys:
                del node[keys[fdp.ConsumeIntInRange(0, len(keys) - 1)]]
            elif op == 1 or not keys:
                node[fdp.PickValueInList(KEYS)] = _value(fdp)
            else:
                node[keys[fdp.ConsumeIntInRange(0, len(keys) - 1)]] = _value(fdp)
        else:
            if op == 0 and node:
                del node[fdp.ConsumeIntInRange(0, len(node) - 1)]
            elif op == 1 or not node:
                node.append(_value(fdp))
            elif op == 2:
                node.append(node[fdp.ConsumeIntInRange(0, len(node) - 1)])  # shared: fine, not mutated twice
            else:
                node[fdp.ConsumeIntInRange(0, len(node) - 1)] = _value(fdp)
    return doc


def _has_raw(root) -> bool:
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if "raw" in node:
                return True
            todo += node.values()
        elif isinstance(node, list):
            todo += node
    return False


def test_one(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8): mutate a seed document
        doc = mutate(data)
    for codecs in CODECS:
        for bo in (None, "little", "big"):
            try:
                blob = encode(codecs, doc, byteorder=bo)
            except KstateError:
                continue
            if _has_raw(doc):
                continue
            back = decode(codecs, blob)
            bad = [d for d in back["diagnostics"]
                   if d["severity"] == "error" and d["code"] != "DUPLICATE_INSTANCE"]
            assert not bad, (bad, doc)


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
