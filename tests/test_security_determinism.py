"""Deterministic output with every available backend: compiling schemas/
(and the attack fixture, whose texts hold quotes, braces and non-ASCII)
under several PYTHONHASHSEED values gives byte-identical files
(tests/test_compile_cli.py checks json and docs only)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kstate.output import languages

ROOT = Path(__file__).resolve().parent.parent


def test_every_backend_is_deterministic_across_hash_seeds(tmp_path):
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copy(ROOT / "tests" / "fixtures" / "attack" / "attack.kstate", tmp_path / "schemas" / "attack.kstate")
    langs = ",".join(languages(None))
    outputs = []
    for seed in ("0", "1", "4242", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = tmp_path / f"out-{seed}"
        res = subprocess.run([sys.executable, "-m", "kstate", "compile", "schemas", "--lang", langs,
                              "-o", str(out.relative_to(tmp_path))], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        outputs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert {p.parts[0] for p in outputs[0]} >= {"python", "docs", "kstate-snapshot.json"}
    for other in outputs[1:]:
        assert other.keys() == outputs[0].keys()
        for path, data in other.items():
            assert data == outputs[0][path], path
