"""``kstate check`` end to end: exit codes, the four formats, chains,
waivers, snapshot sides and git sides (a temporary repository)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kstate.checker import RULES
from kstate.cli import run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "check"
JSON_KEYS = ["rule", "severity", "direction", "old_side", "new_side", "state", "state_id", "field",
             "version", "file", "line", "column", "old_file", "old_line", "old_column", "old", "new", "message", "hint", "waived"]

V1 = "state dev {\n    id = 1;\n    version = 1;\n    x: u32;\n    y: u32;\n}\n"
V2_SAFE = ("state dev {\n    id = 1;\n    version = 2;\n    min_version = 1;\n    x: u32;\n    y: u32;\n"
           "    z: u64 @since(2);\n}\n")
V3_DROP = "state dev {\n    id = 1;\n    version = 2;\n    min_version = 1;\n    x: u32;\n}\n"


def kcheck(capsys, *argv: str) -> tuple[int, str, str]:
    code = run(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def rule_pair(name: str) -> tuple[str, str]:
    return str(FIXTURES / name / "old.kstate"), str(FIXTURES / name / "new.kstate")


# --- exit codes ----------------------------------------------------------------


def test_exit_0_when_compatible(capsys):
    code, out, _ = kcheck(capsys, *rule_pair("FIELD_RENAMED"))
    assert code == 0
    assert "warning[FIELD_RENAMED]" in out


def test_exit_1_on_error(capsys):
    code, out, _ = kcheck(capsys, *rule_pair("FIELD_DROPPED"))
    assert code == 1
    assert "error[FIELD_DROPPED]" in out


def test_fail_on_warning(capsys):
    code, _, _ = kcheck(capsys, *rule_pair("FIELD_RENAMED"), "--fail-on", "warning")
    assert code == 1


@pytest.mark.parametrize("argv", [
    [str(FIXTURES / "FIELD_DROPPED" / "old.kstate")],
    ["nope/missing.kstate", "nope/other.kstate"],
    [str(FIXTURES / "FIELD_DROPPED" / "old.kstate"), str(FIXTURES / "FIELD_DROPPED" / "new.kstate"),
     "--format", "xml"],
    [str(FIXTURES / "FIELD_DROPPED" / "old.kstate"), str(FIXTURES / "FIELD_DROPPED" / "new.kstate"),
     "--waivers", "no-such-waivers.toml"],
])
def test_exit_2_usage(capsys, argv, tmp_path, monkeypatch):
    # outside any kstate.toml: this repository's own config names a git
    # baseline, which would turn one side into "baseline against it"
    monkeypatch.chdir(tmp_path)
    code, out, err = kcheck(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err


def test_exit_2_broken_schema(capsys, tmp_path):
    bad = write(tmp_path / "bad.kstate", "state dev {\n    id = 1;\n    version = 1;\n    x: nosuch;\n}\n")
    code, out, err = kcheck(capsys, bad, str(FIXTURES / "FIELD_DROPPED" / "new.kstate"))
    assert code == 2 and out == ""
    assert re.search(r"bad\.kstate:4:\d+: error\[", err)
    assert err.rstrip("\n").splitlines()[-1] == "kstate: 1 error, 0 warnings"


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_broken_schema_in_a_machine_format_ends_stderr_with_the_summary(capsys, tmp_path, fmt):
    bad = write(tmp_path / "bad.kstate", "state dev {\n    id = 1;\n    version = 1;\n    x: nosuch;\n}\n")
    code, out, err = kcheck(capsys, bad, str(FIXTURES / "FIELD_DROPPED" / "new.kstate"), "--format", fmt)
    assert code == 2 and "UNKNOWN_NAME" in out
    assert re.search(r"bad\.kstate:4:\d+: error\[UNKNOWN_NAME\]", err)
    assert err.rstrip("\n").splitlines()[-1] == "kstate: 1 error, 0 warnings"


def test_list_rules(capsys):
    code = run(["check", "--list-rules"])
    out = capsys.readouterr().out
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == [r.name for r in RULES]
    assert run(["check", "--list-rules", "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [(r["rule"], r["severity"]) for r in table] == [(r.name, r.severity) for r in RULES]


# --- formats -------------------------------------------------------------------


def test_text_format_compiler_style(capsys):
    old, new = rule_pair("FIELD_DROPPED")
    code, out, _ = kcheck(capsys, old, new)
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if "[FIELD_DROPPED]" in line)
    assert re.fullmatch(r".*old\.kstate:5:5: error\[FIELD_DROPPED\]: .*'y'.*", lines[i])
    assert lines[i + 1].strip() == "y: u32;"
    assert lines[i + 2] == "    " + " " * 4 + "^"
    assert lines[-1].endswith("2 errors, 0 warnings, 0 waived")


def test_json_format_shape(capsys):
    old, new = rule_pair("FIELD_DROPPED")
    code, out, _ = kcheck(capsys, old, new, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert list(doc) == ["old", "new", "findings", "summary"]
    assert doc["old"] == old and doc["new"] == new
    assert doc["summary"] == {"errors": 2, "warnings": 0, "waived": 0}
    for f in doc["findings"]:
        assert list(f) == JSON_KEYS
        assert f["old_side"] == old and f["new_side"] == new and f["direction"] == "update"
        assert f["waived"] is False
    drop = next(f for f in doc["findings"] if f["rule"] == "FIELD_DROPPED")
    assert (drop["severity"], drop["state"], drop["state_id"], drop["field"], drop["version"],
            drop["line"], drop["column"]) == ("error", "dev", 1, "y", 1, 5, 5)
    assert drop["file"].endswith("FIELD_DROPPED/old.kstate")
    bump = next(f for f in doc["findings"] if f["rule"] == "LAYOUT_CHANGED_WITHOUT_BUMP")
    assert bump["field"] is None


def test_json_no_findings(capsys):
    old, _ = rule_pair("FIELD_DROPPED")
    code, out, _ = kcheck(capsys, old, old, "--format", "json", "--direction", "both")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_github_format(capsys):
    old, new = rule_pair("FIELD_DROPPED")
    code, out, _ = kcheck(capsys, old, new, "--format", "github")
    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"::error file=[^,]+,line=\d+,col=\d+,title=[A-Z_]+::.+", line)
    assert any(",line=5,col=5,title=FIELD_DROPPED::" in line for line in lines)


def test_sarif_format(capsys):
    old, new = rule_pair("ENUM_VALUE_ADDED")
    code, out, _ = kcheck(capsys, old, new, "--format", "sarif")
    doc = json.loads(out)
    assert code == 0
    assert doc["version"] == "2.1.0" and "$schema" in doc
    (run_,) = doc["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "kstate"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.name for r in RULES] and len(set(ids)) == len(ids)
    (result,) = run_["results"]
    assert result["ruleId"] == "ENUM_VALUE_ADDED" and result["level"] == "warning"
    assert driver["rules"][result["ruleIndex"]]["id"] == "ENUM_VALUE_ADDED"
    assert result["message"]["text"]
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("new.kstate")
    assert loc["region"]["startLine"] == 1 and loc["region"]["startColumn"] >= 1


# --- chains --------------------------------------------------------------------


def test_chain_and_transitive(capsys, tmp_path):
    a = write(tmp_path / "a.kstate", V1)
    b = write(tmp_path / "b.kstate", V2_SAFE)
    c = write(tmp_path / "c.kstate", V3_DROP)
    code, out, _ = kcheck(capsys, a, b, c, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["old"] == a and doc["new"] == c
    pairs = {(f["old_side"], f["new_side"], f["rule"]) for f in doc["findings"]}
    assert (b, c, "FIELD_DROPPED") in pairs
    assert all(f["old_side"] != a or f["new_side"] == b for f in doc["findings"])
    code, out, _ = kcheck(capsys, a, b, c, "--format", "json", "--transitive")
    pairs_t = {(f["old_side"], f["new_side"], f["rule"]) for f in json.loads(out)["findings"]}
    assert (a, c, "FIELD_DROPPED") in pairs_t and pairs <= pairs_t


# --- waivers -------------------------------------------------------------------


def test_waivers(capsys, tmp_path):
    old, new = rule_pair("FIELD_DROPPED")
    w = write(tmp_path / "w.toml", """
