"""Generated C stays inert whatever the schema's doc comments and reasons
hold (comment ends and starts, triple quotes, template braces, backslashes,
trigraphs, non-ASCII): the attack fixture's header compiles warning-free in
every mode."""

import shutil
import subprocess

import pytest

from conftest import FIXTURES, ROOT, run_kstate

GCC = shutil.which("gcc")
MODES = [[], ["-D__KERNEL__"], ["-D__KERNEL__", "-DKSTATE_DEFINE_ATTACK"]]


@pytest.mark.skipif(GCC is None, reason="gcc is not installed")
@pytest.mark.parametrize("mode", MODES, ids=["user", "kernel", "kernel-tables"])
def test_attack_schema_header_compiles_warning_free(tmp_path, mode):
    res = run_kstate("compile", FIXTURES / "attack", "-o", tmp_path / "gen", "--lang", "c")
    assert res.returncode == 0, res.stderr
    header = (tmp_path / "gen/c/attack.h").read_text()
    assert "#define EVIL 1" not in header.replace(" * #define EVIL 1", "")  # only ever inside a comment
    for line in header.splitlines():
        if "/*" in line and not line.lstrip().startswith(("/*", "*")):
            continue
        assert line.count("/*") <= 1 and line.count("*/") <= 1, line
    src = tmp_path / "t.c"
    src.write_text('#include "attack.h"\n#include "attack.h"\n')
    cmd = [GCC, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", *mode,
           "-I", str(tmp_path / "gen/c"), "-I", str(ROOT / "tests/c/include"), str(src)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.skipif(GCC is None, reason="gcc is not installed")
def test_bits_group_callbacks_never_clash_with_a_field(tmp_path):
    # the first bits group's kernel callbacks are named after "bits0"; a field
    # may carry that name too (and has callbacks of its own when @removed)
    (tmp_path / "s").mkdir()
    (tmp_path / "s/b.kstate").write_text(
        "state s {\n id = 1;\n version = 2;\n min_version = 1;\n bits u8 { a: 3; b: 4; }\n"
        ' bits0: u32 @removed(2, "old");\n _bits0: u8;\n}\n')
    res = run_kstate("compile", tmp_path / "s", "-o", tmp_path / "gen", "--lang", "c")
    assert res.returncode == 0, res.stderr
    src = tmp_path / "t.c"
    src.write_text('#include "b.h"\n')
    cmd = [GCC, "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-D__KERNEL__",
           "-DKSTATE_DEFINE_B", "-I", str(tmp_path / "gen/c"), "-I", str(ROOT / "tests/c/include"), str(src)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
