"""A snapshot JSON is input: hostile values never run code, never hang, and
each one is a positioned error (``FILE:LINE:COL: error[CODE]: $.path: ...``,
exit 2) through every command that takes a side, a ``git:`` side and
``kstate.load`` (issue 17 point 1, issue 15 point 1).

Each exploit tries to create a marker file; before the fix it did (the
``@range`` bounds, ``@max`` and names were pasted into Python source that
the codec compiler ``exec``'d)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import kstate
from kstate.codec.construct_source import _render, _Text, execute
from kstate.cli import run as cli_run
from kstate.codec.runtime import CodecSet
from kstate.errors import SchemaError
from kstate.limits import MAX_SNAPSHOT_BYTES, MAX_VERSION_SPAN

from conftest import ROOT, run_kstate

SNAPSHOT = ROOT / "generated" / "kstate-snapshot.json"
POSITIONED = re.compile(r"^(?:git:HEAD:)?snap\.json:(\d+):(\d+): error\[([A-Z_]+)\]: (\$[\w.\[\]]*): ", re.M)


def base() -> dict:
    return json.loads(SNAPSHOT.read_text())


def state(doc: dict, name: str) -> dict:
    return next(s for s in doc["states"] if s["name"] == name)


def member(doc: dict, st: str, name: str) -> dict:
    return next(mb for mb in state(doc, st)["members"] if mb.get("name") == name)


def _rename(doc: dict, st: str, old: str, new: str) -> None:
    """Rename a field everywhere the snapshot names it (members, layouts, C name)."""
    mb = member(doc, st, old)
    mb["name"] = new
    if mb.get("c_name") == old:
        mb["c_name"] = new
    for layout in state(doc, st).get("layouts", []):
        layout["fields"] = [new if f == old else f for f in layout["fields"]]


def code(marker: Path) -> str:
    return f'0 if __import__("os").system("touch {marker}") else 0'


def path_of(doc: dict, st: str, field: str | None = None) -> str:
    i = next(k for k, s in enumerate(doc["states"]) if s["name"] == st)
    if field is None:
        return f"$.states[{i}]"
    j = next(k for k, mb in enumerate(doc["states"][i]["members"]) if mb.get("name") == field)
    return f"$.states[{i}].members[{j}]"


# Each exploit sets a hostile value and returns the JSON path the error must name.
def exploit_range(doc, marker):
    member(doc, "kvm_vm_ser", "nr_vcpus")["range"][0] = code(marker)
    return path_of(doc, "kvm_vm_ser", "nr_vcpus") + ".range[0]"


def exploit_max(doc, marker):
    member(doc, "memfd", "nr_folios")["max"] = code(marker)
    return path_of(doc, "memfd", "nr_folios") + ".max"


def exploit_state_name(doc, marker):
    evil = f'x(*a): pass\nimport os; os.system("touch {marker}")\ndef decode_y'
    where = path_of(doc, "memfd") + ".name"
    state(doc, "memfd")["name"] = evil
    return where


def exploit_field_name(doc, marker):
    where = path_of(doc, "memfd", "pos") + ".name"
    member(doc, "memfd", "pos")["name"] = f"x'] = __import__('os').system('touch {marker}'); f['"
    return where


def exploit_fixed(doc, marker):
    member(doc, "kvm_vm_ser", "version")["fixed"] = code(marker)
    return path_of(doc, "kvm_vm_ser", "version") + ".fixed"


def exploit_char_length(doc, marker):
    member(doc, "memfd", "name")["type"]["length"] = f"1s{code(marker)}"
    return path_of(doc, "memfd", "name") + ".type.length"


EXPLOITS = [exploit_range, exploit_max, exploit_state_name, exploit_field_name, exploit_fixed,
            exploit_char_length]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A valid stream and decode document of each state the exploits touch."""
    d = tmp_path_factory.mktemp("inputs")
    out = {}
    for name in ("kvm_vm_ser", "memfd", "test"):
        blob, doc = d / f"{name}.bin", d / f"{name}.json"
        assert run_kstate("sample", ROOT / "schemas", "--state", name, "-o", blob).returncode == 0
        assert run_kstate("sample", ROOT / "schemas", "--state", name, "--json", "-o", doc).returncode == 0
        out[name] = (blob, doc)
    return out


def assert_refused(result, marker: Path, path: str | None = None, code_: str | None = None) -> None:
    assert not marker.exists(), "the snapshot ran code"
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    found = POSITIONED.findall(result.stderr)
    assert found, result.stderr
    if path is not None:
        assert path in [f[3] for f in found], result.stderr
    if code_ is not None:
        assert code_ in [f[2] for f in found], result.stderr


