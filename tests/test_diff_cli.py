"""``kstate diff A.bin B.bin``, run as a user runs it: dumps of several
versions and both byte orders, each side with its own schemas (git: sides
included), text, JSON and GitHub formats, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = str(ROOT / "schemas")
TEST_SCHEMA = str(ROOT / "tests" / "fixtures" / "codec" / "kstate_test.kstate")


def run(*args, cwd=None):
    res = subprocess.run([sys.executable, "-m", "kstate", *map(str, args)], cwd=cwd or ROOT,
                         capture_output=True, text=True, timeout=120)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def folios(n: int, bump=()) -> list:
    return [{"pfn": 0x1000 + i, "flags": i % 4, "index": i + (100 if i in bump else 0)} for i in range(n)]


def memfd(version: int, inst: int = 7, size: int = 65536, fol=None, name: str = "vm-ram") -> dict:
    fol = folios(4) if fol is None else fol
    f = {"pos": 4096, "size": size, "nr_folios": len(fol), "folios": fol, "name": name}
    if version >= 2:
        f["seals"] = ["SEAL", "GROW"]
    if version < 3:
        f["old_flags"] = 5
    return {"state": "memfd", "version": version, "instance_id": inst, "fields": f}


def blob(tmp_path, name: str, entries: list, byteorder="little", schema=SCHEMAS, cwd=None) -> Path:
    src = tmp_path / f"{name}.json"
    src.write_text(json.dumps({"entries": entries}))
    out = tmp_path / name
    res = run("encode", src, "--schema", schema, "-o", out, "--byteorder", byteorder, cwd=cwd)
    assert res.returncode == 0, res.stderr
    return out


def test_same_state_in_both_byte_orders_is_no_difference(tmp_path):
    entries = [memfd(3), memfd(3, inst=8, name="other")]
    a = blob(tmp_path, "a.bin", entries, "little")
    b = blob(tmp_path, "b.bin", entries, "big")
    assert a.read_bytes() != b.read_bytes()
    res = run("diff", a, b)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[-1] == "no difference (2 entries in both)"
    doc = json.loads(run("diff", a, b, "--format", "json").stdout)
    assert doc["differences"] == [] and doc["summary"]["differences"] == 0
    assert (doc["a"]["byteorder"], doc["b"]["byteorder"]) == ("little", "big")


@pytest.mark.parametrize("bo_a,bo_b", [("little", "little"), ("little", "big"), ("big", "little")])
def test_versions_fields_on_one_side_and_changed_values(tmp_path, bo_a, bo_b):
    a = blob(tmp_path, "v1.bin", [memfd(1)], bo_a)
    b = blob(tmp_path, "v3.bin", [memfd(3, size=131072)], bo_b)
    res = run("diff", a, b)
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith("a: ") and f"{bo_a}-endian" in lines[0] and f"{bo_b}-endian" in lines[1]
    assert "memfd[7]" in lines
    assert "    written at version 1 in a, 3 in b" in lines
    assert "  ~ size: 65536 -> 131072" in lines
    assert "  - old_flags = 5  (only in a)" in lines
    assert '  + seals = ["SEAL", "GROW"]  (only in b)' in lines
    assert lines[-1] == "3 differences: 1 changed, 1 only in a, 1 only in b (1 entry in both)"
    doc = json.loads(run("diff", a, b, "--format", "json").stdout)
    kinds = {(d["kind"], d["path"]) for d in doc["differences"]}
    assert kinds == {("version", "memfd[7]"), ("changed", "memfd[7].size"), ("only_a", "memfd[7].old_flags"),
                     ("only_b", "memfd[7].seals")}
    changed = next(d for d in doc["differences"] if d["kind"] == "changed")
    assert (changed["a"], changed["b"]) == (65536, 131072)
    # the same state, written at two versions, with no field changed: only the version note... and the
    # fields that one version has and the other has not
    v2 = blob(tmp_path, "v2.bin", [memfd(2)], bo_b)
    v3 = blob(tmp_path, "v3b.bin", [memfd(3)], bo_a)
    doc = json.loads(run("diff", v2, v3, "--format", "json").stdout)
    assert [(d["kind"], d["path"]) for d in doc["differences"]] == [("version", "memfd[7]"),
                                                                    ("only_a", "memfd[7].old_flags")]


def test_arrays_element_by_element_with_a_summary_for_long_ones(tmp_path):
    a = blob(tmp_path, "a.bin", [memfd(3, fol=folios(1000))])
    b = blob(tmp_path, "b.bin", [memfd(3, fol=folios(1002, bump=range(10, 510)))], "big")
    res = run("diff", a, b)
    assert res.returncode == 1
    out = res.stdout.splitlines()
    assert "  ~ folios: 1000 -> 1002 elements" in out
    assert "  ~ nr_folios: 1000 -> 1002" in out
    listed = [line for line in out if re.match(r"  ~ folios\[\d+\]\.index", line)]
    assert listed[0] == "  ~ folios[10].index: 10 -> 110" and len(listed) == 8
    assert "  ~ folios: 494 more differing element(s) not listed, the first at [18] (--all lists them)" in out
    assert out[-1].startswith("504 differences: 9 changed, 1 array length(s), 494 more element(s) not listed")
    full = json.loads(run("diff", a, b, "--format", "json", "--all").stdout)
    only_b = [d["path"] for d in full["differences"] if d["kind"] == "only_b"]
    assert only_b == ["memfd[7].folios[1000]", "memfd[7].folios[1001]"]
    assert sum(d["kind"] == "changed" for d in full["differences"]) == 501  # 500 elements + nr_folios
    assert full["summary"]["elided"] == 0


def test_entries_and_subsections_matched_by_state_and_instance(tmp_path):
    def test_entry(inst, i, s="abcdefghk"):
        return {"state": "test", "version": 2, "instance_id": inst,
                "fields": {"s": s, "p_ulong": 20, "folio": 4096},
                "subsections": [{"state": "test_v2", "instance_id": inst, "fields": {"i": i}}]}
    a = blob(tmp_path, "a.bin", [test_entry(1, 10), test_entry(2, 5)], schema=TEST_SCHEMA)
    b = blob(tmp_path, "b.bin", [test_entry(3, 1), test_entry(1, 11, "xyz")], schema=TEST_SCHEMA)
    res = run("diff", a, b, "--schema", TEST_SCHEMA)
    assert res.returncode == 1
    out = res.stdout.splitlines()
    assert "test[1]" in out and '  ~ s: "abcdefghk" -> "xyz"' in out
    assert "  ~ test_v2.i: 10 -> 11" in out
    assert "- test[2]  (only in a: section at offset 74, version 2, payload 26 byte(s))" in out
    assert any(line.startswith("+ test[3]  (only in b") for line in out)
    doc = json.loads(run("diff", a, b, "--schema", TEST_SCHEMA, "--format", "json").stdout)
    assert {d["path"] for d in doc["differences"]} == {"test[1].s", "test[1]/test_v2.i", "test[2]", "test[3]"}
    assert doc["summary"]["entries_compared"] == 2  # test[1] and its subsection


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


V1 = """state counter {
    id = 40;
    version = 1;
    value: u64;
    mode: u32;
}
"""
V2 = """enum counter_mode : u32 { OFF = 0, ON = 1, FAST = 2, }

