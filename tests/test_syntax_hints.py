"""Syntax errors that teach, through the real CLI: the message, where it
points, the help, and that the help's fix compiles when applied."""

from __future__ import annotations

import re

import pytest

from conftest import run_kstate

HEAD = "state a {\n    id = 1;\n    version = 1;\n"

CASES = {
    # name: (text, location, message, help, fixed text or None)
    "c_field": (HEAD + "    u32 domain;\n}\n", "4:5",
                "fields are written `name: type;`, not C's `type name;`",
                "did you mean `domain: u32;`?", HEAD + "    domain: u32;\n}\n"),
    "c_array": (HEAD + "    u8 data[16];\n}\n", "4:5",
                "fields are written `name: type;`, not C's `type name;`",
                "did you mean `data: u8[16];`?", HEAD + "    data: u8[16];\n}\n"),
    "c_pointer": ("struct foo { x: u8; }\n" + HEAD + "    struct foo *p;\n}\n", "5:5",
                  "fields are written `name: type;`, not C's `type name;`",
                  "did you mean `p: *foo;`?", "struct foo { x: u8; }\n" + HEAD + "    p: *foo;\n}\n"),
    "missing_semicolon": ("state a {\n    id = 1\n    version = 1;\n}\n", "2:11",
                          "expected ';' after '1'", "end the statement with ';': `id = 1;`",
                          "state a {\n    id = 1;\n    version = 1;\n}\n"),
    "semicolon_after_item": ("struct x {\n    a: u8;\n};\n" + HEAD + "    b: x;\n}\n", "3:2",
                             "unexpected ';' after '}': items do not end with ';'", "delete this ';'",
                             "struct x {\n    a: u8;\n}\n" + HEAD + "    b: x;\n}\n"),
    "include": ('#include "other.h"\n' + HEAD + "}\n", "1:1",
                "kstate has no preprocessor: '#include' is not part of the language",
                "share another schema file's items with `import \"other.kstate\";`",
                'import "other.kstate";\n' + HEAD + "}\n"),
    "define": ("#define MAX 16\n" + HEAD + "    n: u8 @max(MAX);\n    v: u8[n];\n}\n", "1:1",
               "kstate has no preprocessor: '#define' is not part of the language",
               "name a value with `const MAX = 16;`",
               "const MAX = 16;\n" + HEAD + "    n: u8 @max(MAX);\n    v: u8[n];\n}\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_syntax_error_says_what_to_do(tmp_path, case):
    text, where, message, help_, fixed = CASES[case]
    (tmp_path / "other.kstate").write_text("const OTHER = 1;\n")
    (tmp_path / "s.kstate").write_text(text)
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    first = r.stderr.splitlines()[0]
    assert first == f"s.kstate:{where}: error[SYNTAX]: {message}", r.stderr
    assert f"    help: {help_}" in r.stderr.splitlines()
    assert r.stderr.rstrip().splitlines()[-1] == "kstate: 1 error, 0 warnings"
    assert not (tmp_path / "out").exists()
    # apply the help: the file compiles
    (tmp_path / "s.kstate").write_text(fixed)
    r = run_kstate("compile", "s.kstate", "other.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_missing_semicolon_caret_is_where_the_semicolon_belongs(tmp_path):
    (tmp_path / "s.kstate").write_text("state a {\n    id = 1\n    version = 1;\n}\n")
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    lines = r.stderr.splitlines()
    assert lines[1] == "        id = 1"
    assert lines[2] == "              ^"  # right after the '1'


def test_expected_list_after_a_property_starts_with_the_semicolon(tmp_path):
    (tmp_path / "s.kstate").write_text("state a {\n    id = 1 version = 1;\n}\n")
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    assert r.stderr.splitlines()[0] == "s.kstate:2:12: error[SYNTAX]: unexpected 'version'; expected ';'"


def test_unclosed_brace_names_the_brace(tmp_path):
    (tmp_path / "s.kstate").write_text("const A = 1;\nstate a {\n    id = 1;\n    version = 1;\n    x: u8;\n")
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert lines[0] == "s.kstate:5:11: error[SYNTAX]: unexpected end of file: a '{' is not closed"
    assert "    note: s.kstate:2:9: this '{' is not closed" in lines
    assert "    help: add the missing '}' (each item's block ends with '}')" in lines


def test_summary_line_counts_every_error(tmp_path):
    (tmp_path / "a.kstate").write_text("state a {\n    id = 1\n    version = 1;\n}\n")
    (tmp_path / "b.kstate").write_text("#define X 1\n")
    r = run_kstate("compile", "a.kstate", "b.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    assert re.findall(r"error\[SYNTAX\]", r.stderr) == ["error[SYNTAX]"] * 2
    assert r.stderr.rstrip().splitlines()[-1] == "kstate: 2 errors, 0 warnings"
