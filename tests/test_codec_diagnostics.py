"""One crafted blob per diagnostic code of docs/wire-format.md, checking code,
severity, byte offset and path; plus strict/lenient behaviour and the
promise that no input raises."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import decode, encode

FIXTURES = Path(__file__).parent / "fixtures" / "codec"


@pytest.fixture(scope="module")
def ss():
    return kstate.load(FIXTURES)


def hdr(stype, sid, ver, inst, size, bo="<"):
    return struct.pack(bo + "iiiii", stype, sid, ver, inst, size)


MAGIC = struct.pack("<I", 0x3B37778C)
EOF_ = struct.pack("<i", -1)
TEST_V2 = b"abc".ljust(10, b"\0") + struct.pack("<QQ", 1, 2)  # 26 bytes


def tentry(inst=1, payload=TEST_V2, size=None, version=2, stype=2):
    return hdr(stype, 3, version, inst, len(payload) if size is None else size) + payload


def only(doc, code):
    found = [d for d in doc["diagnostics"] if d["code"] == code]
    assert found, doc["diagnostics"]
    d = found[0]
    assert set(d) == {"code", "severity", "offset", "path", "message"}
    assert d["message"] and "\n" not in d["message"]
    return d


def check(doc, code, severity, offset, path):
    d = only(doc, code)
    assert (d["severity"], d["offset"], d["path"]) == (severity, offset, path), d
    return d


@pytest.mark.parametrize("blob", [b"", b"\x8c\x77", b"\x00\x00\x00\x00", b"\x8c\x77\x37\x3c" + EOF_])
def test_bad_magic(ss, blob):
    doc = decode(ss, blob)
    check(doc, "BAD_MAGIC", "error", 0, "")
    assert doc["entries"] == [] and doc["byteorder"] is None and doc["size"] == len(blob)


def test_truncated_partial_header(ss):
    doc = decode(ss, MAGIC + tentry() + hdr(2, 3, 2, 2, 26)[:11])
    check(doc, "TRUNCATED", "error", 50, "")
    assert len(doc["entries"]) == 1 and "fields" in doc["entries"][0]


def test_truncated_payload_past_end_of_stream(ss):
    doc = decode(ss, MAGIC + tentry()[:-3])
    d = check(doc, "TRUNCATED", "error", 4, "test[instance 1]")
    assert "26" in d["message"] and "23" in d["message"]


def test_truncated_record_by_one_byte_names_the_field(ss):
    """construct's compiled parsers accept this silently; kstate must not."""
    doc = decode(ss, MAGIC + tentry(payload=TEST_V2[:-1]) + EOF_)
    d = check(doc, "TRUNCATED", "error", 4 + 20 + 18, "test[instance 1].folio")
    assert "8" in d["message"] and "7" in d["message"]
    assert "raw" in doc["entries"][0]


def test_missing_eof(ss):
    blob = MAGIC + tentry()
    check(decode(ss, blob), "MISSING_EOF", "error", len(blob), "")


def test_trailing_data_is_info(ss):
    blob = MAGIC + tentry() + EOF_ + b"\xaa" * 7
    doc = decode(ss, blob)
    d = check(doc, "TRAILING_DATA", "info", 54, "")
    assert "7" in d["message"]
    assert doc["entries"][0]["fields"]["s"] == "abc"


def test_bad_section_type(ss):
    doc = decode(ss, MAGIC + tentry(stype=5) + EOF_)
    check(doc, "BAD_SECTION_TYPE", "error", 4, "test[instance 1]")


def test_subsection_without_section(ss):
    doc = decode(ss, MAGIC + hdr(1, 4, 1, 1, 4) + struct.pack("<i", 3) + EOF_)
    check(doc, "BAD_SECTION_TYPE", "error", 4, "test_v2[instance 1]")


def test_bad_size(ss):
    doc = decode(ss, MAGIC + hdr(2, 3, 2, 1, -8) + TEST_V2 + EOF_)
    check(doc, "BAD_SIZE", "error", 4, "test[instance 1]")


def test_unknown_state_kept_raw(ss):
    doc = decode(ss, MAGIC + hdr(2, 99, 1, 4, 3) + b"\x01\x02\x03" + EOF_)
    check(doc, "UNKNOWN_STATE", "error", 4, "state 99[instance 4]")
    e = doc["entries"][0]
    assert e["raw"] == "010203" and e["state"] is None and "fields" not in e


