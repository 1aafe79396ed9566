"""C and Python agree to the diagnostic: a bounded run of the differential
harness (tools/fuzz/diff_c_python.py) over mutated streams of every bundled
state in both byte orders, the C reader built with ASan/UBSan.  Any
disagreement in accept/reject or in the first error's code and entry, or any
sanitizer report, fails."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def _harness():
    spec = importlib.util.spec_from_file_location("diff_c_python", ROOT / "tools/fuzz/diff_c_python.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_c_reader_and_python_decoder_agree_on_mutated_blobs():
    execs, bad = _harness().run(seeds=3, per_seed=40, seed=7)
    assert execs > 200
    assert not bad, bad[:5]


@pytest.mark.parametrize("blob,code,at", [
    # 12 bytes left, section_type 7: the section type is checked before the header's length
    ("8c77373b" + "07000000" + "00" * 8, "BAD_SECTION_TYPE", 4),
    # a SUBSECTION first, with a negative size: the orphan is reported before the size
    ("8c77373b" + "01000000" + "03000000" + "01000000" + "00000000" + "ffffffff", "BAD_SECTION_TYPE", 4),
])
def test_order_of_header_checks(blob, code, at):
    import kstate
    ss = kstate.load(ROOT / "schemas")
    doc = ss.decode(bytes.fromhex(blob))
    first = [d for d in doc["diagnostics"] if d["severity"] == "error"][0]
    assert (first["code"], first["offset"]) == (code, at)
