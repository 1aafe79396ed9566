"""Injection-proofing of the Python and Markdown outputs: doc comments,
@removed reasons, retired reasons and file names with comment ends, quotes,
template syntax, backslashes, HTML and non-ASCII end up inert (the C output
has its own tests)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kstate
from kstate.output import render_all

ROOT = Path(__file__).resolve().parent.parent
ATTACK = ROOT / "tests" / "fixtures" / "attack" / "attack.kstate"
REASON = 'reason with */ and " and \\ and {{ x }} and """ and é and /* and |'


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("attack") / "gen"
    res = subprocess.run([sys.executable, "-m", "kstate", "compile", str(ATTACK), "-o", str(out),
                          "--lang", "python,docs,json"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def test_templating_is_strict_and_does_not_autoescape():
    """Escaping is explicit, per target, in each backend; a missing value is an error."""
    import jinja2

    from kstate.templating import environment

    env = environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape is False


def test_python_module_imports_in_a_fresh_interpreter_and_decodes(generated):
    ss = kstate.load(ATTACK)
    doc = {"entries": [{"state": "evil", "instance_id": 3,
                        "fields": {"x": 1, "s": {"a": 2}, "f": ["A", "B"]}}]}
    blob = ss.encode(doc)
    (generated / "blob.bin").write_bytes(blob)
    script = (
        "import json, sys\n"
        "from kstate.codec import decode, from_generated\n"
        f"codecs = from_generated({str(generated / 'python')!r})\n"
        f"doc = decode(codecs, open({str(generated / 'blob.bin')!r}, 'rb').read())\n"
        "print(json.dumps(doc))\n")
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["diagnostics"] == []
    assert out["entries"][0]["fields"] == {"x": 1, "s": {"a": 2}, "f": ["A", "B"]}
    assert out == ss.decode(blob)


def test_python_texts_are_verbatim_in_one_line_comments(generated):
    src = (generated / "python" / "attack.py").read_text(encoding="utf-8")
    compile(src, "attack.py", "exec")  # still valid Python
    lines = src.splitlines()
    for text in ("Values */ #undef /* {{ x }}", 'Struct doc */ """ {{', "State doc */ {% raw %} \\",
                 'field doc: */ """ {{ }} {% %} \\ é', "removed in 2: " + REASON,
                 "removed in 2: discarded: \\n is not a newline */", 'retired */ " {{ }} é'):
        hits = [ln for ln in lines if text in ln]
        assert hits, text
        for ln in hits:  # each text sits after a '#' on its line: a comment, never code
            assert ln.index("#") < ln.index(text), ln
    # nothing from the texts reached code: every line holding one starts as code we wrote
    code = "\n".join(ln.split("#", 1)[0] for ln in lines if not ln.lstrip().startswith("#"))
    assert "{{" not in code and "{%" not in code and "*/" not in code.replace('"""', "")


def test_weird_file_names_stay_inside_the_python_docstring_and_markdown(tmp_path):
    """Names below the schema root are refused unless safe (test_security_names.py);
    the folders above it reach the outputs only as the Markdown header's
    display path, escaped."""
    folder = tmp_path / 'we"""ird\\N{x}-->b`c'
    folder.mkdir()
    name = folder / "a.kstate"
    name.write_text("struct t { a: u8; }\n")
    with pytest.raises(kstate.SchemaError, match="BAD_FILE_NAME|refused"):
        (folder / "a-->b`c.kstate").write_text("struct u { a: u8; }\n")
        kstate.load(folder / "a-->b`c.kstate")
    (folder / "a-->b`c.kstate").unlink()
    ss = kstate.load(name)
    files = render_all(ss, ["python", "docs"])
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")
            tree = __import__("ast").parse(text)
            assert tree.body and isinstance(tree.body[0].value.value, str)  # the docstring
        if path.endswith(".md"):
            head = text.split("\n", 1)[0]
            assert head.startswith("<!--") and head.endswith("-->") and head.count("-->") == 1
            title = text.split("\n")[1]
            assert title.count("`") == 2


def test_markdown_escapes_html_and_keeps_table_cells_whole(generated):
    md = (generated / "docs" / "attack.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert re.search(r"<(?!br>|!--)", md) is None  # the only tags are <br> and the header comment
    width = None  # cells of the current table's first row
    for line in md.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line))
        width = width or cells
        assert cells == width, line
    assert "removed: " + REASON.replace("\\", "\\\\").replace("|", "\\|") in md
    assert "{{ 7 * 7 }}" in md and "49" not in md  # template syntax is text, not evaluated


def test_json_snapshot_holds_the_texts_verbatim(generated):
    snap = json.loads((generated / "kstate-snapshot.json").read_text(encoding="utf-8"))
    blob = json.dumps(snap, ensure_ascii=False)
    assert json.dumps(REASON, ensure_ascii=False)[1:-1] in blob


def test_control_and_bidi_characters_are_spelled_out(tmp_path):
    """A NUL in a doc comment made the generated module unimportable; ESC
    sequences and bidi overrides (Trojan Source) must not reach the files raw."""
    src = ("/// doc \x00 nul \x1b[31m red \u202e rlo \u2028 ls \x0c ff\n"
           "struct t { a: u8; }\n"
           'state s { id = 5; version = 2; min_version = 1; a: u8 @removed(2, "x\x00y\u2066z\x1b"); b: t; }\n')
    path = tmp_path / "n.kstate"
    path.write_bytes(src.encode())
    files = render_all(kstate.load(path), ["python", "docs"])
    py, md = files["python/n.py"], files["docs/n.md"]
    compile(py, "n.py", "exec")
    for text in (py, md):
        assert not any(c in text for c in "\x00\x1b\u202e\u2066")
    assert "\u2028" not in py  # a line break to some tools; in Markdown only a space
    assert "\\x00 nul \\x1b[31m red \\u202e rlo" in md
    assert "removed in 2: x\\x00y\\u2066z\\x1b" in py
