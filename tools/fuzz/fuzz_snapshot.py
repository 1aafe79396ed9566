#!/usr/bin/env python3
"""Coverage-guided fuzzing of snapshot sides (snapshot JSON -> every command).

    pip install atheris
    mkdir -p /tmp/corpus-snap
    python tools/fuzz/fuzz_snapshot.py /tmp/corpus-snap tools/fuzz/seeds/snapshot \\
        -max_total_time=600 -timeout=10 -rss_limit_mb=1024 -max_len=4096

(new inputs go to the first folder; the seeds folder stays as committed)

An input that parses as JSON is used as the snapshot as it is.  Any other
input drives ``kstate.testing.mutate_snapshot`` of the snapshot of
``tests/fixtures/codec/features.kstate`` (atheris' data provider picks the
place, the edit and the value: wrong types, edges of every limit, missing
and extra keys, duplicated and swapped elements, 100,000-deep nesting, cut
text).  Each snapshot goes through ``decode --schema`` (strict and
lenient), ``encode --schema``, ``check`` (as old and as new side),
``sample`` and ``matrix``, in process; a snapshot that ``kstate.load``
refuses (every diagnostic positioned in it) goes through ``decode`` only.
Only exit 0, 1 or 2 may come out;
an internal error, a traceback, or a code that runs (the marker file the
hostile values try to create, ``kstate-PWNED``) is a crash; ``-timeout`` and
``-rss_limit_mb`` catch hangs and memory blow-ups.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "tests" / "fixtures" / "codec" / "features.kstate"
BLOB = ROOT / "tools" / "fuzz" / "seeds" / "blob" / "fx-feat.bin"
DOC = ROOT / "tools" / "fuzz" / "seeds" / "json" / "fx-feat.json"

import construct  # noqa: E402,F401 - third-party code is not instrumented (imported first)
import hypothesis  # noqa: E402,F401
import lark  # noqa: E402,F401

with atheris.instrument_imports(include=["kstate"]):
    import kstate
    import kstate.build
    import kstate.snapshot
    import kstate.snapshot_read
    import kstate.codec.compiler
    import kstate.codec.construct_source
    from kstate.cli import run
    from kstate.errors import SchemaError
    from kstate.testing import mutate_snapshot

BASE = json.loads(kstate.snapshot.to_json(kstate.load(FEATURES)))
WORK = Path(tempfile.mkdtemp(prefix="kstate-fuzz-snapshot-"))
MARKER = WORK / "kstate-PWNED"  # what the hostile values of kstate.testing try to create
SNAP = WORK / "snap.json"
COMMANDS = [["decode", str(BLOB), "--schema", str(SNAP)],
            ["decode", str(BLOB), "--schema", str(SNAP), "--lenient", "--format", "text"],
            ["encode", str(DOC), "--schema", str(SNAP), "-o", str(WORK / "x.bin")],
            ["check", str(SNAP), str(FEATURES)],
            ["check", str(FEATURES), str(SNAP), "--format", "json"],
            ["sample", str(SNAP), "--state", "feat", "-o", str(WORK / "y.bin")],
            ["matrix", str(FEATURES), str(SNAP)]]
STATS = {"inputs": 0, "loaded": 0}


def test_one(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
        json.loads(text)
    except (ValueError, RecursionError):  # not JSON: mutate the base snapshot
        fdp = atheris.FuzzedDataProvider(data)
        text = mutate_snapshot(BASE, lambda n: fdp.ConsumeIntInRange(0, n - 1))
    SNAP.write_text(text)
    STATS["inputs"] += 1
    try:
        kstate.load(SNAP)
        commands = COMMANDS
    except SchemaError as err:  # refused: positioned, and one command shows the CLI does the same
        assert all(d.span and d.span.file == str(SNAP) for d in err.diagnostics), err.render()
        commands = COMMANDS[:1]
    for argv in commands:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(argv)
        e = err.getvalue()
        assert code in (0, 1, 2), (argv, code, e)
        assert "internal error" not in e and "Traceback" not in e, (argv, e)
        assert not MARKER.exists(), ("code ran", argv)
        STATS["loaded"] += argv[0] == "matrix" and code == 0
    if STATS["inputs"] % 1000 == 0:
        print(f"#{STATS['inputs']} inputs, {STATS['loaded']} loaded", file=sys.stderr)


def main() -> None:
    # corpus folders as absolute paths: the commands run in WORK (where the marker would appear)
    argv = [sys.argv[0]] + [a if a.startswith("-") else str(Path(a).resolve()) for a in sys.argv[1:]]
    os.chdir(WORK)
    atheris.Setup(argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
