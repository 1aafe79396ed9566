"""Decode words a person can act on (issue 12): with the wrong --schema,
UNKNOWN_STATE says which state ids the stream names and which the schema set
knows; a lenient decode keeps the fields an entry decoded before its error
(``partial``) in every format; the text view gives each line's byte range in
hex, like the hexdump."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

import kstate
from conftest import ROOT, run_kstate


def test_unknown_state_lists_the_stream_ids_and_the_known_ones(tmp_path):
    r = run_kstate("decode", ROOT / "examples" / "memfd.bin", "--schema",
                   ROOT / "schemas" / "kstate_test.kstate", cwd=tmp_path)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    (diag,) = [d for d in doc["diagnostics"] if d["code"] == "UNKNOWN_STATE"]
    assert diag["offset"] == 4
    assert diag["message"] == (
        "expected a state_id of this schema set, found 16; the stream's entries name state_id 3, 4, 16, "
        "the schema set knows 3 (test), 4 (test_v2) "
        "(is --schema the schemas of the kernel that wrote the stream?)")


# --- lenient mode keeps the fields decoded before an entry's error ("partial") ------------

MEMFD_BIN = ROOT / "examples" / "memfd.bin"
SCHEMAS = ROOT / "schemas"
NR_FOLIOS = 0x2C  # memfd[7].nr_folios in examples/memfd.bin (after pos, size, seals)
BAD_COUNT = {"code": "COUNT_OUT_OF_RANGE", "severity": "error", "offset": 44,
             "path": "memfd[instance 7].nr_folios",
             "message": "expected a count <= @max(1048576), found 2097152"}


def bad_count_blob(tmp_path) -> Path:
    data = bytearray(MEMFD_BIN.read_bytes())
    data[NR_FOLIOS:NR_FOLIOS + 4] = struct.pack("<I", 2097152)
    blob = tmp_path / "bad.bin"
    blob.write_bytes(data)
    return blob


def test_lenient_json_keeps_the_fields_before_a_bad_count(tmp_path):
    blob = bad_count_blob(tmp_path)
    r = run_kstate("decode", blob, "--schema", SCHEMAS, "--lenient", cwd=tmp_path)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["diagnostics"] == [BAD_COUNT]
    memfd, test = doc["entries"]
    payload = blob.read_bytes()[24:96]
    assert memfd == {"section": "section", "state": "memfd", "state_id": 16, "version": 3, "instance_id": 7,
                     "offset": 4, "size": 72, "raw": payload.hex(),
                     "partial": {"pos": 4096, "size": 65536, "seals": ["SEAL", "GROW"]},
                     "subsections": []}
    assert list(memfd) == ["section", "state", "state_id", "version", "instance_id", "offset", "size",
                           "raw", "partial", "subsections"]
    assert test["fields"] == {"s": "abcdefghk", "p_ulong": 20, "folio": 4096}  # read on after it


def test_strict_decode_is_unchanged_no_partial(tmp_path):
    r = run_kstate("decode", bad_count_blob(tmp_path), "--schema", SCHEMAS, cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["diagnostics"] == [BAD_COUNT]
    (memfd,) = doc["entries"]
    assert "partial" not in memfd and "fields" not in memfd and len(memfd["raw"]) == 144


def test_python_api_lenient_has_the_same_partial(tmp_path):
    data = bad_count_blob(tmp_path).read_bytes()
    ss = kstate.load(ROOT / "schemas")
    doc = ss.decode(data, lenient=True)
    assert doc["entries"][0]["partial"] == {"pos": 4096, "size": 65536, "seals": ["SEAL", "GROW"]}
    assert doc["diagnostics"] == [BAD_COUNT]
    views = ss.decode(memoryview(data), lenient=True)
    assert views == doc
    assert "partial" not in ss.decode(data)["entries"][0]


def test_lenient_text_shows_the_partial_fields_then_the_rest_raw(tmp_path):
    r = run_kstate("decode", bad_count_blob(tmp_path), "--schema", SCHEMAS, "--lenient", "--format", "text",
                   cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    i = lines.index("0x0004..0x005f  memfd[7]: section memfd (id 16) version 3 instance 7, payload 72 byte(s)")
    assert lines[i + 1:i + 5] == [
        "0x0018..0x001f    pos = 4096",
        "0x0020..0x0027    size = 65536",
        "0x0028..0x002b    seals = SEAL|GROW",
        "0x002c..0x005f    payload: not decoded from here on (COUNT_OUT_OF_RANGE in this entry) (52 bytes) "
        "0000200056341200000030000000000000000000573412000000100001000000...",
    ]
    assert lines[i + 5].startswith("0x0060..0x008d  test[123]: section test")
    assert lines[-1] == ("error[COUNT_OUT_OF_RANGE] at 0x002c (offset 44) memfd[instance 7].nr_folios: "
                         "expected a count <= @max(1048576), found 2097152")


def test_lenient_hexdump_annotates_the_partial_fields(tmp_path):
    r = run_kstate("decode", bad_count_blob(tmp_path), "--schema", SCHEMAS, "--lenient", "--format", "hexdump",
                   cwd=tmp_path)
    notes = [line.strip() for line in r.stdout.splitlines() if line.startswith("          ")]
    i = notes.index("0x0018..0x001f  memfd[7].pos u64 = 4096")
    assert notes[i:i + 5] == [
        "0x0018..0x001f  memfd[7].pos u64 = 4096",
        "0x0020..0x0027  memfd[7].size u64 = 65536",
        "0x0028..0x002b  memfd[7].seals memfd_seals = SEAL|GROW",
        "0x002c..0x005f  memfd[7] payload: not decoded from here on (COUNT_OUT_OF_RANGE in this entry)",
        "0x002c  error[COUNT_OUT_OF_RANGE] memfd[instance 7].nr_folios: expected a count <= @max(1048576), "
        "found 2097152",
    ]


def test_lenient_html_tree_has_the_partial_fields(tmp_path):
    page = tmp_path / "view.html"
    r = run_kstate("decode", bad_count_blob(tmp_path), "--schema", SCHEMAS, "--lenient", "--format", "html",
                   "-o", page, cwd=tmp_path)
    assert r.returncode == 1
    doc = json.loads(re.search(r'id="kstate-doc">(.*?)</script>', page.read_text(), re.S).group(1))
    memfd = next(n for n in doc["tree"] if n.get("p") == "memfd[7]")
    kids = [(n["l"], n["o"], n["n"], n.get("v")) for n in memfd["c"] if n["k"] != "header"]
    assert kids == [("pos", 24, 8, "4096"), ("size", 32, 8, "65536"), ("seals", 40, 4, "SEAL|GROW"),
                    ("payload", 44, 52, "not decoded from here on (COUNT_OUT_OF_RANGE in this entry)")]


def test_a_lenient_document_encodes_back_from_its_raw_bytes(tmp_path):
    blob = bad_count_blob(tmp_path)
    doc = tmp_path / "doc.json"
    doc.write_text(run_kstate("decode", blob, "--schema", SCHEMAS, "--lenient", cwd=tmp_path).stdout)
    out = tmp_path / "again.bin"
    r = run_kstate("encode", doc, "-o", out, "--schema", SCHEMAS, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == blob.read_bytes()  # "partial" is shown, "raw" is written


def test_encode_refuses_partial_without_raw(tmp_path):
    src = tmp_path / "doc.json"
    src.write_text(json.dumps({"entries": [{"state": "test", "instance_id": 1, "partial": {"s": "x"},
                                            "fields": {"s": "x", "p_ulong": 1, "folio": 0}}]}))
    r = run_kstate("encode", src, "-o", tmp_path / "x.bin", "--schema", ROOT / "schemas", cwd=tmp_path)
    assert r.returncode == 1 and not (tmp_path / "x.bin").exists()
    assert "entries[0].partial" in r.stderr
    assert "unexpected without 'raw'" in r.stderr


FEAT_SCHEMA = ROOT / "tests" / "fixtures" / "codec" / "features.kstate"
FEAT = {"on": True, "level": 0, "c": "RED", "p": ["R"], "pt": {"x": 1, "y": -2},
        "pk": {"lo": 1, "mid": 2, "hi": 3, "tag": 4}, "where_": 0, "f": 0, "ptr": 0,
        "small": [0, 0, 0], "big": [0] * 20, "digest": "00000000", "label": "", "pts": [],
        "blob": "", "kid": {"fields": {"a": 1, "b": 2}},
        "kids": [{"fields": {"a": 3, "b": 4}}, {"version": 1, "fields": {"a": 5}}], "tail": []}


def feat_blob(tmp_path) -> bytearray:
    src = tmp_path / "feat.json"
    src.write_text(json.dumps({"entries": [{"state": "feat", "instance_id": 2, "fields": FEAT}]}))
    out = tmp_path / "feat.bin"
    assert run_kstate("encode", src, "-o", out, "--schema", FEAT_SCHEMA, cwd=tmp_path).returncode == 0
    return bytearray(out.read_bytes())


def decode_lenient(tmp_path, data: bytes, *fmt) -> dict:
    blob = tmp_path / "b.bin"
    blob.write_bytes(data)
    r = run_kstate("decode", blob, "--schema", FEAT_SCHEMA, "--lenient", *fmt, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    return json.loads(r.stdout) if not fmt else r.stdout


def test_partial_stops_before_a_struct_whose_bits_group_is_bad(tmp_path):
    data = feat_blob(tmp_path)
    pk = 24 + 13  # feat.pk: a plain struct holding a bits group with unused bits
    data[pk:pk + 4] = struct.pack("<I", 1 << 20)
    doc = decode_lenient(tmp_path, data)
    assert [(d["code"], d["offset"], d["path"]) for d in doc["diagnostics"]] == [
        ("BAD_VALUE", pk, "feat[instance 2].pk.{lo, mid, hi}")]
    (e,) = doc["entries"]
    assert e["partial"] == {"magic": 0x4B53, "on": True, "level": 0, "c": "RED", "p": ["R"],
                            "pt": {"x": 1, "y": -2}}
    assert e["raw"] == bytes(data[24:24 + e["size"]]).hex()


def test_a_nested_state_with_an_error_keeps_its_partial(tmp_path):
    data = feat_blob(tmp_path)
    kid = json.loads(run_kstate("decode", tmp_path / "feat.bin", "--schema", FEAT_SCHEMA,
                                cwd=tmp_path).stdout)["entries"][0]["fields"]["kid"]["offset"]
    data[kid + 8:kid + 12] = struct.pack("<i", 1)  # version 1 reads 'a' (4 bytes) of its 6
    doc = decode_lenient(tmp_path, data)
    assert [(d["code"], d["offset"], d["path"]) for d in doc["diagnostics"]] == [
        ("BAD_NESTED_STATE", kid + 24, "feat[instance 2].kid")]
    fields = doc["entries"][0]["fields"]
    assert fields["kid"] == {"state": "inner", "state_id": 50, "version": 1, "offset": kid, "size": 6,
                             "raw": struct.pack("<IH", 1, 2).hex(), "partial": {"a": 1}}
    assert fields["kids"][0]["fields"] == {"a": 3, "b": 4}
    text = decode_lenient(tmp_path, data, "--format", "text")
    lines = text.splitlines()
    i = lines.index(f"0x{kid:04x}..0x{kid + 25:04x}    kid: state inner")
    assert lines[i + 1:i + 3] == [
        f"0x{kid + 20:04x}..0x{kid + 23:04x}      a = 1",
        f"0x{kid + 24:04x}..0x{kid + 25:04x}      payload: not decoded from here on (an error in this "
        f"nested state) (2 bytes) 0200",
    ]


BITS_SCHEMA = """\
state b {
    id = 1;
    version = 1;

    first: u16;
    bits u32 {
        lo: 4;
        n: 8;
    }
    items: u8[n];
    last: u8;
}
"""


@pytest.mark.parametrize("word,code,path", [
    (0x0F | 3 << 4 | 1 << 20, "BAD_VALUE", "b[instance 0].{lo, n}"),   # an unused bit set
    (0x0F | 200 << 4, "COUNT_OUT_OF_RANGE", "b[instance 0].n"),       # a count (in the group) too large
])
def test_a_bad_top_level_bits_group_is_left_out_whole(tmp_path, word, code, path):
    (tmp_path / "b.kstate").write_text(BITS_SCHEMA)
    payload = struct.pack("<HI3sB", 7, word, b"\1\2\3", 9)
    data = (b"\x8c\x77\x37\x3b" + struct.pack("<5i", 2, 1, 1, 0, len(payload)) + payload
            + struct.pack("<i", -1))
    blob = tmp_path / "b.bin"
    blob.write_bytes(data)
    r = run_kstate("decode", blob, "--schema", tmp_path / "b.kstate", "--lenient", cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert [(d["code"], d["offset"], d["path"]) for d in doc["diagnostics"]] == [(code, 26, path)]
    assert doc["entries"][0]["partial"] == {"first": 7}
    good = bytearray(data)
    good[26:30] = struct.pack("<I", 0x0F | 3 << 4)
    blob.write_bytes(good)
    ok = json.loads(run_kstate("decode", blob, "--schema", tmp_path / "b.kstate", cwd=tmp_path).stdout)
    assert ok["entries"][0]["fields"] == {"first": 7, "lo": 15, "n": 3, "items": [1, 2, 3], "last": 9}


def test_a_short_entry_keeps_the_fields_that_fit(tmp_path):
    data = bytearray(MEMFD_BIN.read_bytes()[:24 + 20])  # memfd[7]'s header and 20 payload bytes
    data[20:24] = struct.pack("<i", 20)
    data += struct.pack("<i", -1)
    r = run_kstate("decode", "-", "--schema", SCHEMAS, "--lenient", input=bytes(data), cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert [(d["code"], d["offset"], d["path"]) for d in doc["diagnostics"]] == [
        ("TRUNCATED", 44, "memfd[instance 7].nr_folios")]
    assert doc["entries"][0]["partial"] == {"pos": 4096, "size": 65536, "seals": ["SEAL", "GROW"]}


def test_no_partial_where_no_layout_was_read(tmp_path):
    data = bytearray(MEMFD_BIN.read_bytes())
    data[12:16] = struct.pack("<i", 9)  # memfd version 9: too new, its layout is unknown
    r = run_kstate("decode", "-", "--schema", SCHEMAS, "--lenient", input=bytes(data), cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert [d["code"] for d in doc["diagnostics"]] == ["VERSION_TOO_NEW"]
    assert "partial" not in doc["entries"][0] and "raw" in doc["entries"][0]


def test_the_documented_text_view_is_what_the_cli_prints(tmp_path):
    """docs/reading-a-dump.md's text examples, run: the whole tree, and the lenient one's lines."""
    doc = (ROOT / "docs" / "reading-a-dump.md").read_text()
    blocks = re.findall(r"```\n\$ kstate decode (.*?)\n(.*?)```", doc, re.S)
    full = next(out for cmd, out in blocks if cmd == "examples/memfd.bin --format text --max-elements 1")
    r = run_kstate("decode", MEMFD_BIN, "--schema", SCHEMAS, "--format", "text", "--max-elements", "1",
                   cwd=tmp_path)
    assert r.stdout == full
    lenient = next(out for cmd, out in blocks if cmd == "bad.bin --format text --lenient")
    r = run_kstate("decode", bad_count_blob(tmp_path), "--schema", SCHEMAS, "--format", "text", "--lenient",
                   cwd=tmp_path)
    shown = [line for line in lenient.splitlines() if line != "..."]
    assert all(line in r.stdout.splitlines() for line in shown), shown
    assert r.stdout.splitlines()[:8] == shown[:8]
