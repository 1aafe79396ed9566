"""The stream decoder's fast path (a SECTION of a state version seen before
in the stream: decoder.py, and the fast variants of compiler.py) decodes and
reports exactly what the full path does.

The first entry of each state version always takes the full path, so the
one-blob tests of test_codec_diagnostics.py see only it.  Here a damaged
entry follows a clean entry of the same state and version (so the fast path
is tried first) and must decode to the same entry and the same diagnostics
as when it comes first, the offsets moved by the clean entry's length."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import ArrayView, codecs_for, decode, encode

ROOT = Path(__file__).resolve().parent.parent
MAGIC, EOF_ = struct.pack("<I", 0x3B37778C), struct.pack("<i", -1)


@pytest.fixture(scope="module")
def feat():
    return codecs_for(kstate.load(ROOT / "tests" / "fixtures" / "codec"))


@pytest.fixture(scope="module")
def memfd():
    return codecs_for(kstate.load(ROOT / "schemas"))


def feat_fields() -> dict:
    return {"on": True, "level": -3, "c": "GREEN", "p": ["R", "X"], "pt": {"x": -1, "y": 7},
         "pk": {"lo": 1, "mid": 200, "hi": 5, "tag": 9}, "where_": 4096, "f": 77, "ptr": 5,
         "small": [1, 2, 3], "big": list(range(20)), "digest": "01020304", "label": "lbl",
         "pts": [{"x": 1, "y": 2}, {"x": 3, "y": 4}], "blob": "aabb", "kid": {"fields": {"a": 1, "b": 2}},
         "kids": [{"fields": {"a": 3, "b": 4}}, {"version": 1, "fields": {"a": 5}}], "tail": [9, 8, 7]}


def entry_bytes(codecs, state: str, inst: int, fields: dict, version: int | None = None, bo="little") -> bytes:
    e = {"state": state, "instance_id": inst, "fields": fields}
    if version is not None:
        e["version"] = version
    return encode(codecs, {"entries": [e]}, bo)[4:-4]


def shifted(value, by: int):
    """``value`` with the offset of every entry and nested state moved by ``by``."""
    if isinstance(value, list):
        return [shifted(v, by) for v in value]
    if isinstance(value, dict):
        out = {k: shifted(v, by) for k, v in value.items()}
        if "state_id" in value and "offset" in value:
            out["offset"] += by
        return out
    if isinstance(value, ArrayView):
        return value.tolist()
    return value


def same_either_way(codecs, first: bytes, damaged: bytes, lenient: bool, arrays: str = "list",
                    bo: str = "little") -> dict:
    """Decode ``damaged`` alone and after ``first``; both must agree (offsets moved)."""
    magic = MAGIC if bo == "little" else struct.pack(">I", 0x3B37778C)
    eof = EOF_ if bo == "little" else struct.pack(">i", -1)
    alone = decode(codecs, magic + damaged + eof, lenient=lenient, arrays=arrays)
    after = decode(codecs, magic + first + damaged + eof, lenient=lenient, arrays=arrays)
    assert not [d for d in decode(codecs, magic + first + eof)["diagnostics"]]
    k = len(first)
    assert len(after["entries"]) == len(alone["entries"]) + 1
    assert shifted(after["entries"][1:], 0) == shifted(alone["entries"], k)
    assert after["diagnostics"] == [dict(d, offset=d["offset"] + k) for d in alone["diagnostics"]]
    return after


EDITS = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, version=st.sampled_from([1, 2, 3, 0]), lenient=st.booleans(),
       arrays=st.sampled_from(["list", "memoryview"]), bo=st.sampled_from(["little", "big"]))
def test_damaged_feat_entry_after_a_clean_one(feat, edits, version, lenient, arrays, bo):
    """Every check of a fixture state with every feature (fixed values, bools, ranges,
    enums, flags, bits, arrays, bytes, char, nested states, a rest array)."""
    first = entry_bytes(feat, "feat", 1, feat_fields(), bo=bo)
    damaged = bytearray(entry_bytes(feat, "feat", 2, feat_fields(), 1 if version == 1 else 2, bo))
    for pos, byte in edits:
        damaged[20 + pos % (len(damaged) - 20)] = byte  # the payload, not the header
    struct.pack_into("<i" if bo == "little" else ">i", damaged, 8, version or 2)
    same_either_way(feat, first, bytes(damaged), lenient, arrays, bo)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(-3, 3), inst=st.sampled_from([1, 2]), lenient=st.booleans())
def test_header_of_the_second_entry(feat, size, inst, lenient):
    """A size that does not match the layout, a duplicate instance: the fast path's header checks."""
    first = entry_bytes(feat, "feat", 1, feat_fields())
    damaged = bytearray(entry_bytes(feat, "feat", 2, feat_fields()))
    real = struct.unpack_from("<i", damaged, 16)[0]
    struct.pack_into("<ii", damaged, 12, inst, real + size)
    if inst == 1:
        doc = decode(feat, MAGIC + first + bytes(damaged) + EOF_, lenient=lenient)
        assert doc["diagnostics"][0]["code"] == "DUPLICATE_INSTANCE"
        assert doc["diagnostics"][0]["offset"] == 4 + len(first)
        return
    doc = same_either_way(feat, first, bytes(damaged), lenient)
    assert bool(doc["diagnostics"]) == (size != 0)


@pytest.mark.parametrize("what,at,value", [
    ("count above @max", 20 + 20, struct.pack("<I", (1 << 20) + 1)),
    ("count past the bytes", 20 + 20, struct.pack("<I", 3)),
    ("unknown seals", 20 + 16, struct.pack("<I", 0x30)),
])
def test_memfd_after_memfd(memfd, what, at, value):
    """The bench's schema: the fast path's count checks and flags warning."""
    fields = {"pos": 1, "size": 4096, "seals": ["SEAL"], "folios": [{"pfn": 5, "flags": 1, "index": 0}],
              "name": "m"}
    first = entry_bytes(memfd, "memfd", 1, fields)
    damaged = bytearray(entry_bytes(memfd, "memfd", 2, fields))
    damaged[at:at + len(value)] = value
    for lenient in (False, True):
        doc = same_either_way(memfd, first, bytes(damaged), lenient)
        assert doc["diagnostics"], what


def test_fast_path_keeps_the_parent_of_subsections(feat):
    """A subsection after a SECTION the fast path decoded: its path and its parent."""
    first = entry_bytes(feat, "feat", 1, feat_fields())
    doc = {"entries": [{"state": "feat", "instance_id": 2, "fields": feat_fields(),
                        "subsections": [{"state": "ext", "fields": {"x": -4}}]}]}
    second = encode(feat, doc)[4:-4]
    out = decode(feat, MAGIC + first + second + EOF_)
    assert out["diagnostics"] == []
    assert out["entries"][1]["subsections"][0]["fields"] == {"x": -4}
    bad = bytearray(second)
    sub = len(entry_bytes(feat, "feat", 2, feat_fields()))
    struct.pack_into("<i", bad, sub + 12, 7)  # the subsection's instance_id
    out = decode(feat, MAGIC + first + bytes(bad) + EOF_, lenient=True)
    assert [(d["code"], d["path"], d["offset"]) for d in out["diagnostics"]] == [
        ("UNKNOWN_SUBSECTION", "feat[instance 2]/ext", 4 + len(first) + sub)]
