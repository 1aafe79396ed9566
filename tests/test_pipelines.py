"""kstate in a CI job: annotations land on working-tree files, machine formats
stay well-formed when a schema does not compile, compile errors reach the
log as annotations.  Each test runs the real CLI in a temporary git repository
(docs/pipelines.md)."""

import json
import subprocess

from conftest import run_kstate

OLD = """\
enum color: u8 {
    red = 1,
    green = 2,
    blue = 3,
}

state s {
    id = 1;
    version = 1;
    a: u32;
    b: u32;
    c: color;
}
"""

# two lines more at the top, 'green' and 'b' gone
NEW = """\
// Colours a state can have.
// (two new lines: every OLD line number is off by two here)
enum color: u8 {
    red = 1,
    blue = 3,
}

state s {
    id = 1;
    version = 1;
    a: u32;
    c: color;
}
"""


def git(repo, *args):
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


def repo_with_change(tmp_path):
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "schemas/s.kstate").write_text(OLD)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "old")
    (repo / "schemas/s.kstate").write_text(NEW)
    return repo


def by_rule(findings):
    return {f["rule"]: f for f in findings}


def test_git_baseline_annotates_files_of_the_working_tree(tmp_path):
    repo = repo_with_change(tmp_path)
    res = run_kstate("check", "git:HEAD", "schemas", "--format", "json", cwd=repo)
    assert res.returncode == 1, res.stderr
    found = by_rule(json.loads(res.stdout)["findings"])
    dropped = found["FIELD_DROPPED"]
    # annotated where 'b' stood in NEW (its neighbour 'c'), OLD's exact place kept
    assert (dropped["file"], dropped["line"], dropped["column"]) == ("schemas/s.kstate", 12, 5)
    assert (dropped["old_file"], dropped["old_line"], dropped["old_column"]) == ("git:HEAD:schemas/s.kstate", 11, 5)
    removed = found["ENUM_VALUE_REMOVED"]
    assert (removed["file"], removed["line"]) == ("schemas/s.kstate", 5)  # 'blue', where 'green' stood
    assert (removed["old_file"], removed["old_line"]) == ("git:HEAD:schemas/s.kstate", 3)
    bump = found["LAYOUT_CHANGED_WITHOUT_BUMP"]  # blames NEW's text: no old position
    assert (bump["file"], bump["line"], bump["old_file"]) == ("schemas/s.kstate", 10, None)

    gh = run_kstate("check", "git:HEAD", "schemas", "--format", "github", cwd=repo).stdout
    assert "git%3A" not in gh and "file=schemas/s.kstate,line=12,col=5,title=FIELD_DROPPED" in gh

    sarif = json.loads(run_kstate("check", "git:HEAD", "schemas", "--format", "sarif", cwd=repo).stdout)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    loc = results["FIELD_DROPPED"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "schemas/s.kstate" and loc["region"]["startLine"] == 12
    related = results["FIELD_DROPPED"]["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "git:HEAD:schemas/s.kstate"
    assert related["region"]["startLine"] == 11
    assert all(not l["physicalLocation"]["artifactLocation"]["uri"].startswith("git:")
               for r in results.values() for l in r.get("locations", []))

    text = run_kstate("check", "git:HEAD", "schemas", cwd=repo).stdout
    assert "schemas/s.kstate:12:5: error[FIELD_DROPPED]" in text
    assert "OLD's text: git:HEAD:schemas/s.kstate:11:5: b: u32;" in text


def test_snapshot_baseline_points_at_the_current_line(tmp_path):
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    (repo / "schemas/s.kstate").write_text(OLD)
    assert run_kstate("compile", "--lang", "json", "-o", "release", cwd=repo).returncode == 0
    (repo / "schemas/s.kstate").write_text(NEW)
    res = run_kstate("check", "release/kstate-snapshot.json", "schemas", "--format", "json", cwd=repo)
    assert res.returncode == 1
    found = by_rule(json.loads(res.stdout)["findings"])
    removed = found["ENUM_VALUE_REMOVED"]
    # the snapshot's line 3 is 'green'; today line 3 is the enum's header: the annotation follows NEW
    assert (removed["file"], removed["line"]) == ("schemas/s.kstate", 5)
    assert (removed["old_file"], removed["old_line"]) == ("s.kstate", 3)
    dropped = found["FIELD_DROPPED"]
    assert (dropped["file"], dropped["line"], dropped["old_line"]) == ("schemas/s.kstate", 12, 11)


def test_a_deleted_state_is_annotated_on_the_file_that_replaced_it(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "schemas/s.kstate").write_text("// s is gone\nconst X = 1;\n")
    res = run_kstate("check", "git:HEAD", "schemas", "--format", "json", cwd=repo)
    found = by_rule(json.loads(res.stdout)["findings"])
    deleted = found["STATE_DELETED"]
    assert (deleted["file"], deleted["line"]) == ("schemas/s.kstate", 1)
    assert deleted["old_file"] == "git:HEAD:schemas/s.kstate" and deleted["old_line"] == 7


def test_machine_formats_stay_well_formed_when_a_side_does_not_compile(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "schemas/s.kstate").write_text(NEW + "state broken {\n")
    res = run_kstate("check", "git:HEAD", "schemas", "--format", "json", cwd=repo)
    assert res.returncode == 2
    doc = json.loads(res.stdout)
    assert doc["findings"] == [] and doc["summary"]["errors"] == 1
    (d,) = doc["diagnostics"]
    assert (d["file"], d["line"], d["code"], d["severity"]) == ("schemas/s.kstate", 14, "SYNTAX", "error")
    assert d["column"] >= 1 and d["message"]
    assert "schemas/s.kstate:14" in res.stderr  # the log still shows it

    res = run_kstate("check", "git:HEAD", "schemas", "--format", "github", cwd=repo)
    assert res.returncode == 2
    assert res.stdout.startswith("::error file=schemas/s.kstate,line=14,col=")
    assert "title=SYNTAX::" in res.stdout

    res = run_kstate("check", "git:HEAD", "schemas", "--format", "sarif", cwd=repo)
    assert res.returncode == 2
    run = json.loads(res.stdout)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["descriptor"]["id"] == "SYNTAX"
    (result,) = run["results"]
    assert result["ruleId"] == "SYNTAX" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 14

    # a broken OLD (git) side and a bad ref are well-formed too
    res = run_kstate("check", "git:no-such-ref", "schemas", "--format", "sarif", cwd=repo)
    assert res.returncode == 2
    assert json.loads(res.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is False
    (repo / "schemas/s.kstate").write_text(NEW)
    res = run_kstate("check", "schemas", "schemas", "--format", "sarif", cwd=repo)
    assert res.returncode == 0
    assert json.loads(res.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_compile_format_puts_errors_on_their_line(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "schemas/s.kstate").write_text(NEW.replace("a: u32;", "a: nosuchtype;"))
    res = run_kstate("compile", "--format", "github", cwd=repo)
    assert res.returncode == 2
    assert res.stdout.startswith("::error file=schemas/s.kstate,line=11,col=8,title=UNKNOWN_NAME::")
    assert not (repo / "generated").exists()
    res = run_kstate("compile", "--format", "json", cwd=repo)
    assert res.returncode == 2
    doc = json.loads(res.stdout)
    assert [(d["code"], d["file"], d["line"], d["column"]) for d in doc["diagnostics"]] == [
        ("UNKNOWN_NAME", "schemas/s.kstate", 11, 8)]
    assert doc["summary"] == {"errors": 1, "warnings": 0}
    res = run_kstate("compile", "--format", "sarif", cwd=repo)
    assert res.returncode == 2
    run = json.loads(res.stdout)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 11, "startColumn": 8}
    res = run_kstate("compile", "--format", "text", cwd=repo)
    assert res.returncode == 2 and "schemas/s.kstate:11:8: error[UNKNOWN_NAME]" in res.stderr
    # a clean compile: an empty, successful document; --check problems listed in json
    (repo / "schemas/s.kstate").write_text(NEW)
    res = run_kstate("compile", "--check", "--format", "json", cwd=repo)
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["diagnostics"] == [] and {"status": "missing", "path": "generated/c/s.h"} in doc["files"]
    assert run_kstate("compile", "--format", "sarif", cwd=repo).returncode == 0
    res = run_kstate("compile", "--check", "--format", "sarif", cwd=repo)
    assert res.returncode == 0
    assert json.loads(res.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is True
