"""Imports read only schema files inside the schema root (issue 17.3), and
an error about a file that is not a schema shows none of its content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import run_kstate

SECRET = "KSTATE_TEST_SECRET=hunter2-do-not-print"
STATE = "state s {\n    id = 1;\n    version = 1;\n    x: u8;\n}\n"


def compile_(tmp_path: Path, *paths: str):
    return run_kstate("compile", *paths, "-o", str(tmp_path / "out"), cwd=tmp_path)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.kstate"
    secret.write_text(SECRET + "\n")  # a syntax error if it were parsed
    return secret


@pytest.mark.parametrize("target", ["/proc/self/environ", "/etc/passwd", "ABSOLUTE_SECRET",
                                    "../outside/secret.kstate", "sub/../../outside/secret.kstate"])
def test_imports_outside_the_root_are_refused_without_reading(tmp_path, secret_file, target):
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "sub").mkdir()
    target = str(secret_file) if target == "ABSOLUTE_SECRET" else target
    (root / "a.kstate").write_text(f'import "{target}";\n' + STATE)
    proc = compile_(tmp_path, "schemas")
    assert proc.returncode == 2
    assert SECRET not in proc.stderr + proc.stdout
    assert "PATH=" not in proc.stderr  # nothing of the environment
    code = "BAD_IMPORT" if target.startswith("/") or not target.endswith(".kstate") else "IMPORT_OUTSIDE_ROOT"
    assert f"schemas/a.kstate:1:8: error[{code}]" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_a_symlinked_schema_or_import_pointing_outside_is_refused(tmp_path, secret_file):
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "a.kstate").write_text('import "link.kstate";\n' + STATE)
    os.symlink(secret_file, root / "link.kstate")
    proc = compile_(tmp_path, "schemas")  # found by the folder scan
    assert proc.returncode == 2
    assert SECRET not in proc.stderr
    assert "schemas/link.kstate: a symbolic link to a file outside the schema folder" in proc.stderr
    # imported, with the file named: the root is the working directory
    proc = run_kstate("compile", "a.kstate", "-o", str(tmp_path / "out2"), cwd=root)
    assert proc.returncode == 2
    assert "a.kstate:1:8: error[IMPORT_OUTSIDE_ROOT]" in proc.stderr
    assert SECRET not in proc.stderr
    os.symlink("/proc/self/environ", root / "env.kstate")
    (root / "a.kstate").write_text('import "env.kstate";\n' + STATE)
    proc = run_kstate("compile", "a.kstate", "-o", str(tmp_path / "out2"), cwd=root)
    assert proc.returncode == 2
    assert "IMPORT_OUTSIDE_ROOT" in proc.stderr and "PATH=" not in proc.stderr


def test_imports_inside_the_root_still_climb(tmp_path):
    root = tmp_path / "schemas"
    (root / "kvm").mkdir(parents=True)
    (root / "base.kstate").write_text("const N = 4;\n")
    (root / "kvm" / "vm.kstate").write_text('import "../base.kstate";\n' + STATE.replace("u8", "u8[N]"))
    assert compile_(tmp_path, "schemas").returncode == 0
    assert compile_(tmp_path, "schemas/kvm/vm.kstate").returncode == 0
    proc = compile_(tmp_path, "schemas/kvm")  # the folder given is the root
    assert proc.returncode == 2
    assert "schemas/kvm/vm.kstate:1:8: error[IMPORT_OUTSIDE_ROOT]" in proc.stderr
    assert "help: give kstate the folder that holds both files" in proc.stderr


@pytest.mark.parametrize("content", [b"\xff\xfe" + SECRET.encode() + b"\n",
                                     b"\n\n" + SECRET.encode() + b"\x80\n"])
def test_a_non_text_schema_file_is_named_not_shown(tmp_path, content):
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "a.kstate").write_text('import "b.kstate";\n' + STATE)
    (root / "b.kstate").write_bytes(content)
    proc = compile_(tmp_path, "schemas")
    assert proc.returncode == 2
    assert "error[BAD_ENCODING]" in proc.stderr
    assert "hunter2" not in proc.stderr


def test_an_unreadable_import_is_named_not_shown(tmp_path):
    root = tmp_path / "schemas"
    root.mkdir()
    (root / "a.kstate").write_text('import "fifo.kstate";\n' + STATE)
    os.mkfifo(root / "fifo.kstate")
    proc = run_kstate("compile", "a.kstate", "-o", str(tmp_path / "out"), cwd=root)  # must not hang
    assert proc.returncode == 2
    assert "a.kstate:1:8: error[" in proc.stderr
