"""The rule catalogue, one fixture pair per rule, plus what must stay silent.

Each ``tests/fixtures/check/<RULE>/`` folder holds ``old.kstate``,
``new.kstate`` and ``expected.txt`` (one finding a line: rule, severity,
state, field, version, file, line, column; update direction; then optional
``key=value`` words for other JSON keys, e.g. ``state_id=1``).
``tests/fixtures/check/silent/<case>/`` holds the changes docs/compatibility.md says
must stay silent (or give only the warning it names).
``tests/fixtures/check/cases/<case>/`` holds verdicts that were once wrong
(issue 18): every finding of the pair, exactly, in the same format.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import kstate
from kstate.checker import RULES, check
from kstate.checker.rules import BY_NAME

FIXTURES = Path(__file__).parent / "fixtures" / "check"
RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.isupper())
SILENT_DIRS = sorted(p for p in (FIXTURES / "silent").iterdir() if p.is_dir())
CASE_DIRS = sorted(p for p in (FIXTURES / "cases").iterdir() if p.is_dir())


def side(path: Path) -> kstate.SchemaSet:
    return kstate.load(path if path.is_dir() else path.with_suffix(".kstate"))


def found(old, new, direction="update") -> list[tuple]:
    return [(f.rule, f.severity, f.state, f.field, f.version, os.path.basename(f.file), f.line, f.column)
            for f in check(old, new, direction)]


def _rows(folder: Path) -> list[tuple[tuple, dict]]:
    rows = []
    for line in (folder / "expected.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rule, sev, state, field, version, file, line_no, col, *extra = line.split()
        rows.append(((rule, sev, None if state == "None" else state, None if field == "None" else field,
                      None if version == "None" else int(version), file, int(line_no), int(col)),
                     dict(word.split("=", 1) for word in extra)))
    return rows


def expected(folder: Path) -> list[tuple]:
    return [row for row, _ in _rows(folder)]


def check_extras(folder: Path, findings) -> None:
    """The ``key=value`` words of expected.txt, against the JSON of the matching finding."""
    for (row, extra), f in zip(_rows(folder), findings):
        for key, value in extra.items():
            assert str(f.to_json()[key]) == value, (row, key)


def load_text(tmp_path: Path, name: str, text: str) -> kstate.SchemaSet:
    p = tmp_path / f"{name}.kstate"
    p.write_text(text)
    return kstate.load(p)


def test_every_rule_has_a_fixture():
    names = {p.name for p in RULE_DIRS}
    assert names == {r.name for r in RULES} - {"WAIVER_UNUSED"}  # WAIVER_UNUSED: test_check_cli


def test_rule_table_is_well_formed():
    assert len(BY_NAME) == len(RULES) == 25
    assert all(r.severity in ("error", "warning") for r in RULES)
    warnings = {r.name for r in RULES if r.severity == "warning"}
    assert warnings == {"STATE_RETIRED", "STATE_RENAMED", "ENUM_VALUE_ADDED", "SUBSECTION_ADDED",
                        "FIELD_RENAMED", "VERSION_BUMP_WITHOUT_CHANGE", "RETIREMENT_DROPPED",
                        "WAIVER_UNUSED"}


@pytest.mark.parametrize("folder", RULE_DIRS, ids=lambda p: p.name)
def test_rule_fixture(folder: Path):
    got = found(side(folder / "old"), side(folder / "new"))
    assert got == expected(folder)
    assert folder.name in {g[0] for g in got}
    check_extras(folder, check(side(folder / "old"), side(folder / "new")))


@pytest.mark.parametrize("folder", CASE_DIRS, ids=lambda p: p.name)
def test_case_fixture(folder: Path):
    got = found(side(folder / "old"), side(folder / "new"))
    assert got == expected(folder)
    check_extras(folder, check(side(folder / "old"), side(folder / "new")))


@pytest.mark.parametrize("folder", SILENT_DIRS, ids=lambda p: p.name)
def test_silent(folder: Path):
    got = found(side(folder / "old"), side(folder / "new"))
    assert got == expected(folder)
    assert all(g[1] == "warning" for g in got)
    assert len(got) <= 1


@pytest.mark.parametrize("folder", RULE_DIRS + SILENT_DIRS + CASE_DIRS, ids=lambda p: p.name)
def test_same_schema_finds_nothing(folder: Path):
    for name in ("old", "new"):
        s = side(folder / name)
        assert check(s, s, "both") == []


BASE = "state dev {{ id = 1; version = 1; {fields} }}\n"
EXTRA = """
enum e32 : u32 { A = 1, }
struct pair { a: u32; b: u32; }
state nest_a { id = 20; version = 1; q: u8; }
state nest_b { id = 21; version = 1; q: u8; }
"""

# (old fields, new fields, the rule that must be reported, its field)
SAME_SIZE = [
    ("x: u32;", "x: i32;", "FIELD_TYPE_CHANGED", "x"),
    ("x: bool;", "x: u8;", "FIELD_TYPE_CHANGED", "x"),
    ("x: char[8];", "x: bytes[8];", "FIELD_TYPE_CHANGED", "x"),
    ("x: u32;", "x: e32;", "FIELD_TYPE_CHANGED", "x"),
    ("x: u32;", "x: u32[1];", "FIELD_TYPE_CHANGED", "x"),
    ("x: addr(linear);", "x: addr(vmemmap);", "FIELD_TYPE_CHANGED", "x"),
    ("x: addr(linear);", "x: folio;", "FIELD_TYPE_CHANGED", "x"),
    ("x: u64;", "x: folio;", "FIELD_TYPE_CHANGED", "x"),
    ("x: nest_a;", "x: nest_b;", "FIELD_TYPE_CHANGED", "x"),
    ("p: pair;", "a: u32; b: u32;", "FIELD_DROPPED", "p"),
    ("x: u32[4];", "x: u32[..];", "ARRAY_SHAPE_CHANGED", "x"),
    ("n: u8; m: u8; x: u32[n];", "n: u8; m: u8; x: u32[m];", "ARRAY_SHAPE_CHANGED", "x"),
    ("x: u32;", "x: u32 = 7;", "FIXED_VALUE_CHANGED", "x"),
    ("n: u8 @max(10); x: u32[n];", "n: u8 @max(9); x: u32[n];", "BOUNDS_NARROWED", "n"),
    ("x: u32;", "x: u32 @range(0, 5);", "BOUNDS_NARROWED", "x"),
    ("bits u8 { a: 4; b: 4; }", "bits u8 { a: 3; b: 5; }", "FIELD_TYPE_CHANGED", "a"),
]


@pytest.mark.parametrize("old,new,rule,field", SAME_SIZE)
def test_wire_type_changes(tmp_path, old, new, rule, field):
    o = load_text(tmp_path, "old", EXTRA + BASE.format(fields=old))
    n = load_text(tmp_path, "new", EXTRA + BASE.format(fields=new))
    got = [(f.rule, f.field) for f in check(o, n) if f.state == "dev"]
    assert (rule, field) in got
    # bounds are checked by the decoder, not part of the layout's wire type
    assert ("LAYOUT_CHANGED_WITHOUT_BUMP" in {r for r, _ in got}) == (rule != "BOUNDS_NARROWED")


# a dropped field, an inserted field, a reorder, a rename and a type change at
# the same position are told apart
DIAGNOSIS = [
    ("a: u32; b: u32; c: u32;", "a: u32; c: u32;", [("FIELD_DROPPED", "b")]),
    ("a: u32; c: u32;", "a: u32; b: u32; c: u32;", [("FIELD_ADDED_UNVERSIONED", "b")]),
    ("a: u32; b: u16; c: u64;", "a: u32; c: u64; b: u16;", [("FIELD_REORDERED", "c"), ("FIELD_REORDERED", "b")]),
    ("a: u32; b: u32; c: u32;", "a: u32; bb: u32; c: u32;", [("FIELD_RENAMED", "bb")]),
    ("a: u32; b: u32; c: u32;", "a: u32; b: u16; c: u32;", [("FIELD_TYPE_CHANGED", "b")]),
    ("a: u32; b: u32; c: u32;", "a: u32; bb: u16; c: u32;",
     [("FIELD_DROPPED", "b"), ("FIELD_ADDED_UNVERSIONED", "bb")]),
    ("a: u32; b: u32; c: u32; d: u32;", "b: u32; c: u32; d: u32; a: u32;", [("FIELD_REORDERED", "a")]),
    ("a: u32;", "a: u32; z: u8;", [("FIELD_ADDED_UNVERSIONED", "z")]),
    # the count field moves with the drop: still the same count, not a shape change
    ("a: u32; n: u8; x: u16[n];", "n: u8; x: u16[n];", [("FIELD_DROPPED", "a")]),
]


@pytest.mark.parametrize("old,new,want", DIAGNOSIS)
def test_diagnosis(tmp_path, old, new, want):
    o = load_text(tmp_path, "old", BASE.format(fields=old))
    n = load_text(tmp_path, "new", BASE.format(fields=new))
    got = sorted((f.rule, f.field) for f in check(o, n) if f.rule != "LAYOUT_CHANGED_WITHOUT_BUMP")
    assert got == sorted(want)


def test_all_findings_reported_none_hides_another(tmp_path):
    o = load_text(tmp_path, "old", """
