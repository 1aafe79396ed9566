"""Words that names may not be, and what a name may look like."""

from __future__ import annotations

import re

# C11 and C23 keywords, plus GNU C's `asm` (the headers compile as gnu11).
C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
_Imaginary _Noreturn _Static_assert _Thread_local
alignas alignof bool constexpr false nullptr static_assert thread_local true typeof
typeof_unqual _BitInt _Decimal128 _Decimal32 _Decimal64 asm
""".split())

# Type names of the language: an item may not take one of these names.
BUILTIN_TYPES = frozenset("u8 u16 u32 u64 i8 i16 i32 i64 bool char bytes addr folio".split())

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_identifier(text: str) -> bool:
    return bool(_IDENT.fullmatch(text))


# --- file and folder names --------------------------------------------------
#
# A schema file's path below the schema root becomes C ``#include`` lines,
# include guards and macro names, Python module and package names, Markdown
# and Make depfile text.  Rather than escape it for each, kstate accepts
# only names that need no escaping anywhere: each folder and file stem is
# ASCII letters, digits, ``_`` and ``-`` (not first), the file ends in
# ``.kstate``.  A ``.`` inside a stem (``a.b.kstate``) is refused because
# Python would take it for a package separator.

_FILE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
# stems whose outputs are the backends' own files: python/**/__init__.py, c/kstate_rt.h
RESERVED_STEMS = frozenset({"__init__"})
RESERVED_TOP_STEMS = frozenset({"kstate_rt"})
SAFE_FILE_NAMES = "ASCII letters, digits, '_' and '-' (not first) in each folder and file name"


def file_name_problem(rel: str) -> str | None:
    """Why the schema path ``rel`` (below the root, '/'-separated) is refused, or None."""
    parts = rel.split("/")
    if not parts[-1].endswith(".kstate"):
        return "a schema file name ends in .kstate"
    parts[-1] = parts[-1][: -len(".kstate")]
    for part in parts:
        if not _FILE_PART.fullmatch(part):
            return f"'{part}' is not a safe file or folder name: use only {SAFE_FILE_NAMES}"
        if part in RESERVED_STEMS:
            return f"'{part}' is the name of a file kstate generates itself"
    if len(parts) == 1 and parts[0] in RESERVED_TOP_STEMS:
        return f"'{parts[0]}' is the name of a file kstate generates itself"
    return None


def c_file_ident(stem: str) -> str:
    """``kvm/guest_memfd`` -> ``KVM__GUEST_MEMFD`` ('/' -> '__', '-' -> '_'): the
    part of the include guard and the define macro that names a schema file."""
    return re.sub(r"[^A-Za-z0-9_]", "_", stem.replace("/", "__")).upper()