def commands(snap: str, inputs, out: Path) -> dict:
    blob, doc = inputs["memfd"]
    return {
        "decode": ["decode", blob, "--schema", snap],
        "encode": ["encode", doc, "--schema", snap, "-o", out / "x.bin"],
        "check-old": ["check", snap, ROOT / "schemas"],
        "check-new": ["check", ROOT / "schemas", snap],
        "sample": ["sample", snap, "--state", "memfd", "-o", out / "y.bin"],
        "matrix": ["matrix", ROOT / "schemas", snap],
    }


class Result:
    def __init__(self, returncode: int, stderr: str):
        self.returncode, self.stderr = returncode, stderr


def run_in_process(capsys, monkeypatch, cwd: Path, argv: list) -> Result:
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    rc = cli_run([str(a) for a in argv])
    return Result(rc, capsys.readouterr().err)


COMMANDS = ["decode", "encode", "check-old", "check-new", "sample", "matrix"]


@pytest.mark.parametrize("command", COMMANDS)
def test_exploit_snapshot_runs_no_code_in_a_subprocess(tmp_path, inputs, command):
    """The CLI as a user runs it: a process per command, the range exploit."""
    marker = tmp_path / "PWNED"
    doc = base()
    path = exploit_range(doc, marker)
    (tmp_path / "snap.json").write_text(json.dumps(doc, indent=2))
    result = run_kstate(*commands("snap.json", inputs, tmp_path)[command], cwd=tmp_path)
    assert_refused(result, marker, path, "BAD_SNAPSHOT")


@pytest.mark.parametrize("exploit", EXPLOITS, ids=lambda f: f.__name__[8:])
def test_exploit_snapshot_runs_no_code_in_any_command(tmp_path, inputs, capsys, monkeypatch, exploit):
    """Every exploit through every command that takes a side (in process, to stay fast)."""
    marker = tmp_path / "PWNED"
    doc = base()
    path = exploit(doc, marker)
    (tmp_path / "snap.json").write_text(json.dumps(doc, indent=2))
    for command, argv in commands("snap.json", inputs, tmp_path).items():
        assert_refused(run_in_process(capsys, monkeypatch, tmp_path, argv), marker, path, "BAD_SNAPSHOT")


def test_exploit_decodes_where_the_state_uses_the_field(tmp_path, inputs):
    """The range exploit through the very state whose decoder held the bound."""
    marker = tmp_path / "PWNED"
    doc = base()
    path = exploit_range(doc, marker)
    (tmp_path / "snap.json").write_text(json.dumps(doc, indent=2))
    blob, jdoc = inputs["kvm_vm_ser"]
    for argv in (["decode", blob, "--schema", "snap.json"],
                 ["encode", jdoc, "--schema", "snap.json", "-o", tmp_path / "o.bin"],
                 ["sample", "snap.json", "--state", "kvm_vm_ser"]):
        assert_refused(run_kstate(*argv, cwd=tmp_path), marker, path)


def test_error_shows_the_json_line_and_a_caret(tmp_path, inputs):
    marker = tmp_path / "PWNED"
    doc = base()
    exploit_max(doc, marker)
    (tmp_path / "snap.json").write_text(json.dumps(doc, indent=2))
    result = run_kstate(*commands("snap.json", inputs, tmp_path)["decode"], cwd=tmp_path)
    assert_refused(result, marker)
    line, col = (int(x) for x in POSITIONED.search(result.stderr).groups()[:2])
    text = (tmp_path / "snap.json").read_text().splitlines()[line - 1]
    assert text[col - 1:].startswith('"0 if __import__')  # the column is the value's first character
    shown = result.stderr.splitlines()
    assert shown[1] == "    " + text and shown[2] == "    " + " " * (col - 1) + "^"


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


@needs_git
@pytest.mark.parametrize("exploit", EXPLOITS, ids=lambda f: f.__name__[8:])
def test_exploit_from_a_git_side(tmp_path, inputs, exploit):
    marker = tmp_path / "PWNED"
    repo = tmp_path / "repo"
    repo.mkdir()
    doc = base()
    path = exploit(doc, marker)
    (repo / "snap.json").write_text(json.dumps(doc, indent=2))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "evil"], cwd=repo, check=True)
    (repo / "snap.json").unlink()  # only the commit holds it
    blob, _ = inputs["memfd"]
    for argv in (["decode", blob, "--schema", "git:HEAD:snap.json"],
                 ["check", "git:HEAD:snap.json", ROOT / "schemas"]):
        result = run_kstate(*argv, cwd=repo)
        assert_refused(result, marker, path)
        assert result.stderr.startswith("git:HEAD:snap.json:")


