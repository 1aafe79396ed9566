#!/usr/bin/env python3
"""Differential fuzzing: the generated C reader (under ASan/UBSan) and the
Python decoder read the same mutated blobs and must agree.

Seeds are valid streams of every bundled state (``kstate.testing``, both
byte orders); each seed gives its prefixes, one-byte pokes and random
multi-byte mutations.  For every blob both readers run in strict mode and
the harness compares:

* accept/reject;
* the first error's code and the entry it is in (the C reader reports
  errors per entry).  The C reader reads entries one at a time and leaves
  set-level questions to its caller, so when Python's first problem is
  ``UNKNOWN_STATE``, ``RETIRED_STATE``, ``UNKNOWN_SUBSECTION``,
  ``DUPLICATE_INSTANCE`` or ``LIMIT_EXCEEDED`` the C reader must only not
  fail before that entry;
* any sanitizer report is a failure.

    python tools/fuzz/diff_c_python.py [--seeds N] [--mutations N] [--seed S]

Prints the executions and every disagreement (first 20), exit 1 on any.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import kstate  # noqa: E402
from kstate import testing  # noqa: E402
from kstate.backends import c as c_backend  # noqa: E402

PAYLOAD_LEVEL = {"COUNT_OUT_OF_RANGE", "BAD_VALUE", "UNCONSUMED_BYTES", "BAD_NESTED_STATE"}
SET_LEVEL = {"UNKNOWN_STATE", "RETIRED_STATE", "UNKNOWN_SUBSECTION", "DUPLICATE_INSTANCE",
             "LIMIT_EXCEEDED"}


def _entry_at(doc: dict, offset: int) -> int:
    """The offset of the stream entry (a SECTION or SUBSECTION header) that
    holds byte ``offset``; the offset itself when no entry does."""
    best = None
    for e in doc["entries"]:
        for x in [e, *e.get("subsections", [])]:
            end = x["offset"] + 20 + max(0, x["size"] if isinstance(x["size"], int) else 0)
            # inclusive end: a field that does not fit in a short entry starts at its end
            if x["offset"] <= offset <= end and (best is None or x["offset"] > best):
                best = x["offset"]
    return offset if best is None else best


def python_first(ss, blob: bytes) -> tuple[str, int] | None:
    """The first error's code and the offset of the entry it is in."""
    doc = ss.decode(blob)
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    if not errors:
        return None
    d = errors[0]
    # header problems already point at their header; problems inside a
    # payload point at a field: compare the entry holding it
    inside = "." in d["path"] or d["code"] in PAYLOAD_LEVEL
    return d["code"], _entry_at(doc, d["offset"]) if inside else d["offset"]


def c_first(exe: Path, path: Path) -> tuple[str, int] | None:
    from c import ksharness as kh
    out = kh.run(exe, "diff", str(path)).strip()
    if out == "ok":
        return None
    code, at = out.split()[1:]
    return code, int(at.split("=")[1])


def agree(py, c) -> bool:
    """Both accept; or both name the same first problem in the same entry.
    A set-level problem (which the C reader leaves to its caller) agrees
    with a C reader that did not fail before that entry: at that entry the C
    reader can only fail on a check that comes later in the order."""
    if py is not None and py[0] in SET_LEVEL:
        return c is None or c[1] >= py[1]
    return py == c


def mutations(rng: random.Random, seed: bytes, n: int):
    for k in range(0, len(seed) + 1, max(1, len(seed) // 24)):
        yield seed[:k]
    for _ in range(n):
        b = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            if not b:
                break
            i = rng.randrange(len(b))
            choice = rng.random()
            if choice < 0.5:
                b[i] = rng.choice([0, 1, 2, 0x7f, 0x80, 0xff, rng.randrange(256)])
            elif choice < 0.7:
                del b[i:i + rng.randint(1, 8)]
            elif choice < 0.85:
                b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:  # an i32 of the header words: sizes, ids, versions
                j = i - i % 4
                b[j:j + 4] = rng.choice([-1, 0, 1, 2, 3, 0x7fffffff, -2, len(b)]).to_bytes(
                    4, "little", signed=True)
        yield bytes(b)


def run(seeds: int, per_seed: int, seed: int, schemas: Path = ROOT / "schemas") -> tuple[int, list]:
    from c import ksharness as kh
    ss = kstate.load(schemas)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        gen = tmp / "gen"
        for rel, text in c_backend.render(ss).items():
            (gen / rel).parent.mkdir(parents=True, exist_ok=True)
            (gen / rel).write_text(text)
        exe = kh.build_harness(ss, gen / "c", tmp / "harness")
        docs = testing.examples(testing.documents(ss), seeds, seed)
        execs, bad = 0, []
        blob_path = tmp / "b.bin"
        for i, doc in enumerate(docs):
            for bo in ("little", "big"):
                base = ss.encode(doc, byteorder=bo)
                for blob in mutations(rng, base, per_seed):
                    blob_path.write_bytes(blob)
                    py = python_first(ss, blob)
                    c = c_first(exe, blob_path)
                    execs += 1
                    if not agree(py, c):
                        bad.append((py, c, blob.hex()))
    return execs, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--mutations", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    execs, bad = run(a.seeds, a.mutations, a.seed)
    print(f"{execs} blobs, {len(bad)} disagreements")
    for py, c, hx in bad[:20]:
        print(f"  python {py} / C {c}: {hx[:160]}")
    print(Counter((py, c) for py, c, _ in bad).most_common(10))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
