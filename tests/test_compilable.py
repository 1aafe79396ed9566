"""Issue 16: a schema kstate accepts yields code that compiles, and no schema
makes the front end hang.  The refusals are fixtures in tests/fixtures/errors
(array_too_large, max_too_large, version_span, layout_members, ...); here the
inputs that must keep compiling, through the real CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from kstate import limits

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


# --- names: every keyword and reserved word in every position --------------------

import keyword  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import kstate  # noqa: E402
from kstate import names  # noqa: E402
from kstate.errors import SchemaError  # noqa: E402
from kstate.testing import hostile_schema_texts  # noqa: E402

HOSTILE = sorted(names.C_KEYWORDS | set(keyword.kwlist) | set(keyword.softkwlist)
                 | {"linux", "unix", "NULL", "EINVAL", "ENOMEM", "ks_reader", "ks_cursor", "size_t", "uint8_t",
                    "u8", "s64", "obj", "stream", "field", "ret", "memcpy", "offsetof", "true", "bool",
                    "KS_TRY", "kstate_field", "folio", "current", "errno", "__x", "_Y", "len", "None"})

POSITIONS = {
    "field": "state a{i} {{ id = {id}; version = 1; {n}: u8; }}",
    "bits member": "state a{i} {{ id = {id}; version = 1; bits u8 {{ {n}: 3; }} }}",
    "struct": "struct {n} {{ x: u8; }}\nstate a{i} {{ id = {id}; version = 1; y: {n}; }}",
    "state": "state {n} {{ id = {id}; version = 1; x: u8; }}",
    "enum member": "enum e{i} : u8 {{ {n} = 1 }}\nstate a{i} {{ id = {id}; version = 1; x: e{i}; }}",
    "enum": "enum {n} : u8 {{ V{i} = 1 }}\nstate a{i} {{ id = {id}; version = 1; x: {n}; }}",
    "const": "const {n} = 3;\nstate a{i} {{ id = {id}; version = 1; x: u8; }}",
}


def _outcome(tmp_path, text):
    path = tmp_path / "t.kstate"
    path.write_text(text)
    try:
        kstate.load(path)
    except SchemaError as err:
        return [d.code for d in err.diagnostics]
    return []


def test_keywords_and_reserved_words_in_every_position(tmp_path):
    """In-process: each (name, position) is accepted or refused with a
    positioned RESERVED_NAME/C_NAME_CLASH; then every accepted one is compiled
    by gcc and imported (one schema per position, file per name)."""
    accepted: dict[str, list[str]] = {}
    for pos, tmpl in POSITIONS.items():
        for n in HOSTILE:
            codes = _outcome(tmp_path, tmpl.format(n=n, i=0, id=1))
            if codes:
                assert set(codes) & {"RESERVED_NAME", "C_NAME_CLASH", "SYNTAX"}, (pos, n, codes)
            else:
                accepted.setdefault(pos, []).append(n)
    # the issue's cases: C uses VFIO_..._AUTO for an enum member, so it is fine; a field is not
    assert "auto" in accepted["enum member"] and "auto" in accepted["enum"]
    assert "auto" not in accepted["field"] and "NULL" not in accepted["const"]
    assert "ks_reader" not in accepted["state"] and "linux" not in accepted["field"]
    assert "EINVAL" not in accepted["const"] and "class" in accepted["field"]
    folder = tmp_path / "all"
    folder.mkdir()
    for pos, ns in accepted.items():
        for i, n in enumerate(ns):
            text = POSITIONS[pos].format(n=n, i=i, id=i + 1)
            (folder / f"{pos.replace(' ', '_')}_{i}.kstate").write_text(text)
    for pos in accepted:
        one = tmp_path / pos.replace(" ", "_")
        one.mkdir()
        for p in folder.glob(f"{pos.replace(' ', '_')}_*.kstate"):
            p.rename(one / p.name)
        res = run_kstate("compile", one.name, "-o", f"gen_{one.name}", cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        check_generated(tmp_path / f"gen_{one.name}")


def test_a_field_named_like_a_keyword_compiles_with_its_c_name(tmp_path):
    res_text = "state a { id = 1; version = 1; auto: u8; }\n"
    (tmp_path / "bad.kstate").write_text(res_text)
    res = run_kstate("compile", "bad.kstate", "-o", "gen", cwd=tmp_path)
    assert res.returncode == 2
    assert "bad.kstate:1:32: error[RESERVED_NAME]" in res.stderr
    fix = re.search(r"help: keep the name and set its C name: auto: \.\.\. (@c\(\w+\));", res.stderr).group(1)
    files = compile_ok(tmp_path, f"state a {{ id = 1; version = 1; auto: u8 {fix}; }}\n")
    assert "u8 auto_;" in files["c/t.h"] and "'name': 'auto'" in files["python/t.py"]


# --- the property: whatever compiles, compiles in C and imports -------------------

HOSTILE_NAMES = HOSTILE

@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(hostile_schema_texts(HOSTILE))
def test_whatever_compiles_builds_with_gcc_in_both_modes_and_imports(tmp_path_factory, text):
    tmp_path = tmp_path_factory.mktemp("prop")
    (tmp_path / "t.kstate").write_text(text)
    res = run_kstate("compile", "t.kstate", "-o", "gen", cwd=tmp_path)
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr
    if res.returncode:
        assert res.returncode == 2 and re.search(r"t\.kstate:\d+:\d+: error\[\w+\]", res.stderr), res.stderr
        return
    check_generated(tmp_path / "gen")


def test_every_word_of_the_generated_c_is_known_to_the_name_checks():
    """names.py's lists must hold every identifier the C backend emits that is
    not made of a schema name, or a constant could silently replace it."""
    from kstate import model as m
    from kstate.backends import c as c_backend

    def words(text):
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r'"(\\.|[^"\\])*"', " ", text)
        text = re.sub(r"\b0x[0-9a-fA-F]+[UL]*\b|\b\d+[UL]*\b", " ", text)
        return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))

    known = names.runtime_words() | names.GENERATED_WORDS | names.C_KEYWORDS | names.SYSTEM_TYPES \
        | names.SYSTEM_TAGS | {"define", "ifdef", "ifndef", "endif", "else", "include", "if", "elif"}
    unknown = set()
    for path in ("schemas", "tests/fixtures/c/every.kstate", "tests/fixtures/c/edge.kstate", "tests/fixtures/codec",
                 "tests/fixtures/attack/attack.kstate"):
        ss = kstate.load(ROOT / path)
        own = set()
        for it in [*ss.states.values(), *ss.structs.values(), *ss.consts.values(), *ss.enums.values()]:
            own.add(it.name)
        for e in ss.enums.values():
            own |= {v.c_name for v in e.values}
        for s_ in ss.states.values():
            own |= {s_.c_id, s_.c_version, s_.c_min_version, f"ks_{s_.name}_ctx"}
        for s_ in [*ss.states.values(), *ss.structs.values()]:
            for n, f in m.member_names(s_.members):
                own |= {n, f.c_name, "nr_" + f.c_name}
                if isinstance(f, m.Field) and f.custom:
                    own |= set(f.custom)
        prefixes = tuple(n + "_" for n in own) + ("_KSTATE_GEN_", "KSTATE_DEFINE_")
        for rel, text in c_backend.render(ss).items():
            if not rel.endswith("kstate_rt.h"):
                unknown |= {w for w in words(text) - known - own if not w.startswith(prefixes)}
    assert not unknown, " ".join(sorted(unknown))


def test_bidi_and_control_characters_never_reach_an_output(tmp_path):
    noise = "\u202e evil \u2066 x \x00 nul \x1b[31m \u200f \u061c"
    doc = f"/// {noise}\n"
    text = (f"{doc}const K = 1;\n{doc}enum e : u8 {{ {doc}A = 1 }}\n{doc}struct s {{ {doc} a: u8; }}\n"
            f"{doc}state a {{ id = 1; version = 2; min_version = 1;\n{doc}  x: s;\n"
            f"  y: u8 @removed(2, \"why {noise}\");\n{doc}  bits u8 {{ {doc} b: 3; }}\n}}\n"
            f"retired state r {{ id = 5; reason = \"gone {noise}\"; }}\n")
    files = compile_ok(tmp_path, text)
    hidden = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
    for rel, body in files.items():
        assert not hidden.search(body), rel
    assert "<U+202E> evil" in files["c/t.h"]
    ss = kstate.load(tmp_path / "gen" / "kstate-snapshot.json")
    assert ss.states["a"].doc == noise.strip() or noise.strip() in ss.states["a"].doc  # the snapshot keeps the text
