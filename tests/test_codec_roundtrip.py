"""Round trips with hypothesis: random values for a schema with every
feature, and random schemas (generated as text here), in both byte orders.

encode -> decode gives the same values with no diagnostics; decode ->
encode gives the same bytes.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import codecs_for, decode, encode

FIXTURES = Path(__file__).parent / "fixtures" / "codec"
INTS = {"u8": (0, 255), "u16": (0, 65535), "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1),
        "i8": (-128, 127), "i16": (-2**15, 2**15 - 1), "i32": (-2**31, 2**31 - 1), "i64": (-2**63, 2**63 - 1)}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


# --- values from the codec description ---------------------------------------------


def value_strategy(desc: dict, typ: tuple, depth: int = 0):
    kind = typ[0]
    if kind == "int":
        lo, hi = INTS[typ[1]]
        return st.integers(lo, hi)
    if kind in ("addr", "folio"):
        return st.integers(0, 2**64 - 1)
    if kind == "bool":
        return st.booleans()
    if kind == "char":
        n = typ[1]
        text = st.text(alphabet=string.ascii_letters + string.digits + " -_é", max_size=n).filter(
            lambda s: len(s.encode()) <= n)
        junk = st.binary(min_size=n, max_size=n).map(lambda b: b"\xff" + b[1:]).map(lambda b: {"bytes": b.hex()})
        return st.one_of(text, junk)
    if kind == "bytes":
        return st.binary(min_size=1, max_size=1).map(bytes.hex)
    if kind == "enum":
        e = desc["enums"][typ[1]]
        names = [n for n, _ in e["values"]]
        if e["kind"] == "enum":
            return st.sampled_from(names)
        order = {n: v for n, v in e["values"]}
        return st.sets(st.sampled_from(names)).map(lambda s: sorted(s, key=order.__getitem__))
    if kind == "struct":
        return members_strategy(desc, desc["structs"][typ[1]], depth)
    if kind == "state":
        sd = desc["states"][typ[1]]
        return st.integers(sd["min_version"], sd["version"]).flatmap(
            lambda v: members_strategy(desc, sd["layouts"][v], depth + 1).map(
                lambda f: {"state": typ[1], "version": v, "fields": f}))
    raise AssertionError(typ)


def members_strategy(desc: dict, layout, depth: int = 0):
    counts = {mb["shape"][1] for mb in layout if "name" in mb and mb.get("shape", ("",))[0] == "count"}
    count_max = min([mb.get("max", 4) for mb in layout if "name" in mb and mb["name"] in counts] + [4])

    @st.composite
    def build(draw):
        out = {}
        lens = {c: draw(st.integers(0, count_max)) for c in counts}
        for mb in layout:
            if "bits" in mb:
                for name, width, _ in mb["fields"]:
                    out[name] = draw(st.integers(0, (1 << width) - 1))
                continue
            name, typ, shape = mb["name"], mb["type"], mb.get("shape")
            if name in lens:
                out[name] = lens[name]
                continue
            if "fixed" in mb:
                out[name] = mb["fixed"]
                continue
            if "range" in mb:
                out[name] = draw(st.integers(*mb["range"]))
                continue
            if shape is None:
                out[name] = draw(value_strategy(desc, typ, depth))
                continue
            n = shape[1] if shape[0] == "fixed" else lens.get(shape[1]) if shape[0] == "count" \
                else draw(st.integers(0, min(mb.get("max", 5), 5)))
            if typ[0] == "bytes":
                out[name] = draw(st.binary(min_size=n, max_size=n)).hex()
            else:
                out[name] = draw(st.lists(value_strategy(desc, typ, depth), min_size=n, max_size=n))
        return out
    return build()


def normalize(v):
    if isinstance(v, dict):
        drop = {"offset", "size", "state_id", "section"} if ("fields" in v or "raw" in v) else set()
        return {k: normalize(x) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    return v


def doc_strategy(desc: dict, state: str):
    sd = desc["states"][state]

    def entry(v):
        return members_strategy(desc, sd["layouts"][v]).map(
            lambda f: {"state": state, "version": v, "fields": f})
    return st.lists(st.integers(sd["min_version"], sd["version"]).flatmap(entry), min_size=1, max_size=3)


def check_roundtrip(ss, entries, byteorder):
    for i, e in enumerate(entries):
        e["instance_id"] = i
        e["subsections"] = []
    doc = {"entries": entries}
    blob = encode(ss, doc, byteorder)
    back = decode(ss, blob)
    assert back["diagnostics"] == []
    assert back["byteorder"] == byteorder
    assert normalize(back["entries"]) == normalize(entries)
    assert encode(ss, back, None) == blob
    assert decode(ss, blob, lenient=True) == back


@pytest.fixture(scope="module")
def feat():
    return kstate.load(FIXTURES)


@SETTINGS
@given(data=st.data(), byteorder=st.sampled_from(["little", "big"]))
def test_feature_schema_roundtrip(feat, data, byteorder):
    desc = codecs_for(feat).desc
    state = data.draw(st.sampled_from(["feat", "memfd", "pci", "test", "inner"]))
    check_roundtrip(feat, data.draw(doc_strategy(desc, state)), byteorder)


# --- random schemas, written as text ---------------------------------------------------

SCALARS = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "char[5]", "bytes[3]",
           "addr(linear)", "addr(vmemmap)", "folio", "col", "fl", "pair", "*u32", "u16[3]", "pair[2]"]


@st.composite
def schema_text(draw):
    version = draw(st.integers(1, 4))
    min_version = draw(st.integers(1, version))
    lines = ["enum col : u8 { RED = 1, BLUE = 7, }", "flags fl : u16 { A = 0x1, B = 0x8, C = 0x100 }",
             "struct pair { a: i16; bits u8 { lo: 3; hi: 2; } }",
             "state kid { id = 200; version = 2; min_version = 1; x: u16; y: u8 @since(2); }",
             "state sub { id = 201; version = 1; v: u32; }",
             "state top {", f"  id = 100; version = {version}; min_version = {min_version};"]
    nfields = draw(st.integers(1, 8))
    for i in range(nfields):
        kind = draw(st.sampled_from(["scalar", "scalar", "scalar", "counted", "bits", "nested", "fixed"]))
        ann = ""
        if draw(st.booleans()) and kind in ("scalar", "nested"):
            since = draw(st.integers(1, version))
            removed = draw(st.integers(since + 1, version + 1))
            ann = f" @since({since})" + (f' @removed({removed}, "gone")' if removed <= version else "")
        if kind == "scalar":
            lines.append(f"  f{i}: {draw(st.sampled_from(SCALARS))}{ann};")
        elif kind == "fixed":
            lines.append(f"  f{i}: u32 = {draw(st.integers(0, 2**32 - 1))};")
        elif kind == "counted":
            lines.append(f"  n{i}: u8 @max(6);")
            lines.append(f"  f{i}: {draw(st.sampled_from(['u32', 'pair', 'kid', 'bytes', 'i64']))}[n{i}];")
        elif kind == "bits":
            w = draw(st.lists(st.integers(1, 9), min_size=1, max_size=4).filter(lambda ws: sum(ws) <= 32))
            lines.append("  bits u32 { " + " ".join(f"b{i}_{j}: {x};" for j, x in enumerate(w)) + " }")
        else:
            lines.append(f"  f{i}: kid{ann};")
    if draw(st.booleans()):
        lines.append(f"  rest: {draw(st.sampled_from(['u16', 'pair', 'bytes']))}[..] @max(8);")
    lines.append("  subsection sub;")
    lines.append("}")
    return "\n".join(lines) + "\n"


@SETTINGS
@given(data=st.data(), byteorder=st.sampled_from(["little", "big"]))
def test_random_schema_roundtrip(tmp_path_factory, data, byteorder):
    text = data.draw(schema_text())
    path = tmp_path_factory.mktemp("schema") / "random.kstate"
    path.write_text(text)
    try:
        ss = kstate.load(path)
    except kstate.SchemaError as err:  # the generator keeps to the rules; say which it broke
        raise AssertionError(f"generated schema does not compile:\n{text}\n{err.render()}") from None
    desc = codecs_for(ss).desc
    entries = data.draw(doc_strategy(desc, "top"))
    for e in entries:
        e["subsections"] = [{"state": "sub", "version": 1, "fields": {"v": data.draw(st.integers(0, 2**32 - 1))}}]
    for i, e in enumerate(entries):
        e["instance_id"] = i
        for s in e["subsections"]:
            s["instance_id"] = i
    doc = {"entries": entries}
    blob = encode(ss, doc, byteorder)
    back = decode(ss, blob)
    assert back["diagnostics"] == [], text
    assert normalize(back["entries"]) == normalize(entries)
    assert encode(ss, back, None) == blob


# --- the lead's shared strategies (kstate.testing) -------------------------------------


@SETTINGS
@given(data=st.data(), byteorder=st.sampled_from(["little", "big"]))
def test_testing_strategies_roundtrip(tmp_path_factory, data, byteorder):
    testing = pytest.importorskip("kstate.testing")
    text = data.draw(testing.schema_texts())
    path = tmp_path_factory.mktemp("schema") / "drawn.kstate"
    path.write_text(text)
    ss = kstate.load(path)
    doc = data.draw(testing.documents(ss))
    blob = encode(ss, doc, byteorder)
    back = decode(ss, blob)
    assert back["diagnostics"] == [], text
    assert encode(ss, back, None) == blob
    # the values come back (count fields, left out of the drawn document, are filled in)
    assert len(back["entries"]) == len(doc["entries"])
    for given_e, got in zip(doc["entries"], back["entries"]):
        assert_within(given_e, got, text)


def assert_within(given, got, text: str) -> None:
    """Every value of ``given`` is in ``got`` (which may hold more: counts, offsets)."""
    if isinstance(given, dict):
        assert isinstance(got, dict), (given, got, text)
        for k, v in given.items():
            assert k in got, (k, text)
            assert_within(v, got[k], text)
    elif isinstance(given, list) and not (given and isinstance(given[0], str)):
        assert isinstance(got, list) and len(got) == len(given), (given, got, text)
        for a, b in zip(given, got):
            assert_within(a, b, text)
    else:
        assert given == got, (given, got, text)


def test_long_fixed_array_inside_struct(tmp_path):
    """Arrays longer than the inline limit inside a plain struct, with per-element checks."""
    (tmp_path / "a.kstate").write_text(
        "enum col : u8 { RED = 1, }\n"
        "struct blk { tag: u8; vals: u16[1000]; cols: col[40]; }\n"
        "state big { id = 9; version = 1; b: blk; bs: blk[2]; }\n")
    ss = kstate.load(tmp_path)
    blk = {"tag": 1, "vals": list(range(1000)), "cols": ["RED"] * 40}
    doc = {"entries": [{"state": "big", "fields": {"b": blk, "bs": [blk, blk]}}]}
    for bo in ("little", "big"):
        blob = encode(ss, doc, bo)
        back = decode(ss, blob)
        assert back["diagnostics"] == [] and back["entries"][0]["fields"]["bs"] == [blk, blk]
        assert encode(ss, back, None) == blob
    bad = bytearray(blob)
    bad[4 + 20 + 1 + 2000 + 3] = 9
    d = decode(ss, bytes(bad))["diagnostics"]
    assert [(x["code"], x["offset"], x["path"]) for x in d] == [
        ("UNKNOWN_ENUM", 4 + 20 + 1 + 2000 + 3, "big[instance 0].b.cols[3]")]


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_counted_array_of_structs_holding_a_long_fixed_array(tmp_path, byteorder):
    """A struct with a u8[120] (decoded by a helper that needs the element's index)
    in a counted array: the compiled list comprehension enumerates (it named an
    undefined ``i``: NameError, an internal error of ``kstate decode``)."""
    p = tmp_path / "grid.kstate"
    p.write_text("struct cell { a: u32; v: u8[120]; }\n"
                 "state grid { id = 5; version = 1; n: u32; cells: cell[n]; rest: cell[..]; }\n")
    ss = kstate.load(p)
    cells = [{"a": i, "v": [(i + j) % 256 for j in range(120)]} for i in range(3)]
    doc = {"entries": [{"state": "grid", "fields": {"n": 3, "cells": cells, "rest": cells[:2]}}]}
    back = decode(ss, encode(ss, doc, byteorder))
    assert back["diagnostics"] == []
    assert back["entries"][0]["fields"]["cells"] == cells and back["entries"][0]["fields"]["rest"] == cells[:2]
