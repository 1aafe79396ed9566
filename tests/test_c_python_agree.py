"""C and Python agree to the diagnostic (issue 15): the generated C reader
names the same first problem at the same byte offset as the Python decoder,
decodes the same values, and the C writer writes the Python encoder's bytes.

A bounded run of the differential harness (tools/fuzz/diff_c_python.py,
ASan/UBSan) over mutated streams of every bundled state and of a drawn schema
set, both byte orders, strict and lenient; and the cases its longer runs
found, pinned."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import sys

import pytest

import kstate
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "c"))
import ksharness as kh  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def _harness():
    spec = importlib.util.spec_from_file_location("diff_c_python", ROOT / "tools/fuzz/diff_c_python.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bounded_differential_run_finds_no_disagreement():
    stats, bad = _harness().run(seeds=2, per_seed=60, seed=7, writes=3, random_schemas=1)
    assert not bad, bad[:5]
    assert stats["strict"] > 400 and stats["lenient"] == stats["strict"]
    assert stats["write"] >= 12  # 3 documents, both byte orders, two schema sets
    # the blobs reach inside payloads, not only the framing
    for first in ("TRUNCATED field", "BAD_VALUE field", "COUNT_OUT_OF_RANGE field",
                  "UNCONSUMED_BYTES header", "accepted"):
        assert stats["first " + first] > 0, first


SCHEMA = """
state kid {
    id = 9;
    version = 2;
    min_version = 1;

    a: u16;
    b: u8 @since(2);
}

