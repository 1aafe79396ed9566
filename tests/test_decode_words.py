"""Decode messages a person can act on: with the wrong --schema, UNKNOWN_STATE
says which state ids the stream names and which the schema set knows."""

from __future__ import annotations

import json

from conftest import ROOT, run_kstate


def test_unknown_state_lists_the_stream_ids_and_the_known_ones(tmp_path):
    r = run_kstate("decode", ROOT / "examples" / "memfd.bin", "--schema",
                   ROOT / "schemas" / "kstate_test.kstate", cwd=tmp_path)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    (diag,) = [d for d in doc["diagnostics"] if d["code"] == "UNKNOWN_STATE"]
    assert diag["offset"] == 4
    assert diag["message"] == (
        "expected a state_id of this schema set, found 16; the stream's entries name state_id 3, 4, 16, "
        "the schema set knows 3 (test), 4 (test_v2) "
        "(is --schema the schemas of the kernel that wrote the stream?)")