state counter {
    id = 40;
    version = 2;
    min_version = 1;
    value: u64;
    mode: counter_mode;
    label: char[8] @since(2);
}
"""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_each_side_its_own_schemas_including_git_sides(tmp_path):
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    (repo / "schemas" / "counter.kstate").write_text(V1)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "v1")
    old = blob(tmp_path, "old.bin", [{"state": "counter", "version": 1, "fields": {"value": 41, "mode": 1}}],
               schema="schemas", cwd=repo)
    (repo / "schemas" / "counter.kstate").write_text(V2)
    new = blob(tmp_path, "new.bin", [{"state": "counter", "version": 2,
                                      "fields": {"value": 42, "mode": "ON", "label": "hot"}}],
               byteorder="big", schema="schemas", cwd=repo)
    res = run("diff", old, new, "--schema", "git:HEAD:schemas", "--schema-b", "schemas", cwd=repo)
    assert res.returncode == 1, res.stderr
    out = res.stdout.splitlines()
    assert "(git:HEAD:schemas, little-endian" in out[0] and "(schemas, big-endian" in out[1]
    assert "  ~ value: 41 -> 42" in out
    assert '  ~ mode: 1 -> "ON"' in out  # an integer in v1, an enum name in v2
    assert '  + label = "hot"  (only in b)' in out
    gh = run("diff", old, new, "--schema", "git:HEAD:schemas", "--schema-b", "schemas", "--format", "github",
             cwd=repo).stdout.splitlines()
    value = next(line for line in gh if "value" in line)
    assert value.startswith("::error file=schemas/counter.kstate,line=7,col=5,title=kstate diff%3A changed::")
    assert gh[-1].endswith("3 differences")
    # the new blob with the old schemas: too new; that side's error is reported and it is not the same
    res = run("diff", new, new, "--schema", "git:HEAD:schemas", "--schema-b", "schemas", cwd=repo)
    assert res.returncode == 1
    assert "! a: error[VERSION_TOO_NEW]" in res.stdout
    assert run("diff", old, new, "--schema", "git:nope:schemas", cwd=repo).returncode == 2


def test_github_format_annotates_the_field_in_the_schema(tmp_path):
    a = blob(tmp_path, "a.bin", [memfd(3)])
    b = blob(tmp_path, "b.bin", [memfd(3, size=1)])
    lines = run("diff", a, b, "--format", "github", "--schema", "schemas").stdout.splitlines()
    size_line = next(i for i, t in enumerate((ROOT / "schemas/memfd.kstate").read_text().splitlines(), 1)
                     if t.strip().startswith("size:"))
    assert lines[0] == (f"::error file=schemas/memfd.kstate,line={size_line},col=5,"
                        "title=kstate diff%3A changed::memfd[7]: ~ size: 65536 -> 1")
    assert lines[-1].startswith("::notice title=kstate diff::") and lines[-1].endswith("1 difference")


def test_failures_exit_2(tmp_path):
    a = blob(tmp_path, "a.bin", [memfd(3)])
    assert run("diff", a, tmp_path / "missing.bin").returncode == 2
    bad = tmp_path / "bad.kstate"
    bad.write_text("state x {")
    res = run("diff", a, a, "--schema-b", bad)
    assert res.returncode == 2 and "bad.kstate:1:" in res.stderr
    res = run("diff", "-", "-")
    assert res.returncode == 2 and "stdin" in res.stderr
    assert run("diff", a).returncode == 2
    assert run("diff", a, a, "--format", "sarif").returncode == 2


def test_a_damaged_side_is_reported_and_differs(tmp_path):
    a = blob(tmp_path, "a.bin", [memfd(3)])
    cut = tmp_path / "cut.bin"
    cut.write_bytes(a.read_bytes()[:-4])
    res = run("diff", a, cut, "--format", "json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    err = [d for d in doc["differences"] if d["kind"] == "decode_error"]
    assert len(err) == 1 and err[0]["side"] == "b" and err[0]["diagnostic"]["code"] == "MISSING_EOF"
    assert doc["b"]["errors"] == 1
