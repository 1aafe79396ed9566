"""``kstate matrix``: the qualification table, with expectations written by hand."""

import json
import shutil

from conftest import ROOT, run_kstate


def make_sides(tmp_path):
    """a: the bundled schemas; b: memfd v4 adds `extra` @since(4) (a safe
    update); c: b with `pos` deleted outright (a data-losing edit)."""
    a, b, c = (tmp_path / n for n in "abc")
    shutil.copytree(ROOT / "schemas", a, ignore=shutil.ignore_patterns("history"))
    shutil.copytree(a, b)
    text = (b / "memfd.kstate").read_text()
    text = text.replace("version = 3;", "version = 4;").replace(
        "    name: char[MEMFD_NAME_LEN];\n", "    name: char[MEMFD_NAME_LEN];\n    extra: u32 @since(4);\n")
    (b / "memfd.kstate").write_text(text)
    shutil.copytree(b, c)
    (c / "memfd.kstate").write_text(text.replace("    pos: u64;\n", ""))
    return a, b, c


def test_matrix_cells_are_what_a_person_predicts(tmp_path):
    make_sides(tmp_path)
    res = run_kstate("matrix", "a", "b", "c", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["sides"] == ["a", "b", "c"]
    cells = {(c["from"], c["to"]): (c["kind"], c["rules"]) for c in doc["cells"]}
    assert cells == {
        ("a", "b"): ("update", []),
        ("a", "c"): ("update", ["FIELD_DROPPED", "HISTORY_REWRITTEN"]),
        ("b", "c"): ("update", ["FIELD_DROPPED", "HISTORY_REWRITTEN", "LAYOUT_CHANGED_WITHOUT_BUMP"]),
        ("b", "a"): ("rollback", ["VERSION_REGRESSED"]),
        ("c", "a"): ("rollback", ["HISTORY_REWRITTEN", "VERSION_REGRESSED"]),
        ("c", "b"): ("rollback", ["FIELD_ADDED_UNVERSIONED", "HISTORY_REWRITTEN",
                                  "LAYOUT_CHANGED_WITHOUT_BUMP"]),
    }
    assert doc["matrix"] == [[None, 0, 2], [1, None, 3], [2, 3, None]]


def test_matrix_text_and_markdown(tmp_path):
    make_sides(tmp_path)
    text = run_kstate("matrix", "a", "b", cwd=tmp_path).stdout.splitlines()
    assert text[0].split() == ["from", "\\", "to", "a", "b"]
    assert text[1].split() == ["a", "-", "OK"]
    assert text[2].split() == ["b", "1", "-"]
    md = run_kstate("matrix", "a", "b", "--format", "markdown", cwd=tmp_path).stdout.splitlines()
    assert md == ["| from \\ to | `a` | `b` |", "|---|---|---|", "| `a` | - | OK |", "| `b` | 1 | - |"]


def test_matrix_usage_errors(tmp_path):
    make_sides(tmp_path)
    assert run_kstate("matrix", "a", cwd=tmp_path).returncode == 2
    res = run_kstate("matrix", "a", "nowhere", cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
