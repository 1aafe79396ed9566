"""Encoding rules of docs/cli.md: defaults, omitted fixed and count fields, and an
``EncodeError`` (exit code 1) naming the JSON path for every bad input."""

from __future__ import annotations

import copy
import struct
from pathlib import Path

import pytest

import kstate
from kstate.codec import EncodeError, decode, encode

FIXTURES = Path(__file__).parent / "fixtures" / "codec"


@pytest.fixture(scope="module")
def ss():
    return kstate.load(FIXTURES)


def memfd_doc(**fields):
    f = {"pos": 1, "size": 2, "seals": ["GROW"], "folios": [{"pfn": 1, "flags": 2, "index": 3}],
         "name": "x"}
    f.update(fields)
    return {"entries": [{"state": "memfd", "fields": f}]}


def test_defaults_version_instance_and_count(ss):
    blob = encode(ss, memfd_doc())
    hdr = struct.unpack_from("<5i", blob, 4)
    assert hdr == (2, 16, 3, 0, 8 + 8 + 4 + 4 + 16 + 16)
    assert struct.unpack_from("<I", blob, 4 + 20 + 20)[0] == 1  # nr_folios from the array
    assert decode(ss, blob)["entries"][0]["fields"]["nr_folios"] == 1


def test_fixed_value_may_be_left_out_and_given(ss):
    base = {"state": "ext", "fields": {"x": 1}}
    feat = decode(ss, encode(ss, {"entries": [{"state": "test", "version": 1, "fields": {
        "s": "", "p_ulong": 0, "folio": 0, "k": 0}}]}))
    assert feat["diagnostics"] == []
    assert base  # ext has no fixed field; feat's magic is checked below
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    f = feat_fields()
    b1 = encode(ss, {"entries": [{"state": "feat", "fields": f}]})
    b2 = encode(ss, {"entries": [{"state": "feat", "fields": dict(f, magic=0x4B53)}]})
    assert b1 == b2
    with pytest.raises(EncodeError) as err:
        encode(ss, {"entries": [{"state": "feat", "fields": dict(f, magic=1)}]})
    assert err.value.path == "entries[0].fields.magic" and err.value.exit_code == 1


@pytest.mark.parametrize("mutate,path", [
    (lambda d: d["entries"][0]["fields"].pop("pos"), "entries[0].fields.pos"),
    (lambda d: d["entries"][0]["fields"].update(extra=1), "entries[0].fields.extra"),
    (lambda d: d["entries"][0]["fields"].update(pos=-1), "entries[0].fields.pos"),
    (lambda d: d["entries"][0]["fields"].update(pos=2**64), "entries[0].fields.pos"),
    (lambda d: d["entries"][0]["fields"].update(pos="1"), "entries[0].fields.pos"),
    (lambda d: d["entries"][0]["fields"].update(name="x" * 17), "entries[0].fields.name"),
    (lambda d: d["entries"][0]["fields"].update(seals=["NOPE"]), "entries[0].fields.seals[0]"),
    (lambda d: d["entries"][0]["fields"].update(nr_folios=2), "entries[0].fields.nr_folios"),
    (lambda d: d["entries"][0]["fields"]["folios"][0].update(pfn=1 << 52), "entries[0].fields.folios[0].pfn"),
    (lambda d: d["entries"][0]["fields"]["folios"][0].pop("index"), "entries[0].fields.folios[0].index"),
    (lambda d: d["entries"][0].update(state="nope"), "entries[0].state"),
    (lambda d: d["entries"][0].update(version=4), "entries[0].version"),
    (lambda d: d["entries"][0].update(bogus=1), "entries[0].bogus"),
    (lambda d: d["entries"][0].update(subsections=[{"state": "test_v2", "fields": {"i": 1}}]),
     "entries[0].subsections[0].state"),
])
def test_errors_name_the_json_path(ss, mutate, path):
    doc = memfd_doc()
    mutate(doc)
    with pytest.raises(EncodeError) as err:
        encode(ss, doc)
    assert err.value.path == path
    assert str(err.value).startswith(path)


