"""Time-bounded hypothesis version of tools/fuzz/fuzz_snapshot.py: mutated
snapshots (``kstate.testing.mutate_snapshot``: values of every type, edges
of every limit, missing and extra keys, duplicated and swapped elements,
100,000-deep nesting, cut text) through every command that takes a side.

Only kstate's own outcomes may come out: exit 0, 1 or 2, never a traceback
or an internal error; a snapshot that does not load is refused with
positioned errors naming JSON paths.  A hang shows as a run that does not
finish; the timed budget (2 s / 1 GiB per input) is the harness's, in tools/fuzz/.  ``KSTATE_SNAPSHOT_MUTANTS=N`` runs N mutants
instead of 30 (docs/security.md gives the numbers of longer runs)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import kstate
from kstate.cli import run
from kstate.errors import SchemaError
from kstate.snapshot import to_json
from kstate.testing import examples, mutate_snapshot

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ROOT / "tests" / "fixtures" / "codec" / "features.kstate"
SEED = ROOT / "tools" / "fuzz" / "seeds" / "snapshot" / "features.json"  # its snapshot
BLOB = ROOT / "tools" / "fuzz" / "seeds" / "blob" / "fx-feat.bin"
DOC = ROOT / "tools" / "fuzz" / "seeds" / "json" / "fx-feat.json"
MUTANTS = int(os.environ.get("KSTATE_SNAPSHOT_MUTANTS", "30"))  # more for a longer run


@st.composite
def mutants(draw, doc):
    return mutate_snapshot(doc, lambda n: draw(st.integers(0, n - 1)))


@pytest.fixture(scope="module")
def base_doc():
    return json.loads(SEED.read_text())


def test_the_seed_is_the_fixtures_snapshot():
    assert to_json(kstate.load(FEATURES)) == SEED.read_text()


def commands(snap: str, out: Path) -> list[list[str]]:
    return [["decode", str(BLOB), "--schema", snap],
            ["decode", str(BLOB), "--schema", snap, "--lenient", "--format", "text"],
            ["encode", str(DOC), "--schema", snap, "-o", str(out / "x.bin")],
            ["check", snap, str(FEATURES)],
            ["check", str(FEATURES), snap, "--format", "json"],
            ["sample", snap, "--state", "feat", "-o", str(out / "y.bin")],
            ["matrix", str(FEATURES), snap]]


def test_mutated_snapshots_through_every_command(tmp_path, base_doc, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    snap = tmp_path / "snap.json"
    loaded = refused = 0
    hostile_doc = json.loads(json.dumps(base_doc))
    hostile_doc["states"][0]["doc"] = "*/ \"\"\" \x1b[2J \u202e %s {{ x }} '); __import__('os')"
    fixed = [json.dumps(hostile_doc)]  # free text is inert: this one loads
    for text in fixed + examples(mutants(base_doc), MUTANTS, seed=15):
        snap.write_text(text)
        try:
            kstate.load(snap)
            loaded += 1
        except SchemaError as err:
            refused += 1
            assert err.diagnostics
            for d in err.diagnostics:
                assert d.span is not None and d.span.file == str(snap) and d.span.line >= 1, d
                assert re.match(r"\$[\w.\[\]]*: |not valid JSON", d.message), d
        for argv in commands("snap.json", tmp_path):
            code = run(argv)
            out, err = capsys.readouterr()
            assert code in (0, 1, 2), (argv, err)
            assert "Traceback" not in err and "internal error" not in err, (argv, err[:2000], text[:3000])
            assert not (tmp_path / "kstate-PWNED").exists(), ("code ran", argv, text[:3000])
    assert loaded and refused, (loaded, refused)  # both sides of the check are reached


def test_the_unmutated_base_loads_and_decodes(base_doc, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "snap.json").write_text(json.dumps(base_doc))
    for argv in commands("snap.json", tmp_path):
        assert run(argv) == 0, (argv, capsys.readouterr().err)
