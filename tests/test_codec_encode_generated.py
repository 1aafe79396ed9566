"""The generated encoder (encoder_compiler.py + packer.py) against the
descriptive one (encoder.py): the fast path packs every valid document
itself, byte for byte what the descriptive encoder builds; it never accepts
a document the descriptive encoder refuses; and ``encode`` raises exactly
the descriptive encoder's error (path and message) for every bad one."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codec_roundtrip import doc_strategy, schema_text
from test_fuzz_encode import KEYS, VALUES, containers

import kstate
from kstate.codec import CodecSet, EncodeError, Limits, codecs_for, decode, encode
from kstate.codec.encoder import Encoder
from kstate.codec.packer import pack_stream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "codec"
SEEDS = sorted((ROOT / "tools" / "fuzz" / "seeds" / "json").glob("*.json"))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def codec_sets():
    return [codecs_for(kstate.load(ROOT / "schemas")), codecs_for(kstate.load(FIXTURES))]


def reference(codecs, doc, bo: str, limits: Limits | None = None):
    """What the descriptive encoder makes of ``doc``: bytes, or the EncodeError."""
    try:
        return Encoder(codecs, bo, limits or Limits()).stream(doc)
    except EncodeError as err:
        return err


def assert_agree(codecs, doc, bo: str, limits: Limits | None = None, must_pack: bool = False) -> None:
    ref = reference(codecs, doc, bo, limits)
    fast = pack_stream(codecs, doc, bo, limits or Limits())
    if isinstance(ref, EncodeError):
        assert fast is None, f"the generated encoder accepted what encoder.py refuses: {ref}"
        with pytest.raises(EncodeError) as err:
            encode(codecs, doc, bo, limits=limits)
        assert (err.value.path, str(err.value)) == (ref.path, str(ref))
        return
    if must_pack:
        assert fast is not None, "the generated encoder left a valid document to encoder.py"
    assert fast is None or fast == ref
    assert encode(codecs, doc, bo, limits=limits) == ref


def test_every_seed_document_is_packed_by_the_generated_encoder(codec_sets):
    packed = 0
    for path in SEEDS:
        doc = json.loads(path.read_text())
        for codecs in codec_sets:
            for bo in ("little", "big"):
                ref = reference(codecs, doc, bo)
                if isinstance(ref, bytes):
                    assert pack_stream(codecs, doc, bo, Limits()) == ref, path.name
                    back = decode(codecs, ref)  # and the decode document (every key) too
                    assert pack_stream(codecs, back, bo, Limits()) == ref, path.name
                    packed += 1
    assert packed >= len(SEEDS)


@SETTINGS
@given(data=st.data(), bo=st.sampled_from(["little", "big"]))
def test_feature_documents_pack_byte_for_byte(codec_sets, data, bo):
    codecs = codec_sets[1]
    state = data.draw(st.sampled_from(["feat", "memfd", "pci", "test", "inner"]))
    entries = data.draw(doc_strategy(codecs.desc, state))
    for i, e in enumerate(entries):
        e["instance_id"] = i
    doc = {"entries": entries}
    assert_agree(codecs, doc, bo, must_pack=True)
    assert_agree(codecs, decode(codecs, encode(codecs, doc, bo)), bo, must_pack=True)


@SETTINGS
@given(data=st.data(), bo=st.sampled_from(["little", "big"]))
def test_random_schemas_pack_byte_for_byte(tmp_path_factory, data, bo):
    path = tmp_path_factory.mktemp("schema") / "random.kstate"
    path.write_text(data.draw(schema_text()))
    codecs = codecs_for(kstate.load(path))
    entries = data.draw(doc_strategy(codecs.desc, "top"))
    for i, e in enumerate(entries):
        e["instance_id"] = i
        e["subsections"] = [{"state": "sub", "fields": {"v": data.draw(st.integers(0, 2**32 - 1))}}]
    assert_agree(codecs, {"entries": entries}, bo, must_pack=True)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_documents_fail_or_pack_exactly_as_the_descriptive_encoder(codec_sets, data):
    docs = [json.loads(p.read_text()) for p in SEEDS]
    doc = copy.deepcopy(data.draw(st.sampled_from(docs)))
    for _ in range(data.draw(st.integers(1, 3))):
        node = data.draw(st.sampled_from(containers(doc, [])))
        if isinstance(node, dict):
            keys = list(node)
            op = data.draw(st.integers(0, 2))
            if op == 0 and keys:
                del node[data.draw(st.sampled_from(keys))]
            elif op == 1 or not keys:
                node[data.draw(st.sampled_from(KEYS + ["pfn", "flags", "index", "seals", "name"]))] = \
                    data.draw(VALUES)
            else:
                node[data.draw(st.sampled_from(keys))] = data.draw(VALUES)
        elif node:
            i = data.draw(st.integers(0, len(node) - 1))
            if data.draw(st.booleans()):
                node[i] = data.draw(VALUES)
            else:
                node.append(copy.deepcopy(node[i]))
    for codecs in codec_sets:
        for bo in ("little", "big"):
            assert_agree(codecs, doc, bo)


def memfd(**fields):
    f = {"pos": 1, "size": 2, "seals": ["SEAL", "GROW"],
         "folios": [{"pfn": 1, "flags": 2, "index": 3}, {"pfn": 4, "flags": 5, "index": 6}], "name": "m"}
    f.update(fields)
    return {"entries": [{"state": "memfd", "instance_id": 1, "fields": f, "subsections": []}]}


@pytest.mark.parametrize("doc", [
    memfd(), memfd(nr_folios=2), memfd(seals=5), memfd(seals=["SEAL", 16]), memfd(seals="SEAL"), memfd(seals=[True]),
    memfd(pos=True), memfd(pos=1.0), memfd(pos=-1), memfd(pos=1 << 64), memfd(nr_folios=True),
    memfd(nr_folios=3), memfd(folios=[{"pfn": True, "flags": 0, "index": 0}]),
    memfd(folios=[{"pfn": 1 << 52, "flags": 0, "index": 0}]), memfd(folios=[{"pfn": 0, "flags": 0}]),
    memfd(folios=[{"pfn": 0, "flags": 0, "index": 0, "x": 1}]), memfd(folios=[[0, 0, 0]]),
    memfd(folios={"pfn": 0}), memfd(name="a\0b"), memfd(name="x" * 17), memfd(name="é" * 8),
    memfd(name="é" * 9), memfd(name={"bytes": "00" * 16}), memfd(name={"bytes": "00"}), memfd(name=b"x"),
    memfd(extra=1), {"entries": [{"state": "memfd", "state_id": True, "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state_id": 16, "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state": "memfd", "version": True, "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state": "memfd", "instance_id": 1 << 31, "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state": "memfd", "section": "subsection", "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state": "memfd", "subsections": None, "fields": memfd()["entries"][0]["fields"]}]},
    {"entries": [{"state": "memfd", "subsections": {}, "fields": memfd()["entries"][0]["fields"]}]},
])
def test_odd_values_agree(codec_sets, doc):
    for bo in ("little", "big"):
        assert_agree(codec_sets[0], doc, bo)


def test_limits_agree(codec_sets):
    codecs = codec_sets[0]
    doc = memfd()
    doc["entries"] = [dict(doc["entries"][0], instance_id=i) for i in range(4)]
    assert_agree(codecs, doc, "little", must_pack=True)
    assert_agree(codecs, doc, "little", Limits(entries=3))
    assert_agree(codecs, doc, "little", Limits(stream_size=100))


def test_the_buffer_grows_to_the_stream_exactly(codec_sets):
    """The packer's buffer starts at a guess (64 bytes an entry) and grows as entries
    need: entries far larger than the guess, among small and raw ones, in both byte
    orders; a stream exactly at the size limit packs, one byte more is refused."""
    codecs = codec_sets[0]
    entries = []
    for i, k in enumerate([0, 3000, 1, 70_000, 0, 5]):
        fields = memfd(folios=[{"pfn": j, "flags": j & 0xFFF, "index": k - j} for j in range(k)])
        entries.append(dict(fields["entries"][0], instance_id=i))
    entries.insert(2, {"state": "memfd", "instance_id": 99, "raw": "ab" * 700})
    doc = {"entries": entries}
    for bo in ("little", "big"):
        assert_agree(codecs, doc, bo, must_pack=True)
    size = len(reference(codecs, doc, "little")) - 4  # the stream size limit does not count the EOF marker
    assert_agree(codecs, doc, "little", Limits(stream_size=size), must_pack=True)
    assert_agree(codecs, doc, "little", Limits(stream_size=size - 1))
    assert pack_stream(codecs, doc, "little", Limits(stream_size=size - 1)) is None


def test_every_feature_packs_in_both_byte_orders(codec_sets):
    """feat has every member kind; its generated encoder exists and packs the tour's document."""
    codecs = codec_sets[1]
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    doc = {"entries": [{"state": "feat", "instance_id": 2, "fields": feat_fields(),
                        "subsections": [{"state": "ext", "fields": {"x": -3}}]}]}
    for bo in ("little", "big"):
        assert codecs.encoder_source("feat", 2, bo) is not None
        assert_agree(codecs, doc, bo, must_pack=True)


