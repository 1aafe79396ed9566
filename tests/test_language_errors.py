"""Every compile-time rule of the language, one fixture each.

A fixture's leading comments say what it must produce:
``// expect: CODE LINE:COL [severity]`` (or ``CODE FILE:LINE:COL`` for a
folder of files).  The test compiles it and compares the exact set of
(code, file, line, column, severity) reported.
"""

import re

import pytest

import kstate
from kstate.errors import SchemaError

from conftest import FIXTURES, run_kstate

ERRORS = FIXTURES / "errors"
EXPECT = re.compile(r"//[ \t]*expect:[ \t]*(\w+)[ \t]+(?:(\S+\.kstate):)?(\d+):(\d+)(?:[ \t]+(\w+))?")
CASES = sorted(p.name for p in ERRORS.iterdir())


def expectations(path):
    files = sorted(path.glob("*.kstate")) if path.is_dir() else [path]
    out = set()
    for f in files:
        for m in EXPECT.finditer(f.read_text(errors="replace")):
            code, fname, line, col, sev = m.groups()
            target = (path / fname) if fname else f
            out.add((code, target.name, int(line), int(col), sev or "error"))
    return out


def reported(path):
    try:
        ss = kstate.load(path)
        diags = ss.warnings
    except SchemaError as err:
        diags = err.diagnostics
    return {(d.code, d.span.file.rsplit("/", 1)[-1], d.span.line, d.span.column, d.severity)
            for d in diags}


@pytest.mark.parametrize("case", CASES)
def test_fixture_reports_exactly_its_diagnostics(case):
    path = ERRORS / case
    expected = expectations(path)
    assert expected, f"{case} has no expect: line"
    assert reported(path) == expected


def test_every_error_code_has_a_fixture():
    from kstate.explanations import explanations

    codes = {e[0] for case in CASES for e in expectations(ERRORS / case)}
    documented = {e.code for e in explanations() if e.kind == "compile"}
    not_schema_text = {"USAGE", "CANNOT_READ", "NOT_A_FILE", "BAD_CONFIG", "BAD_SNAPSHOT", "BAD_WAIVER",  # no schema's
                       "C_STRUCT_KERNEL_TYPE"}  # the C backend's; their examples run in test_explain
    missing = documented - codes - not_schema_text - {"FILE_TOO_LARGE", "IMPORT_DEPTH"}  # tested below
    assert not missing, f"documented codes without a fixture: {sorted(missing)}"


def test_cli_renders_file_line_col_code_source_and_caret():
    res = run_kstate("compile", ERRORS / "duplicate_field.kstate", "-o", "/nonexistent/never-written")
    assert res.returncode == 2
    lines = res.stderr.splitlines()
    assert re.match(r".*duplicate_field\.kstate:5:5: error\[DUPLICATE_MEMBER\]: ", lines[0])
    assert lines[1].strip() == "x: u16;"
    assert lines[2].index("^") == lines[1].index("x")
    assert "Traceback" not in res.stderr


def test_cli_reports_all_errors_of_a_run():
    res = run_kstate("compile", ERRORS / "many_errors.kstate", "-o", "/nonexistent/never-written")
    assert res.returncode == 2
    codes = re.findall(r"error\[(\w+)\]", res.stderr)
    assert codes == ["BAD_SIZE", "UNKNOWN_NAME", "BAD_ID"]


def test_import_depth_and_file_size_limits(tmp_path, monkeypatch):
    from kstate import loader

    for i in range(loader.MAX_IMPORT_DEPTH + 2):
        (tmp_path / f"f{i}.kstate").write_text(f'import "f{i + 1}.kstate";\n')
    (tmp_path / f"f{loader.MAX_IMPORT_DEPTH + 2}.kstate").write_text("const A = 1;\n")
    with pytest.raises(SchemaError) as err:
        kstate.load(tmp_path / "f0.kstate")
    assert [d.code for d in err.value.diagnostics] == ["IMPORT_DEPTH"]
    assert err.value.diagnostics[0].span.file.endswith(f"f{loader.MAX_IMPORT_DEPTH}.kstate")

    monkeypatch.setattr(loader, "MAX_SCHEMA_BYTES", 30)
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "a.kstate").write_text('import "b.kstate";\n')
    (tmp_path / "big" / "b.kstate").write_text("const A_LONG_NAME_TO_BE_BIG = 1;\n")
    with pytest.raises(SchemaError) as err:
        kstate.load(tmp_path / "big" / "a.kstate")
    assert [(d.code, d.span.line, d.span.column) for d in err.value.diagnostics] == [
        ("FILE_TOO_LARGE", 1, 8)]
