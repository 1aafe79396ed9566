"""Issue 16: a schema kstate accepts yields code that compiles, and no schema
makes the front end hang.  The refusals are fixtures in tests/fixtures/errors
(array_too_large, max_too_large, version_span, layout_members, ...); here the
inputs that must keep compiling, through the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from kstate.codec import limits

from conftest import ROOT, run_kstate

STANDIN = ROOT / "tests" / "c" / "include"
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror"]
KERNEL = ["-D__KERNEL__", "-nostdinc", "-ffreestanding", "-I", str(STANDIN)]


def compile_ok(tmp_path, text: str, name: str = "t") -> dict:
    """``kstate compile`` must exit 0; every header then compiles alone (twice)
    and together in both modes, and the Python package imports.  Returns the
    generated files {relative path: text}."""
    (tmp_path / f"{name}.kstate").write_text(text)
    res = run_kstate("compile", f"{name}.kstate", "-o", "gen", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    gen = tmp_path / "gen"
    check_generated(gen)
    return {p.relative_to(gen).as_posix(): p.read_text() for p in gen.rglob("*") if p.is_file() and p.suffix != ".pyc"}


def check_generated(gen) -> None:
    cdir = gen / "c"
    headers = sorted(p.relative_to(cdir).as_posix() for p in cdir.rglob("*.h"))
    if shutil.which("gcc"):
        failures = []
        defines = []
        for rel in headers:
            if rel == "kstate_rt.h":
                continue
            define = "KSTATE_DEFINE_" + "".join(c if c.isalnum() or c == "_" else "_"
                                                for c in rel[:-2].replace("/", "__")).upper()
            defines.append(f"-D{define}")
            src = gen / "one.c"
            src.write_text(f'#include "{rel}"\n#include "{rel}"\n')
            for mode, flags in (("user", []), ("kernel", KERNEL), ("kernel+tables", KERNEL + [f"-D{define}"])):
                res = subprocess.run(["gcc", *CFLAGS, "-fsyntax-only", *flags, "-I", str(cdir), str(src)],
                                     capture_output=True, text=True)
                if res.returncode:
                    failures.append(f"{rel} [{mode}]\n{res.stderr}")
        together = gen / "all.c"
        together.write_text("".join(f'#include "{h}"\n' for h in headers))
        for mode, flags in (("user", []), ("kernel", KERNEL + defines)):
            res = subprocess.run(["gcc", *CFLAGS, "-fsyntax-only", *flags, "-I", str(cdir), str(together)],
                                 capture_output=True, text=True)
            if res.returncode:
                failures.append(f"all [{mode}]\n{res.stderr}")
        assert not failures, "\n".join(failures)[-6000:]
    res = subprocess.run([sys.executable, "-c", "import python, sys; python.codecs(); python.constructs()"],
                         cwd=gen, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-3000:]


def test_a_long_chain_of_constants_compiles(tmp_path):
    # each constant defined by the next: evaluated iteratively, in dependency order
    n = 3000
    text = "".join(f"const C{i} = C{i + 1} + 1;\n" for i in range(n)) + f"const C{n} = 0;\n"
    text += "state a { id = 1; version = 1; x: u8[C0]; }\n"
    files = compile_ok(tmp_path, text)
    assert "#define C0 3000\n" in files["c/t.h"]
    assert "u8 x[3000];" in files["c/t.h"]


def test_a_long_cycle_of_constants_is_one_positioned_error(tmp_path):
    n = 3000
    (tmp_path / "t.kstate").write_text("".join(f"const C{i} = C{(i + 1) % n} + 1;\n" for i in range(n)))
    res = run_kstate("compile", "t.kstate", "-o", "gen", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("error[") == 1
    assert res.stderr.startswith("t.kstate:1:7: error[CONST_CYCLE]: constants defined in terms of each other: "
                                 "C0 -> C1 -> C2 -> C3 -> ... -> C2997 -> C2998 -> C2999 -> C0")


def test_extreme_values_that_fit_compile_and_mean_what_they_say(tmp_path):
    text = f"""
const LOWEST = -(1 << 63);
const HIGHEST = (1 << 64) - 1;
const SHIFTED = 1 << 4096 >> 4090;
state a {{ id = 2147483647; version = 2147483647; min_version = {2147483647 - limits.MAX_VERSION_SPAN + 1};
    n: u32 @max(2147483647);
    x: u8[n] @max(2147483647);
    r: i64 @range(-(1 << 63), (1 << 63) - 1);
    big: u8[(1 << 31) - 1];
    t: u8[..] @max(2147483647);
}}
"""
    files = compile_ok(tmp_path, text)
    if shutil.which("gcc"):
        prog = tmp_path / "gen" / "use.c"
        prog.write_text('#include "t.h"\n'
                        '_Static_assert(LOWEST == INT64_MIN, "LOWEST");\n'
                        '_Static_assert(HIGHEST == 0xffffffffffffffffULL, "HIGHEST");\n'
                        '_Static_assert(SHIFTED == 64, "SHIFTED");\n'
                        'int main(void) { return 0; }\n')
        res = subprocess.run(["gcc", *CFLAGS, "-c", "-o", str(tmp_path / "use.o"), "-I",
                              str(tmp_path / "gen" / "c"), str(prog)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    assert "LOWEST = -9223372036854775808" in files["python/t.py"]


@pytest.mark.parametrize("forward", [True, False])
def test_types_nest_up_to_the_limit_in_any_order(tmp_path, forward):
    depth = limits.MAX_TYPE_NESTING  # the state counts one level
    structs = [f"struct s{i} {{ x: s{i + 1}; }}" for i in range(depth - 2)] + [f"struct s{depth - 2} {{ y: u8; }}"]
    if not forward:
        structs.reverse()
    compile_ok(tmp_path, "\n".join(structs) + "\nstate a { id = 1; version = 1; z: s0; }\n")
    # one more level: refused at the item where the chain passes the limit
    (tmp_path / "deep.kstate").write_text("\n".join(structs) + "\nstruct top { z: s0; }\n"
                                          "state a { id = 1; version = 1; z: top; }\n")
    res = run_kstate("compile", "deep.kstate", "-o", "gen2", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("error[") == 1
    assert f"error[LIMIT_EXCEEDED]: state 'a' holds types nested {depth + 1} levels deep" in res.stderr


def test_many_versions_up_to_the_span_limit_compile(tmp_path):
    span = limits.MAX_VERSION_SPAN
    fields = "".join(f"    f{v}: u16 @since({v});\n" for v in range(2, span + 1, 17))
    compile_ok(tmp_path, f"state a {{ id = 1; version = {span}; min_version = 1;\n    x: u8;\n{fields}}}\n")