@pytest.mark.parametrize("exploit", EXPLOITS, ids=lambda f: f.__name__[8:])
def test_exploit_through_the_python_api(tmp_path, inputs, exploit):
    marker = tmp_path / "PWNED"
    doc = base()
    path = exploit(doc, marker)
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(doc, indent=2))
    with pytest.raises(SchemaError) as err:
        kstate.load(snap).decode(inputs["memfd"][0].read_bytes())
    assert not marker.exists()
    assert any(d.message.startswith(path + ": ") and d.span.file == str(snap) and d.span.line > 1
               for d in err.value.diagnostics), err.value.render()


# --- the runtime end: no description text becomes source, validated or not ------


HOSTILE = "x'] + __import__('os').system('touch {m}') + f['"


def hostile_description(marker: Path) -> dict:
    name = HOSTILE.format(m=marker)
    return {"enums": {}, "structs": {}, "retired": {},
            "states": {name: {"id": 7, "version": 1, "min_version": 1, "parent": None, "subsections": [],
                              "layouts": {1: [{"name": name, "type": ("int", "u8")},
                                              {"name": "n", "type": ("int", "u8"), "max": 4},
                                              {"name": "a" + name, "type": ("int", "u8"),
                                               "shape": ("count", "n"), "max": 4}]}}}}


def test_codec_compiler_puts_no_description_text_in_source(tmp_path):
    """Even a description that never went through validation (a hand-made one)
    cannot put text into the generated decoder: names are constants."""
    marker = tmp_path / "PWNED"
    codecs = CodecSet(hostile_description(marker))
    name = HOSTILE.format(m=marker)
    fn = codecs.payload_decoder(name, 1, "little")
    src = codecs.source(name, 1)
    assert "__import__" not in src and "touch" not in src
    ctx = type("Ctx", (), {"values": 100, "warn": lambda *a: None, "too_many": None})()
    fields, off = fn(bytes([5, 2, 1, 2]), 0, 4, "", ctx)
    assert fields == {name: 5, "n": 2, "a" + name: [1, 2]} and off == 4
    assert not marker.exists()


def test_codec_compiler_refuses_numbers_that_are_not_ints(tmp_path):
    marker = tmp_path / "PWNED"
    desc = hostile_description(marker)
    layout = next(iter(desc["states"].values()))["layouts"][1]
    layout[1]["max"] = f"4 or __import__('os').system('touch {marker}')"
    codecs = CodecSet(desc)
    with pytest.raises(TypeError):
        codecs.payload_decoder(next(iter(desc["states"])), 1, "little")
    assert not marker.exists()


def test_construct_source_in_memory_spells_names_as_table_lookups(tmp_path):
    marker = tmp_path / "PWNED"
    desc = hostile_description(marker)
    source, names = _render(desc, _Text(mapped=True))
    assert "__import__" not in source and "touch" not in source
    ns = execute(source, "<test>", names)
    assert not marker.exists()
    assert set(ns["PAYLOAD_CODECS"]) == {(HOSTILE.format(m=marker), 1)}
    with pytest.raises(ValueError):  # the backend's readable form takes identifiers only
        _render(desc, _Text(mapped=False))


# --- limits: the same ones as .kstate files, checked before the work -------------


def span_snapshot(tmp_path) -> str:
    doc = base()
    st = state(doc, "memfd")
    st["version"], st["min_version"] = 1000000000, 1
    (tmp_path / "snap.json").write_text(json.dumps(doc, indent=2))
    return "snap.json"


def test_huge_version_span_is_a_fast_positioned_error(tmp_path, inputs, capsys, monkeypatch):
    snap = span_snapshot(tmp_path)
    for command, argv in commands(snap, inputs, tmp_path).items():  # each hung > 20 s before
        result = run_in_process(capsys, monkeypatch, tmp_path, argv)
        assert_refused(result, tmp_path / "none", path_of(base(), "memfd") + ".min_version", "BAD_VERSION")
        assert f"at most {MAX_VERSION_SPAN}" in result.stderr
        assert "set min_version = 999998977" in result.stderr
    result = run_kstate(*commands(snap, inputs, tmp_path)["decode"], cwd=tmp_path)
    assert result.returncode == 2 and "error[BAD_VERSION]" in result.stderr


def test_version_span_limit_is_shared_with_kstate_files(tmp_path):
    src = tmp_path / "a.kstate"
    src.write_text("state a { id = 1; version = 1000000000; min_version = 1; }\n")
    result = run_kstate("compile", src, "-o", tmp_path / "out")
    assert result.returncode == 2 and "error[BAD_VERSION]" in result.stderr
    assert f"at most {MAX_VERSION_SPAN}" in result.stderr