def test_count_given_and_matching_is_fine(ss):
    assert encode(ss, memfd_doc(nr_folios=1)) == encode(ss, memfd_doc())


def test_fixed_array_length_and_bytes(ss):
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    for key, value, path in [("small", [1, 2], "entries[0].fields.small"),
                             ("digest", "00", "entries[0].fields.digest"),
                             ("digest", "zz", "entries[0].fields.digest"),
                             ("on", 1, "entries[0].fields.on"),
                             ("level", 9, "entries[0].fields.level"),
                             ("c", "PURPLE", "entries[0].fields.c"),
                             ("label", {"bytes": "00"}, "entries[0].fields.label.bytes")]:
        with pytest.raises(EncodeError) as err:
            encode(ss, {"entries": [{"state": "feat", "fields": feat_fields(**{key: value})}]})
        assert err.value.path == path, key


def test_nested_state_errors(ss):
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    f = feat_fields()
    f["kid"] = {"state": "ext", "fields": {"a": 1, "b": 2}}
    with pytest.raises(EncodeError) as err:
        encode(ss, {"entries": [{"state": "feat", "fields": f}]})
    assert err.value.path == "entries[0].fields.kid.state"
    f = feat_fields()
    f["kids"][1]["fields"]["b"] = 3  # version 1 of inner has no b
    with pytest.raises(EncodeError) as err:
        encode(ss, {"entries": [{"state": "feat", "fields": f}]})
    assert err.value.path == "entries[0].fields.kids[1].fields.b"


def test_byteorder_from_document_else_little(ss):
    doc = memfd_doc()
    assert encode(ss, dict(doc, byteorder="big"), None)[:4] == bytes.fromhex("3b37778c")
    assert encode(ss, doc, None)[:4] == bytes.fromhex("8c77373b")
    assert encode(ss, dict(doc, byteorder="big"), "little")[:4] == bytes.fromhex("8c77373b")


def test_raw_entries_round_trip(ss):
    """A retired state's entry decodes raw (a warning) and encodes back unchanged."""
    blob = struct.pack("<I", 0x3B37778C) + struct.pack("<5i", 2, 70, 1, 4, 3) + b"abc" + struct.pack("<i", -1)
    doc = decode(ss, blob)
    assert doc["entries"][0]["raw"] == b"abc".hex()
    assert encode(ss, copy.deepcopy(doc)) == blob


def test_not_a_document(ss):
    for bad, path in [([], ""), ({"entries": {}}, "entries"), ({"entries": [1]}, "entries[0]")]:
        with pytest.raises(EncodeError) as err:
            encode(ss, bad)
        assert err.value.path == path


def test_count_in_a_bits_group_and_python_keywords(tmp_path):
    (tmp_path / "kw.kstate").write_text(
        "state kw { id = 9; version = 1;\n"
        "  from: u8;\n  bits u16 { in: 4; is: 3; }\n  lambda: u32[in];\n  pass: bytes[is];\n}\n")
    ss = kstate.load(tmp_path)
    fields = {"from": 1, "lambda": [5, 6], "pass": "aabbcc"}
    for bo in ("little", "big"):
        blob = encode(ss, {"entries": [{"state": "kw", "fields": fields}]}, bo)
        back = decode(ss, blob)
        assert back["diagnostics"] == []
        assert back["entries"][0]["fields"] == {"from": 1, "in": 2, "is": 3, "lambda": [5, 6], "pass": "aabbcc"}
    with pytest.raises(EncodeError) as err:
        encode(ss, {"entries": [{"state": "kw", "fields": dict(fields, is_=1, **{"is": 2})}]})
    assert err.value.path == "entries[0].fields.is_"
    with pytest.raises(EncodeError) as err:
        encode(ss, {"entries": [{"state": "kw", "fields": dict(fields, **{"is": 2})}]})
    assert err.value.path == "entries[0].fields.is"
