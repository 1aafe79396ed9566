"""The checker's words (issue 12): exact messages, hints and positions of the
cases a kernel developer meets first, through the real CLI.

Fixtures are in tests/fixtures/check/cases/ (min_version_defaulted,
since_moved, retired_subsection) and the rule and silent folders; waiver
files are written in temporary folders.  The hints' edits are applied in
tests/test_check_hints.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kstate import cli

FIXTURES = Path(__file__).parent / "fixtures" / "check"


@pytest.fixture(autouse=True)
def _outside_any_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no kstate.toml: the sides and waivers are the arguments


def pair(case: str) -> tuple[str, str]:
    return str(FIXTURES / case / "old.kstate"), str(FIXTURES / case / "new.kstate")


def kcheck(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.run(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys, *args: str) -> list[dict]:
    code, out, _ = kcheck(capsys, *args, "--format", "json")
    assert code in (0, 1)
    return json.loads(out)["findings"]


def one(found: list[dict], rule: str, direction: str = "update") -> dict:
    (f,) = [f for f in found if f["rule"] == rule and f["direction"] == direction]
    return f


# --- min_version defaulted ---------------------------------------------------------


def test_forgotten_min_version_says_it_defaults_to_version(capsys):
    old, new = pair("cases/min_version_defaulted")
    f = one(findings(capsys, old, new), "MIN_VERSION_EXCLUDES_OLD")
    assert (f["line"], f["column"]) == (3, 5) and f["file"].endswith("new.kstate")  # the version line
    assert f["new"] == "min_version defaults to version (2)"
    assert f["message"] == ("OLD writes dev at version 1 but NEW refuses versions below 2 (min_version "
                            "defaults to version (2)): the update path from OLD is cut")
    assert f["hint"] == ("add `min_version = 1;` to NEW's dev (NEW must then still describe OLD's layout(1)), "
                         "or waive this finding if cutting the update path from OLD's dev is intended")
    _, out, _ = kcheck(capsys, old, new)
    assert "        version = 2;\n        ^~~~~~~~~~~~\n" in out
    assert "    help: add `min_version = 1;` to NEW's dev" in out
    assert "new: min_version = 2" not in out  # a line the user never wrote


def test_explicit_min_version_is_rewritten_in_place(capsys):
    f = one(findings(capsys, *pair("MIN_VERSION_EXCLUDES_OLD")), "MIN_VERSION_EXCLUDES_OLD")
    assert (f["line"], f["new"]) == (4, "min_version = 2")
    assert f["hint"].startswith("write `min_version = 1;` in NEW's dev instead of min_version = 2 ")


# --- @since moved ---------------------------------------------------------------------


def test_moved_since_is_named_in_field_dropped(capsys):
    f = one(findings(capsys, *pair("cases/since_moved")), "FIELD_DROPPED")
    assert f["message"] == ("field 'y' (u32) that OLD writes in dev version 2 has no counterpart in NEW's "
                            "layout(2): NEW declares 'y' only from version 3 (@since(3)), so NEW would "
                            "misread OLD's version-2 stream")
    assert f["hint"] == ("NEW's @since of 'y' moved from 2 to 3, and a version-2 stream (what OLD writes) "
                         "carries the field: write `@since(2)` on 'y' in NEW, as OLD has it")
    assert "@removed" not in f["hint"]


def test_field_dropped_outright_keeps_it_removed(capsys):
    f = one(findings(capsys, *pair("FIELD_DROPPED")), "FIELD_DROPPED")
    assert f["hint"] == ("keep 'y' in NEW as `y: u32 @removed(2, \"why\");` and bump dev: `version = 2;` with "
                         "`min_version = 1;`; or raise dev's min_version above 1 to refuse such streams loudly")
    f = one(findings(capsys, *pair("cases/dropped_after_bump")), "FIELD_DROPPED")
    assert f["hint"] == ("keep 'y' in NEW as `y: u32 @removed(2, \"why\");`; or raise dev's min_version "
                         "above 1 to refuse such streams loudly")


def test_removed_too_early_is_named(capsys):
    f = one(findings(capsys, *pair("cases/removed_too_early")), "FIELD_DROPPED")
    assert f["message"].endswith(": NEW marks it @removed(2), but OLD still writes it at version 2, so NEW "
                                 "would misread the stream")
    assert f["hint"] == ("write `@removed(3, \"folded into x\")` on 'y' in NEW (a field leaves the wire only "
                         "above the version OLD writes) and bump dev: `version = 3;`")


# --- a retired subsection state -------------------------------------------------------


def test_retired_subsection_state_is_state_retired_only(capsys):
    old, new = pair("cases/retired_subsection")
    found = findings(capsys, old, new, "--direction", "both")
    assert sorted((f["direction"], f["rule"]) for f in found) == [
        ("rollback", "RETIREMENT_DROPPED"), ("rollback", "SUBSECTION_ADDED"), ("update", "STATE_RETIRED")]
    f = one(found, "STATE_RETIRED")
    assert f["message"] == ("NEW retires id 2: the subsection entries of b that OLD writes after a's will be "
                            "reported and skipped (gone)")
    assert f["hint"] == "nothing to do if this is intended; waive it to record the decision"
    back = one(found, "RETIREMENT_DROPPED", "rollback")
    assert back["message"] == ("NEW retires id 2 (b), which OLD restores as state b: after a rollback, OLD "
                               "finds no b entries (NEW writes none), so nothing is restored for it")
    code, _, _ = kcheck(capsys, old, new, "--direction", "both")
    assert code == 0


# --- rollback ---------------------------------------------------------------------------


def test_rollback_state_deleted_says_what_happens(capsys):
    f = one(findings(capsys, *pair("silent/add_state"), "--direction", "both"), "STATE_DELETED", "rollback")
    assert f["message"] == ("state dev_stats (id 2) is new in NEW: after a rollback, the older kernel (OLD) "
                            "does not know state id 2 and skips its entries, so the state they preserve is lost")
    assert f["hint"] == ("OLD's schema is already shipped: if losing dev_stats's state on a rollback to OLD is "
                         "acceptable, waive STATE_DELETED with state = \"dev_stats\" and direction = "
                         "\"rollback\"; otherwise ship a kernel that knows state dev_stats before the one that "
                         "writes it")
    assert f["file"].endswith("new.kstate") and f["line"] == 7


def test_rollback_version_regressed_blames_the_side_its_hint_fixes(capsys):
    f = one(findings(capsys, *pair("silent/since_with_bump"), "--direction", "both"), "VERSION_REGRESSED",
            "rollback")
    assert f["file"].endswith("new.kstate") and (f["line"], f["column"]) == (3, 5)  # NEW's version = 2
    assert f["old_file"] is None  # blames NEW
    assert f["hint"] == ("OLD's schema is already shipped and reads dev only up to version 1, so the fix "
                         "belongs in NEW: keep its version at 1 (undo the bump, or stage it: ship a kernel that "
                         "reads version 2 first), or accept that a rollback to OLD is not supported and waive "
                         "VERSION_REGRESSED with state = \"dev\" and direction = \"rollback\"")


def test_rollback_errors_on_items_both_have_blame_new(capsys):
    found = findings(capsys, *pair("FIELD_TYPE_CHANGED"), "--direction", "rollback")
    assert {(f["rule"], Path(f["file"]).name, f["line"]) for f in found} == {
        ("LAYOUT_CHANGED_WITHOUT_BUMP", "new.kstate", 3), ("FIELD_TYPE_CHANGED", "new.kstate", 4)}
    assert all("the fix belongs in NEW" in f["hint"] for f in found)
    # a field only OLD has stays blamed on OLD's text (nothing in NEW to point at)
    f = one(findings(capsys, *pair("FIELD_DROPPED"), "--direction", "rollback"), "FIELD_ADDED_UNVERSIONED",
            "rollback")
    assert f["file"].endswith("old.kstate") and f["old_line"] == 5


# --- waivers ------------------------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path.name)


def test_a_waiver_without_state_is_refused_at_its_line(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '# accepted breaks\n[[waiver]]\nrule = "FIELD_DROPPED"\nreason = "y was never read"\n')
    code, out, err = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w)
    assert code == 2 and out == ""
    assert err == ("w.toml:2:1: error[BAD_WAIVER]: waiver #1 (FIELD_DROPPED) does not say which state it waives "
                   "the rule for\n"
                   "    [[waiver]]\n"
                   "    ^\n"
                   "    help: add state = \"NAME\" (the finding's state), or state = \"*\" to waive it for every "
                   "state\n"
                   "kstate: 1 error, 0 warnings\n")
    code, out, _ = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w, "--format", "json")
    (d,) = json.loads(out)["diagnostics"]
    assert code == 2 and (d["code"], d["file"], d["line"], d["column"]) == ("BAD_WAIVER", "w.toml", 2, 1)


def test_state_star_waives_every_state(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "*"\nreason = "y was never read"\n'
                                   '[[waiver]]\nrule = "LAYOUT_CHANGED_WITHOUT_BUMP"\nstate = "dev"\nreason = "same"\n')
    code, out, _ = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["summary"] == {"errors": 0, "warnings": 0, "waived": 2}


def test_misspelt_rule_in_a_waiver_suggests_the_rule(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_DROPED"\nstate = "dev"\nreason = "x"\n')
    code, _, err = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w)
    assert code == 2
    assert err.splitlines()[:4] == [
        "w.toml:2:8: error[BAD_WAIVER]: waiver #1: unknown rule 'FIELD_DROPED'",
        '    rule = "FIELD_DROPED"',
        "           ^",
        "    help: did you mean 'FIELD_DROPPED'?",
    ]


def test_a_waiver_file_that_is_not_toml_is_refused_at_the_parse_error(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_DROPPED\nstate = "dev"\n')
    code, out, err = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "w.toml:2:22: error[BAD_WAIVER]: not valid TOML: Illegal character '\\n'",
        '    rule = "FIELD_DROPPED',
        "                         ^",
        "kstate: 1 error, 0 warnings",
    ]


def test_every_waiver_error_is_reported(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "dev"\nreason = ""\n'
                                   'directon = "update"\n\n[[waiver]]\nrule = "WAIVER_UNUSED"\nstate = "*"\n'
                                   'reason = "x"\n')
    code, _, err = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w)
    heads = [line for line in err.splitlines() if "error[" in line]
    assert code == 2 and heads == [
        "w.toml:4:10: error[BAD_WAIVER]: waiver #1 (FIELD_DROPPED) has no reason",
        "w.toml:5:1: error[BAD_WAIVER]: waiver #1: unknown key 'directon'",
        "w.toml:8:8: error[BAD_WAIVER]: waiver #2: unknown rule 'WAIVER_UNUSED'",
    ]
    assert "    help: did you mean 'direction'?" in err


def test_waiver_unused_points_at_its_waiver(capsys, tmp_path):
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "dev"\nreason = "x"\n\n'
                                   '  [[waiver]]\nrule = "STATE_DELETED"\nstate = "gone"\nreason = "stale"\n')
    f = one(findings(capsys, *pair("FIELD_DROPPED"), "--waivers", w), "WAIVER_UNUSED", None)
    assert (f["file"], f["line"], f["column"]) == ("w.toml", 6, 3)
    assert f["message"] == "waiver #2 (rule = STATE_DELETED, state = gone) matched no finding"
    _, out, _ = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w)
    assert "w.toml:6:3: warning[WAIVER_UNUSED]: waiver #2 (rule = STATE_DELETED, state = gone) matched no " \
           "finding\n      [[waiver]]\n      ^\n" in out
    _, out, _ = kcheck(capsys, *pair("FIELD_DROPPED"), "--waivers", w, "--format", "github")
    assert "::warning file=w.toml,line=6,col=3,title=WAIVER_UNUSED::" in out


# --- machine formats carry the hint ----------------------------------------------------------


def test_github_and_sarif_carry_message_and_hint(capsys, tmp_path):
    for side in pair("cases/min_version_defaulted"):
        shutil.copy(side, tmp_path)
    old, new = "old.kstate", "new.kstate"
    _, out, _ = kcheck(capsys, old, new, "--format", "github")
    assert out == ("::error file=new.kstate,line=3,col=5,"
                   "title=MIN_VERSION_EXCLUDES_OLD::OLD writes dev at version 1 but NEW refuses versions below 2 "
                   "(min_version defaults to version (2)): the update path from OLD is cut%0A"
                   "help: add `min_version = 1;` to NEW's dev (NEW must then still describe OLD's layout(1)), "
                   "or waive this finding if cutting the update path from OLD's dev is intended\n")
    _, out, _ = kcheck(capsys, old, new, "--format", "sarif")
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["message"]["text"] == (
        "OLD writes dev at version 1 but NEW refuses versions below 2 (min_version defaults to version (2)): the "
        "update path from OLD is cut. Help: add `min_version = 1;` to NEW's dev (NEW must then still describe "
        "OLD's layout(1)), or waive this finding if cutting the update path from OLD's dev is intended.")
    (fix,) = result["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == new
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 3, "startColumn": 17, "endLine": 3, "endColumn": 17},
        "insertedContent": {"text": "\n    min_version = 1;"}}]
