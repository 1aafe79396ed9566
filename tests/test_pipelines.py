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
    (repo / "generated/c/s.h").write_text("edited\n")
    res = run_kstate("compile", "--check", "--format", "github", cwd=repo)
    assert res.returncode == 1
    assert res.stdout == ("::error file=generated/c/s.h,title=kstate compile --check::"
                          "stale: generated/c/s.h; run kstate compile\n")
    assert run_kstate("compile", cwd=repo).returncode == 0
    res = run_kstate("compile", "--check", "--format", "sarif", cwd=repo)
    assert res.returncode == 0
    assert json.loads(res.stdout)["runs"][0]["invocations"][0]["executionSuccessful"] is True


# --- kstate.toml -------------------------------------------------------------------


def test_kstate_toml_is_found_from_a_subfolder_and_arguments_win(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "defs").mkdir()
    (repo / "schemas/s.kstate").rename(repo / "defs/s.kstate")
    (repo / "kstate.toml").write_text('[kstate]\nschemas = ["defs"]\nout = "build/gen"\nlangs = ["c", "json"]\n')
    deep = repo / "src/deeper"
    deep.mkdir(parents=True)
    res = run_kstate("compile", cwd=deep)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (repo / "build/gen").iterdir()) == [".kstate-outputs", "c", "kstate-snapshot.json"]
    assert run_kstate("compile", "--check", cwd=repo).returncode == 0
    # explicit arguments win over the file
    res = run_kstate("compile", "../../defs", "-o", "here", "--lang", "docs", cwd=deep)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (deep / "here").iterdir()) == [".kstate-outputs", "docs"]
    # decode's --schema default comes from the file too
    assert run_kstate("encode", "-", "-o", "x.bin", cwd=deep,
                      input='{"entries": [{"state": "s", "fields": {"a": 1, "c": "red"}}]}').returncode == 0
    res = run_kstate("decode", "x.bin", cwd=deep)
    assert res.returncode == 0 and json.loads(res.stdout)["entries"][0]["fields"] == {"a": 1, "c": "red"}


def test_kstate_toml_check_baseline_waivers_fail_on(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "kstate.toml").write_text('[kstate]\nschemas = ["schemas"]\n\n[check]\nbaseline = "git:HEAD"\n'
                                      'waivers = "waivers.toml"\nfail_on = "warning"\n')
    (repo / "waivers.toml").write_text('[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "s"\nreason = "b was never read"\n')
    res = run_kstate("check", "--format", "json", cwd=repo / "schemas")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["old"], doc["new"]) == ("git:HEAD:schemas", ".")
    found = by_rule(doc["findings"])
    assert found["FIELD_DROPPED"]["waived"] is True and found["ENUM_VALUE_REMOVED"]["waived"] is False
    # arguments win: another baseline, another fail_on, no waivers file applies... except the config's
    (repo / "schemas/s.kstate").write_text(OLD)
    res = run_kstate("check", "--fail-on", "error", cwd=repo)
    assert res.returncode == 0, res.stdout  # only the WAIVER_UNUSED warning is left
    assert "WAIVER_UNUSED" in res.stdout
    res = run_kstate("check", cwd=repo)
    assert res.returncode == 1  # fail_on = "warning" from the file


def test_bad_kstate_toml_is_an_error_at_its_line(tmp_path):
    (tmp_path / "kstate.toml").write_text('# project\n[kstate]\nout = "gen"\nschemaz = ["x"]\n\n[check]\n'
                                          'fail_on = "sometimes"\n')
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 2
    assert "kstate.toml:4:1: error[BAD_CONFIG]: unknown key 'schemaz' in [kstate]" in res.stderr
    assert "    schemaz = [\"x\"]\n    ^" in res.stderr
    assert "kstate.toml:7:1: error[BAD_CONFIG]: [check] fail_on must be \"error\" or \"warning\"" in res.stderr
    assert "Traceback" not in res.stderr
    (tmp_path / "kstate.toml").write_text('[kstate]\nlangs = ["c", "cobol"]\n')
    res = run_kstate("check", "a", "b", cwd=tmp_path)
    assert res.returncode == 2 and "kstate.toml:2:1: error[BAD_CONFIG]: [kstate] langs: unknown language 'cobol'" \
        in res.stderr
    (tmp_path / "kstate.toml").write_text('[kstate]\nout = "gen\n')
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 2 and "kstate.toml:2:" in res.stderr and "not valid TOML" in res.stderr


def test_the_projects_own_kstate_toml_matches_the_readme():
    from conftest import ROOT
    import tomllib

    cfg = tomllib.loads((ROOT / "kstate.toml").read_text())
    assert cfg["kstate"] == {"schemas": ["schemas"], "out": "generated", "langs": ["python", "c", "json", "docs"]}
    assert cfg["check"]["baseline"] == "git:origin/main"
    readme = (ROOT / "README.md").read_text()
    assert "kstate compile schemas/ -o generated/" in readme and "kstate check git:origin/main schemas" in readme
    res = run_kstate("compile", "--check", cwd=ROOT / "schemas")  # the file is found from a subfolder
    assert res.returncode == 0, res.stdout + res.stderr


# --- matrix --waivers -------------------------------------------------------------


def test_matrix_shows_a_waived_cut_as_waived(tmp_path):
    repo = repo_with_change(tmp_path)
    (repo / "old").mkdir()
    (repo / "old/s.kstate").write_text(OLD)
    (repo / "w.toml").write_text('[[waiver]]\nrule = "FIELD_DROPPED"\nstate = "s"\nreason = "b was never read"\n'
                                 '[[waiver]]\nrule = "ENUM_VALUE_REMOVED"\nstate = "*"\n'
                                 'reason = "green was never written"\n'
                                 '[[waiver]]\nrule = "LAYOUT_CHANGED_WITHOUT_BUMP"\nstate = "s"\ndirection = "update"\n'
                                 'reason = "no kernel shipped version 1"\n')
    plain = run_kstate("matrix", "old", "schemas", cwd=repo)
    assert plain.returncode == 0
    assert plain.stdout.splitlines()[1].split()[-1] == "3"
    res = run_kstate("matrix", "old", "schemas", "--waivers", "w.toml", cwd=repo)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].split() == ["old", "-", "waived"]
    doc = json.loads(run_kstate("matrix", "old", "schemas", "--waivers", "w.toml", "--format", "json", cwd=repo).stdout)
    update = next(c for c in doc["cells"] if c["kind"] == "update")
    assert (update["errors"], update["waived"], update["safe"]) == (0, 3, True)
    assert update["waived_rules"] == ["ENUM_VALUE_REMOVED", "FIELD_DROPPED", "LAYOUT_CHANGED_WITHOUT_BUMP"]
    # the config's waivers apply too
    (repo / "kstate.toml").write_text('[check]\nwaivers = "w.toml"\n')
    res = run_kstate("matrix", "old", "schemas", "--format", "markdown", cwd=repo)
    assert "| `old` | - | waived |" in res.stdout


def test_readme_matrix_is_what_matrix_prints_with_the_history_waivers():
    from conftest import ROOT

    res = run_kstate("matrix", "schemas/history/v1.json", "schemas/history/v2.json", "schemas",
                     "--format", "markdown", "--waivers", "schemas/history/waivers.toml", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout in (ROOT / "README.md").read_text()
    assert "| `schemas/history/v1.json` | - | OK | waived |" in res.stdout
