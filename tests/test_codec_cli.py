"""``kstate decode`` and ``kstate encode`` run as subprocesses: exit codes,
JSON output, text and hexdump formats, stdin, atomic -o."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "codec"
SCHEMA = str(FIXTURES / "kstate_test.kstate")


def run(*args, stdin: bytes | None = None):
    res = subprocess.run([sys.executable, "-m", "kstate", *args], cwd=ROOT, input=stdin,
                         capture_output=True, timeout=120)
    assert b"Traceback" not in res.stderr, res.stderr.decode()
    return res


def blob_78() -> bytes:
    payload = b"abcdefghk\0" + struct.pack("<QQ", 20, 4096)
    return (struct.pack("<I", 0x3B37778C) + struct.pack("<5i", 2, 3, 2, 123, 26) + payload
            + struct.pack("<5i", 1, 4, 1, 123, 4) + struct.pack("<i", 10) + struct.pack("<i", -1))


@pytest.fixture
def blob(tmp_path):
    p = tmp_path / "stream.bin"
    p.write_bytes(blob_78())
    return p


def test_decode_json(blob):
    res = run("decode", str(blob), "--schema", SCHEMA)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["size"] == 78 and doc["diagnostics"] == []
    assert doc["entries"][0]["fields"] == {"s": "abcdefghk", "p_ulong": 20, "folio": 4096}
    assert doc["entries"][0]["subsections"][0]["fields"] == {"i": 10}


def test_decode_stdin_and_error_exit_1(tmp_path):
    bad = blob_78()[:-4]  # no EOF marker
    res = run("decode", "-", "--schema", SCHEMA, stdin=bad)
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert [d["code"] for d in doc["diagnostics"]] == ["MISSING_EOF"]


def test_decode_warning_only_exits_0(tmp_path):
    data = blob_78() + b"\0\0"  # TRAILING_DATA is info
    res = run("decode", "-", "--schema", SCHEMA, stdin=data)
    assert res.returncode == 0
    assert json.loads(res.stdout)["diagnostics"][0]["code"] == "TRAILING_DATA"


def test_decode_lenient(tmp_path):
    data = bytearray(blob_78())
    data[8:12] = struct.pack("<i", 99)  # unknown state: its subsection is kept raw too
    strict = run("decode", "-", "--schema", SCHEMA, stdin=bytes(data))
    lenient = run("decode", "-", "--schema", SCHEMA, "--lenient", stdin=bytes(data))
    assert strict.returncode == lenient.returncode == 1
    doc = json.loads(lenient.stdout)
    assert doc["entries"][0]["raw"] == (b"abcdefghk\0" + struct.pack("<QQ", 20, 4096)).hex()
    assert doc["entries"][0]["subsections"][0]["raw"] == "0a000000"


def test_decode_unreadable_exit_2(tmp_path):
    res = run("decode", str(tmp_path / "nope.bin"), "--schema", SCHEMA)
    assert res.returncode == 2
    assert b"nope.bin" in res.stderr
    res = run("decode", str(tmp_path), "--schema", SCHEMA)
    assert res.returncode == 2


def test_decode_bad_schema_exit_2(blob, tmp_path):
    bad = tmp_path / "bad.kstate"
    bad.write_text("state x { id = 0; }\n")
    assert run("decode", str(blob), "--schema", str(bad)).returncode == 2
    assert run("decode", str(blob), "--format", "xml", "--schema", SCHEMA).returncode == 2


def test_decode_empty_file(tmp_path):
    p = tmp_path / "empty.bin"
    p.write_bytes(b"")
    res = run("decode", str(p), "--schema", SCHEMA)
    assert res.returncode == 1
    assert json.loads(res.stdout)["diagnostics"][0]["code"] == "BAD_MAGIC"


def test_decode_text(blob):
    res = run("decode", str(blob), "--schema", SCHEMA, "--format", "text")
    assert res.returncode == 0
    out = res.stdout.decode()
    assert out.splitlines()[0].endswith("78 bytes, 2 entries (1 section, 1 subsection)")
    assert "test[123]: section test (id 3) version 2 instance 123" in out
    lines = out.splitlines()
    # each line: the bytes it reads (hex, inclusive, like the hexdump), the tree's indent, what they hold
    assert lines[1] == "0x0000..0x0003  magic = 0x3b37778c (little-endian)"
    assert '0x0018..0x0021    s = "abcdefghk"' in lines
    assert "0x0022..0x0029    p_ulong = 20" in lines
    assert "0x002a..0x0031    folio = 0x1000" in lines
    assert "0x0032..0x0049    test[123]/test_v2: subsection test_v2 (id 4) version 1 instance 123, " \
           "payload 4 byte(s)" in lines
    assert "0x0046..0x0049      i = 10" in lines
    assert lines[-1] == "0x004a..0x004d  EOF = -1"


def hex_rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if len(line) > 9 and line[8:10] == "  " and line[:8].isalnum()
            and not line.startswith(" ")]


def test_decode_hexdump(blob):
    res = run("decode", str(blob), "--schema", SCHEMA, "--format", "hexdump")
    assert res.returncode == 0
    out = res.stdout.decode()
    rows = hex_rows(out)
    assert rows[0].startswith("00000000  8c 77 37 3b  ")
    # every byte once, in order, rows split where an entry starts
    dumped = bytes.fromhex("".join(r[10:57].replace(" ", "") for r in rows))
    assert dumped == blob_78()
    assert "== test[123]: section test (id 3) version 2 instance 123, payload 26 byte(s) [0x0004..0x0031]" in out
    assert "0x0018..0x0021  test[123].s char[10] = \"abcdefghk\"" in out
    assert "0x0022..0x0029  test[123].p_ulong u64 = 20" in out
    assert "0x002a..0x0031  test[123].folio folio = 0x1000" in out
    assert "0x0014..0x0017  test[123] header.size i32 = 26" in out
    assert "0x0046..0x0049  test[123]/test_v2.i i32 = 10" in out
    assert "0x004a..0x004d  EOF i32 = -1" in out


def doc_json():
    return {"entries": [{"state": "test", "version": 2, "instance_id": 123,
                         "fields": {"s": "abcdefghk", "p_ulong": 20, "folio": 4096},
                         "subsections": [{"state": "test_v2", "instance_id": 123, "fields": {"i": 10}}]}]}


def test_encode_to_stdout_and_file(tmp_path):
    src = tmp_path / "doc.json"
    src.write_text(json.dumps(doc_json()))
    res = run("encode", str(src), "--schema", SCHEMA)
    assert res.returncode == 0, res.stderr
    assert res.stdout == blob_78()
    out = tmp_path / "out.bin"
    res = run("encode", "-", "--schema", SCHEMA, "-o", str(out), "--byteorder", "big",
              stdin=json.dumps(doc_json()).encode())
    assert res.returncode == 0 and res.stdout == b""
    assert out.read_bytes()[:4] == bytes.fromhex("3b37778c")
    back = run("decode", str(out), "--schema", SCHEMA)
    assert json.loads(back.stdout)["entries"][0]["fields"]["p_ulong"] == 20


def test_decode_then_encode_gives_the_same_bytes(blob):
    dec = run("decode", str(blob), "--schema", SCHEMA)
    enc = run("encode", "-", "--schema", SCHEMA, stdin=dec.stdout)
    assert enc.returncode == 0 and enc.stdout == blob_78()


def test_encode_bad_content_exit_1_names_path_writes_nothing(tmp_path):
    doc = doc_json()
    doc["entries"][0]["fields"]["p_ulong"] = -1
    out = tmp_path / "out.bin"
    res = run("encode", "-", "--schema", SCHEMA, "-o", str(out), stdin=json.dumps(doc).encode())
    assert res.returncode == 1
    assert b"entries[0].fields.p_ulong" in res.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_encode_invalid_json_exit_2(tmp_path):
    res = run("encode", "-", "--schema", SCHEMA, stdin=b"{not json")
    assert res.returncode == 2 and b"invalid JSON" in res.stderr
    assert run("encode", str(tmp_path / "missing.json"), "--schema", SCHEMA).returncode == 2


def test_schema_option_does_not_swallow_the_positional_argument(tmp_path):
    """--schema before or after BLOB/JSON; each --schema adds files to the set."""
    from conftest import run_kstate

    schemas = ROOT / "schemas"
    doc = {"byteorder": "little", "entries": [
        {"state": "pci", "instance_id": 1, "fields": {"max_nr_devices": 4, "devices": []}}]}
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    for args in (["encode", "--schema", schemas, "doc.json", "-o", "a.bin"],
                 ["encode", "doc.json", "--schema", schemas, "-o", "b.bin"]):
        res = run_kstate(*args, cwd=tmp_path)
        assert res.returncode == 0, (args, res.stderr)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    outs = []
    for args in (["decode", "--schema", schemas, "a.bin"], ["decode", "a.bin", "--schema", schemas],
                 ["decode", "--schema", schemas / "pci.kstate", "--schema", schemas / "memfd.kstate", "a.bin"]):
        res = run_kstate(*args, cwd=tmp_path)
        assert res.returncode == 0, (args, res.stderr)
        outs.append(json.loads(res.stdout)["entries"][0]["fields"])
    assert outs[0] == outs[1] == outs[2]
    # repeated --schema adds files: memfd alone cannot read a pci entry
    res = run_kstate("decode", "--schema", schemas / "memfd.kstate", "a.bin", cwd=tmp_path)
    assert res.returncode == 1 and "UNKNOWN_STATE" in res.stdout
