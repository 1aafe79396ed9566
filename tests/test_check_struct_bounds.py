"""BOUNDS_NARROWED inside plain structs: a member's ``@range``/``@max`` is part
of the wire type wherever the struct is used (a field, an array of structs, a
struct in a struct), and a rename of the member does not hide it.  Run
through ``kstate check`` in a temporary tree; the hint's edit, applied to
NEW, makes the finding go away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kstate
from kstate.checker import check
from kstate.checker.edits import apply_all
from kstate.cli import run

STATE = "state dev {{\n    id = 1;\n    version = 1;\n    {use}\n}}\n"
CASES = [
    # (old struct members, new struct members, use of the struct, the finding's field)
    ("a: u8 @range(0, 100);", "a: u8 @range(10, 100);", "x: p;", "x.a"),
    ("a: u8 @range(0, 100);", "a: u8 @range(0, 99);", "x: p[4];", "x.a"),
    ("a: u16;", "a: u16 @range(0, 9);", "x: p;", "x.a"),
    ("a: u8 @range(0, 100);", "b: u8 @range(10, 100);", "x: p;", "x.b"),  # renamed member
]


def schema(members: str, use: str, nested: bool = False) -> str:
    text = f"struct p {{\n    {members}\n}}\n"
    if nested:
        text += "struct q {\n    pad: u32;\n    inner: p;\n}\n"
    return text + STATE.format(use=use)


def kcheck(capsys, tmp_path: Path, old: str, new: str) -> tuple[int, dict]:
    (tmp_path / "old.kstate").write_text(old)
    (tmp_path / "new.kstate").write_text(new)
    code = run(["check", str(tmp_path / "old.kstate"), str(tmp_path / "new.kstate"), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("old,new,use,field", CASES)
def test_a_struct_member_narrowed_is_refused(capsys, tmp_path, old, new, use, field):
    code, doc = kcheck(capsys, tmp_path, schema(old, use), schema(new, use))
    assert code == 1
    found = [f for f in doc["findings"] if f["rule"] == "BOUNDS_NARROWED"]
    assert [(f["field"], f["severity"], f["line"]) for f in found] == [(field, "error", 2)]
    assert f"field '{field}'" in found[0]["message"]


def test_a_struct_in_a_struct(capsys, tmp_path):
    old = schema("a: u8 @range(0, 100);", "y: q;", nested=True)
    new = schema("a: u8 @range(1, 100);", "y: q;", nested=True)
    code, doc = kcheck(capsys, tmp_path, old, new)
    assert code == 1
    assert [f["field"] for f in doc["findings"] if f["rule"] == "BOUNDS_NARROWED"] == ["y.inner.a"]


def test_widening_a_struct_member_is_silent(capsys, tmp_path):
    code, doc = kcheck(capsys, tmp_path, schema("a: u8 @range(10, 100);", "x: p;"),
                       schema("a: u8 @range(0, 200);", "x: p;"))
    assert code == 0 and doc["findings"] == []


@pytest.mark.parametrize("old,new,use,field", CASES)
def test_the_hint_applied_makes_the_finding_go_away(tmp_path, monkeypatch, old, new, use, field):
    monkeypatch.chdir(tmp_path)
    Path("old.kstate").write_text(schema(old, use))
    path = Path("new.kstate")
    path.write_text(schema(new, use))
    findings = [f for f in check(kstate.load("old.kstate"), kstate.load(path)) if f.rule == "BOUNDS_NARROWED"]
    assert findings and all(f.edits for f in findings)
    assert {e.file for f in findings for e in f.edits} == {"new.kstate"}
    fixed = apply_all({"new.kstate": path.read_text()}, [e for f in findings for e in f.edits])
    path.write_text(fixed["new.kstate"])
    again = check(kstate.load("old.kstate"), kstate.load(path))
    assert [f.rule for f in again if f.rule == "BOUNDS_NARROWED"] == []
