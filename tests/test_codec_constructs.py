"""The construct codecs (one per version of every state, written into the
generated modules) agree with the fast runtime byte for byte: parsing a
payload gives the decoder's field values, building those values gives the
payload back.  Both byte orders; the project's schemas and random ones."""

import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from conftest import ROOT, run_kstate
from kstate.codec.construct_source import constructs_for
from kstate.testing import documents, schema_texts

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
SCHEMAS = kstate.load(ROOT / "schemas")
WORK = Path(tempfile.mkdtemp(prefix="kstate-constructs-"))


def _strip(v):
    """Nested states carry their stream offset, which a payload parse cannot know."""
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k != "offset"}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def assert_constructs_agree(schema_set, constructs, doc, byteorder):
    blob = schema_set.encode(doc, byteorder=byteorder)
    decoded = schema_set.decode(blob)
    assert decoded["diagnostics"] == []
    seen = 0
    for entry in decoded["entries"]:
        for e in [entry, *entry.get("subsections", [])]:
            payload = blob[e["offset"] + 20: e["offset"] + 20 + e["size"]]
            codec = constructs.payload(e["state"], e["version"], byteorder)
            assert _strip(codec.parse(payload)) == _strip(e["fields"])
            section_type = 2 if e["section"] == "section" else 1
            assert codec.build(e["fields"], section_type=section_type) == payload
            seen += 1
    return seen


@SETTINGS
@given(documents(SCHEMAS), st.sampled_from(["little", "big"]))
def test_project_schemas_constructs_agree_with_runtime(doc, byteorder):
    assert_constructs_agree(SCHEMAS, constructs_for(SCHEMAS), doc, byteorder)


@SETTINGS
@given(st.data(), st.sampled_from(["little", "big"]))
def test_random_schemas_constructs_agree_with_runtime(data, byteorder):
    path = WORK / "s.kstate"
    path.write_text(data.draw(schema_texts()))
    schema_set = kstate.load(path)
    doc = data.draw(documents(schema_set))
    assert_constructs_agree(schema_set, constructs_for(schema_set), doc, byteorder)


def test_generated_modules_hold_the_same_construct_codecs(tmp_path):
    res = run_kstate("compile", "--lang", "python", "-o", tmp_path / "gen")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "gen/python/memfd.py").read_text()
    assert "import construct as cs" in text
    assert "def payload_memfd_v2(bo, ns):" in text
    assert "'folios' / cs.Array(cs.this['nr_folios'], ns.struct('memfd_folio', bo))," in text
    sys.path.insert(0, str(tmp_path / "gen"))
    try:
        import python as generated  # noqa: PLC0415 - the package just generated
        constructs = generated.constructs()
    finally:
        sys.path.remove(str(tmp_path / "gen"))
        sys.modules.pop("python", None)
    from kstate.testing import examples
    total = 0
    for doc in examples(documents(SCHEMAS), 20, seed=3):
        total += assert_constructs_agree(SCHEMAS, constructs, doc, "little")
    assert total > 0


def test_constructs_reject_what_the_decoder_rejects():
    import construct as cs
    import pytest

    codec = constructs_for(SCHEMAS).payload("memfd", 3, "little")
    doc = {"entries": [{"state": "memfd", "version": 3, "fields": {
        "pos": 1, "size": 2, "seals": ["SEAL"], "folios": [{"pfn": 5, "flags": 1, "index": 2}],
        "name": "x"}}]}
    payload = SCHEMAS.encode(doc)[24:-4]
    assert codec.parse(payload)["folios"][0]["pfn"] == 5
    with pytest.raises(cs.ConstructError):
        codec.parse(payload[:-1])  # one byte short
    with pytest.raises(cs.ConstructError):
        codec.parse(payload + b"\0")  # one byte over


def test_signed_bits_groups_with_the_top_bit_set(tmp_path):
    # the group's word has its sign bit set: it must be written as the signed
    # integer with those bits, in both codecs and both byte orders
    path = tmp_path / "s.kstate"
    path.write_text("state s { id = 1; version = 1; bits i32 { a: 31; b: 1; } bits i8 { c: 8; } }\n")
    ss = kstate.load(path)
    constructs = constructs_for(ss)
    for byteorder in ("little", "big"):
        for a, b, c in [(1 << 30, 0, 255), (0, 1, 128), ((1 << 31) - 1, 1, 0)]:
            fields = {"a": a, "b": b, "c": c}
            doc = {"entries": [{"state": "s", "fields": fields}]}
            assert assert_constructs_agree(ss, constructs, doc, byteorder) == 1
            assert ss.decode(ss.encode(doc, byteorder=byteorder))["entries"][0]["fields"] == fields