enum mode : u8 { OFF = 0, ON = 1, }
state dev { id = 1; version = 1; a: u32; b: u32; m: mode; c: u64[4]; }
state gone { id = 2; version = 1; x: u8; }
""")
    n = load_text(tmp_path, "new", """
enum mode : u8 { OFF = 0, }
state dev { id = 1; version = 1; a: i32; m: mode; c: u64[2]; d: u8; }
""")
    rules = sorted(f.rule for f in check(o, n))
    assert rules == sorted(["FIELD_TYPE_CHANGED", "FIELD_DROPPED", "ENUM_VALUE_REMOVED",
                            "ARRAY_SHAPE_CHANGED", "FIELD_ADDED_UNVERSIONED",
                            "LAYOUT_CHANGED_WITHOUT_BUMP", "STATE_DELETED"])


def test_struct_change_reported_once_per_using_field(tmp_path):
    o = load_text(tmp_path, "old", """
struct pt { x: u32; y: u32; }
state dev { id = 1; version = 1; a: pt; b: pt[2]; }
""")
    n = load_text(tmp_path, "new", """
struct pt {
    x: u32;
    y: i32;
}
state dev { id = 1; version = 1; a: pt; b: pt[2]; }
""")
    got = [(f.rule, f.field, f.line, f.column) for f in check(o, n) if f.rule == "FIELD_TYPE_CHANGED"]
    assert sorted(got) == [("FIELD_TYPE_CHANGED", "a.y", 4, 5), ("FIELD_TYPE_CHANGED", "b.y", 4, 5)]


def test_state_id_changed_replaces_state_deleted():
    folder = FIXTURES / "STATE_ID_CHANGED"
    rules = [f.rule for f in check(side(folder / "old"), side(folder / "new"))]
    assert rules == ["STATE_ID_CHANGED"]


def test_field_rules_wait_for_version_rules(tmp_path):
    # NEW refuses OLD's version: no field findings, just the version rule
    o = load_text(tmp_path, "old", BASE.format(fields="a: u32;"))
    n = load_text(tmp_path, "new", "state dev { id = 1; version = 3; min_version = 2; b: u64; }")
    assert [f.rule for f in check(o, n)] == ["MIN_VERSION_EXCLUDES_OLD"]


def test_id_reused_by_incompatible_state(tmp_path):
    o = load_text(tmp_path, "old", "state a { id = 1; version = 1; x: u32; }")
    n = load_text(tmp_path, "new", "state b { id = 1; version = 1; y: u64; }")
    got = [(f.rule, f.state) for f in check(o, n)]
    assert ("STATE_ID_REUSED", "b") in got
    assert ("STATE_RENAMED", "b") not in got


# the swapped model's rule names (docs/compatibility.md, Directions)
ROLLBACK = [
    ("silent/since_with_bump", ["VERSION_REGRESSED"]),
    ("silent/enum_value_added", ["ENUM_VALUE_REMOVED"]),
    ("silent/subsection_added", ["SUBSECTION_DROPPED", "VERSION_REGRESSED", "STATE_DELETED"]),
    ("silent/add_state", ["STATE_DELETED"]),
    ("FIELD_DROPPED", ["FIELD_ADDED_UNVERSIONED", "LAYOUT_CHANGED_WITHOUT_BUMP"]),
    ("STATE_RETIRED", ["RETIREMENT_DROPPED"]),
]


@pytest.mark.parametrize("case,rules", ROLLBACK)
def test_rollback_uses_swapped_names(case, rules):
    folder = FIXTURES / case
    o, n = side(folder / "old"), side(folder / "new")
    back = check(o, n, "rollback")
    assert sorted(f.rule for f in back) == sorted(rules)
    assert all(f.direction == "rollback" for f in back)
    both = check(o, n, "both")
    assert sorted((f.rule, f.direction) for f in both) == sorted(
        [(f.rule, "update") for f in check(o, n)] + [(r, "rollback") for r in rules])


def test_rollback_keeps_old_and_new_texts_per_side():
    folder = FIXTURES / "FIELD_DROPPED"
    (f,) = [f for f in check(side(folder / "old"), side(folder / "new"), "rollback")
            if f.rule == "FIELD_ADDED_UNVERSIONED"]
    assert f.field == "y" and f.old.startswith("y: u32") and f.new is None
    assert f.file.endswith("old.kstate")


def test_finding_fields_for_field_dropped():
    folder = FIXTURES / "FIELD_DROPPED"
    f = next(f for f in check(side(folder / "old"), side(folder / "new")) if f.rule == "FIELD_DROPPED")
    j = f.to_json()
    assert j["state"] == "dev" and j["state_id"] == 1 and j["field"] == "y" and j["version"] == 1
    assert j["old"] == "y: u32 at position 2" and j["new"] is None
    assert "@removed" in j["hint"] and "min_version" in j["hint"]
    assert "'y'" in j["message"]


def test_history_rewritten_once_naming_versions(tmp_path):
    o = load_text(tmp_path, "old", """state dev { id = 1; version = 4; min_version = 1;
        x: u32; y: u32 @since(2); z: u8 @since(4); }""")
    n = load_text(tmp_path, "new", """state dev { id = 1; version = 4; min_version = 1;
        x: u32; y: u16 @since(2); z: u8 @since(4); }""")
    got = check(o, n)
    hist = [f for f in got if f.rule == "HISTORY_REWRITTEN"]
    assert len(hist) == 1 and "2, 3" in hist[0].message and hist[0].field == "y"
    assert {f.rule for f in got} == {"HISTORY_REWRITTEN", "FIELD_TYPE_CHANGED", "LAYOUT_CHANGED_WITHOUT_BUMP"}


def test_check_api_on_schema_set():
    folder = FIXTURES / "FIELD_RENAMED"
    o, n = side(folder / "old"), side(folder / "new")
    assert [f.rule for f in o.check(n)] == ["FIELD_RENAMED"]
    with pytest.raises(kstate.UsageError):
        o.check(n, direction="sideways")


def test_ids_swapped_between_two_states(tmp_path):
    o = load_text(tmp_path, "old", "state a { id = 1; version = 1; x: u32; }\n"
                                   "state b { id = 2; version = 1; y: u64; }\n")
    n = load_text(tmp_path, "new", "state a { id = 2; version = 1; x: u32; }\n"
                                   "state b { id = 1; version = 1; y: u64; }\n")
    got = {(f.rule, f.state) for f in check(o, n)}
    assert {("STATE_ID_CHANGED", "a"), ("STATE_ID_CHANGED", "b"),
            ("STATE_ID_REUSED", "a"), ("STATE_ID_REUSED", "b")} <= got
    assert not any(r == "STATE_DELETED" for r, _ in got)
    f = check(o, n)[0]
    assert f["rule"] == f.rule and f["line"] == f.line


def test_struct_members_reordered_or_renamed(tmp_path):
    o = load_text(tmp_path, "old", "struct pt { x: u32; y: u32; z: u8; }\n"
                                   "state dev { id = 1; version = 1; a: pt; }\n")
    n = load_text(tmp_path, "new", "struct pt { y: u32; x: u32; zz: u8; }\n"
                                   "state dev { id = 1; version = 1; a: pt; }\n")
    got = sorted((f.rule, f.field) for f in check(o, n))
    assert got == [("FIELD_RENAMED", "a.zz"), ("FIELD_REORDERED", "a.y")]
