"""Resource limits (docs/security.md): each one breached is a clean
LIMIT_EXCEEDED diagnostic (decode), an EncodeError (encode) or exit 2 (CLI
usage), never a RecursionError, a MemoryError or a hang; and no count is
allocated before the bytes left are checked."""

from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import pytest

import kstate
from kstate import limits as front_limits
from kstate import loader, parser
from kstate import expr as kexpr
from kstate.cli import run as cli_run
from kstate.codec import EncodeError, Limits, decode, encode, limits
from kstate.codec.render import hexdump, text

ROOT = Path(__file__).resolve().parent.parent
MAGIC = struct.pack("<I", 0x3B37778C)
EOF_ = struct.pack("<i", -1)


def hdr(stype, sid, ver, inst, size):
    return struct.pack("<iiiii", stype, sid, ver, inst, size)


def entry(sid, payload, inst=0, ver=1, stype=2):
    return hdr(stype, sid, ver, inst, len(payload)) + payload


def load_text(tmp_path, text_, name="t.kstate"):
    p = tmp_path / name
    p.write_text(text_)
    return kstate.load(p)


def codes(doc):
    return [d["code"] for d in doc["diagnostics"]]


def only_limit(doc):
    found = [d for d in doc["diagnostics"] if d["code"] == "LIMIT_EXCEEDED"]
    assert len(found) == 1, doc["diagnostics"]
    d = found[0]
    assert d["severity"] == "error" and d["message"] and "\n" not in d["message"]
    return d


def render_all(ss, doc, blob):
    json.dumps(doc)
    text(kstate.codec.codecs_for(ss), doc)
    hexdump(kstate.codec.codecs_for(ss), doc, blob)


# --- counts are checked before allocation --------------------------------------

BIG = """
struct big { a: u64[64]; b: u32; }
state s { id = 1; version = 1; n: u32; items: big[n]; }
state r { id = 2; version = 1; data: u8[..]; }
struct one { a: u8; }
state q { id = 3; version = 1; data: one[..]; }
state f { id = 4; version = 1; data: u8[100000]; }
"""


def test_huge_count_of_large_struct_is_count_out_of_range_instantly(tmp_path):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + entry(1, struct.pack("<I", 0xFFFFFFFF) + bytes(600)) + EOF_
    for lenient in (False, True):  # compile the codecs first: only the decode is measured
        decode(ss, blob, lenient=lenient)
    tracemalloc.start()
    for lenient in (False, True):
        doc = decode(ss, blob, lenient=lenient)
        assert codes(doc) == ["COUNT_OUT_OF_RANGE"]
        d = doc["diagnostics"][0]
        assert (d["offset"], d["path"]) == (24, "s[instance 0].n")
        assert "4294967295" in d["message"]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # nothing sized by the count was allocated (that would be gigabytes)
    assert peak < 8 << 20


def test_rest_array_of_bytes_in_a_huge_entry_hits_the_value_limit(tmp_path):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + entry(2, bytes(100_001)) + EOF_
    doc = decode(ss, blob, limits=Limits(values=100_000))
    d = only_limit(doc)
    assert (d["offset"], d["path"]) == (24, "r[instance 0].data")
    assert "100000 values" in d["message"]
    assert "raw" in doc["entries"][0]
    assert codes(decode(ss, blob, limits=Limits(values=100_003))) == []  # dict + list + 100,001


def test_rest_array_of_structs_counts_each_member(tmp_path):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + entry(3, bytes(1000)) + EOF_  # 1,000 {"a": 0} objects: 2,000 values
    assert codes(decode(ss, blob, limits=Limits(values=2002))) == []
    assert codes(decode(ss, blob, limits=Limits(values=2001))) == ["LIMIT_EXCEEDED"]


