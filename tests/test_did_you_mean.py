"""'did you mean': misspelt types, annotations, constants and imports get the
nearest known name as a `help:` line, and the suggestion compiles when
applied."""

from __future__ import annotations

import pytest

from conftest import run_kstate
from kstate.suggest import distance, nearest

BASE = ('import "memfd.kstate";\n'
        "enum vfio_pci_irq_type : u32 { INTX = 0, MSI = 1, }\n"
        "state vfio_pci { id = 1; version = 1; n: u8 @max(MAX); v: u8[n]; a: u32; b: vfio_pci_irq_type; }\n")

CASES = [
    ("a: u32;", "a: u23;", "unknown type 'u23'", "did you mean 'u32'?"),
    ("b: vfio_pci_irq_type;", "b: vfio_pci_irq_typ;", "unknown type 'vfio_pci_irq_typ'",
     "did you mean 'vfio_pci_irq_type'?"),
    ("@max(MAX)", "@maxx(MAX)", "unknown annotation @maxx", "did you mean '@max'?"),
    ("@max(MAX)", "@max(MAXX)", "unknown constant 'MAXX'", "did you mean 'MAX'?"),
    ('import "memfd.kstate";', 'import "memdf.kstate";', "imported file 'memdf.kstate' not found",
     'did you mean `import "memfd.kstate";`?'),
]


@pytest.mark.parametrize("good,bad,message,help_", CASES, ids=[c[1] for c in CASES])
def test_misspelling_gets_the_nearest_name(tmp_path, good, bad, message, help_):
    (tmp_path / "memfd.kstate").write_text("const MAX = 4;\n")
    (tmp_path / "s.kstate").write_text(BASE.replace(good, bad, 1))
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr.splitlines()[0]
    assert f"    help: {help_}" in r.stderr.splitlines()
    (tmp_path / "s.kstate").write_text(BASE)
    assert run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path).returncode == 0


def test_nothing_close_means_no_suggestion(tmp_path):
    (tmp_path / "s.kstate").write_text("state a { id = 1; version = 1; x: zzzzzz; }\n")
    r = run_kstate("compile", "s.kstate", "-o", "out", cwd=tmp_path)
    assert r.returncode == 2 and "unknown type 'zzzzzz'" in r.stderr
    assert "help:" not in r.stderr


def test_distance_and_nearest():
    assert distance("u23", "u32") == 1  # a swap counts once
    assert distance("memdf", "memfd") == 1
    assert distance("GROWW", "grow") == 1  # case-insensitive
    assert nearest("x", ["y"]) is None  # one-letter names: only up to case
    assert nearest("U8", ["u8", "u16"]) == "u8"
    assert nearest("FIELD_DROPED", ["FIELD_DROPPED", "FIELD_ADDED_UNVERSIONED"]) == "FIELD_DROPPED"


@pytest.mark.parametrize("cmd", [["check", "README.md", "s.kstate"], ["check", "s.kstate", "README.md"],
                                 ["decode", "blob.bin", "--schema", "README.md"],
                                 ["compile", "README.md", "-o", "out"]])
def test_a_side_that_is_not_a_schema_is_refused(tmp_path, cmd):
    (tmp_path / "README.md").write_text("# kstate\nstate x { id = 1; version = 1; }\n")
    (tmp_path / "s.kstate").write_text("state x { id = 1; version = 1; a: u8; }\n")
    (tmp_path / "blob.bin").write_bytes(b"\x8c\x77\x37\x3b\xff\xff\xff\xff")
    r = run_kstate(*cmd, cwd=tmp_path)
    assert r.returncode == 2
    assert "README.md: not a schema: a side is a .kstate file, a folder of them" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()
