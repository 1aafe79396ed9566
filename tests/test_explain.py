"""`kstate explain CODE`: every code kstate can report has a long explanation,
docs/language.md holds exactly the text the command prints, and every
example does what it says: run through the real command line in a temporary
project, an example produces its code (with its severity) and its fix makes
it go away (a compile fix compiles clean: no error, no warning).

The codes kstate can emit are collected from its source, not listed here:
the first code-like string argument of every ``Diagnostic(...)``,
``.error(...)``, ``.warning(...)``, ``Fail(...)``, ``ExprError(...)``, ...
call, every ``{"code": ...}`` literal, the decode checks the codec compiler
writes into generated code (``Fail('BAD_VALUE', ...)``), and the rules the
checker ``emit``s.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest

from kstate import explanations as ex
from kstate.checker.rules import RULES
from kstate.cli import run

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kstate"
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
GENERATED_CHECK = re.compile(r"\b(?:Fail|warn|diag)\(\s*'([A-Z][A-Z0-9_]*)'")
EMITTERS = {"Diagnostic", "error", "warning", "Fail", "diag", "warn", "fail", "ExprError", "FileRefused",
            "emit"}

# Codes whose example cannot be a few lines of text; each is tested where named.
NOT_RUN = {
    ("compile", "FILE_TOO_LARGE"): "a 4 MiB file: tests/test_language_errors.py",
    ("compile", "IMPORT_DEPTH"): "65 files importing each other: tests/test_language_errors.py",
    ("compile", "BAD_ENCODING"): "bytes that are not UTF-8: tests/fixtures/errors/bad_encoding.kstate",
    ("compile", "CANNOT_READ"): "a file its reader may not read; the tests run as root here, who reads any",
    ("compile", "NOT_A_FILE"): "a FIFO: tests/test_security_resources.py, tests/test_compile_outputs.py",
    ("decode", "LIMIT_EXCEEDED"): "a stream past a resource limit: tests/test_security_limits.py",
}


def _emitted(path: Path) -> dict[str, set[str]]:
    """The codes one source file can report: rules (``emit``) and diagnostics (the rest)."""
    out = {"rules": set(), "diagnostics": set()}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in EMITTERS:
                out["rules" if name == "emit" else "diagnostics"].update(
                    a.value for a in node.args[:3]
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and CODE.match(a.value))
            elif name == "getattr" and len(node.args) == 3 and isinstance(node.args[1], ast.Constant) \
                    and node.args[1].value == "code" and isinstance(node.args[2], ast.Constant):
                out["diagnostics"].add(node.args[2].value)
        elif isinstance(node, ast.Dict):
            out["diagnostics"].update(v.value for k, v in zip(node.keys, node.values)
                                      if isinstance(k, ast.Constant) and k.value == "code"
                                      and isinstance(v, ast.Constant))
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == "CODE" for t in node.targets) \
                    and isinstance(node.value, ast.Constant):
                out["diagnostics"].add(node.value.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out["diagnostics"].update(GENERATED_CHECK.findall(node.value))
    return out


def emitted_codes() -> dict[str, set[str]]:
    """kind -> every code kstate's source can report: the checker's rules, the
    codec's decode codes, every other diagnostic's compile codes (a waiver
    file's too: it is read like a schema)."""
    found = {kind: set() for kind in ex.KINDS}
    for path in PACKAGE.rglob("*.py"):
        codes = _emitted(path)
        found["check"] |= codes["rules"]
        found["decode" if path.relative_to(PACKAGE).parts[0] == "codec" else "compile"] |= codes["diagnostics"]
    return found


def explained(kind: str) -> set[str]:
    return {e.code for e in ex.explanations() if e.kind == kind}


def test_the_collector_finds_codes_of_every_kind():
    found = emitted_codes()  # a collector that found nothing would make the test below pass vacuously
    assert {"SYNTAX", "BAD_ID", "C_STRUCT_KERNEL_TYPE", "DIVISION_BY_ZERO", "BAD_CONFIG"} <= found["compile"]
    assert {"BAD_MAGIC", "BAD_VALUE", "COUNT_OUT_OF_RANGE", "UNKNOWN_ENUM"} <= found["decode"]
    assert {"FIELD_DROPPED", "ENUM_VALUE_ADDED"} <= found["check"]


@pytest.mark.parametrize("kind", ex.KINDS)
def test_every_code_kstate_can_emit_is_explained_and_no_other(kind):
    found = emitted_codes()[kind]
    if kind == "check":
        found = found | {r.name for r in RULES}  # WAIVER_UNUSED is made by the waiver pass
        assert found == {r.name for r in RULES}, "the checker emits a name the catalogue lacks"
    assert sorted(found - explained(kind)) == [], f"codes without an explanation in kstate/explanations/{kind}.md"
    assert sorted(explained(kind) - found) == [], f"explanations of codes nothing emits ({kind}.md)"


def test_every_explanation_has_a_summary_an_example_and_a_fix():
    for e in ex.explanations():
        assert e.summary and "\n" not in e.summary and len(e.summary) < 300, e.code
        groups = [g for g, _ in e.groups]
        if e.kind == "check":
            assert groups[:2] == ["Old", "New"] and "Fix" in groups, e.code
        else:
            assert groups[:1] == ["Example"] and "Fix" in groups, e.code
    assert len({(e.kind, e.code) for e in ex.explanations()}) == len(ex.explanations()), "a code explained twice"


def test_docs_language_md_lists_every_explanation_as_explain_prints_it():
    page = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    assert ex.with_docs(page) == page, "docs/language.md is stale: run python -m kstate.explanations docs/language.md"
    for e in ex.explanations():
        assert e.text() in page, e.code


def test_check_explanations_take_the_catalogue_words():
    for rule in RULES:
        (e,) = ex.lookup(rule.name)
        assert e.severity == rule.severity
        assert rule.summary.strip()[1:] in e.body and rule.fix.strip()[1:] in e.body, rule.name


def explain(*args, capsys) -> tuple[int, str, str]:
    code = run(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_prints_the_docs_text_of_every_code(capsys):
    for code in ex.codes():
        rc, out, err = explain(code, capsys=capsys)
        assert rc == 0 and err == ""
        assert out == "\n".join(e.text() for e in ex.lookup(code))


def test_explain_a_shared_code_prints_each_kind_and_kind_picks_one(capsys):
    rc, out, _ = explain("BAD_SIZE", capsys=capsys)
    assert rc == 0 and "### `BAD_SIZE` (compile error)" in out and "### `BAD_SIZE` (decode error)" in out
    rc, out, _ = explain("BAD_SIZE", "--kind", "decode", capsys=capsys)
    assert rc == 0 and "(compile error)" not in out and out.startswith("### `BAD_SIZE` (decode error)")


def test_kind_lists_each_kind(capsys):
    for kind in ex.KINDS:  # the command spells the kinds out (no import at start-up): the same ones
        rc, out, _ = explain("--kind", kind, capsys=capsys)
        assert rc == 0 and [line.split()[0] for line in out.splitlines()] == \
            [e.code for e in ex.explanations() if e.kind == kind]


def test_explain_takes_any_case_and_a_code_pasted_from_a_log(capsys):
    want = explain("FIELD_DROPPED", capsys=capsys)[1]
    assert explain("field_dropped", capsys=capsys)[1] == want
    assert explain("error[FIELD_DROPPED]", capsys=capsys)[1] == want


def test_explain_unknown_code_exits_2_with_did_you_mean(capsys):
    rc, out, err = explain("FIELD_DROPED", capsys=capsys)
    assert (rc, out) == (2, "")
    assert err == "kstate: error: no code named 'FIELD_DROPED'\n    help: did you mean 'FIELD_DROPPED'?\n"
    rc, out, err = explain("NOSUCH", capsys=capsys)
    assert rc == 2 and err.splitlines()[1] == "    help: run 'kstate explain' to list the codes"
    rc, _, err = explain("BAD_MAGIC", "--kind", "compile", capsys=capsys)
    assert rc == 2 and "no compile code named 'BAD_MAGIC'" in err


def test_explain_without_a_code_lists_every_code(capsys):
    rc, out, _ = explain(capsys=capsys)
    lines = out.splitlines()
    assert rc == 0 and len(lines) == len(ex.explanations())
    assert [line.split()[:3] for line in lines] == [[e.code, e.kind, e.severity] for e in ex.explanations()]
    rule = next(r for r in RULES if r.name == "FIELD_DROPPED")
    assert any(line.split()[0] == "FIELD_DROPPED" and line.endswith(ex._sentence(rule.summary)) for line in lines)
    rc, out, _ = explain("--kind", "check", capsys=capsys)
    assert [line.split()[0] for line in out.splitlines()] == [r.name for r in RULES]


def test_explain_json(capsys):
    rc, out, _ = explain("--format", "json", capsys=capsys)
    listing = json.loads(out)["codes"]
    assert rc == 0 and [(c["code"], c["kind"]) for c in listing] == [(e.code, e.kind) for e in ex.explanations()]
    rc, out, _ = explain("BAD_ID", "--format", "json", capsys=capsys)
    doc = json.loads(out)
    assert doc["code"] == "BAD_ID"
    (one,) = doc["explanations"]
    assert (one["kind"], one["severity"]) == ("compile", "error")
    assert one["text"] == ex.lookup("BAD_ID")[0].body
    assert one["example"][0]["lang"] == "kstate" and "id = 0" in one["example"][0]["text"]
    assert one["fix"] and one["fix"][0]["file"] == "example.kstate"


def test_explain_all_is_the_docs_markdown(capsys):
    rc, out, _ = explain("--all", capsys=capsys)
    assert rc == 0 and out == ex.docs_markdown()
    rc, out, err = explain("BAD_ID", "--all", capsys=capsys)
    assert rc == 2 and "not both" in err


# -- every example does what it says --------------------------------------------------------

DEFAULT_COMMAND = {"compile": "kstate compile --format json", "decode": "kstate decode blob.bin --format json",
                   "check": "kstate check old new --format json"}


def _write(tmp: Path, kind: str, group: str, blocks) -> list[str]:
    """Write a group's files into the project ``tmp``; returns its console commands."""
    commands = []
    for b in blocks:
        if b.lang == "console":
            commands += [line[2:] for line in b.text.splitlines() if line.startswith("$ ")]
            continue
        if b.file and b.file.endswith(".kstate"):
            folder = {"Old": "old", "New": "new", "Fix": "new"}[group] if kind == "check" else "schemas"
            target = tmp / folder / b.file
        else:
            target = tmp / b.file
        target.parent.mkdir(parents=True, exist_ok=True)
        if b.lang == "hex":
            data = bytes.fromhex("".join(line.split("#", 1)[0] for line in b.text.splitlines()))
            target.write_bytes(data)
        else:
            target.write_text(b.text, encoding="utf-8")
    return commands


def _reported(out: str) -> set[tuple[str, str]]:
    """(code, severity) of every diagnostic or finding (not waived) in a command's output."""
    found = set(re.findall(r"\b(error|warning|info)\[([A-Z][A-Z0-9_]*)\]", out))
    found = {(code, sev) for sev, code in found}

    def walk(node):
        if isinstance(node, dict):
            name = node.get("code", node.get("rule"))
            if isinstance(name, str) and "severity" in node and not node.get("waived"):
                found.add((name, node["severity"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    try:
        walk(json.loads(out))
    except ValueError:
        pass
    return found


def _run_group(e, groups: list[str], tmp: Path, monkeypatch, capsys) -> tuple[int, set, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    commands = []
    for g in groups:  # later groups' files replace earlier ones'; the last group with commands runs them
        commands = _write(tmp, e.kind, g, e.blocks(g)) or commands
    monkeypatch.chdir(tmp)
    rc, out = 0, ""
    for cmd in commands or [DEFAULT_COMMAND[e.kind]]:
        argv = shlex.split(cmd)
        assert argv[0] == "kstate", cmd
        rc = run(argv[1:])
        o, err = capsys.readouterr()
        out = o + err
    return rc, _reported(out), out


RUNNABLE = [e for e in ex.explanations() if (e.kind, e.code) not in NOT_RUN]


def test_not_run_examples_are_few_and_named():
    assert {(e.kind, e.code) for e in ex.explanations()} >= set(NOT_RUN)


@pytest.mark.parametrize("e", RUNNABLE, ids=lambda e: f"{e.kind}-{e.code}")
def test_example_produces_its_code_and_the_fix_removes_it(e, tmp_path, monkeypatch, capsys):
    before = ["Old", "New"] if e.kind == "check" else ["Example"]
    rc, found, out = _run_group(e, before, tmp_path / "example", monkeypatch, capsys)
    assert (e.code, e.severity) in found, out
    if e.kind != "check":  # a finding comes with those that say what changed; a diagnostic alone
        assert found == {(e.code, e.severity)}, out
    assert rc != 0 or e.severity != "error", out

    # a decode fix changes the schema or the blob: the rest is the example's
    after = {"check": ["Old", "Fix"], "decode": ["Example", "Fix"]}.get(e.kind, ["Fix"])
    rc, found, out = _run_group(e, after, tmp_path / "fix", monkeypatch, capsys)
    assert rc == 0, out
    assert e.code not in {code for code, _ in found}, out
    if e.kind == "compile":
        assert found == set(), f"the fix does not compile clean:\n{out}"