def test_fixed_arrays_count_too_and_the_module_constant_is_the_default(tmp_path, monkeypatch):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + b"".join(entry(4, bytes(100_000), inst=i) for i in range(3)) + EOF_
    assert codes(decode(ss, blob)) == []
    monkeypatch.setattr(limits, "MAX_VALUES", 250_000)
    doc = decode(ss, blob, lenient=True)
    d = only_limit(doc)
    assert d["path"] == "f[instance 2].data"
    assert [("fields" in e) for e in doc["entries"]] == [True, True, False]


def test_value_budget_is_given_back_when_an_entry_fails(tmp_path):
    """A failed entry's values are dropped, so they are not charged (fast path
    retried by the slow path, and lenient mode going on)."""
    ss = load_text(tmp_path, BIG)
    good = entry(2, bytes(50), inst=1)
    bad = entry(1, struct.pack("<I", 1) + bytes(10), inst=2)  # big[1] needs 516 bytes
    blob = MAGIC + good + bad + entry(2, bytes(50), inst=3) + EOF_
    doc = decode(ss, blob, lenient=True, limits=Limits(values=2 * 52 + 3))
    assert codes(doc) == ["COUNT_OUT_OF_RANGE"]


# --- entries and stream size ---------------------------------------------------


def test_entry_limit(tmp_path):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + b"".join(entry(2, b"x", inst=i) for i in range(5)) + EOF_
    assert codes(decode(ss, blob, limits=Limits(entries=5))) == []
    for lenient in (False, True):
        doc = decode(ss, blob, lenient=lenient, limits=Limits(entries=3))
        d = only_limit(doc)
        assert (d["offset"], d["path"]) == (4 + 3 * 21, "")
        assert len(doc["entries"]) == 3
        render_all(ss, doc, blob)


def test_stream_size_limit(tmp_path):
    ss = load_text(tmp_path, BIG)
    blob = MAGIC + entry(2, bytes(100)) + EOF_
    assert codes(decode(ss, blob, limits=Limits(stream_size=len(blob)))) == []
    doc = decode(ss, blob, limits=Limits(stream_size=len(blob) - 1))
    d = only_limit(doc)
    assert d["offset"] == len(blob) - 1 and doc["entries"] == []
    render_all(ss, doc, blob)


