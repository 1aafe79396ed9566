"""``decode(..., arrays="memoryview")``: long arrays of check-free fixed-size
elements become zero-copy ``ArrayView`` objects; everything else (values,
diagnostics, the default shape) is what the list decode gives, and a view
document encodes back to the same bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_codec_roundtrip import doc_strategy

import kstate
from kstate.codec import ArrayView, Limits, codecs_for, decode, encode
from kstate.codec.packer import pack_stream

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "codec"
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))


def lists(v):
    """The document with every view turned into its list."""
    if isinstance(v, ArrayView):
        return [lists(x) for x in v.tolist()]
    if isinstance(v, dict):
        return {k: lists(x) for k, x in v.items()}
    if isinstance(v, list):
        return [lists(x) for x in v]
    return v


def views_in(v) -> int:
    if isinstance(v, ArrayView):
        return 1
    if isinstance(v, dict):
        return sum(views_in(x) for x in v.values())
    if isinstance(v, list):
        return sum(views_in(x) for x in v)
    return 0


@pytest.fixture(scope="module")
def memfd():
    return codecs_for(kstate.load(ROOT / "schemas"))


@pytest.fixture(scope="module")
def feat():
    return codecs_for(kstate.load(FIXTURES))


def memfd_blob(codecs, n: int, bo: str = "little") -> bytes:
    folios = [{"pfn": i * 3, "flags": i % 4096, "index": i} for i in range(n)]
    doc = {"entries": [{"state": "memfd", "instance_id": 7,
                        "fields": {"pos": 1, "size": 2, "seals": ["SEAL"], "folios": folios, "name": "v"}}]}
    return encode(codecs, doc, bo)


def test_folios_are_a_view_with_the_same_values(memfd):
    for bo in ("little", "big"):
        blob = memfd_blob(memfd, 100, bo)
        plain = decode(memfd, blob)
        view = decode(memfd, blob, arrays="memoryview")
        folios = view["entries"][0]["fields"]["folios"]
        assert isinstance(folios, ArrayView) and views_in(plain) == 0
        assert folios == plain["entries"][0]["fields"]["folios"] and len(folios) == 100
        assert folios[3] == {"pfn": 9, "flags": 3, "index": 3} and folios[-1]["index"] == 99
        assert folios[2:4] == plain["entries"][0]["fields"]["folios"][2:4]
        with pytest.raises(IndexError):
            folios[100]
        assert folios.raw.nbytes == 1600 and folios.itemsize == 16
        assert lists(view) == plain
        # the view is read from the input buffer: no copy of the bytes
        assert folios.raw.obj is blob


def test_views_encode_back_to_the_same_bytes(memfd):
    little, big = memfd_blob(memfd, 50), memfd_blob(memfd, 50, "big")
    doc = decode(memfd, little, arrays="memoryview")
    assert encode(memfd, doc) == little
    assert pack_stream(memfd, doc, "little", Limits()) == little  # copied as bytes, on the fast path
    assert encode(memfd, doc, "big") == big  # another byte order: element by element
    from kstate.codec.encoder import Encoder  # noqa: PLC0415 - and the descriptive encoder too
    assert Encoder(memfd, "little", Limits()).stream(doc) == little


def test_arrays_with_checked_elements_stay_lists(feat):
    from test_codec_diagnostics import feat_fields  # noqa: PLC0415
    pts = [{"x": 1, "y": -2}, {"x": 3, "y": 4}]
    fields = feat_fields(pts=pts, blob="aabb", tail=[1, 2, 3])
    blob = encode(feat, {"entries": [{"state": "feat", "fields": fields}]})
    f = decode(feat, blob, arrays="memoryview")["entries"][0]["fields"]
    assert isinstance(f["pts"], ArrayView) and f["pts"] == pts      # struct of i16: a view
    assert isinstance(f["tail"], ArrayView) and f["tail"] == [1, 2, 3]
    assert isinstance(f["big"], ArrayView)                          # u8[20]: longer than 16
    assert isinstance(f["kids"], list) and isinstance(f["small"], list)  # states; u16[3]: inline
    assert isinstance(f["blob"], str)
    assert lists(decode(feat, blob, arrays="memoryview")) == decode(feat, blob)


def test_enum_and_bool_arrays_are_lists(tmp_path):
    (tmp_path / "a.kstate").write_text(
        "enum col : u8 { RED = 1, }\nstruct b { bits u8 { lo: 3; } }\n"
        "state s { id = 9; version = 1; n: u8; c: col[n]; o: bool[n]; g: b[n]; w: u32[n]; }\n")
    codecs = codecs_for(kstate.load(tmp_path))
    blob = encode(codecs, {"entries": [{"state": "s", "fields": {
        "c": ["RED", 9], "o": [True, False], "g": [{"lo": 1}, {"lo": 7}], "w": [5, 6]}}]})
    f = decode(codecs, blob, arrays="memoryview")["entries"][0]["fields"]
    assert [type(f[k]).__name__ for k in "cogw"] == ["list", "list", "list", "ArrayView"]
    assert decode(codecs, blob, arrays="memoryview")["diagnostics"] == decode(codecs, blob)["diagnostics"]


@SETTINGS
@given(data=st.data(), bo=st.sampled_from(["little", "big"]))
def test_views_decode_like_lists_even_when_corrupted(feat, data, bo):
    state = data.draw(st.sampled_from(["feat", "memfd", "pci"]))
    entries = data.draw(doc_strategy(feat.desc, state))
    for i, e in enumerate(entries):
        e["instance_id"] = i
    blob = bytearray(encode(feat, {"entries": entries}, bo))
    for _ in range(data.draw(st.integers(0, 3))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    blob = bytes(blob)
    for lenient in (False, True):
        view = decode(feat, blob, lenient, arrays="memoryview")
        plain = decode(feat, blob, lenient)
        assert lists(view) == plain
    if not plain["diagnostics"]:
        assert encode(feat, view, None) == encode(feat, plain, None)


def test_numpy_over_the_same_bytes(memfd):
    np = pytest.importorskip("numpy")
    for bo in ("little", "big"):
        folios = decode(memfd, memfd_blob(memfd, 40, bo), arrays="memoryview")["entries"][0]["fields"]["folios"]
        arr = folios.numpy()
        assert arr.dtype.names == ("{pfn, flags}", "index") and len(arr) == 40
        cols = folios.numpy_fields()
        assert cols["pfn"].tolist() == [f["pfn"] for f in folios]
        assert cols["flags"].tolist() == [f["flags"] for f in folios]
        assert np.array_equal(cols["index"], np.arange(40))


def test_bad_arrays_argument(memfd):
    with pytest.raises(ValueError, match="arrays"):
        decode(memfd, memfd_blob(memfd, 1), arrays="numpy")


def test_value_limit_counts_a_view_once(memfd):
    blob = memfd_blob(memfd, 1000)
    assert decode(memfd, blob, limits=Limits(values=500))["diagnostics"][0]["code"] == "LIMIT_EXCEEDED"
    assert decode(memfd, blob, limits=Limits(values=500), arrays="memoryview")["diagnostics"] == []
    assert struct.unpack_from("<i", blob, len(blob) - 4)[0] == -1
