#!/usr/bin/env python3
"""Coverage-guided fuzzing of the stream decoder and its renderers.

    pip install atheris
    mkdir -p /tmp/corpus-blob && python tools/fuzz/fuzz_decode.py /tmp/corpus-blob tools/fuzz/seeds/blob -max_total_time=600

(new inputs go to the first folder; the seeds folder stays as committed)

Each input is a blob.  It is decoded, strict and lenient, with two schema
sets (the project's ``schemas/`` and the codec test fixtures, which have
nested states, bits groups, shared counts and a retired state), and each
document is rendered as JSON, ``text`` and ``hexdump``.  Any exception is a
crash; so is a broken invariant of wire-format.md:

* diagnostics have a code, a severity and an offset inside the stream;
* strict mode stops at the first error;
* a blob that decodes with no diagnostic at all encodes back to the same
  bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]

with atheris.instrument_imports():
    import kstate
    import kstate.codec
    import kstate.codec.compiler
    import kstate.codec.decoder
    import kstate.codec.encoder
    import kstate.codec.records
    import kstate.codec.render
    import kstate.codec.values
    from kstate.codec import codecs_for, decode, encode
    from kstate.codec.render import hexdump, text

CODECS = [codecs_for(kstate.load(ROOT / "schemas")),
          codecs_for(kstate.load(ROOT / "tests" / "fixtures" / "codec"))]
SEVERITIES = {"error", "warning", "info"}


def check_doc(codecs, data: bytes, doc: dict, lenient: bool) -> None:
    assert doc["size"] == len(data)
    errors = 0
    for d in doc["diagnostics"]:
        assert set(d) == {"code", "severity", "offset", "path", "message"}, d
        assert d["severity"] in SEVERITIES, d
        assert 0 <= d["offset"] <= len(data), d
        assert "\n" not in d["message"], d
        errors += d["severity"] == "error"
    if not lenient:
        assert errors <= 1, doc["diagnostics"]
    json.dumps(doc)
    text(codecs, doc)
    hexdump(codecs, doc, data)
    if not doc["diagnostics"]:
        again = encode(codecs, doc)
        assert again == data, (again.hex(), data.hex())


def test_one(data: bytes) -> None:
    for codecs in CODECS:
        for lenient in (False, True):
            doc = decode(codecs, data, lenient=lenient)
            check_doc(codecs, data, doc, lenient)


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
