#!/usr/bin/env python3
"""The long run of tests/test_compilable.py's property (issue 16): random
schemas from ``kstate.testing.hostile_schema_texts`` -- ``schema_texts()``
plus hostile names (C, C23 and Python keywords, the runtime's and the
headers' names), doc comments with control and bidi characters, sizes and
bounds on both sides of every limit.  Whenever ``kstate compile`` exits 0,
every header must compile with ``gcc -std=gnu11 -Wall -Wextra -Werror`` in
userspace, kernel and kernel-tables mode (alone and together) and the Python
package must import; otherwise compile must exit 2 with a positioned error.

    python tools/fuzz/fuzz_compilable.py --seconds 600 [--seed 1]

Prints a line per failure (the schema is kept in the work folder) and a
summary: examples, accepted, refused, failures.
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kstate import names  # noqa: E402
from kstate.testing import examples, hostile_schema_texts  # noqa: E402

STANDIN = ROOT / "tests" / "c" / "include"
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
KERNEL = ["-D__KERNEL__", "-nostdinc", "-ffreestanding", "-I", str(STANDIN)]
NAMES = sorted(names.C_KEYWORDS | set(keyword.kwlist) | set(keyword.softkwlist) | names.SYSTEM_MACROS
               | names.SYSTEM_TYPES | names.SYSTEM_TAGS | names.GENERATED_WORDS | names.runtime_words()
               | {"__x", "_Y", "len", "x", "auto_"})


def problems(gen: Path) -> list[str]:
    out = []
    cdir = gen / "c"
    headers = sorted(p.relative_to(cdir).as_posix() for p in cdir.rglob("*.h"))
    defines = []
    for rel in headers:
        if rel == "kstate_rt.h":
            continue
        define = "KSTATE_DEFINE_" + re.sub(r"[^A-Za-z0-9_]", "_", rel[:-2].replace("/", "__")).upper()
        defines.append(f"-D{define}")
        src = gen / "one.c"
        src.write_text(f'#include "{rel}"\n#include "{rel}"\n')
        for mode, flags in (("user", []), ("kernel", KERNEL), ("tables", KERNEL + [f"-D{define}"])):
            res = subprocess.run(["gcc", *CFLAGS, *flags, "-I", str(cdir), str(src)], capture_output=True, text=True)
            if res.returncode:
                out.append(f"gcc {mode} {rel}: {res.stderr[-1500:]}")
    together = gen / "all.c"
    together.write_text("".join(f'#include "{h}"\n' for h in headers))
    for mode, flags in (("user", []), ("kernel", KERNEL + defines)):
        res = subprocess.run(["gcc", *CFLAGS, *flags, "-I", str(cdir), str(together)], capture_output=True, text=True)
        if res.returncode:
            out.append(f"gcc {mode} together: {res.stderr[-1500:]}")
    res = subprocess.run([sys.executable, "-c", "import python; python.codecs(); python.constructs()"], cwd=gen,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if res.returncode:
        out.append(f"import: {res.stderr[-1500:]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=50)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kstate-compilable-"))
    start = time.monotonic()
    n = accepted = refused = failed = 0
    seed = args.seed
    while time.monotonic() - start < args.seconds:
        for text in examples(hostile_schema_texts(NAMES), args.batch, seed):
            if time.monotonic() - start >= args.seconds:
                break
            case = work / f"case{n}"
            case.mkdir()
            (case / "t.kstate").write_text(text)
            res = subprocess.run([sys.executable, "-m", "kstate", "compile", "t.kstate", "-o", "gen"], cwd=case,
                                 capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
            n += 1
            if res.returncode == 0:
                accepted += 1
                found = problems(case / "gen")
            else:
                refused += 1
                found = [] if res.returncode == 2 and re.search(r"t\.kstate:\d+:\d+: error\[\w+\]", res.stderr) \
                    and "Traceback" not in res.stderr else [f"refused without a position: {res.stderr[-800:]}"]
            if found:
                failed += 1
                print(f"FAIL {case}/t.kstate\n  " + "\n  ".join(found), flush=True)
        seed += 1
    print(f"{n} examples in {time.monotonic() - start:.0f} s: {accepted} accepted (gcc x5 + import each), "
          f"{refused} refused with a position, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