state t {
    id = 5;
    version = 1;

    on: bool;
    level: u8 @range(1, 6);
    n: u32 @max(4);
    vals: u16[n];
    k: kid;
    tail: u32;
}
"""


@pytest.fixture(scope="module")
def agree(tmp_path_factory):
    """(schema set, check(blob) -> (C's first error, Python's), strict)."""
    tmp = tmp_path_factory.mktemp("agree")
    (tmp / "s").mkdir()
    (tmp / "s" / "t.kstate").write_text(SCHEMA)
    ss = kstate.load(tmp / "s")
    harness = _harness()
    exe = harness.build(ss, tmp)

    def check(blob: bytes):
        (tmp / "b.bin").write_bytes(blob)
        c = harness.c_answers(exe, "strict", [tmp / "b.bin"])[0]
        doc = ss.decode(blob)
        errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
        py = (errors[0]["code"], errors[0]["offset"]) if errors else None
        cf = c["end"][1:] if c["end"][0] == "error" else None
        assert harness.compare_strict(ss, doc, c) is None
        return cf, py, c

    return ss, check


def _entry(payload: bytes, size: int | None = None, version: int = 1) -> bytes:
    head = struct.pack("<5i", 2, 5, version, 1, len(payload) if size is None else size)
    return bytes.fromhex("8c77373b") + head + payload + struct.pack("<i", -1)


def _kid(a: int, b: int, size: int = 3, sid: int = 9, version: int = 2) -> bytes:
    return struct.pack("<5i", 2, sid, version, 0, size) + struct.pack("<HB", a, b)[:max(0, size)]


GOOD = bytes([1, 3]) + struct.pack("<I", 2) + struct.pack("<2H", 7, 8)
# payload offsets: on 24, level 25, n 26, vals 30, k 34 (its payload 54), tail 57


@pytest.mark.parametrize("payload,want", [
    # a bad value before a field that does not fit: the value comes first (field by field)
    (bytes([7, 3]), ("BAD_VALUE", 24)),
    (bytes([1, 9, 0]), ("BAD_VALUE", 25)),
    (bytes([1, 3, 0]), ("TRUNCATED", 26)),
    # a count above @max points at the count field, not at the entry
    (bytes([1, 3]) + struct.pack("<I", 5), ("COUNT_OUT_OF_RANGE", 26)),
    (bytes([1, 3]) + struct.pack("<I", 3) + b"\0\0", ("COUNT_OUT_OF_RANGE", 26)),
    # a nested header: room for 20 bytes first, then its identity, its version
    (GOOD + bytes(10), ("TRUNCATED", 34)),
    (GOOD + _kid(1, 2, sid=8) + bytes(4), ("BAD_NESTED_STATE", 34)),
    (GOOD + _kid(1, 2, version=3) + bytes(4), ("VERSION_TOO_NEW", 34)),
    (GOOD + _kid(1, 2, size=-1), ("BAD_SIZE", 34)),
    # a nested size too small for its layout: the field that did not fit; too large: the first byte left
    (GOOD + _kid(1, 2, size=2) + bytes(4), ("BAD_NESTED_STATE", 56)),
    (GOOD + _kid(1, 2, size=4) + bytes(5), ("BAD_NESTED_STATE", 57)),
    # the entry's end: the first byte not consumed
    (GOOD + _kid(1, 2) + bytes(6), ("UNCONSUMED_BYTES", 61)),
])
def test_first_error_code_and_offset_agree(agree, payload, want):
    _, check = agree
    c, py, _ = check(_entry(payload))
    assert py == want
    assert c == want


def test_decoded_values_agree_and_an_older_nested_version_leaves_zeros(agree):
    ss, check = agree
    blob = _entry(GOOD + _kid(0x1234, 0, size=2, version=1) + struct.pack("<I", 99))
    c, py, answer = check(blob)
    assert c is None and py is None
    lines = answer["records"][0]["lines"]
    assert lines == kh.entry_lines(ss, ss.decode(blob)["entries"][0])
    assert "k.a=4660" in lines and "k.b=0" in lines and "tail=99" in lines


def test_header_errors_point_at_the_header(agree):
    _, check = agree
    full = GOOD + _kid(1, 2) + bytes(4)
    assert check(_entry(full))[:2] == (None, None)
    assert check(_entry(full, size=-4))[:2] == (("BAD_SIZE", 4), ("BAD_SIZE", 4))
    assert check(_entry(full, version=2))[:2] == (("VERSION_TOO_NEW", 4), ("VERSION_TOO_NEW", 4))
    blob = _entry(full)[:-4]
    assert check(blob)[:2] == (("MISSING_EOF", len(blob)), ("MISSING_EOF", len(blob)))


@pytest.mark.parametrize("blob,code,at", [
    # 12 bytes left, section_type 7: the section type is checked before the header's length
    ("8c77373b" + "07000000" + "00" * 8, "BAD_SECTION_TYPE", 4),
    # a SUBSECTION first, with a negative size: the orphan is reported before the size
    ("8c77373b" + "01000000" + "03000000" + "01000000" + "00000000" + "ffffffff", "BAD_SECTION_TYPE", 4),
])
def test_order_of_header_checks(blob, code, at):
    ss = kstate.load(ROOT / "schemas")
    doc = ss.decode(bytes.fromhex(blob))
    first = [d for d in doc["diagnostics"] if d["severity"] == "error"][0]
    assert (first["code"], first["offset"]) == (code, at)


def test_the_harness_sees_a_disagreement(agree, tmp_path):
    """The comparison is not vacuous: a C answer that names the entry instead of
    the field, or another value, is a disagreement."""
    ss, check = agree
    harness = _harness()
    blob = _entry(bytes([1, 3]) + struct.pack("<I", 5))
    doc = ss.decode(blob)
    wrong = {"records": [{"offset": 4, "lines": [], "fail": ("COUNT_OUT_OF_RANGE", 4)}],
             "end": ("error", "COUNT_OUT_OF_RANGE", 4)}
    assert "C COUNT_OUT_OF_RANGE at 4" in harness.compare_strict(ss, doc, wrong)
    blob = _entry(GOOD + _kid(1, 2) + struct.pack("<I", 3))
    _, _, answer = check(blob)
    answer["records"][0]["lines"][-1] = "tail=4"
    assert "values of the entry at 4" in harness.compare_strict(ss, ss.decode(blob), answer)
    assert "values of the entry at 4" in harness.compare_lenient(ss, ss.decode(blob, lenient=True), answer)
