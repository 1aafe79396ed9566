"""docs/tour.md's commands work when pasted into a shell on a fresh clone."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

TOUR = ROOT / "docs" / "tour.md"


def blocks():
    return re.findall(r"```sh\n(.*?)```", TOUR.read_text(), re.S)


def test_the_tour_runs_in_a_fresh_copy(tmp_path):
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    if shutil.which("kstate", path=env["PATH"]) is None:  # not installed: run from the checkout
        shim = tmp_path / "bin"
        shim.mkdir()
        (shim / "kstate").write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m kstate "$@"\n')
        (shim / "kstate").chmod(0o755)
        env["PATH"] = str(shim) + os.pathsep + env["PATH"]
    outputs = []
    for i, block in enumerate(blocks()):
        res = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert res.returncode == 0, f"block {i}:\n{block}\n{res.stdout}\n{res.stderr}"
        assert "Traceback" not in res.stderr
        outputs.append(res.stdout + res.stderr)
    text = "\n".join(outputs)
    assert "counter.h" in text and "counter.py" in text
    assert "memfd[7]: section memfd (id 16) version 3 instance 7" in text
    assert "memfd[7].seals memfd_seals = SEAL|GROW" in text
    assert "error[TRUNCATED]" in text and "exit code 1" in text
    assert "error[FIELD_DROPPED]" in text
    assert "counter-v1-0.bin" in text
    assert (tmp_path / "memfd-again.bin").read_bytes() == (ROOT / "examples/memfd.bin").read_bytes()


def test_the_example_blob_and_its_decoded_form_agree():
    res = subprocess.run([sys.executable, "-m", "kstate", "decode", "examples/memfd.bin"], cwd=ROOT,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0
    assert res.stdout == (ROOT / "examples/memfd.decoded.json").read_text()