def test_unknown_subsection_state(ss):
    blob = MAGIC + tentry(inst=7) + hdr(1, 32, 2, 7, 0) + EOF_
    check(decode(ss, blob), "UNKNOWN_SUBSECTION", "error", 50, "test[instance 7]/pci")


def test_unknown_subsection_instance(ss):
    blob = MAGIC + tentry(inst=7) + hdr(1, 4, 1, 8, 4) + bytes(4) + EOF_
    doc = decode(ss, blob)
    check(doc, "UNKNOWN_SUBSECTION", "error", 50, "test[instance 7]/test_v2")
    assert doc["entries"][0]["subsections"][0]["raw"] == "00000000"


def test_subsection_since(ss):
    """feat's subsection ext2 is @since(2): after a version-1 entry it is unknown."""
    doc = {"entries": [{"state": "feat", "version": 1, "instance_id": 3, "fields": feat_fields(),
                        "subsections": [{"state": "ext", "fields": {"x": 1}}]}]}
    blob = encode(ss, doc)
    extra = hdr(1, 52, 1, 3, 1) + b"\x05"
    blob = blob[:-4] + extra + EOF_
    d = check(decode(ss, blob), "UNKNOWN_SUBSECTION", "error", len(blob) - 4 - len(extra),
              "feat[instance 3]/ext2")
    assert "version 1" in d["message"]


def test_retired_state_is_a_warning_kept_raw(ss):
    blob = MAGIC + hdr(2, 70, 1, 0, 2) + b"\xab\xcd" + tentry() + EOF_
    doc = decode(ss, blob)
    check(doc, "RETIRED_STATE", "warning", 4, "gone[instance 0]")
    assert doc["entries"][0]["raw"] == "abcd" and doc["entries"][0]["state"] == "gone"
    assert doc["entries"][1]["fields"]["s"] == "abc"  # strict mode goes on after a warning
    assert encode(ss, doc) == blob


def test_version_too_new(ss):
    doc = decode(ss, MAGIC + tentry(version=3) + EOF_)
    check(doc, "VERSION_TOO_NEW", "error", 4, "test[instance 1]")
    assert doc["entries"][0]["raw"] == TEST_V2.hex()


def test_version_too_old(ss):
    body = struct.pack("<II", 1, 0)
    doc = decode(ss, MAGIC + hdr(2, 32, 1, 0, len(body)) + body + EOF_)
    d = check(doc, "VERSION_TOO_OLD", "error", 4, "pci[instance 0]")
    assert "2" in d["message"] and "1" in d["message"]


def test_unconsumed_bytes(ss):
    doc = decode(ss, MAGIC + tentry(payload=TEST_V2 + b"\0\0\0\0") + EOF_)
    d = check(doc, "UNCONSUMED_BYTES", "error", 4 + 20 + 26, "test[instance 1]")
    assert "4" in d["message"]


def pci(count, devices=b"", bo="<"):
    body = struct.pack(bo + "II", 8, count) + devices
    return MAGIC + hdr(2, 32, 2, 0, len(body)) + body + EOF_


def test_count_above_max(ss):
    check(decode(ss, pci(65537)), "COUNT_OUT_OF_RANGE", "error", 28, "pci[instance 0].nr_devices")


def test_count_larger_than_bytes_left_is_checked_before_allocation(ss):
    doc = decode(ss, pci(3, bytes(16)))
    d = check(doc, "COUNT_OUT_OF_RANGE", "error", 28, "pci[instance 0].nr_devices")
    assert "16" in d["message"]


def test_count_of_memfd_huge(ss):
    body = struct.pack("<QQII", 0, 0, 0, 0xFFFFFFFF) + bytes(16)
    doc = decode(ss, MAGIC + hdr(2, 16, 3, 2, len(body)) + body + EOF_)
    check(doc, "COUNT_OUT_OF_RANGE", "error", 24 + 20, "memfd[instance 2].nr_folios")


def test_rest_array_max(ss):
    doc = {"entries": [{"state": "feat", "fields": feat_fields(tail=[1] * 100)}]}
    blob = encode(ss, doc)
    big = bytearray(blob[:-4]) + struct.pack("<H", 1) + EOF_
    struct.pack_into("<i", big, 4 + 16, struct.unpack_from("<i", big, 20)[0] + 2)
    decoded = decode(ss, bytes(big))
    tail_off = 4 + 20 + struct.unpack_from("<i", big, 20)[0] - 202
    check(decoded, "COUNT_OUT_OF_RANGE", "error", tail_off, "feat[instance 0].tail")


