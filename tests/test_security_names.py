"""File and folder names (issues 16 and 17.4): a schema path below the root
is refused unless every part is ASCII letters, digits, ``_`` and ``-`` (not
first); every accepted name gives C that gcc compiles (include lines,
guards, macros) and Python modules that import."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_kstate
from kstate.names import c_file_ident

STATE = "state {name} {{\n    id = {id};\n    version = 1;\n    x: u8;\n}}\n"


@pytest.mark.parametrize("name", ['b".kstate', 'a"""b.kstate', "a\\N{x}.kstate", "a.b.kstate", "é.kstate",
                                  "a b.kstate", "-a.kstate", ".hidden.kstate", "a:b.kstate", "a$b.kstate",
                                  "a*/\n#define X 1\n#error injected\n/c.kstate", "__init__.kstate",
                                  "kstate_rt.kstate", "x/__init__.kstate"])
def test_unsafe_names_are_refused_with_a_position(tmp_path, name):
    root = tmp_path / "schemas"
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STATE.format(name="s", id=1))
    proc = run_kstate("compile", "schemas", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.endswith(":1:1: error[BAD_FILE_NAME]: " + first.split("error[BAD_FILE_NAME]: ")[1])
    assert "help: rename the file or folder" in proc.stderr
    assert "\n#define" not in proc.stderr and "\n#error" not in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("names", [("a-b.kstate", "a_b.kstate"), ("A.kstate", "a.kstate"),
                                   ("a/b.kstate", "a__b.kstate"), ("a.kstate", "a/b.kstate")])
def test_names_that_would_clash_in_generated_code_are_refused(tmp_path, names):
    root = tmp_path / "schemas"
    for i, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(STATE.format(name=f"s{i}", id=i + 1))
    proc = run_kstate("compile", "schemas", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert "error[FILE_NAME_CLASH]" in proc.stderr


def test_accepted_edge_names_compile_with_gcc_and_import(tmp_path):
    root = tmp_path / "schemas"
    names = ["1x.kstate", "my-schema.kstate", "import.kstate", "int.kstate", "sub-dir/9-z.kstate",
             "sub-dir/class.kstate", "_u.kstate"]
    for i, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(STATE.format(name=f"s{i}", id=i + 1))
    (root / "sub-dir" / "uses.kstate").write_text('import "../my-schema.kstate";\nimport "9-z.kstate";\n'
                                                   "state t {\n    id = 99;\n    version = 1;\n    a: s1;\n"
                                                   "    b: s4;\n}\n")
    out = tmp_path / "out"
    depfile = tmp_path / "deps.d"
    proc = run_kstate("compile", "schemas", "-o", "out", "--depfile", str(depfile), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    headers = sorted((out / "c").rglob("*.h"))
    assert len(headers) == len(names) + 2  # + uses.h + kstate_rt.h
    unit = tmp_path / "all.c"
    unit.write_text("".join(f'#include "{h.relative_to(out / "c").as_posix()}"\n' for h in headers * 2)
                    + "int main(void) { return 0; }\n")
    defines = [f"-DKSTATE_DEFINE_{c_file_ident(n[:-len('.kstate')])}" for n in names + ["sub-dir/uses.kstate"]]
    for mode in ([], ["-D__KERNEL__"], ["-D__KERNEL__", *defines]):
        for src in [unit, *headers]:  # all together (each twice), and each alone
            gcc = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", *mode,
                                  "-I", str(out / "c"), "-I", str(ROOT / "tests/c/include"), "-x", "c", str(src)],
                                 capture_output=True, text=True)
            assert gcc.returncode == 0, gcc.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        (out / "__init__.py").write_text("")
        pkg = importlib.import_module("out.python")
        codecs = pkg.codecs()
        blob = codecs.encode({"entries": [{"state": "t", "fields": {"a": {"fields": {"x": 1}},
                                                                     "b": {"fields": {"x": 2}}}}]})
        fields = codecs.decode(blob)["entries"][0]["fields"]
        assert (fields["a"]["fields"], fields["b"]["fields"]) == ({"x": 1}, {"x": 2})
        for name in names:  # every module imports by the name the package lists
            importlib.import_module("out.python." + name[: -len(".kstate")].replace("/", "."))
    finally:
        sys.path.remove(str(tmp_path))
        for mod in [m for m in sys.modules if m == "out" or m.startswith("out.")]:
            del sys.modules[mod]
    text = depfile.read_text()
    assert "schemas/sub-dir/9-z.kstate" in text and "out/c/my-schema.h" in text
    assert make_is_current(tmp_path, depfile, "out/c/1x.h")
    (root / "sub-dir" / "9-z.kstate").touch()
    os.utime(root / "sub-dir" / "9-z.kstate", (2 ** 31, 2 ** 31))
    assert not make_is_current(tmp_path, depfile, "out/c/1x.h")  # make read the input from the depfile


def make_is_current(cwd: Path, depfile: Path, target: str) -> bool:
    """``make -q TARGET`` with the depfile included: True when up to date."""
    (cwd / "Makefile").write_text(f"include {depfile}\n{target}:\n\ttrue\n")
    proc = subprocess.run(["make", "-q", "-f", "Makefile", target], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode == 0


def test_depfile_escapes_the_folders_above_the_root(tmp_path):
    odd = tmp_path / "we:ird $dir #1"
    (odd / "schemas").mkdir(parents=True)
    (odd / "schemas" / "a.kstate").write_text(STATE.format(name="s", id=1))
    proc = run_kstate("compile", "we:ird $dir #1/schemas", "-o", "out", "--depfile", "d.d", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "we\\:ird\\ $$dir\\ \\#1/schemas/a.kstate" in (tmp_path / "d.d").read_text()
    assert make_is_current(tmp_path, tmp_path / "d.d", "out/c/a.h")
    os.utime(odd / "schemas" / "a.kstate", (2 ** 31, 2 ** 31))
    assert not make_is_current(tmp_path, tmp_path / "d.d", "out/c/a.h")


def test_depfile_refuses_a_path_make_cannot_spell(tmp_path):
    odd = tmp_path / "we:ird\nplace"
    (odd / "schemas").mkdir(parents=True)
    (odd / "schemas" / "a.kstate").write_text(STATE.format(name="s", id=1))
    proc = run_kstate("compile", str(odd / "schemas"), "-o", str(tmp_path / "out"), "--depfile",
                      str(tmp_path / "d.d"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "cannot be written in a Make depfile" in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "d.d").exists()
