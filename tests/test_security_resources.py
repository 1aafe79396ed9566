"""Resource exhaustion from small inputs (issue 17.7): each is a fast, clear
error instead of minutes or gigabytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT, run_kstate

STATE = "state s {\n    id = 1;\n    version = 1;\n    x: u8;\n}\n"


def test_multiplying_constants_cannot_build_huge_integers(tmp_path):
    lines = ["const A = 1 << 4096;", "const B0 = A * A;"]
    lines += [f"const B{i} = B{i - 1} * B{i - 1};" for i in range(1, 30)]
    (tmp_path / "mul.kstate").write_text("\n".join(lines) + "\n" + STATE)
    proc = run_kstate("compile", "mul.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("mul.kstate:2:14: error[LIMIT_EXCEEDED]: the value of this expression has "
                                  "8193 bits; kstate computes with at most 8192-bit integers")
    assert proc.stderr.count("error[") == 1  # the constants built on B0 are not reported again


def test_big_values_up_to_the_limit_still_work(tmp_path):
    (tmp_path / "ok.kstate").write_text("const A = (1 << 4096) * (1 << 4095);\nconst B = A / A;\n"
                                        "state s {\n    id = B;\n    version = 1;\n    x: u8;\n}\n")
    proc = run_kstate("compile", "ok.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def sides(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "a.kstate").write_text(STATE)
    return str(tmp_path / "a.kstate"), str(tmp_path / "a.kstate")


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_waivers_are_read_only_from_a_regular_file(tmp_path, sides, special):
    path = {"fifo": str(tmp_path / "w.toml"), "folder": str(tmp_path), "/dev/zero": "/dev/zero"}[special]
    if special == "fifo":
        os.mkfifo(path)  # no writer: a blocking open would hang forever
    proc = run_kstate("check", *sides, "--waivers", path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"kstate: error: {path}: ")
    assert ("is a folder" if special == "folder" else "not a regular file") in proc.stderr


def test_waiver_file_size_is_bounded(tmp_path, sides):
    big = tmp_path / "w.toml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n")
    proc = run_kstate("check", *sides, "--waivers", str(big))
    assert proc.returncode == 2
    assert "larger than 1048576 bytes, the most kstate reads for a waiver file" in proc.stderr


@pytest.mark.parametrize("argv", [
    ["check", "FIFO.json", "schemas"],
    ["decode", "FIFO.bin", "--schema", "schemas"],
    ["encode", "FIFO.json", "--schema", "schemas"],
    ["compile", "FIFO.kstate", "-o", "out"],
])
def test_no_input_file_may_be_a_fifo(tmp_path, argv):
    for a in argv:
        if a.startswith("FIFO"):
            os.mkfifo(tmp_path / a)
    os.symlink(ROOT / "schemas", tmp_path / "schemas")
    proc = run_kstate(*argv, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "FIFO" in proc.stderr and "not a regular file" in proc.stderr
