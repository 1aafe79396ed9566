"""What the command line imports: `kstate --help` only the table of commands,
`kstate decode` only what decoding needs (no jinja2, no C backend, no
checker, no construct source generator, no encoder).  Each case runs the
real CLI in a fresh interpreter and looks at ``sys.modules`` after the run;
no timing (tools/bench_startup.py measures the time)."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys

import kstate.cli
from conftest import ROOT

# runs the CLI, then writes the exit code and the imported module names to the file argv[1]
_PROBE = """
import json, sys
from kstate.cli import run
code = run(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _probe(tmp_path, *args):
    out = tmp_path / "probe.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", _PROBE, str(out), *map(str, args)], cwd=tmp_path,
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    probe = json.loads(out.read_text())
    return probe["code"], set(probe["modules"]), res


def _ours(modules):
    return {m for m in modules if m == "kstate" or m.startswith("kstate.")}


def test_the_table_names_every_command_module():
    modules = sorted(i.name[len("cmd_"):] for i in pkgutil.iter_modules(kstate.cli.__path__)
                     if i.name.startswith("cmd_"))
    assert list(kstate.cli.COMMANDS) == modules  # every module listed, alphabetically, none invented
    assert all(text and "\n" not in text for text in kstate.cli.COMMANDS.values())


def test_help_imports_no_command(tmp_path):
    code, modules, res = _probe(tmp_path, "--help")
    assert code == 0
    words = " ".join(res.stdout.split())
    for name, text in kstate.cli.COMMANDS.items():
        assert f" {name} {text} " in words
    assert _ours(modules) == {"kstate", "kstate.cli"}
    assert "dataclasses" not in modules  # not even kstate.errors


def test_decode_help_imports_only_the_decode_command(tmp_path):
    code, modules, res = _probe(tmp_path, "decode", "--help")
    assert code == 0
    assert res.stdout.startswith("usage: kstate decode [-h] [--debug] [--schema PATH]")
    assert "Decode a KSTATE stream (a blob dumped from a kernel) with the schemas." in res.stdout
    assert _ours(modules) == {"kstate", "kstate.cli", "kstate.cli.cmd_decode"}


def test_decode_imports_only_what_decoding_needs(tmp_path):
    out = tmp_path / "out.json"
    code, modules, res = _probe(tmp_path, "decode", ROOT / "examples" / "memfd.bin",
                                "--schema", ROOT / "schemas" / "memfd.kstate",
                                "--schema", ROOT / "schemas" / "kstate_test.kstate", "-o", out)
    assert code == 0, res.stderr
    assert json.loads(out.read_text()) == json.loads((ROOT / "examples" / "memfd.decoded.json").read_text())
    assert "kstate.codec.decoder" in modules and "kstate.cli.cmd_decode" in modules
    unwanted = {m for m in modules if m.split(".")[0] in ("jinja2", "markupsafe")
                or m.startswith(("kstate.backends", "kstate.checker", "kstate.cli.cmd_"))}
    unwanted |= modules & {"kstate.templating", "kstate.output", "kstate.matrix", "kstate.diagnostic_formats",
                           "kstate.codec.construct_source", "kstate.codec.encoder",
                           "kstate.codec.encoder_compiler", "kstate.codec.packer"}
    assert unwanted == {"kstate.cli.cmd_decode"}


def test_a_usage_error_still_names_the_command_options(tmp_path):
    code, modules, res = _probe(tmp_path, "decode", "x", "--instance", "q")
    assert code == 2
    assert res.stderr.splitlines()[-1] == ("kstate decode: error: argument --instance: expected an instance_id "
                                           "(an integer), found 'q'")
    code, modules, res = _probe(tmp_path, "bogus")
    assert code == 2
    assert "invalid choice: 'bogus' (choose from " + ", ".join(f"'{c}'" for c in kstate.cli.COMMANDS) + ")" \
        in res.stderr
    assert not any(m.startswith("kstate.cli.cmd_") for m in modules)