[[waiver]]
rule = "FIELD_DROPPED"
state = "dev"
field = "y"
reason = "y was never restored"

[[waiver]]
rule = "LAYOUT_CHANGED_WITHOUT_BUMP"
state = "*"
direction = "update"
reason = "accepted with the drop"

[[waiver]]
rule = "STATE_DELETED"
state = "nothing"
reason = "stale"
""")
    code, out, _ = kcheck(capsys, old, new, "--waivers", w, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["summary"] == {"errors": 0, "warnings": 1, "waived": 2}
    waived = {f["rule"] for f in doc["findings"] if f["waived"]}
    assert waived == {"FIELD_DROPPED", "LAYOUT_CHANGED_WITHOUT_BUMP"}
    (unused,) = [f for f in doc["findings"] if f["rule"] == "WAIVER_UNUSED"]
    assert unused["severity"] == "warning" and unused["file"] == w
    assert (unused["line"], unused["column"]) == (14, 1)  # its [[waiver]] line
    code, out, _ = kcheck(capsys, old, new, "--waivers", w)
    assert "waived error[FIELD_DROPPED]" in out
    code, _, _ = kcheck(capsys, old, new, "--waivers", w, "--fail-on", "warning")
    assert code == 1  # the unused waiver


@pytest.mark.parametrize("text,needle", [
    ('[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "dev"\n', "reason"),
    ('[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "dev"\nreason = "  "\n', "reason"),
    ('[[waiver]]\nrule = "NO_SUCH_RULE"\nstate = "dev"\nreason = "x"\n', "NO_SUCH_RULE"),
    ('[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "dev"\nreason = "x"\ncolour = "red"\n', "colour"),
    ('[[waiver]\n', "TOML"),
])
def test_bad_waiver_file_is_usage_error(capsys, tmp_path, text, needle):
    old, new = rule_pair("FIELD_DROPPED")
    w = write(tmp_path / "w.toml", text)
    code, out, err = kcheck(capsys, old, new, "--waivers", w)
    assert code == 2 and out == ""
    assert needle in err


# --- snapshot sides ------------------------------------------------------------


def test_snapshot_side(capsys, tmp_path):
    old, new = rule_pair("FIELD_DROPPED")
    assert run(["compile", old, "--lang", "json", "-o", str(tmp_path / "gen")]) == 0
    snap = str(tmp_path / "gen" / "kstate-snapshot.json")
    capsys.readouterr()
    code, out, _ = kcheck(capsys, snap, new, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    drop = next(f for f in doc["findings"] if f["rule"] == "FIELD_DROPPED")
    assert (drop["field"], drop["line"], drop["column"]) == ("y", 5, 5)
    assert drop["old_side"] == snap
    code, out, _ = kcheck(capsys, snap, snap)
    assert code == 0


def test_not_a_snapshot(capsys, tmp_path):
    bad = write(tmp_path / "x.json", '{"hello": 1}')
    code, _, err = kcheck(capsys, bad, rule_pair("FIELD_DROPPED")[1])
    assert code == 2 and "snapshot" in err


# --- git sides -----------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    write(r / "schemas" / "dev.kstate", V1)
    write(r / "schemas" / "sub" / "extra.kstate", "state extra {\n    id = 9;\n    version = 1;\n    q: u8;\n}\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "v1")
    git(r, "tag", "v1")
    write(r / "schemas" / "dev.kstate", V3_DROP)
    monkeypatch.chdir(r)
    return r


@needs_git
def test_git_side(capsys, repo):
    code, out, _ = kcheck(capsys, "git:v1", "schemas", "--format", "json")
    doc = json.loads(out)
    assert code == 1
    drop = next(f for f in doc["findings"] if f["rule"] == "FIELD_DROPPED")
    assert drop["file"] == "schemas/dev.kstate"  # annotated in the working tree (docs/compatibility.md)
    assert drop["old_file"] == "git:v1:schemas/dev.kstate"
    assert (drop["old_line"], drop["old_column"]) == (5, 5)
    assert drop["old_side"] == "git:v1"
    assert all("kstate-git-" not in json.dumps(f) for f in doc["findings"])
    code, out, _ = kcheck(capsys, "git:v1:schemas", "schemas")
    assert code == 1
    assert "schemas/dev.kstate:" in out and "error[FIELD_DROPPED]" in out
    assert "OLD's text: git:v1:schemas/dev.kstate:5:5: y: u32;" in out  # read from the object store


@needs_git
def test_git_side_single_file_and_same_commit(capsys, repo):
    code, out, _ = kcheck(capsys, "git:HEAD:schemas/dev.kstate", "git:v1:schemas/dev.kstate")
    assert code == 0, out
    code, out, _ = kcheck(capsys, "git:v1:.", "git:v1:./schemas/")  # "." is the whole tree
    assert code == 0, out


@needs_git
def test_git_side_snapshot(capsys, repo):
    assert run(["compile", "schemas", "--lang", "json", "-o", "baseline"]) == 0
    git(repo, "add", "baseline")
    git(repo, "commit", "-q", "-m", "baseline")
    capsys.readouterr()
    code, out, _ = kcheck(capsys, "git:HEAD:baseline/kstate-snapshot.json", "schemas")
    assert code == 0, out


@needs_git
@pytest.mark.parametrize("spec,needle", [
    ("git:no-such-ref", "no-such-ref"),
    ("git:v1:nowhere", "nowhere"),
    ("git:", "ref"),
])
def test_git_side_errors(capsys, repo, spec, needle):
    code, out, err = kcheck(capsys, spec, "schemas")
    assert code == 2 and out == ""
    assert needle in err and "Traceback" not in err


@needs_git
def test_git_side_broken_schema_names_git_path(capsys, repo):
    write(repo / "schemas" / "dev.kstate", "state dev {\n    id = 1;\n    version = 1;\n    x: nosuch;\n}\n")
    git(repo, "commit", "-q", "-am", "broken")
    code, out, err = kcheck(capsys, "git:HEAD", "git:v1")
    assert code == 2
    assert "git:HEAD:schemas/dev.kstate:4:" in err
    assert "kstate-git-" not in err


def test_git_outside_repository(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out, err = kcheck(capsys, "git:HEAD", str(FIXTURES / "FIELD_DROPPED" / "new.kstate"))
    assert code == 2 and "Traceback" not in err


def test_waived_in_github_and_sarif(capsys, tmp_path):
    old, new = rule_pair("FIELD_REORDERED")
    w = write(tmp_path / "w.toml", '[[waiver]]\nrule = "FIELD_REORDERED"\nstate = "dev"\nfield = "a"\nreason = "known"\n')
    code, out, _ = kcheck(capsys, old, new, "--waivers", w, "--format", "github")
    assert code == 1  # field b is still reordered
    lines = out.splitlines()
    assert sum(line.startswith("::notice ") and "title=FIELD_REORDERED (waived)" in line for line in lines) == 1
    assert sum(line.startswith("::error ") for line in lines) == 1
    code, out, _ = kcheck(capsys, old, new, "--waivers", w, "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    suppressed = [r for r in results if r.get("suppressions")]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["justification"] == "known"
    assert suppressed[0]["properties"]["field"] == "a"


def test_direction_both_labels(capsys):
    old, new = rule_pair("ENUM_VALUE_ADDED")
    code, out, _ = kcheck(capsys, old, new, "--direction", "both", "--format", "json")
    doc = json.loads(out)
    got = sorted((f["direction"], f["rule"]) for f in doc["findings"])
    assert got == [("rollback", "ENUM_VALUE_REMOVED"), ("update", "ENUM_VALUE_ADDED")]
    assert code == 1 and doc["summary"] == {"errors": 1, "warnings": 1, "waived": 0}


def test_text_format_for_snapshot_side_without_sources(capsys, tmp_path):
    old, new = rule_pair("FIELD_TYPE_CHANGED")
    assert run(["compile", new, "--lang", "json", "-o", str(tmp_path / "gen")]) == 0
    capsys.readouterr()
    code, out, _ = kcheck(capsys, old, str(tmp_path / "gen" / "kstate-snapshot.json"))
    assert code == 1
    head = next(line for line in out.splitlines() if "[FIELD_TYPE_CHANGED]" in line)
    # NEW is a snapshot, OLD the working tree: annotated on OLD's file, NEW's position in a note
    assert re.fullmatch(r".*old\.kstate:4:5: error\[FIELD_TYPE_CHANGED\]: .*", head)
    assert re.search(r"note: NEW's text: .*new\.kstate:4:5", out)
    assert "^" in out  # the annotation is in a working-tree file, whose line is at hand
