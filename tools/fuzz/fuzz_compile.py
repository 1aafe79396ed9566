#!/usr/bin/env python3
"""Coverage-guided fuzzing of the compiler front end (schema text -> model).

    pip install atheris
    mkdir -p /tmp/corpus && python tools/fuzz/fuzz_compile.py /tmp/corpus tools/fuzz/seeds/schema -max_total_time=600

(new inputs go to the first folder; the seeds folder stays as committed)

Any exception other than kstate's own errors is a crash.  Each input is
written to a file in a RAM-backed folder and compiled with every backend,
as ``kstate compile`` would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import kstate
    import kstate.build
    import kstate.expr
    import kstate.loader
    import kstate.parser
    import kstate.sides
    import kstate.snapshot
    from kstate.backends import available
    from kstate.errors import KstateError
    from kstate.output import languages, render_all

    available()  # imports (and so instruments) every backend

WORK = Path(tempfile.mkdtemp(prefix="kstate-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
LANGS = None


def test_one(data: bytes) -> None:
    global LANGS
    if LANGS is None:
        LANGS = languages(None)
    path = WORK / "fuzz.kstate"
    path.write_bytes(data)
    try:
        schema_set = kstate.load(path)
    except KstateError:
        return
    render_all(schema_set, LANGS)


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
