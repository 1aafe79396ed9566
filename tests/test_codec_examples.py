"""The spec's example schemas decoded from bytes built independently here
with ``struct`` (not with kstate's encoder), in both byte orders."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

import kstate
from kstate.codec import decode, encode

FIXTURES = Path(__file__).parent / "fixtures" / "codec"
MAGIC = 0x3B37778C


@pytest.fixture(scope="module")
def schemas():
    return kstate.load([FIXTURES / "memfd.kstate", FIXTURES / "pci.kstate", FIXTURES / "kstate_test.kstate"])


def hdr(bo, stype, sid, ver, inst, size):
    return struct.pack(bo + "iiiii", stype, sid, ver, inst, size)


def stream(bo, *entries):
    return struct.pack(bo + "I", MAGIC) + b"".join(entries) + struct.pack(bo + "i", -1)


def test_kstate_test_matches_cli_example(schemas):
    """The exact document of docs/cli.md's decode example (78 bytes)."""
    payload = b"abcdefghk\0" + struct.pack("<QQ", 20, 4096)
    sub = struct.pack("<i", 10)
    blob = stream("<", hdr("<", 2, 3, 2, 123, len(payload)) + payload, hdr("<", 1, 4, 1, 123, 4) + sub)
    assert len(blob) == 78
    expected = {
        "byteorder": "little", "size": 78,
        "entries": [{
            "section": "section", "state": "test", "state_id": 3, "version": 2,
            "instance_id": 123, "offset": 4, "size": 26,
            "fields": {"s": "abcdefghk", "p_ulong": 20, "folio": 4096},
            "subsections": [{"section": "subsection", "state": "test_v2", "state_id": 4,
                             "version": 1, "instance_id": 123, "offset": 50, "size": 4,
                             "fields": {"i": 10}}],
        }],
        "diagnostics": [],
    }
    doc = decode(schemas, blob)
    assert doc == expected
    assert json.loads(json.dumps(doc)) == expected
    assert list(doc["entries"][0]) == ["section", "state", "state_id", "version", "instance_id",
                                       "offset", "size", "fields", "subsections"]
    assert encode(schemas, doc) == blob


def test_kstate_test_version_1_has_removed_field(schemas):
    payload = b"abc".ljust(10, b"\0") + struct.pack(">QQH", 1, 2, 3)
    blob = stream(">", hdr(">", 2, 3, 1, 9, len(payload)) + payload)
    doc = decode(schemas, blob)
    assert doc["byteorder"] == "big"
    assert doc["entries"][0]["fields"] == {"s": "abc", "p_ulong": 1, "folio": 2, "k": 3}
    assert doc["diagnostics"] == []
    assert encode(schemas, doc, "big") == blob


def memfd_v3(bo, pos, size, seals, folios, name):
    body = struct.pack(bo + "QQII", pos, size, seals, len(folios))
    for pfn, flags, index in folios:
        word = (pfn | flags << 52) if bo == "<" else (pfn << 12 | flags)
        body += struct.pack(bo + "QQ", word, index)
    return body + name.ljust(16, b"\0")


@pytest.mark.parametrize("bo,order", [("<", "little"), (">", "big")])
def test_memfd_v3_both_byte_orders(schemas, bo, order):
    folios = [(0x12345, 0x7, 0), ((1 << 52) - 1, 0xFFF, 1), (1, 0, 2)]
    payload = memfd_v3(bo, 4096, 12288, 0x1 | 0x8, folios, b"my-memfd")
    blob = stream(bo, hdr(bo, 2, 16, 3, 7, len(payload)) + payload)
    doc = decode(schemas, blob)
    assert doc["diagnostics"] == []
    e = doc["entries"][0]
    assert (e["state"], e["version"], e["instance_id"], e["size"]) == ("memfd", 3, 7, len(payload))
    assert e["fields"] == {
        "pos": 4096, "size": 12288, "seals": ["SEAL", "WRITE"], "nr_folios": 3,
        "folios": [{"pfn": p, "flags": f, "index": i} for p, f, i in folios], "name": "my-memfd"}
    assert encode(schemas, doc, order) == blob


def test_memfd_v1_layout(schemas):
    body = struct.pack("<QQI", 1, 2, 1) + struct.pack("<QQ", 5 | 1 << 52, 0) + b"n".ljust(16, b"\0")
    body += struct.pack("<I", 0xAB)
    blob = stream("<", hdr("<", 2, 16, 1, 0, len(body)) + body)
    doc = decode(schemas, blob)
    assert doc["diagnostics"] == []
    assert doc["entries"][0]["fields"] == {"pos": 1, "size": 2, "nr_folios": 1,
                                           "folios": [{"pfn": 5, "flags": 1, "index": 0}],
                                           "name": "n", "old_flags": 0xAB}


def test_pci_devices(schemas):
    devs = [(0, 0x0100, 1), (1, 0xFFFF, 2)]
    body = struct.pack("<II", 64, len(devs)) + b"".join(struct.pack("<IHH", *d) for d in devs)
    blob = stream("<", hdr("<", 2, 32, 2, 1, len(body)) + body)
    doc = decode(schemas, blob)
    assert doc["diagnostics"] == []
    assert doc["entries"][0]["fields"] == {
        "max_nr_devices": 64, "nr_devices": 2,
        "devices": [{"domain": 0, "bdf": 0x100, "refcount": 1}, {"domain": 1, "bdf": 0xFFFF, "refcount": 2}]}
    assert encode(schemas, doc) == blob


def test_char_not_utf8_or_junk_after_nul_is_bytes(schemas):
    name = b"ab\0junk".ljust(16, b"\0")
    payload = memfd_v3("<", 0, 0, 0, [], name)
    bad = memfd_v3("<", 0, 0, 0, [], b"\xff\xfe".ljust(16, b"\0"))
    full = memfd_v3("<", 0, 0, 0, [], b"0123456789abcdef")
    blob = stream("<", hdr("<", 2, 16, 3, 0, len(payload)) + payload,
                  hdr("<", 2, 16, 3, 1, len(bad)) + bad, hdr("<", 2, 16, 3, 2, len(full)) + full)
    doc = decode(schemas, blob)
    names = [e["fields"]["name"] for e in doc["entries"]]
    assert names == [{"bytes": name.hex()}, {"bytes": b"\xff\xfe".ljust(16, b"\0").hex()}, "0123456789abcdef"]
    assert doc["entries"][0]["fields"]["seals"] == []
    assert encode(schemas, doc) == blob


def test_api_methods_on_schema_set(schemas):
    payload = struct.pack("<i", -5)
    blob = stream("<", hdr("<", 2, 3, 1, 1, 28) + b"x".ljust(10, b"\0") + bytes(18),
                  hdr("<", 1, 4, 1, 1, 4) + payload)
    doc = schemas.decode(blob)
    assert doc["entries"][0]["subsections"][0]["fields"] == {"i": -5}
    assert schemas.encode(doc) == blob
    assert decode(schemas, bytearray(blob)) == decode(schemas, memoryview(blob)) == doc