def feat_fields(**over):
    f = {"on": True, "level": 0, "c": "RED", "p": [], "pt": {"x": 0, "y": 0},
         "pk": {"lo": 0, "mid": 0, "hi": 0, "tag": 0}, "where_": 0, "f": 0, "ptr": 0,
         "small": [0, 0, 0], "big": [0] * 20, "digest": "00000000", "label": "", "pts": [],
         "blob": "", "kid": {"fields": {"a": 1, "b": 2}},
         "kids": [{"fields": {"a": 3, "b": 4}}, {"version": 1, "fields": {"a": 5}}], "tail": []}
    f.update(over)
    return f


FEAT = 4 + 20  # payload offset of the first entry


def feat_blob(ss, patch_at=None, patch=b"", **over):
    blob = bytearray(encode(ss, {"entries": [{"state": "feat", "instance_id": 2, "fields": feat_fields(**over)}]}))
    if patch_at is not None:
        blob[patch_at:patch_at + len(patch)] = patch
    return bytes(blob)


@pytest.mark.parametrize("rel,patch,path,word", [
    (0, struct.pack("<I", 0x4b54), "magic", "fixed"),
    (4, b"\x02", "on", "bool"),
    (5, b"\x06", "level", "range"),
    (5, b"\xfa", "level", "range"),
    (13, struct.pack("<I", 1 << 20), "pk.{lo, mid, hi}", "unused"),
])
def test_bad_value(ss, rel, patch, path, word):
    doc = decode(ss, feat_blob(ss, FEAT + rel, patch))
    d = check(doc, "BAD_VALUE", "error", FEAT + rel, f"feat[instance 2].{path}")
    assert word in d["message"]


def test_bad_value_big_endian_bits(ss):
    """On a big-endian stream the unused bits of a bits group are the low ones."""
    doc = {"entries": [{"state": "feat", "fields": feat_fields(pk={"lo": 1, "mid": 2, "hi": 3, "tag": 4})}]}
    blob = bytearray(encode(ss, doc, "big"))
    assert struct.unpack_from(">I", blob, FEAT + 13)[0] == (1 << 28 | 2 << 20 | 3 << 17)
    assert decode(ss, bytes(blob))["entries"][0]["fields"]["pk"] == {"lo": 1, "mid": 2, "hi": 3, "tag": 4}
    blob[FEAT + 16] |= 1
    check(decode(ss, bytes(blob)), "BAD_VALUE", "error", FEAT + 13, "feat[instance 0].pk.{lo, mid, hi}")


def test_unknown_enum_is_a_warning(ss):
    doc = decode(ss, feat_blob(ss, FEAT + 6, b"\x07"))
    check(doc, "UNKNOWN_ENUM", "warning", FEAT + 6, "feat[instance 2].c")
    assert doc["entries"][0]["fields"]["c"] == 7


def test_unknown_flags_is_a_warning(ss):
    doc = decode(ss, feat_blob(ss, FEAT + 7, struct.pack("<H", 0x31)))
    check(doc, "UNKNOWN_FLAGS", "warning", FEAT + 7, "feat[instance 2].p")
    assert doc["entries"][0]["fields"]["p"] == ["R", 0x30]


def test_duplicate_instance(ss):
    doc = decode(ss, MAGIC + tentry(inst=5) + tentry(inst=5) + EOF_)
    check(doc, "DUPLICATE_INSTANCE", "error", 50, "test[instance 5]")


def nested_offset(ss):
    doc = decode(ss, feat_blob(ss))
    assert doc["diagnostics"] == []
    return doc["entries"][0]["fields"]["kid"]["offset"]


@pytest.mark.parametrize("rel,patch,at", [
    (4, struct.pack("<i", 51), 0),     # state_id not the field's state
    (0, struct.pack("<i", 1), 0),      # section_type not the enclosing entry's
    (12, struct.pack("<i", 9), 0),     # instance_id not 0
])
def test_bad_nested_state_header(ss, rel, patch, at):
    kid = nested_offset(ss)
    doc = decode(ss, feat_blob(ss, kid + rel, patch))
    check(doc, "BAD_NESTED_STATE", "error", kid + at, "feat[instance 2].kid")


def test_bad_nested_state_size_larger_than_layout(ss):
    kid = nested_offset(ss)
    blob2 = feat_blob(ss, kid + 8, struct.pack("<i", 1))  # version 1 consumes 4 of 6 bytes
    check(decode(ss, blob2), "BAD_NESTED_STATE", "error", kid + 20 + 4, "feat[instance 2].kid")


