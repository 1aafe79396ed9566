#!/usr/bin/env python3
"""Benchmark the kstate command line's startup against bare ``python -c pass``.

Each row runs a fresh interpreter that calls the ``kstate`` entry point
(``kstate.cli:main``, what the installed ``kstate`` script runs) and measures
its CPU time (user + system, from ``wait4``), paired with a ``python -c pass``
run of the same interpreter and environment, alternating which goes first.
The script prints the median CPU time of each, and the median and range of
the pairs' ratios.  Goal: ``kstate --help`` <= 3x bare Python.  Rows:
``--help``; ``decode --help``; ``decode`` of a small blob
(examples/memfd.bin, 170 bytes, with the two schemas it needs, output to
/dev/null); ``compile --help`` (it lists the backends, so it imports them).

    python tools/bench_startup.py [--pairs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import interleaved, ratio_row  # noqa: E402

ENTRY = "import sys; from kstate.cli import main; sys.exit(main())"
ROWS = [
    ("kstate --help", ["--help"]),
    ("kstate decode --help", ["decode", "--help"]),
    ("kstate decode (170-byte blob)", ["decode", str(ROOT / "examples" / "memfd.bin"),
                                       "--schema", str(ROOT / "schemas" / "memfd.kstate"),
                                       "--schema", str(ROOT / "schemas" / "kstate_test.kstate")]),
    ("kstate compile --help", ["compile", "--help"]),
]


def cpu_of(argv: list[str], env: dict) -> float:
    """CPU seconds (user + system) of one run of ``argv``, which must succeed."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}\n{err.decode(errors='replace')}")
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=21, help="interleaved pairs per row (default 21)")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    bare = [sys.executable, "-c", "pass"]
    print(f"{'command':<32} {'kstate ms':>10} {'bare ms':>10} {'ratio':>6} {'range':>11}")
    for label, cli_args in ROWS:
        cmd = [sys.executable, "-c", ENTRY, *cli_args]
        # each side returns the CPU time of its child process
        t = interleaved(lambda: cpu_of(cmd, env), lambda: cpu_of(bare, env), args.pairs, timed=lambda run: run())
        print(ratio_row(label, t, 32, 1))
    print("goal: kstate --help <= 3x bare python -c pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
