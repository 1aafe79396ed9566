"""The generated headers as a kernel maintainer's tools see them.

* Built without ``CONFIG_KSTATE`` (the RFC applied but disabled): its
  ``kstate_save_data()``/``kstate_restore_data()`` stubs are empty, so every
  temporary a callback reads after them must be initialised
  (``-O2 -Werror=uninitialized``), and nothing may need what only
  ``CONFIG_KSTATE`` declares; the wrappers say "nothing to restore".
* ``scripts/checkpatch.pl --strict`` (the kernel's; ``.ci/run`` extracts it
  from Debian's linux-source package to /opt/checkpatch, or set
  ``KSTATE_CHECKPATCH`` to its path): no error and no warning anywhere, no
  check in the kernel half (everything outside ``#else /* !__KERNEL__ */``).
* ``sparse`` with the kernel's CHECKFLAGS, both configurations: no diagnostic.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

import kstate
from kstate import model as m
from kstate.backends import c as c_backend
from kstate.backends.c_view import define_macro

HERE = Path(__file__).parent
ROOT = HERE.parent
STANDIN = HERE / "c" / "include"
SETS = {"schemas": ROOT / "schemas", "fixtures": HERE / "fixtures" / "c",
        "kernel": HERE / "fixtures" / "kernel"}
CHECKFLAGS = ["-D__linux__", "-Dlinux", "-D__STDC__", "-Dunix", "-D__unix__", "-Wbitwise",
              "-Wno-return-void", "-Wno-unknown-attribute"]

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.fixture(scope="module", params=sorted(SETS))
def rendered(request, tmp_path_factory):
    ss = kstate.load(SETS[request.param])
    out = tmp_path_factory.mktemp(f"review_{request.param}")
    for rel, text in c_backend.render(ss).items():
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return request.param, ss, out / "c"


def _headers(cdir: Path) -> list[str]:
    return sorted(str(p.relative_to(cdir)) for p in cdir.rglob("*.h") if p.name != "kstate_rt.h")


def _all_defined(cdir: Path) -> str:
    """One translation unit defining the tables of every header."""
    heads = _headers(cdir)
    return "".join(f"#define {define_macro(h[:-2])}\n" for h in heads) + \
        "".join(f'#include "{h}"\n' for h in heads)


def _user_functions(ss: m.SchemaSet) -> list[str]:
    """Definitions of the hooks and @custom callbacks the developer writes."""
    out = []
    for st in ss.states.values():
        owner = (st.parent or st).c_name
        for _, f in m.member_names(st.members):
            if not isinstance(f, m.Field):
                continue
            if f.removed is not None and not f.discard and f.custom is None \
                    and any(f.present_in(v) for v in st.versions):
                out.append(f"int {st.name}_restore_{f.name}(struct {owner} *obj, const void *old, size_t size)\n"
                           "{\n\t(void)obj;\n\t(void)old;\n\t(void)size;\n\treturn 0;\n}\n")
            if f.custom is not None:
                for fn in f.custom:
                    out.append(f"int {fn}(struct kstate_stream *stream, void *obj, const struct kstate_field *field)\n"
                               "{\n\t(void)stream;\n\t(void)obj;\n\t(void)field;\n\treturn 0;\n}\n")
    return out


_MAIN_PRELUDE = """
#include <linux/errno.h>
void *calloc(size_t n, size_t size);
void free(void *p);
void *kzalloc(size_t size, gfp_t flags) { (void)flags; return calloc(1, size ? size : 1); }
void *kvcalloc(size_t n, size_t size, gfp_t flags) { (void)flags; return calloc(n ? n : 1, size ? size : 1); }
void kfree(const void *p) { free((void *)p); }
void kvfree(const void *p) { free((void *)p); }
void *kmalloc(size_t size, gfp_t flags) { return kzalloc(size, flags); }
void *kvmalloc_array(size_t n, size_t size, gfp_t flags) { return kvcalloc(n, size, flags); }
void *folio_address(const struct folio *folio) { (void)folio; return (void *)0; }
void *memcpy(void *dst, const void *src, size_t n) { return __builtin_memcpy(dst, src, n); }
"""


@needs_gcc
def test_headers_build_and_run_without_config_kstate(rendered, tmp_path):
    name, ss, cdir = rendered
    src = tmp_path / "nokstate.c"
    tops = [st for st in ss.states.values() if st.parent is None]
    main = ["int main(void)", "{"]
    for st in tops:
        main += ["\t{", f"\t\tstatic struct {st.c_name} obj;", "",
                 f"\t\tif ({st.name}_kstate_register(&obj, 1) != 0)", "\t\t\treturn 1;",
                 f"\t\tif ({st.name}_kstate_restore(&obj, 1) != -ENOENT)", "\t\t\treturn 2;", "\t}"]
    main += ["\treturn 0;", "}"]
    src.write_text(_all_defined(cdir) + _MAIN_PRELUDE + "\n".join(_user_functions(ss)) + "\n".join(main) + "\n")
    exe = tmp_path / "nokstate"
    res = subprocess.run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-Werror=uninitialized",
                          "-Werror=maybe-uninitialized", "-Wno-unused-function", "-D__KERNEL__", "-nostdinc",
                          "-ffreestanding", "-fno-builtin", "-I", str(STANDIN), "-I", str(cdir), "-o", str(exe),
                          str(src)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-4000:]
    assert subprocess.run([str(exe)], timeout=60).returncode == 0


# --- checkpatch.pl and sparse ------------------------------------------------------

def _checkpatch() -> Path | None:
    for cand in (os.environ.get("KSTATE_CHECKPATCH"), "/opt/checkpatch/checkpatch.pl"):
        if cand and Path(cand).is_file():
            return Path(cand)
    return None


CHECKPATCH = _checkpatch()
if CHECKPATCH is None or shutil.which("perl") is None:
    warnings.warn("checkpatch.pl not found: the kernel style of the generated headers is NOT checked "
                  "(install linux-source-6.1 and extract scripts/checkpatch.pl, spelling.txt and "
                  "const_structs.checkpatch to /opt/checkpatch, or set KSTATE_CHECKPATCH; see .ci/run)",
                  stacklevel=1)


def _userspace_lines(text: str) -> set[int]:
    out, inside = set(), False
    for no, line in enumerate(text.splitlines(), 1):
        if line.startswith("#else /* !__KERNEL__ */"):
            inside = True
        elif line.startswith("#endif /* __KERNEL__ */"):
            inside = False
        elif inside:
            out.add(no)
    return out


_FINDING = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<kind>ERROR|WARNING|CHECK):(?P<type>\w+): (?P<msg>.*)$")


def _review(header: Path) -> list[str]:
    res = subprocess.run(["perl", str(CHECKPATCH), "--no-tree", "--strict", "--terse", "--show-types",
                          "--max-line-length=100", "-f", str(header)], capture_output=True, text=True)
    assert "total:" in res.stdout, res.stdout + res.stderr
    user = _userspace_lines(header.read_text())
    bad = []
    for line in res.stdout.splitlines():
        mt = _FINDING.match(line)
        if mt and not (mt["kind"] == "CHECK" and int(mt["line"]) in user):
            bad.append(line)
    return bad


@pytest.mark.skipif(CHECKPATCH is None or shutil.which("perl") is None,
                    reason="LOUD SKIP: checkpatch.pl not found (see .ci/run; KSTATE_CHECKPATCH)")
def test_checkpatch_strict_finds_nothing_in_any_generated_header(rendered):
    _, _, cdir = rendered
    headers = sorted(cdir.rglob("*.h"))
    assert headers
    bad = [b for h in headers for b in _review(h)]
    assert not bad, "\n".join(bad[:40])


@pytest.mark.skipif(CHECKPATCH is None or shutil.which("perl") is None,
                    reason="LOUD SKIP: checkpatch.pl not found (see .ci/run; KSTATE_CHECKPATCH)")
def test_checkpatch_sees_the_bundled_generated_headers_clean():
    headers = sorted((ROOT / "generated" / "c").rglob("*.h"))
    assert headers
    bad = [b for h in headers for b in _review(h)]
    assert not bad, "\n".join(bad[:40])


@pytest.mark.skipif(CHECKPATCH is None or shutil.which("perl") is None,
                    reason="LOUD SKIP: checkpatch.pl not found (see .ci/run; KSTATE_CHECKPATCH)")
def test_checkpatch_would_see_a_style_error(tmp_path):
    # the review is real: the old `u64 :32;` padding is an ERROR to checkpatch.pl
    bad = tmp_path / "bad.h"
    bad.write_text("/* SPDX-License-Identifier: GPL-2.0 */\nstruct s {\n\tu64 a:32;\n\tu64 :32;\n};\n")
    assert any(":SPACING:" in b for b in _review(bad))


@pytest.mark.skipif(shutil.which("sparse") is None, reason="LOUD SKIP: sparse is not installed (see .ci/run)")
@pytest.mark.parametrize("config", [["-DCONFIG_KSTATE=1"], []], ids=["CONFIG_KSTATE", "no-CONFIG_KSTATE"])
def test_sparse_reports_nothing_on_the_kernel_build(rendered, tmp_path, config):
    _, _, cdir = rendered
    src = tmp_path / "all.c"
    src.write_text(_all_defined(cdir))
    res = subprocess.run(["sparse", *CHECKFLAGS, "-D__KERNEL__", *config, "-nostdinc", "-I", str(STANDIN),
                          "-I", str(cdir), str(src)], capture_output=True, text=True)
    assert res.returncode == 0 and not res.stdout.strip() and not res.stderr.strip(), res.stderr[-3000:]


# --- folio and addr inside plain structs: refused by the C backend --------------------

STRUCT_FOLIO = """struct rec {
    a: u32;
    fol: folio;
}

