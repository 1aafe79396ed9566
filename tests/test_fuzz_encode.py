"""Time-bounded hypothesis version of tools/fuzz/fuzz_encode.py: random JSON
values and structurally mutated seed documents (a value anywhere replaced,
a key removed or added, an element duplicated) encoded with two schema sets
and both byte orders.  Only ``EncodeError`` (a ``KstateError``) may come
out; what encodes must decode again without an error diagnostic."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import codecs_for, decode, encode
from kstate.errors import KstateError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tools" / "fuzz" / "seeds" / "json").glob("*.json"))
KEYS = ["entries", "fields", "raw", "state", "state_id", "version", "instance_id", "section",
        "subsections", "size", "offset", "byteorder", "bytes", "x", "n", "kid", "pts", "blob"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(), st.integers(-(1 << 70), 1 << 70),
    st.floats(allow_nan=True), st.text(max_size=8), st.sampled_from(KEYS),
    st.sampled_from(["RED", "GREEN", "R", "W", "X", "little", "big", "section", "subsection", "00ff"]),
    st.binary(max_size=8).map(bytes.hex))
VALUES = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS), kids, max_size=3), max_leaves=12)


@pytest.fixture(scope="module")
def codecs():
    return [codecs_for(kstate.load(ROOT / "schemas")),
            codecs_for(kstate.load(ROOT / "tests" / "fixtures" / "codec"))]


@pytest.fixture(scope="module")
def docs():
    return [json.loads(p.read_text()) for p in SEEDS]


def has_raw(node) -> bool:
    if isinstance(node, dict):
        return "raw" in node or any(has_raw(v) for v in node.values())
    if isinstance(node, list):
        return any(has_raw(v) for v in node)
    return False


def encode_all(codecs, doc) -> None:
    for c in codecs:
        for bo in (None, "little", "big"):
            try:
                blob = encode(c, doc, byteorder=bo)
            except KstateError as err:
                assert len(str(err)) < 2000
                continue
            if has_raw(doc):
                continue
            back = decode(c, blob)
            bad = [d for d in back["diagnostics"]
                   if d["severity"] == "error" and d["code"] != "DUPLICATE_INSTANCE"]
            assert not bad, bad


def test_seed_documents_encode(codecs, docs):
    assert 5 <= len(SEEDS) < 100
    for doc in docs:
        clean = 0
        for c in codecs:
            try:
                clean += c.decode(c.encode(doc))["diagnostics"] == []
            except KstateError:
                pass
        assert clean


def containers(node, out):
    if isinstance(node, (dict, list)):
        out.append(node)
        for v in (node.values() if isinstance(node, dict) else node):
            containers(v, out)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_seed_documents(codecs, docs, data):
    doc = copy.deepcopy(data.draw(st.sampled_from(docs)))
    for _ in range(data.draw(st.integers(1, 4))):
        nodes = containers(doc, [])
        node = data.draw(st.sampled_from(nodes))
        op = data.draw(st.integers(0, 3))
        if isinstance(node, dict):
            keys = list(node)
            if op == 0 and keys:
                del node[data.draw(st.sampled_from(keys))]
            elif op == 1 or not keys:
                node[data.draw(st.sampled_from(KEYS))] = data.draw(VALUES)
            else:
                node[data.draw(st.sampled_from(keys))] = data.draw(VALUES)
        else:
            if op == 0 and node:
                del node[data.draw(st.integers(0, len(node) - 1))]
            elif op == 1 or not node:
                node.append(data.draw(VALUES))
            elif op == 2:
                node.append(copy.deepcopy(node[data.draw(st.integers(0, len(node) - 1))]))
            else:
                node[data.draw(st.integers(0, len(node) - 1))] = data.draw(VALUES)
    encode_all(codecs, doc)


@settings(max_examples=150, deadline=None)
@given(VALUES)
def test_random_json_values(codecs, value):
    encode_all(codecs, value)
    encode_all(codecs, {"entries": value if isinstance(value, list) else [value]})
