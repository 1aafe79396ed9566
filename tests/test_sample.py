"""``kstate sample``: random valid streams decode cleanly, for every state and
version of the project's schemas, and the same seed gives the same bytes."""

import json

import pytest

import kstate
from conftest import ROOT, run_kstate
from kstate.testing import entries_of, examples

SCHEMAS = kstate.load(ROOT / "schemas")
CASES = [(s.name, v) for s in SCHEMAS.states.values() if s.parent is None for v in s.versions]


@pytest.mark.parametrize("state,version", CASES)
def test_sampled_streams_decode_without_diagnostics(state, version):
    for entry in examples(entries_of(SCHEMAS.states[state], 1, version), 3, seed=version):
        for order in ("little", "big"):
            blob = SCHEMAS.encode({"entries": [entry]}, byteorder=order)
            doc = SCHEMAS.decode(blob)
            assert doc["diagnostics"] == [], (state, version, doc["diagnostics"])
            assert doc["byteorder"] == order
            assert [(e["state"], e["version"]) for e in doc["entries"]] == [(state, version)]
            assert SCHEMAS.encode(doc) == blob


def test_cli_sample_is_deterministic_and_decodes(tmp_path):
    a = run_kstate("sample", "schemas", "--state", "memfd", "--version", "2", "--seed", "9",
                   "-o", tmp_path / "a.bin")
    b = run_kstate("sample", "schemas", "--state", "memfd", "--version", "2", "--seed", "9",
                   "-o", tmp_path / "b.bin")
    assert a.returncode == b.returncode == 0, a.stderr
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    res = run_kstate("decode", tmp_path / "a.bin")
    assert res.returncode == 0
    doc = json.loads(res.stdout)
    assert doc["diagnostics"] == [] and doc["entries"][0]["version"] == 2
    res = run_kstate("sample", "schemas", "--state", "pci", "--count", "3", "-o", tmp_path / "many")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == [
        "pci-v2-0.bin", "pci-v2-1.bin", "pci-v2-2.bin"]


def test_cli_sample_usage_errors(tmp_path):
    for args in (["--state", "nope"], ["--state", "memfd", "--version", "9"],
                 ["--state", "test_v2"], ["--state", "memfd", "--count", "2"]):
        res = run_kstate("sample", "schemas", *args)
        assert res.returncode == 2, args
        assert "Traceback" not in res.stderr


def test_arrays_sharing_one_count_get_one_length(tmp_path):
    path = tmp_path / "s.kstate"
    path.write_text("state s { id = 1; version = 1; n: u8 @max(5); a: u16[n]; b: bytes[n]; "
                    "bits u8 { m: 3; } c: u32[m]; }\n")
    ss = kstate.load(path)
    lengths = set()
    for entry in examples(entries_of(ss.states["s"], 1), 20, seed=2):
        fields = entry["fields"]
        assert len(fields["a"]) * 2 == len(fields["b"])  # hex: two digits a byte
        lengths.add(len(fields["a"]))
        doc = ss.decode(ss.encode({"entries": [entry]}))
        assert doc["diagnostics"] == []
        assert doc["entries"][0]["fields"]["m"] == len(fields["c"])
    assert len(lengths) > 1