def test_cli_refuses_a_blob_over_the_limit_with_exit_2(tmp_path, monkeypatch, capsys):
    blob = tmp_path / "b.bin"
    blob.write_bytes(MAGIC + EOF_ + bytes(100))
    monkeypatch.setattr(limits, "MAX_STREAM_SIZE", 50)
    assert cli_run(["decode", str(blob), "--schema", str(ROOT / "schemas")]) == 2
    assert "larger than 50 bytes" in capsys.readouterr().err
    # a device is not read at all (only regular files and stdin are)
    assert cli_run(["decode", "/dev/zero", "--schema", str(ROOT / "schemas")]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_cli_encode_refuses_json_over_the_limit_and_huge_integers(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "d.json"
    doc.write_text('{"entries": [{"state": "test_v2", "fields": {"i": ' + "9" * 5000 + "}}]}")
    assert cli_run(["encode", str(doc), "--schema", str(ROOT / "schemas")]) == 2
    err = capsys.readouterr().err
    assert "invalid JSON" in err and "internal error" not in err
    monkeypatch.setattr(limits, "MAX_JSON_SIZE", 1000)
    assert cli_run(["encode", "/dev/zero", "--schema", str(ROOT / "schemas")]) == 2
    assert "not a regular file" in capsys.readouterr().err
    doc.write_text("[" * 1001)
    assert cli_run(["encode", str(doc), "--schema", str(ROOT / "schemas")]) == 2
    assert "larger than 1000 bytes" in capsys.readouterr().err


def test_encoder_limits(tmp_path):
    ss = load_text(tmp_path, BIG)
    doc = {"entries": [{"state": "r", "instance_id": i, "fields": {"data": [1, 2]}} for i in range(4)]}
    assert len(encode(ss, doc)) == 4 + 4 * 22 + 4
    with pytest.raises(EncodeError, match="at most 3 entries"):
        encode(ss, doc, limits=Limits(entries=3))
    with pytest.raises(EncodeError, match="at most 60 bytes"):
        encode(ss, doc, limits=Limits(stream_size=60))


# --- nesting ---------------------------------------------------------------------


def chain_schema(n: int) -> str:
    lines = ["state n0 { id = 1000; version = 1; a: u8; }"]
    lines += [f"state n{i} {{ id = {1000 + i}; version = 1; k: n{i - 1}; }}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def chain_blob(n: int) -> bytes:
    payload = b"\x07"
    for i in range(1, n):
        payload = hdr(2, 1000 + i - 1, 1, 0, len(payload)) + payload
    return MAGIC + hdr(2, 1000 + n - 1, 1, 5, len(payload)) + payload + EOF_


@pytest.mark.parametrize("n", [limits.MAX_NESTING_DEPTH + 2, front_limits.MAX_TYPE_NESTING])
def test_nested_states_deeper_than_the_limit(tmp_path, n):
    ss = load_text(tmp_path, chain_schema(n))
    blob = chain_blob(n)
    depth = limits.MAX_NESTING_DEPTH
    strict = decode(ss, blob)
    d = only_limit(strict)
    assert d["offset"] == 4 + 20 * (depth + 1)  # the header of nested level depth + 1
    assert d["path"] == f"n{n - 1}[instance 5]" + ".k" * (depth + 1)
    render_all(ss, strict, blob)
    lenient = decode(ss, blob, lenient=True)
    assert codes(lenient) == ["LIMIT_EXCEEDED"]
    render_all(ss, lenient, blob)
    back = encode(ss, lenient)  # the deepest level is kept raw, so it encodes back
    assert back == blob


def test_nested_states_at_the_limit_decode_and_encode(tmp_path):
    n = limits.MAX_NESTING_DEPTH + 1  # the entry itself plus MAX_NESTING_DEPTH nested levels
    ss = load_text(tmp_path, chain_schema(n))
    doc = decode(ss, chain_blob(n))
    assert codes(doc) == []
    assert encode(ss, doc) == chain_blob(n)
    n += 1  # one more: fine when the limit is raised for the call
    ss = load_text(tmp_path, chain_schema(n))
    doc = decode(ss, chain_blob(n), limits=Limits(nesting_depth=n - 1))
    assert codes(doc) == []
    render_all(ss, doc, chain_blob(n))
    assert encode(ss, doc, limits=Limits(nesting_depth=n - 1)) == chain_blob(n)
    with pytest.raises(EncodeError, match="nested states with fields at most"):
        encode(ss, doc)


def struct_chain(n: int) -> str:
    lines = ["struct s0 { a: u8; }"]
    lines += [f"struct s{i} {{ a: s{i - 1}; }}" for i in range(1, n)]
    lines.append(f"state top {{ id = 1; version = 1; x: s{n - 1}; }}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("n", [limits.MAX_TYPE_DEPTH + 1, front_limits.MAX_TYPE_NESTING - 1])
def test_structs_nested_deeper_than_the_codec_compiles(tmp_path, n):
    ss = load_text(tmp_path, struct_chain(n))
    blob = MAGIC + entry(1, b"\x07") + EOF_
    for lenient in (False, True):
        doc = decode(ss, blob, lenient=lenient)
        d = only_limit(doc)
        assert (d["offset"], d["path"]) == (24, "top[instance 0]")
        render_all(ss, doc, blob)
    deep: dict = {"a": 7}
    for _ in range(n - 1):
        deep = {"a": deep}
    with pytest.raises(EncodeError, match="plain structs nested at most"):
        encode(ss, {"entries": [{"state": "top", "fields": {"x": deep}}]})


def test_structs_at_the_type_depth_limit_round_trip(tmp_path):
    ss = load_text(tmp_path, struct_chain(limits.MAX_TYPE_DEPTH))
    blob = MAGIC + entry(1, b"\x07") + EOF_
    doc = decode(ss, blob)
    assert codes(doc) == []
    render_all(ss, doc, blob)
    assert encode(ss, doc) == blob


def test_deep_schemas_compile_with_every_backend(tmp_path):
    from kstate.output import render_all as render_outputs

    # the deepest chains the front end accepts (MAX_TYPE_NESTING levels, the state counting one)
    deepest = front_limits.MAX_TYPE_NESTING
    for n, text_ in ((deepest, struct_chain(deepest - 1)), (deepest, chain_schema(deepest))):
        ss = load_text(tmp_path, text_, f"deep{n}{len(text_)}.kstate")
        render_outputs(ss, ["python", "json", "docs"])


# --- the encoder's inputs ----------------------------------------------------------


@pytest.mark.parametrize("doc", [
    {"entries": [{"state": "test_v2", "fields": {"i": 10 ** 5000}}]},
    {"entries": [{"state": "test_v2", "version": 10 ** 5000, "fields": {"i": 1}}]},
    {"entries": [{"state": "test", "state_id": 10 ** 5000, "fields": {}}]},
    {"entries": [{"state_id": 10 ** 5000, "fields": {}}]},
    {"byteorder": ["x"] * 10, "entries": []},
    {"entries": [], 1: 2, (3, 4): 5},
    {"entries": [{"state": "test_v2", "fields": {"i": 1, 7: 1}}]},
    {"entries": [{"state": "test_v2", "fields": {"i": [[[[[[[[[[[[1]]]]]]]]]]]]}}]},
])
def test_encoder_rejects_odd_python_values_cleanly(doc):
    ss = kstate.load(ROOT / "schemas")
    with pytest.raises(EncodeError) as err:
        encode(ss, doc)
    assert len(str(err.value)) < 400


def test_encoder_deeply_nested_json_is_an_encode_error():
    ss = kstate.load(ROOT / "schemas")
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    for doc in ({"entries": deep}, {"entries": [{"state": "test_v2", "fields": {"i": deep}}]},
                {"entries": [], "byteorder": deep}):
        with pytest.raises(EncodeError):
            encode(ss, doc)


# --- front-end limits stay what language.md says ---------------------------------


def test_front_end_limits_are_the_documented_values():
    assert loader.MAX_SCHEMA_BYTES == 4 * 1024 * 1024
    assert loader.MAX_IMPORT_DEPTH == 64
    assert parser.MAX_NESTING == 100
    assert parser.MAX_STATEMENT_TOKENS == 400
    assert kexpr.MAX_SHIFT == 4096
    doc = (ROOT / "docs" / "security.md").read_text()
    for name in ("MAX_STREAM_SIZE", "MAX_JSON_SIZE", "MAX_ENTRIES", "MAX_VALUES", "MAX_NESTING_DEPTH",
                 "MAX_TYPE_DEPTH", "MAX_SCHEMA_BYTES", "MAX_IMPORT_DEPTH", "LIMIT_EXCEEDED"):
        assert name in doc
    assert "LIMIT_EXCEEDED" in (ROOT / "docs" / "codec.md").read_text()


def test_structs_that_double_at_each_level_do_not_compile_for_hours(tmp_path):
    """s_i holds two s_(i-1): 2^20 unrolled values; the decoder refuses the layout
    at once (LIMIT_EXCEEDED) instead of generating megabytes of code."""
    lines = ["struct s0 { a: u8; }"]
    lines += [f"struct s{i} {{ a: s{i - 1}; b: s{i - 1}; }}" for i in range(1, 21)]
    lines.append("state top { id = 1; version = 1; x: s20; }")
    lines.append("state small { id = 2; version = 1; x: s10; }")
    ss = load_text(tmp_path, "\n".join(lines) + "\n")
    blob = MAGIC + entry(1, bytes(1 << 20)) + entry(2, bytes(1 << 10)) + EOF_
    doc = decode(ss, blob, lenient=True)
    d = only_limit(doc)
    assert (d["offset"], d["path"]) == (24, "top[instance 0]")
    assert "fields" in doc["entries"][1]