def test_a_snapshot_past_the_size_limit_is_not_parsed(tmp_path, inputs):
    path = tmp_path / "snap.json"
    with open(path, "wb") as f:
        f.write(b'{"format": "kstate-snapshot", "x": "')
        f.write(b"a" * MAX_SNAPSHOT_BYTES)
        f.write(b'"}')
    result = run_kstate("decode", inputs["memfd"][0], "--schema", "snap.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("snap.json:1:1: error[FILE_TOO_LARGE]:"), result.stderr


@pytest.mark.parametrize("text, code_, where", [
    ("{", "BAD_SNAPSHOT", "1:2"),
    ("[" * 100000 + "]" * 100000, "BAD_SNAPSHOT", "1:1"),
    ('{"format": "kstate-snapshot", "format_version": 1, "files": ' + "1" * 5000 + "}",
     "BAD_SNAPSHOT", "1:1"),
    ('{"format": "other"}', "BAD_SNAPSHOT", "1:12"),
    ('{"format": "kstate-snapshot", "format_version": 2}', "BAD_SNAPSHOT", "1:49"),
    ('{"format": "kstate-snapshot", "format_version": 1}', "BAD_SNAPSHOT", "1:1"),
])
def test_broken_json_is_a_positioned_error(tmp_path, inputs, text, code_, where):
    (tmp_path / "snap.json").write_text(text)
    result = run_kstate("decode", inputs["memfd"][0], "--schema", "snap.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"snap.json:{where}: error[{code_}]:"), result.stderr[:300]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("change, path, code_", [
    (lambda d: state(d, "memfd").update(id=True), "$.states[9].id", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd").update(version=3.0), "$.states[9].version", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd").pop("version"), "$.states[9]", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd").update(extra=1), "$.states[9].extra", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd").update(id=state(d, "pci")["id"]), "$.states[10].id", "DUPLICATE_ID"),
    (lambda d: member(d, "kvm_vm_ser", "nr_vcpus").update(range=[0, 1 << 40]),
     "$.states[8].members[2].range", "BAD_ANNOTATION"),
    (lambda d: member(d, "memfd", "pos").update(since=99), "$.states[9].members[0].since", "BAD_SINCE"),
    (lambda d: member(d, "memfd", "pos")["type"].update(name="nope"), "$.states[9].members[0].type.name",
     "UNKNOWN_NAME"),
    (lambda d: member(d, "memfd", "pos").update(size=99), "$.states[9].members[0].size", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd")["layouts"][0]["fields"].append("zz"), "$.states[9].layouts[0].fields",
     "BAD_SNAPSHOT"),
    (lambda d: member(d, "memfd", "pos").update(name="p" * 256), "$.states[9].members[0].name",
     "BAD_SNAPSHOT"),
    (lambda d: _rename(d, "memfd", "pos", "int"), "$.states[9].members[0].name", "RESERVED_NAME"),
    (lambda d: d["files"][0].update(path="/etc/passwd.kstate"), "$.files[0].path", "BAD_SNAPSHOT"),
    (lambda d: d["files"][0].update(path="../up.kstate"), "$.files[0].path", "BAD_SNAPSHOT"),
    (lambda d: d["files"][0].update(path=[]), "$.files[0].path", "BAD_SNAPSHOT"),  # was a TypeError
    (lambda d: d["files"][0].update(display={}), "$.files[0].display", "BAD_SNAPSHOT"),
    (lambda d: state(d, "memfd").update(doc=["x"]), "$.states[9].doc", "BAD_SNAPSHOT"),
    (lambda d: d["constants"][0].update(expr="__import__('os')"), "$.constants[0].expr", "BAD_SNAPSHOT"),
])
def test_each_rule_is_a_positioned_error_naming_the_path(tmp_path, change, path, code_):
    doc = base()
    change(doc)
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(doc, indent=2))
    with pytest.raises(SchemaError) as err:
        kstate.load(snap)
    found = [(d.code, d.message.split(": ")[0]) for d in err.value.diagnostics]
    assert (code_, path) in found, err.value.render()
    assert all(d.span.file == str(snap) for d in err.value.diagnostics)


def test_valid_snapshot_loads_to_the_same_model():
    from kstate.snapshot import to_json

    ss = kstate.load(SNAPSHOT)
    assert to_json(ss) == SNAPSHOT.read_text()
    pos = ss.states["memfd"].field("pos").span
    assert (pos.file, pos.line) == ("memfd.kstate", member(base(), "memfd", "pos")["line"])
