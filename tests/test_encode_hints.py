"""`kstate encode`: a misspelt JSON key, state, enum or flag name gets the
nearest known one as a `help:` line under the error (exit 1, nothing
written), and the document with the suggestion applied encodes."""

from __future__ import annotations

import json

import pytest

from kstate.cli import run

SCHEMA = """\
enum irq_mode : u8 { INTX = 0, MSI = 1, MSIX = 2 }
flags memfd_seals : u32 { SEAL = 1, SHRINK = 2, GROW = 4, WRITE = 8 }
state ring { id = 3; version = 1; head: u32; }
state memfd_ext { id = 2; version = 1; pages: u32; }
state memfd {
    id = 1;
    version = 1;
    size: u64;
    mode: irq_mode;
    seals: memfd_seals;
    r: ring;
    subsection memfd_ext;
}
"""

GOOD = {"entries": [{"state": "memfd", "instance_id": 7,
                     "fields": {"size": 4096, "mode": "MSI", "seals": ["SEAL", "GROW"],
                                "r": {"state": "ring", "fields": {"head": 3}}},
                     "subsections": [{"state": "memfd_ext", "instance_id": 7, "fields": {"pages": 1}}]}]}

# (what to misspell, into what, the error line, the help line)
CASES = [
    ('"size"', '"sise"', "entries[0].fields.sise: unexpected field (not in this layout)",
     "did you mean 'size'?"),
    ('"state": "memfd"', '"state": "memdf"', "entries[0].state: unknown state 'memdf'", "did you mean 'memfd'?"),
    ('"GROW"', '"GROWW"', "entries[0].fields.seals[1]: unknown flag 'GROWW' of memfd_seals "
     "(SEAL, SHRINK, GROW, WRITE)", "did you mean 'GROW'?"),
    ('"MSI"', '"MIS"', "entries[0].fields.mode: unknown name 'MIS' of enum irq_mode (INTX, MSI, MSIX)",
     "did you mean 'MSI'?"),
    ('"memfd", "instance_id"', '"memfd", "instanceid"', "entries[0].instanceid: unexpected key in an entry",
     "did you mean 'instance_id'?"),
    ('"head"', '"haed"', "entries[0].fields.r.fields.haed: unexpected field (not in this layout)",
     "did you mean 'head'?"),
    ('"state": "ring", "fields"', '"state": "ring", "feilds"', "entries[0].fields.r.feilds: unexpected key in a "
     "nested state", "did you mean 'fields'?"),
    ('"state": "memfd_ext"', '"state": "memfd_xt"', "entries[0].subsections[0].state: unknown state 'memfd_xt'",
     "did you mean 'memfd_ext'?"),
    ('{"entries"', '{"entires"', "entries: expected a list of entries", "rename 'entires' to 'entries'"),
]


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "memfd.kstate").write_text(SCHEMA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def encode(project, text: str, capsys) -> tuple[int, str]:
    (project / "doc.json").write_text(text)
    rc = run(["encode", "doc.json", "-o", "out.bin"])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("good,bad,message,help_", CASES, ids=[c[1] for c in CASES])
def test_a_misspelt_name_gets_the_nearest_one_and_the_fix_encodes(project, capsys, good, bad, message, help_):
    text = json.dumps(GOOD)
    assert text.count(good) == 1
    rc, err = encode(project, text.replace(good, bad), capsys)
    assert rc == 1
    assert err == f"kstate: error: {message}\n    help: {help_}\n"
    assert not (project / "out.bin").exists()  # a failed run writes nothing

    rc, err = encode(project, text, capsys)  # the suggestion applied
    assert (rc, err) == (0, "")
    run(["decode", "out.bin", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["entries"][0]["fields"]["seals"] == ["SEAL", "GROW"]
    assert doc["entries"][0]["subsections"][0]["fields"] == {"pages": 1}


def test_nothing_close_means_no_help(project, capsys):
    rc, err = encode(project, json.dumps(GOOD).replace('"size"', '"zzzzzz"'), capsys)
    assert (rc, err) == (1, "kstate: error: entries[0].fields.zzzzzz: unexpected field (not in this layout)\n")


def test_a_name_already_given_is_not_suggested(project, capsys):
    doc = json.loads(json.dumps(GOOD))
    doc["entries"][0]["fields"]["sizee"] = 1  # 'size' is there already: no "did you mean 'size'?"
    rc, err = encode(project, json.dumps(doc), capsys)
    assert (rc, err) == (1, "kstate: error: entries[0].fields.sizee: unexpected field (not in this layout)\n")


def test_the_python_api_carries_the_help(project):
    import kstate
    from kstate.codec.encoder import EncodeError

    doc = json.loads(json.dumps(GOOD).replace('"memfd"', '"memdf"', 1))
    with pytest.raises(EncodeError) as info:
        kstate.load("schemas").encode(doc)
    assert info.value.path == "entries[0].state" and info.value.help == "did you mean 'memfd'?"
