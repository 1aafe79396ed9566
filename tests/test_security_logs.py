"""Log injection (issue 17.5): a value from input (a waiver reason, a waiver's
state or field, a schema's folder name, a side's name) cannot end a line,
forge a GitHub annotation or reach a terminal as a control sequence, in any
``kstate check`` format or error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_kstate

INJECT = "\n::error file=evil,line=1::INJECTED"
# each spelled as a TOML escape; all must come out escaped
HOSTILE = ["\x1b[31m", "\x07", "\u2028", "\u0085", "\r", "\u202e", "\x00"]

V1 = "state dev {\n    id = 1;\n    version = 1;\n    x: u32;\n    y: u32;\n}\n"
V2 = "state dev {\n    id = 1;\n    version = 2;\n    min_version = 1;\n    x: u32;\n}\n"


def toml_string(s: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in " :=,._-/[]" else f"\\u{ord(c):04x}" for c in s) + '"'


@pytest.fixture
def sides(tmp_path: Path) -> tuple[str, str, str]:
    evil = tmp_path / ("evil" + INJECT + "\x1b]0;title\x07")
    evil.mkdir()
    (evil / "dev.kstate").write_text(V1)
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "dev.kstate").write_text(V2)
    reason = "accepted" + INJECT + "".join(HOSTILE)
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        f"[[waiver]]\nrule = \"FIELD_DROPPED\"\nstate = \"*\"\nreason = {toml_string(reason)}\n\n"
        f"[[waiver]]\nrule = \"FIELD_DROPPED\"\nstate = {toml_string('nosuch' + INJECT)}\n"
        f"field = {toml_string('f' + INJECT + chr(0x1b))}\nreason = \"unused\"\n")
    return str(evil / "dev.kstate"), str(tmp_path / "new" / "dev.kstate"), str(waivers)


def assert_clean(text: str, allowed_annotations: int = 0) -> None:
    for bad in HOSTILE + ["\x1b", "\x07", "\u2029"]:
        assert bad not in text, f"{bad!r} printed raw"
    for line in text.splitlines():
        assert not line.startswith("::error file=evil"), f"forged annotation: {line!r}"
        assert not line.lstrip().startswith("::error file=evil"), f"forged annotation: {line!r}"
    assert sum(line.startswith("::") for line in text.splitlines()) == allowed_annotations


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_injected_reason_state_and_path_are_escaped(sides, fmt):
    old, new, waivers = sides
    proc = run_kstate("check", old, new, "--waivers", waivers, "--format", fmt)
    assert proc.returncode == 0, proc.stderr  # the drop is waived; the unused waiver is a warning
    assert "INJECTED" in proc.stdout  # the values are shown ...
    # ... but escaped: one annotation per finding in github, none elsewhere
    assert_clean(proc.stdout, allowed_annotations=2 if fmt == "github" else 0)
    assert_clean(proc.stderr)
    if fmt in ("json", "sarif"):
        doc = json.loads(proc.stdout)  # still valid JSON holding the exact values
        text = json.dumps(doc, ensure_ascii=False)
        assert "nosuch\\n::error file=evil,line=1::INJECTED" in text
        if fmt == "sarif":
            assert "accepted\\n::error file=evil,line=1::INJECTED\\u001b[31m\\u0007\u2028\u0085" in text
    if fmt == "text":
        assert "waived: accepted\\x0a::error file=evil,line=1::INJECTED\\x1b[31m\\x07\\u2028\\x85" in proc.stdout
    if fmt == "github":
        assert "%0A::error file=evil" not in proc.stdout.split("::", 2)[1]  # properties keep their escapes
        assert "(waived: accepted%0A::error file=evil,line=1::INJECTED\\x1b[31m\\x07\\u2028\\x85%0D" in proc.stdout


def test_error_messages_escape_input(tmp_path):
    """A schema error in a file whose folder name and source line hold
    control characters: the diagnostic (file name, source line) is escaped."""
    folder = tmp_path / ("d" + INJECT)
    folder.mkdir()
    (folder / "bad.kstate").write_text("state dev {\n    id = 1; /* \x1b[2J\u2028 */ version = 1;\n"
                                       "    x: nosuch;\n}\n")
    proc = run_kstate("compile", str(folder), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "error[" in proc.stderr
    assert_clean(proc.stderr)
    proc = run_kstate("check", str(folder / "missing.kstate"), str(folder / "bad.kstate"))
    assert proc.returncode == 2
    assert "d\\x0a::error file=evil" in proc.stderr
    assert_clean(proc.stderr)


def test_source_line_caret_stays_under_the_column(tmp_path):
    (tmp_path / "bad.kstate").write_text("state dev { id = 1; version = 1; /*\x1b\x1b*/ x: nosuch; }\n")
    proc = run_kstate("compile", "bad.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    source = next(l for l in lines if "nosuch;" in l)
    caret = lines[lines.index(source) + 1]
    assert "\\x1b\\x1b" in source
    assert source[caret.index("^"):].startswith("nosuch")


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_compile_diagnostics_escape_input_in_every_format(tmp_path, fmt):
    folder = tmp_path / ("d" + INJECT + "\u2028\u0085\x1b")
    folder.mkdir()
    (folder / "bad.kstate").write_text("state dev {\n    id = 1; /* \x1b[2J\u2028\u0085 */ version = 1;\n"
                                       "    x: nosuch;\n}\n")
    proc = run_kstate("compile", str(folder), "-o", str(tmp_path / "out"), "--format", fmt)
    assert proc.returncode == 2
    assert "nosuch" in proc.stdout + proc.stderr
    assert_clean(proc.stdout, allowed_annotations=1 if fmt == "github" else 0)
    assert_clean(proc.stderr)
    if fmt in ("json", "sarif"):  # valid JSON, holding the exact file name
        assert "d\\n::error file=evil" in json.dumps(json.loads(proc.stdout))