def test_generated_source_holds_no_text_from_the_description():
    """Names (of fields, states, flags) reach the generated code only as constants of
    the exec namespace; a crafted description cannot inject code, and a crafted
    number makes the layout fall back to the descriptive encoder."""
    evil = "x'] + __import__('os').getcwd() + f['\n#"
    desc = {"enums": {"fl": {"kind": "flags", "base": "u8", "values": [(evil, 1)]}},
            "structs": {evil: [{"name": evil, "type": ("int", "u8")}]},
            "states": {evil: {"id": 5, "version": 1, "min_version": 1, "parent": None, "subsections": [],
                              "layouts": {1: [{"name": evil, "type": ("struct", evil)},
                                              {"name": "f" + evil, "type": ("enum", "fl")},
                                              {"name": "c", "type": ("char", 4)}]}},
                       "bad": {"id": 6, "version": 1, "min_version": 1, "parent": None, "subsections": [],
                               "layouts": {1: [{"name": "c", "type": ("char", "4); import os; (")}]}}},
            "retired": {}}
    codecs = CodecSet(desc)
    doc = {"entries": [{"state": evil, "fields": {evil: {evil: 7}, "f" + evil: [evil], "c": "ab"}}]}
    blob = encode(codecs, doc)
    assert pack_stream(codecs, doc, "little", Limits()) == blob
    assert blob[4 + 20:] == bytes([7, 1]) + b"ab\0\0" + b"\xff\xff\xff\xff"
    src = codecs.encoder_source(evil, 1)
    assert "import" not in src and "getcwd" not in src and "'" not in src.replace("'utf-8'", "").replace(
        "'surrogatepass'", "")
    assert codecs.encoder_source("bad", 1) is None


def test_hex_with_spaces_counts_its_bytes(codec_sets):
    """bytes.fromhex allows spaces: a count is the bytes, not half the characters."""
    codecs = codec_sets[1]
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    pts = [{"x": 1, "y": 2}, {"x": 3, "y": 4}]
    doc = {"entries": [{"state": "feat", "fields": feat_fields(pts=pts, blob="aa  bb")}]}
    for bo in ("little", "big"):
        assert_agree(codecs, doc, bo, must_pack=True)
        back = decode(codecs, encode(codecs, doc, bo))
        assert back["diagnostics"] == []
        assert back["entries"][0]["fields"]["blob"] == "aabb" and back["entries"][0]["fields"]["n"] == 2
