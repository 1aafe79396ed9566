"""Every hint that proposes schema text works when applied.

A hint quotes the text it proposes in backticks, and the finding carries the
same text as edits (kstate/checker/edits.py).  For every finding of every
fixture pair (tests/fixtures/check/RULE/, cases/, silent/) this applies the
finding's edits to a copy of NEW, re-runs ``kstate check`` (the real CLI)
and asserts that finding is gone, that NEW still compiles, and that every
backticked text of the hint is what an edit writes (in both directions: a
rollback hint quotes no text, since it proposes no edit of shipped OLD).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import kstate
from kstate import cli
from kstate.checker import check
from kstate.checker.edits import apply_all

FIXTURES = Path(__file__).parent / "fixtures" / "check"
RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.isupper())
OTHER_DIRS = sorted(p for sub in ("cases", "silent") for p in (FIXTURES / sub).iterdir() if p.is_dir())

# the rules whose hint proposes schema text (backticked) in their fixture
PROPOSES_TEXT = {
    "STATE_DELETED", "STATE_ID_CHANGED", "STATE_ID_REUSED", "VERSION_REGRESSED", "MIN_VERSION_EXCLUDES_OLD",
    "FIELD_DROPPED", "FIELD_ADDED_UNVERSIONED", "FIELD_TYPE_CHANGED", "ARRAY_SHAPE_CHANGED",
    "FIXED_VALUE_CHANGED", "BOUNDS_NARROWED", "ENUM_VALUE_CHANGED", "ENUM_VALUE_REMOVED",
    "SUBSECTION_DROPPED", "HISTORY_REWRITTEN", "VERSION_BUMP_WITHOUT_CHANGE", "LAYOUT_CHANGED_WITHOUT_BUMP",
    "RETIREMENT_DROPPED",
}


def copy_pair(folder: Path, tmp: Path) -> tuple[Path, Path]:
    out = []
    for name in ("old", "new"):
        src = folder / name if (folder / name).is_dir() else folder / f"{name}.kstate"
        dst = tmp / src.name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
        out.append(dst)
    return out[0], out[1]


def run_check(capsys, old: Path, new: Path) -> tuple[int, list[dict]]:
    code = cli.run(["check", str(old), str(new), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    return code, doc["findings"]


def key(f) -> tuple:
    return (f["rule"], f["direction"], f["state"], f["field"])


def findings_with_edits(folder: Path, tmp: Path):
    old, new = copy_pair(folder, tmp)
    return old, new, check(kstate.load(old), kstate.load(new), "both")


@pytest.mark.parametrize("folder", RULE_DIRS + OTHER_DIRS, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_every_proposed_edit_makes_its_finding_go_away(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no kstate.toml: the sides are the arguments
    old, new, found = findings_with_edits(folder, tmp_path)
    originals = {p: p.read_text() for p in (new.rglob("*.kstate") if new.is_dir() else [new])}
    for f in found:
        quoted = re.findall(r"`([^`]+)`", f.hint or "")
        if quoted:
            assert f.edits, (f.rule, f.hint)
        for text in quoted:
            assert any(text in e.new for e in f.edits), (f.rule, text, f.edits)
        if not f.edits:
            continue
        for path, text in originals.items():
            path.write_text(text)
        texts = {e.file: Path(e.file).read_text() for e in f.edits}
        for name, text in apply_all(texts, f.edits).items():
            Path(name).write_text(text)
        assert f.direction == "update"  # OLD is shipped: a rollback finding proposes no edit of it
        code, after = run_check(capsys, old, new)
        assert code in (0, 1), f"{f.rule}: NEW no longer compiles after the hint's edit"
        assert key(f.to_json()) not in {key(g) for g in after}, (f.rule, f.hint, f.edits)


def test_every_rule_that_proposes_text_has_a_tested_edit(tmp_path):
    with_edits = set()
    for folder in RULE_DIRS:
        sub = tmp_path / folder.name
        sub.mkdir()
        _, _, found = findings_with_edits(folder, sub)
        with_edits |= {f.rule for f in found if f.edits and f.rule == folder.name}
    assert with_edits == PROPOSES_TEXT


# the same, for schemas written another way: a state on one line, an enum over several lines
# (OLD, NEW, the rule whose edit is applied)
WRITTEN_OTHERWISE = [
    ("state dev { id = 1; version = 1; x: u32; }",
     "state dev { id = 1; version = 2; x: u32; y: u8 @since(2); }", "MIN_VERSION_EXCLUDES_OLD"),
    ("state dev { id = 1; version = 1; x: u32; y: u32; z: u8; }",
     "state dev { id = 1; version = 1; x: u32; z: u8; }", "FIELD_DROPPED"),
    ("state dev { id = 1; version = 1; x: u32; }",
     "state dev { id = 1; version = 1; x: u32; y: u32; }", "FIELD_ADDED_UNVERSIONED"),
    ("state dev { id = 1; version = 1; x: u32; subsection e; }\nstate e { id = 2; version = 1; q: u8; }",
     "state dev { id = 1; version = 1; x: u32; }\nstate e { id = 2; version = 1; q: u8; }", "SUBSECTION_DROPPED"),
    ("enum m : u8 {\n    A = 0,\n    B = 1,\n    C = 2,\n}\nstate dev { id = 1; version = 1; x: m; }",
     "enum m : u8 {\n    A = 0,\n    B = 1\n}\nstate dev { id = 1; version = 1; x: m; }", "ENUM_VALUE_REMOVED"),
    ("state dev { id = 1; version = 1; magic: u32; }",
     "state dev { id = 1; version = 1; magic: u32 = 7; }", "FIXED_VALUE_CHANGED"),
    ("state dev { id = 1; version = 1; magic: u32 = 7; }",
     "state dev { id = 1; version = 1; magic: u32; }", "FIXED_VALUE_CHANGED"),
    ("state dev { id = 1; version = 1; n: u8; a: u16[n]; }",
     "state dev { id = 1; version = 1; n: u8; a: u16[4]; }", "ARRAY_SHAPE_CHANGED"),
    ("state dev { id = 1; version = 2; min_version = 1; x: u32; y: u8 @since(2); }",
     "state dev { id = 1; version = 3; min_version = 1; x: u32; y: u8 @since(3); }", "FIELD_DROPPED"),
]


@pytest.mark.parametrize("old_text,new_text,rule", WRITTEN_OTHERWISE)
def test_edits_of_schemas_written_otherwise(old_text, new_text, rule, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("old.kstate").write_text(old_text + "\n")
    Path("new.kstate").write_text(new_text + "\n")
    (f,) = [f for f in check(kstate.load("old.kstate"), kstate.load("new.kstate")) if f.rule == rule]
    assert f.edits, f.hint
    Path("new.kstate").write_text(apply_all({"new.kstate": new_text + "\n"}, f.edits)["new.kstate"])
    code, after = run_check(capsys, Path("old.kstate"), Path("new.kstate"))
    assert code in (0, 1) and key(f.to_json()) not in {key(g) for g in after}
