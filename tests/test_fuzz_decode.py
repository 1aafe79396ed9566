"""Time-bounded hypothesis version of tools/fuzz/fuzz_decode.py: mutated
seed streams (byte flips, inserts, deletes, splices, cuts, header fields set
to extreme values) and random bytes, decoded strict and lenient with two
schema sets and rendered as JSON, text and hexdump.  Only kstate's own
outcomes may come out: a document with diagnostics, never an exception.
(tests/test_codec_diagnostics.py::test_no_input_raises covers overwritten
bytes of three fixture blobs; this adds the project's schemas, the seed
corpus, structural edits and the renderers.)"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import codecs_for, decode, encode
from kstate.codec import html_view
from kstate.codec.render import hexdump, text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tools" / "fuzz" / "seeds" / "blob").glob("*.bin"))
EXTREMES = [0, 1, -1, 2, 0x7FFFFFFF, -0x80000000, 0xFFFF, 20, 3]


@pytest.fixture(scope="module")
def codecs():
    return [codecs_for(kstate.load(ROOT / "schemas")),
            codecs_for(kstate.load(ROOT / "tests" / "fixtures" / "codec"))]


def check_doc(codecs, data: bytes, doc: dict, lenient: bool) -> None:
    assert doc["size"] == len(data)
    errors = 0
    for d in doc["diagnostics"]:
        assert set(d) == {"code", "severity", "offset", "path", "message"}, d
        assert d["severity"] in ("error", "warning", "info")
        assert 0 <= d["offset"] <= len(data), d
        assert "\n" not in d["message"]
        errors += d["severity"] == "error"
    if not lenient:
        assert errors <= 1
    json.dumps(doc)
    text(codecs, doc, lenient=lenient)
    out = hexdump(codecs, doc, data, lenient=lenient, max_elements=None)
    # the hexdump shows every byte once, in order, and calls only a real -1 the EOF marker
    rows = [line for line in out.splitlines() if re.match(r"^[0-9a-f]{8}  ", line)]
    assert b"".join(bytes.fromhex(r[10:57].replace(" ", "")) for r in rows) == bytes(data)
    for m in re.finditer(r"^ +0x([0-9a-f]+)\.\.0x[0-9a-f]+  EOF i32 = -1$", out, re.M):
        assert data[int(m.group(1), 16):int(m.group(1), 16) + 4] == b"\xff\xff\xff\xff"
    html_view.build(codecs, doc, lenient)
    for value in _partials(doc):  # lenient mode: the members before the error, in layout order
        assert lenient and "raw" in value and "fields" not in value and value["state"] in codecs.states, value
        layout = codecs.states[value["state"]]["layouts"][value["version"]]
        keys = [k for mb in layout for k in ([f[0] for f in mb["fields"]] if "bits" in mb else [mb["name"]])]
        assert list(value["partial"]) == keys[:len(value["partial"])], (value, keys)
    if not doc["diagnostics"]:  # docs/wire-format.md: what decodes cleanly encodes back to the same bytes
        assert encode(codecs, doc) == data


def _partials(node):
    """Every entry and nested state of a decode document that has a ``partial``."""
    if isinstance(node, dict):
        if "partial" in node and "state_id" in node:
            yield node
        for v in node.values():
            yield from _partials(v)
    elif isinstance(node, list):
        for v in node:
            yield from _partials(v)


def decode_all(codecs, data: bytes) -> None:
    for c in codecs:
        for lenient in (False, True):
            check_doc(c, data, decode(c, data, lenient=lenient), lenient)


def test_seed_corpus_is_small_and_decodes_cleanly(codecs):
    assert 10 <= len(SEEDS) < 100
    assert sum(p.stat().st_size for p in SEEDS) < 100_000
    for p in SEEDS:
        data = p.read_bytes()
        assert any(not c.decode(data)["diagnostics"] for c in codecs), p.name


EDIT = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 24)),
    st.tuples(st.just("i32"), st.integers(0, 1 << 16), st.sampled_from(EXTREMES)),
    st.tuples(st.just("splice"), st.integers(0, 1 << 16), st.integers(0, 1 << 16)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SEEDS), st.lists(EDIT, min_size=1, max_size=5), st.integers(0, 1 << 16),
       st.booleans())
def test_mutated_seed_streams(codecs, seed, edits, cut, do_cut):
    blob = bytearray(seed.read_bytes())
    for kind, pos, arg in edits:
        pos %= len(blob) + 1
        if kind == "flip" and pos < len(blob):
            blob[pos] = arg
        elif kind == "insert":
            blob[pos:pos] = arg
        elif kind == "delete":
            del blob[pos:pos + arg]
        elif kind == "i32":
            pos -= pos % 4  # header fields are 4-aligned from the magic
            blob[pos:pos + 4] = struct.pack("<i" if blob[:1] == b"\x8c" else ">i", arg)
        elif kind == "splice":
            other = SEEDS[arg % len(SEEDS)].read_bytes()
            blob[pos:] = other[4 + arg % max(1, len(other) - 4):]
    if do_cut:
        del blob[cut % (len(blob) + 1):]
    decode_all(codecs, bytes(blob))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_behind_a_magic(codecs, tail):
    for magic in (b"\x8c\x77\x37\x3b", b"\x3b\x37\x77\x8c", b""):
        decode_all(codecs, magic + tail)