def test_bad_nested_state_lenient_resumes_after_its_size(ss):
    kid = nested_offset(ss)
    blob = feat_blob(ss, kid + 12, struct.pack("<i", 9))
    doc = decode(ss, blob, lenient=True)
    codes = [d["code"] for d in doc["diagnostics"]]
    assert codes == ["BAD_NESTED_STATE"]
    f = doc["entries"][0]["fields"]
    assert f["kid"]["raw"] == struct.pack("<IH", 1, 2).hex()
    assert f["kids"][0]["fields"] == {"a": 3, "b": 4}


def test_nested_version_too_new(ss):
    kid = nested_offset(ss)
    doc = decode(ss, feat_blob(ss, kid + 8, struct.pack("<i", 3)))
    check(doc, "VERSION_TOO_NEW", "error", kid, "feat[instance 2].kid")


def test_strict_stops_lenient_goes_on(ss):
    blob = MAGIC + tentry(inst=1) + hdr(2, 99, 1, 0, 2) + b"zz" + tentry(inst=2, version=7) \
        + tentry(inst=3) + EOF_
    strict = decode(ss, blob)
    assert [d["code"] for d in strict["diagnostics"]] == ["UNKNOWN_STATE"]
    assert len(strict["entries"]) == 2 and "raw" in strict["entries"][1]
    lenient = decode(ss, blob, lenient=True)
    assert [d["code"] for d in lenient["diagnostics"]] == ["UNKNOWN_STATE", "VERSION_TOO_NEW"]
    assert [("fields" in e) for e in lenient["entries"]] == [True, False, False, True]
    assert lenient["entries"][3]["instance_id"] == 3


VALID = MAGIC + tentry(inst=1) + hdr(1, 4, 1, 1, 4) + struct.pack("<i", 2) + EOF_


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_no_input_raises(ss, data):
    """Mutated and random blobs: never an exception, always a JSON document."""
    base = data.draw(st.sampled_from([VALID, feat_blob(ss), pci(1, bytes(8))]))
    blob = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    for b in (bytes(blob), bytes(blob[:cut]), data.draw(st.binary(max_size=64))):
        for lenient in (False, True):
            doc = decode(ss, b, lenient=lenient)
            json.dumps(doc)
            assert doc["size"] == len(b)
            for d in doc["diagnostics"]:
                assert 0 <= d["offset"] <= len(b)
            if not lenient:
                assert sum(d["severity"] == "error" for d in doc["diagnostics"]) <= 1


def test_bad_nested_state_size_smaller_than_layout(ss):
    kid = nested_offset(ss)
    doc = decode(ss, feat_blob(ss, kid + 16, struct.pack("<i", 4)))  # version 2 needs 6 bytes
    d = check(doc, "BAD_NESTED_STATE", "error", kid + 20 + 4, "feat[instance 2].kid.b")
    assert "size 4" in d["message"]


def test_subsection_repeated_or_out_of_order(ss):
    doc = {"entries": [{"state": "feat", "instance_id": 3, "fields": feat_fields(),
                        "subsections": [{"state": "ext2", "fields": {"y": 1}}]}]}
    blob = encode(ss, doc)
    ext = hdr(1, 51, 1, 3, 4) + struct.pack("<i", 1)
    blob2 = blob[:-4] + ext + EOF_  # ext after ext2: declared order is ext, ext2
    d = check(decode(ss, blob2), "UNKNOWN_SUBSECTION", "error", len(blob) - 4, "feat[instance 3]/ext")
    assert "order" in d["message"]
    lenient = decode(ss, blob2, lenient=True)
    subs = lenient["entries"][0]["subsections"]
    assert [("fields" in s) for s in subs] == [True, False]


def test_big_endian_stream_diagnostics(ss):
    blob = struct.pack(">I", 0x3B37778C) + hdr(2, 3, 2, 1, 26, ">") + TEST_V2[:10] + struct.pack(">QQ", 1, 2) \
        + hdr(2, 3, 9, 2, 0, ">") + struct.pack(">i", -1)
    doc = decode(ss, blob)
    assert doc["byteorder"] == "big"
    assert doc["entries"][0]["fields"] == {"s": "abc", "p_ulong": 1, "folio": 2}
    check(doc, "VERSION_TOO_NEW", "error", 50, "test[instance 2]")
