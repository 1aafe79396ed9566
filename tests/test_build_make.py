"""Real ``make`` on the Makefile docs/pipelines.md shows: ``kstate-compile
--depfile`` makes a second make a no-op and a touched imported schema a
rebuild; the same Makefile run from another folder (as Kbuild's O= does)
gives the same outputs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# The Makefile of docs/pipelines.md, word for word (test_docs_show_this_makefile holds them equal).
MAKEFILE = """\
KSTATE_COMPILE ?= kstate-compile
SRC ?= .
GEN ?= generated

# $(GEN)/.kstate-outputs stands for every output: kstate-compile refreshes its
# time on each successful run; the depfile adds every schema file it read
# (imports included) as a prerequisite.
$(GEN)/.kstate-outputs: $(SRC)/schemas/dev.kstate
\t$(KSTATE_COMPILE) $(SRC)/schemas/dev.kstate -o $(GEN) --lang c,json --depfile $(GEN).d

-include $(GEN).d
"""

COMMON = "const DEV_NAME_LEN = 8;\nstruct dev_regs { ctrl: u32; status: u32; }\n"
DEV = ('import "../common/types.kstate";\n\n'
       "state dev {\n    id = 1;\n    version = 1;\n    regs: dev_regs;\n    name: char[DEV_NAME_LEN];\n}\n")


def kstate_compile() -> str:
    """The installed ``kstate-compile`` beside this Python (pip install -e . puts it there)."""
    exe = Path(sys.executable).parent / "kstate-compile"
    if not exe.exists():
        pytest.skip("kstate-compile is not installed beside this Python")
    return str(exe)


def make(cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(["make", f"KSTATE_COMPILE={kstate_compile()}", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def project(tmp_path):
    src = tmp_path / "src"
    (src / "schemas").mkdir(parents=True)
    (src / "common").mkdir()
    (src / "common/types.kstate").write_text(COMMON)
    (src / "schemas/dev.kstate").write_text(DEV)
    (src / "Makefile").write_text(MAKEFILE)
    return src


def later(path: Path) -> None:
    """Touch ``path``, after moving every other file of the tree 10 s into the
    past, so it is clearly newer than every output (no sleeping)."""
    for p in path.parent.parent.rglob("*"):
        if p.is_file() and p != path:
            st = p.stat()
            os.utime(p, (st.st_atime - 10, st.st_mtime - 10))
    os.utime(path)


def test_second_make_is_a_no_op_and_a_touched_import_rebuilds(tmp_path):
    src = project(tmp_path)
    first = make(src)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "kstate-compile" in first.stdout and (src / "generated/c/schemas/dev.h").is_file()
    dep = (src / "generated.d").read_text()
    assert "common/types.kstate" in dep  # the import came from the depfile, not the Makefile

    second = make(src)
    assert second.returncode == 0
    assert "kstate-compile" not in second.stdout and "is up to date" in second.stdout
    assert make(src, "--question").returncode == 0

    later(src / "common/types.kstate")
    assert make(src, "--question").returncode == 1  # out of date
    third = make(src)
    assert third.returncode == 0 and "kstate-compile" in third.stdout
    fourth = make(src)
    assert "kstate-compile" not in fourth.stdout and make(src, "--question").returncode == 0

    # a changed import really changes the header
    (src / "common/types.kstate").write_text(COMMON.replace("= 8", "= 16"))
    later(src / "common/types.kstate")
    assert make(src).returncode == 0
    assert "16" in (src / "generated/c/schemas/dev.h").read_text()


def test_make_from_another_folder_gives_the_same_outputs(tmp_path):
    src = project(tmp_path)
    assert make(src).returncode == 0
    build = tmp_path / "build"  # like Kbuild's O=: outputs elsewhere, make run from there
    build.mkdir()
    res = make(build, "-f", str(src / "Makefile"), f"SRC={src}", "GEN=out")
    assert res.returncode == 0, res.stdout + res.stderr

    def tree(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(build / "out") == tree(src / "generated")
    second = make(build, "-f", str(src / "Makefile"), f"SRC={src}", "GEN=out")
    assert "kstate-compile" not in second.stdout and "is up to date" in second.stdout


def test_docs_show_this_makefile():
    doc = (ROOT / "docs/pipelines.md").read_text()
    assert MAKEFILE in doc