struct outer {
    r: rec;
    where: addr(vmemmap);
}

state s {
    id = 9;
    version = 1;
    o: outer;
}
"""


def _kstate(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["kstate", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_folio_and_addr_in_plain_structs_are_refused_by_the_c_backend(tmp_path):
    (tmp_path / "s.kstate").write_text(STRUCT_FOLIO)
    res = _kstate(tmp_path, "compile", "s.kstate", "-o", "out")
    assert res.returncode == 2 and not (tmp_path / "out").exists()
    assert res.stderr.splitlines()[:5] == [
        "s.kstate:3:5: error[C_STRUCT_KERNEL_TYPE]: 'fol' is a folio inside plain struct 'rec': the kernel "
        "tables copy a plain struct as bytes, so nothing would preserve the folio with KHO",
        "        fol: folio;",
        "        ^~~",
        "    note: only fields of a state get KHO preservation in the kernel; the decoder and encoder read it "
        "as 8 bytes either way",
        "    help: make 'fol' a field of the state that uses struct rec, or declare it 'u64' if the kernel "
        "need not preserve it"]
    assert "s.kstate:8:5: error[C_STRUCT_KERNEL_TYPE]: 'where' is a addr(vmemmap) inside plain struct " \
           "'outer'" in res.stderr
    # the other backends, and the codec, are unaffected
    assert _kstate(tmp_path, "compile", "s.kstate", "-o", "out", "--lang", "python,json,docs").returncode == 0
    doc = {"entries": [{"state": "s", "fields": {"o": {"r": {"a": 1, "fol": 4096}, "where": 64}}}]}
    (tmp_path / "d.json").write_text(__import__("json").dumps(doc))
    assert _kstate(tmp_path, "encode", "d.json", "--schema", "s.kstate", "-o", "b.bin").returncode == 0
    assert _kstate(tmp_path, "decode", "b.bin", "--schema", "s.kstate").returncode == 0
    # applying the help compiles
    (tmp_path / "s.kstate").write_text(STRUCT_FOLIO.replace("fol: folio", "fol: u64")
                                       .replace("where: addr(vmemmap)", "where: u64"))
    res = _kstate(tmp_path, "compile", "s.kstate", "-o", "out")
    assert res.returncode == 0, res.stderr
