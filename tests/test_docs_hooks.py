"""The generated Markdown names exactly the restore hooks the C header declares:
no hook for a field no version reads any more (removed at or below
min_version), none for a discarded field, the real function name otherwise."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT, run_kstate

DOC_HOOK = re.compile(r"restore hook `(\w+)\(\)`")
# a prototype may be wrapped at 100 columns (kernel style)
C_HOOK = re.compile(r"^int (\w+)\(struct \w+ \*obj,\s+const void \*old,\s+size_t size\);$", re.M)


def _pairs(out: Path):
    for h in sorted((out / "c").rglob("*.h")):
        if h.name == "kstate_rt.h":
            continue
        rel = h.relative_to(out / "c").with_suffix(".md")
        yield h, out / "docs" / rel


def _compare(out: Path) -> int:
    total = 0
    for header, doc in _pairs(out):
        declared = set(C_HOOK.findall(header.read_text()))
        named = set(DOC_HOOK.findall(doc.read_text()))
        assert named == declared, f"{doc}: names {sorted(named)}, {header} declares {sorted(declared)}"
        total += len(declared)
    return total


def test_bundled_docs_name_the_declared_hooks():
    assert _compare(ROOT / "generated") >= 5


SCHEMA = """\
state vfio_pci_dev {
    id = 40;
    version = 4;
    min_version = 2;

    pad0: u32 @removed(2, "never used");
    config: u32 @removed(4, "moved to the config space blob") @c(cfg);
    legacy: u16 @removed(3, "dropped") @discard;
    bar: u64;
}
"""


def test_docs_name_only_hooks_that_exist(tmp_path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "vfio.kstate").write_text(SCHEMA)
    r = run_kstate("compile", "schemas", "-o", "gen", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    header = (tmp_path / "gen" / "c" / "vfio.h").read_text()
    doc = (tmp_path / "gen" / "docs" / "vfio.md").read_text()
    assert C_HOOK.findall(header) == ["vfio_pci_dev_restore_config"]
    assert DOC_HOOK.findall(doc) == ["vfio_pci_dev_restore_config"]
    assert "pad0" in doc and "no restore hook" in doc
    assert "old bytes discarded" in doc
    assert _compare(tmp_path / "gen") == 1
