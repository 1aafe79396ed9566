"""The human views of ``kstate decode``, run as a user runs them: the annotated
hexdump (every field's range, path, type and value; diagnostics at their
byte; long arrays elided), the text tree, the filters (``--state``,
``--instance``, ``--range``) on every format, and what the views say about
bytes a strict decode never read."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = str(ROOT / "schemas")
TEST_SCHEMA = str(ROOT / "tests" / "fixtures" / "codec" / "kstate_test.kstate")
NOT_DECODED = "not decoded (stopped at the first error; --lenient reads on)"


def run(*args, cwd=None):
    res = subprocess.run([sys.executable, "-m", "kstate", *map(str, args)], cwd=cwd or ROOT,
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def memfd_doc(folios: int, instances=(7,)) -> dict:
    entries = []
    for inst in instances:
        entries.append({"state": "memfd", "version": 3, "instance_id": inst, "fields": {
            "pos": 4096, "size": 2097152, "seals": ["SEAL", "GROW"], "nr_folios": folios,
            "folios": [{"pfn": 0x1000 + i, "flags": i % 4, "index": i} for i in range(folios)],
            "name": f"ram-{inst}"}})
    return {"entries": entries}


@pytest.fixture(scope="module")
def memfd_blobs(tmp_path_factory):
    """memfd streams made by ``kstate encode``: little- and big-endian, 20 folios, two instances."""
    d = tmp_path_factory.mktemp("blobs")
    out = {}
    for bo in ("little", "big"):
        src = d / f"doc-{bo}.json"
        src.write_text(json.dumps(memfd_doc(20, (7, 8))))
        res = run("encode", src, "--schema", SCHEMAS, "-o", d / f"memfd-{bo}.bin", "--byteorder", bo)
        assert res.returncode == 0, res.stderr
        out[bo] = d / f"memfd-{bo}.bin"
    return out


def rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(r"^[0-9a-f]{8}  ", line)]


def notes(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith("          0x")]


# --- the annotated hexdump ------------------------------------------------------

@pytest.mark.parametrize("bo", ["little", "big"])
def test_hexdump_names_every_field_with_range_type_and_value(memfd_blobs, bo):
    res = run("decode", memfd_blobs[bo], "--schema", SCHEMAS, "--format", "hexdump", "--all")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    # the header decoded, per entry
    assert "== memfd[7]: section memfd (id 16) version 3 instance 7, payload 360 byte(s) [0x0004..0x017f]" in out
    assert "0x0008..0x000b  memfd[7] header.state_id i32 = 16 (memfd)" in out
    assert "0x0014..0x0017  memfd[7] header.size i32 = 360" in out
    # the issue's own example line, and every other field of the entry
    assert "0x0018..0x001f  memfd[7].pos u64 = 4096" in out
    assert "0x0020..0x0027  memfd[7].size u64 = 2097152" in out
    assert "0x0028..0x002b  memfd[7].seals memfd_seals = SEAL|GROW" in out
    assert "0x002c..0x002f  memfd[7].nr_folios u32 = 20" in out
    assert "0x0030..0x016f  memfd[7].folios memfd_folio[20]" in out
    assert "0x0030..0x0037  memfd[7].folios[0].pfn u64:52 = 4096" in out
    assert "0x0160..0x0167  memfd[7].folios[19].pfn u64:52 = 4115" in out
    assert "0x0160..0x0167  memfd[7].folios[19].flags u64:12 = 3" in out
    assert "0x0168..0x016f  memfd[7].folios[19].index u64 = 19" in out
    assert '0x0170..0x017f  memfd[7].name char[16] = "ram-7"' in out
    assert "memfd[8].name" in out and "EOF i32 = -1" in out
    # every byte, once, in order, 16 to a row at most, rows aligned to the stream
    data = memfd_blobs[bo].read_bytes()
    assert b"".join(bytes.fromhex(r[10:57].replace(" ", "")) for r in rows(out)) == data
    for r in rows(out):
        base = int(r[:8], 16)
        assert base % 16 == 0 and len(r[10:57].split()) <= 16
    # each note sits under the row holding its first byte
    current = None
    for line in out.splitlines():
        if re.match(r"^[0-9a-f]{8}  ", line):
            current = int(line[:8], 16)
        elif line.startswith("          0x"):
            start = int(line.split()[0].split("..")[0], 16)
            assert current <= start < current + 16, line


def test_hexdump_elides_long_arrays_and_says_how_many(memfd_blobs):
    res = run("decode", memfd_blobs["little"], "--schema", SCHEMAS, "--format", "hexdump")
    out = res.stdout
    assert "memfd[7].folios[7].index u64 = 7" in out
    assert "memfd[7].folios[8]" not in out.replace("folios[8..19]", "")
    line = next(n for n in notes(out) if "folios[8..19]" in n and n.startswith("0x00b0"))
    assert line.startswith("0x00b0..0x016f  memfd[7].folios[8..19]")
    assert "12 more elements left out" in line and "192 bytes" in line and "--all" in line
    # the elided bytes have no rows; the bytes after them do
    bases = [int(r[:8], 16) for r in rows(out)]
    assert not set(range(0xb0, 0x170, 16)) & set(bases) and 0x170 in bases
    assert '0x0170..0x017f  memfd[7].name char[16] = "ram-7"' in out
    two = run("decode", memfd_blobs["little"], "--schema", SCHEMAS, "--format", "hexdump",
              "--max-elements", "2").stdout
    assert "memfd[7].folios[1].index" in two and "memfd[7].folios[2]." not in two
    assert "18 more elements left out" in two
    text = run("decode", memfd_blobs["little"], "--schema", SCHEMAS, "--format", "text",
               "--max-elements", "3").stdout
    assert "folios[2]" in text and "folios[3]\n" not in text and "17 more elements left out" in text
    assert run("decode", memfd_blobs["little"], "--max-elements", "-1").returncode == 2


def test_hexdump_puts_a_diagnostic_at_its_byte(tmp_path):
    # a count past @max: COUNT_OUT_OF_RANGE at the count field (0x2c)
    data = bytearray(Path(ROOT / "examples" / "memfd.bin").read_bytes())
    data[0x2C:0x30] = struct.pack("<I", 1 << 21)
    blob = tmp_path / "bad.bin"
    blob.write_bytes(bytes(data))
    res = run("decode", blob, "--format", "hexdump")
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    i = next(i for i, line in enumerate(lines) if "error[COUNT_OUT_OF_RANGE]" in line)
    assert lines[i].strip().startswith("0x002c  error[COUNT_OUT_OF_RANGE] memfd[instance 7].nr_folios")
    assert lines[i - 1].startswith("00000020  ")  # under the row holding byte 0x2c
    assert "EOF" not in res.stdout and "trailing data" not in res.stdout


# --- strict decode: the views say what was not read (issue 10, point 7) -------

def blob_78(state_id=3, version=2) -> bytes:
    payload = b"abcdefghk\0" + struct.pack("<QQ", 20, 4096)
    return (struct.pack("<I", 0x3B37778C) + struct.pack("<5i", 2, state_id, version, 123, 26) + payload
            + struct.pack("<5i", 1, 4, 1, 123, 4) + struct.pack("<i", 10) + struct.pack("<i", -1))


@pytest.mark.parametrize("case,data,code", [
    ("unknown state", blob_78(state_id=99), "UNKNOWN_STATE"),
    ("version too new", blob_78(version=9), "VERSION_TOO_NEW"),
])
@pytest.mark.parametrize("fmt", ["text", "hexdump"])
def test_strict_views_label_unread_bytes_not_decoded(tmp_path, case, data, code, fmt):
    blob = tmp_path / "b.bin"
    blob.write_bytes(data)
    res = run("decode", blob, "--schema", TEST_SCHEMA, "--format", fmt)
    assert res.returncode == 1
    out = res.stdout
    assert "EOF" not in out and "-1" not in out.replace("--lenient", "")
    assert "trailing data" not in out
    assert NOT_DECODED in out
    assert f"not decoded ({code} in this entry)" in out
    first = out.splitlines()[0]
    assert "1 entry (1 section, 0 subsections)" in first and "decoding stopped at the first error, at 0x0004 (offset 4)" in first
    if fmt == "hexdump":  # the rest is shown as bytes, labelled as not decoded, from the byte after the entry
        assert f"== {NOT_DECODED} [0x0032..0x004d]" in out
        assert b"".join(bytes.fromhex(r[10:57].replace(" ", "")) for r in rows(out)) == data
    else:
        assert re.search(r"^0x0032\.\.0x004d  not decoded \(stopped at the first error; --lenient reads on\) "
                         r"\(28 bytes\)$", out, re.M)
    lenient = run("decode", blob, "--schema", TEST_SCHEMA, "--format", fmt, "--lenient").stdout
    assert NOT_DECODED not in lenient
    assert "2 entries (1 section, 1 subsection)" in lenient.splitlines()[0]
    assert "EOF" in lenient


def test_summary_counts_subsections(tmp_path):
    blob = tmp_path / "b.bin"
    blob.write_bytes(blob_78())
    for fmt in ("text", "hexdump"):
        first = run("decode", blob, "--schema", TEST_SCHEMA, "--format", fmt).stdout.splitlines()[0]
        assert first == "kstate stream: little-endian, 78 bytes, 2 entries (1 section, 1 subsection)"


# --- filters, on every format ----------------------------------------------------

def test_state_and_instance_filters_on_every_format(memfd_blobs):
    blob = memfd_blobs["little"]
    doc = json.loads(run("decode", blob, "--instance", "8").stdout)
    assert [e["instance_id"] for e in doc["entries"]] == [8]
    doc = json.loads(run("decode", blob, "--state", "memfd", "--instance", "0x7").stdout)
    assert [e["instance_id"] for e in doc["entries"]] == [7]
    doc = json.loads(run("decode", blob, "--state", "16").stdout)
    assert len(doc["entries"]) == 2
    assert json.loads(run("decode", blob, "--state", "pci_dev").stdout)["entries"] == []
    text = run("decode", blob, "--format", "text", "--instance", "8").stdout
    assert "memfd[8]" in text and "memfd[7]" not in text and "showing 1 of 2 entries (--instance 8)" in text
    hexd = run("decode", blob, "--format", "hexdump", "--instance", "8").stdout
    assert "memfd[8].pos" in hexd and "memfd[7]" not in hexd and "magic" not in hexd
    first = int(rows(hexd)[0][:8], 16)
    assert first == 0x180  # the second entry's first row


def test_range_filter_on_every_format(memfd_blobs):
    blob = memfd_blobs["little"]
    hexd = run("decode", blob, "--format", "hexdump", "--range", "0x20:0x30").stdout
    assert [r[:8] for r in rows(hexd)] == ["00000020"]
    assert [n.split()[1] for n in notes(hexd)] == ["memfd[7].size", "memfd[7].seals", "memfd[7].nr_folios"]
    text = run("decode", blob, "--format", "text", "--range", "0x180:").stdout
    assert "memfd[8]" in text and "memfd[7]" not in text and "0x02fc..0x02ff  EOF = -1" in text
    doc = json.loads(run("decode", blob, "--range", ":0x10").stdout)
    assert [e["instance_id"] for e in doc["entries"]] == [7]
    for bad in ("10", "0x30:0x20", "a:b", "-4:"):
        res = run("decode", blob, "--range", bad)
        assert res.returncode == 2 and "--range" in res.stderr, (bad, res.stderr)


def test_filters_keep_the_exit_code_of_the_whole_blob(tmp_path):
    blob = tmp_path / "b.bin"
    blob.write_bytes(blob_78()[:-4])  # MISSING_EOF
    res = run("decode", blob, "--schema", TEST_SCHEMA, "--format", "text", "--instance", "123", "--range", ":8")
    assert res.returncode == 1
    assert "1 diagnostic outside the selection not shown" in res.stdout


def test_output_file_is_written_atomically(memfd_blobs, tmp_path):
    out = tmp_path / "dump.txt"
    res = run("decode", memfd_blobs["big"], "--schema", SCHEMAS, "--format", "hexdump", "-o", "dump.txt", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == ""
    assert "big-endian" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.txt"]
    res = run("decode", memfd_blobs["big"], "--format", "html")
    assert res.returncode == 2 and "-o" in res.stderr


def test_hexdump_of_nested_states_bits_and_empty_fields():
    blob = ROOT / "tools" / "fuzz" / "seeds" / "blob" / "fx-feat-be.bin"
    res = run("decode", blob, "--schema", ROOT / "tests" / "fixtures" / "codec", "--format", "hexdump", "--all")
    assert res.returncode == 0, res.stderr
    out = notes(res.stdout)
    # a nested state's header repeats its entry's section_type; an array of them spans them all
    assert "0x0065..0x0068  feat[2].kid header.section_type i32 = 2" in out
    assert "0x007f..0x00b0  feat[2].kids inner[2]" in out
    assert "0x00ad..0x00b0  feat[2].kids[1].a u32 = 5" in out
    assert "0x0025..0x0028  feat[2].pk.mid u32:8 = 0" in out
    assert "0x0065 (0 bytes)  feat[2].blob bytes[0] = (empty)" in out
    assert "0x001f..0x0020  feat[2].p perms = 0 (no flag)" in out
