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


# --- C names the generated headers use or pull in (docs/c-backend.md, "Reserved names") ---
#
# A schema name becomes a C identifier of one of three kinds: a macro (a
# constant, an enum/flags value `ENUM_VALUE`, a state's `KSTATE_X_ID`), a
# struct tag (a state, a plain struct) or a struct member (a field, a bits
# member).  A macro replaces every later use of its word, so it must be none
# of the words below nor any other C name of the set; a tag or a member lives
# in its own namespace and only has to avoid the keywords and the words that
# are macros before it is declared.

# Words of kstate_rt.h (the runtime every header includes), read from the
# template: functions, types, members, macros, locals of its inline functions.
def runtime_words() -> frozenset:
    global _RUNTIME
    if _RUNTIME is None:
        from pathlib import Path

        text = (Path(__file__).parent / "templates" / "c" / "kstate_rt.h.j2").read_text()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r'"(\\.|[^"\\])*"', " ", text)
        _RUNTIME = frozenset(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    return _RUNTIME


_RUNTIME: frozenset | None = None

# Words the generated code itself uses besides schema names (locals,
# parameters, the RFC's <linux/kstate.h> API and the kernel functions the
# tables call); tests/test_compilable.py checks every generated word is known.
GENERATED_WORDS = frozenset("""
arena ks_i ks_n ks_at ks_obj ks_off ks_size ks_v ks_r ks_c ks_err_ old st obj stream field ret v c w e sub version
at section_type instance_id extern name id version_id min_version_id fields subsections flags offset
size count save restore ksd kstate_description kstate_field kstate_stream folio kstate_save_data
kstate_restore_data kstate_folio_save kstate_folio_restore kvcalloc kzalloc kfree kvfree memcpy
memset offsetof sizeof static_assert E2BIG EINVAL ENOMEM KS_CUSTOM KS_STRUCT KS_POINTER KS_BASE_TYPE
KS_ADDRESS KS_ARRAY_OF_POINTER KS_DEPRECATED KS_END KS_LINEAR_ADDR KS_VMEMMAP_ADDR KSTATE_ADDRESS
KSTATE_ADDRESS_V KSTATE_BASE_TYPE KSTATE_BASE_TYPE_V KSTATE_BASE_TYPE_DEPRECATED KSTATE_END_OF_LIST
KSTATE_FOLIO KSTATE_POINTER KSTATE_POINTER_V KSTATE_RT_WANT_WALK GFP_KERNEL PAGE_OFFSET VMEMMAP_START
__alignof__ __packed __KERNEL__ __BYTE_ORDER__ __ORDER_BIG_ENDIAN__ CONFIG_CPU_BIG_ENDIAN
fail fail_inval fail_nomem ks_alloc pragma pack push pop push_macro pop_macro undef
""".split())

# Object-like macros the compiler and the included headers define: gcc's
# `linux` and `unix` (gnu11), glibc's <stdbool.h> <stddef.h> <stdint.h>
# <string.h>, the kernel headers the tables include (<linux/errno.h>,
# <linux/mm.h>, ...: the common ones; the real headers define more, so
# constants are best prefixed like MEMFD_NAME_LEN).
SYSTEM_MACROS = frozenset("""
linux unix i386 NULL bool true false offsetof static_assert errno current jiffies
INT8_MIN INT16_MIN INT32_MIN INT64_MIN INT8_MAX INT16_MAX INT32_MAX INT64_MAX UINT8_MAX UINT16_MAX
UINT32_MAX UINT64_MAX INT8_C INT16_C INT32_C INT64_C UINT8_C UINT16_C UINT32_C UINT64_C INTMAX_C
UINTMAX_C INTMAX_MIN INTMAX_MAX UINTMAX_MAX INTPTR_MIN INTPTR_MAX UINTPTR_MAX PTRDIFF_MIN PTRDIFF_MAX
SIZE_MAX SIG_ATOMIC_MIN SIG_ATOMIC_MAX WCHAR_MIN WCHAR_MAX WINT_MIN WINT_MAX
INT_LEAST8_MIN INT_LEAST16_MIN INT_LEAST32_MIN INT_LEAST64_MIN INT_LEAST8_MAX INT_LEAST16_MAX
INT_LEAST32_MAX INT_LEAST64_MAX UINT_LEAST8_MAX UINT_LEAST16_MAX UINT_LEAST32_MAX UINT_LEAST64_MAX
INT_FAST8_MIN INT_FAST16_MIN INT_FAST32_MIN INT_FAST64_MIN INT_FAST8_MAX INT_FAST16_MAX
INT_FAST32_MAX INT_FAST64_MAX UINT_FAST8_MAX UINT_FAST16_MAX UINT_FAST32_MAX UINT_FAST64_MAX
EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT EBUSY
EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY EFBIG ENOSPC ESPIPE EROFS EMLINK
EPIPE EDOM ERANGE EOPNOTSUPP ENOTSUPP EOVERFLOW
PAGE_SIZE PAGE_SHIFT PAGE_MASK PAGE_OFFSET VMEMMAP_START HZ GFP_KERNEL GFP_ATOMIC GFP_NOWAIT
BUILD_BUG_ON_ZERO BUILD_BUG_ON ARRAY_SIZE min max clamp swap likely unlikely container_of
READ_ONCE WRITE_ONCE BIT GENMASK ALIGN IS_ERR PTR_ERR ERR_PTR typeof_member
""".split())

# Types the headers declare (a struct tag or member may not hide them from
# later code: `struct u8` is fine, a macro `u8` is not).
SYSTEM_TYPES = frozenset("""
u8 u16 u32 u64 s8 s16 s32 s64 int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t
intptr_t uintptr_t intmax_t uintmax_t size_t ptrdiff_t wchar_t max_align_t phys_addr_t gfp_t atomic_t
""".split())

# Struct tags of the runtime and of the kernel API.
SYSTEM_TAGS = frozenset("""
ks_arena ks_cursor ks_entry ks_reader ks_writer ks_entry_ctx kstate_field kstate_description
kstate_stream folio page list_head
""".split())


def is_reserved_identifier(name: str) -> bool:
    """C reserves `__x` and `_X` for the implementation (C11 7.1.3)."""
    return name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper())


def macro_reserved(name: str) -> str | None:
    """Why ``name`` may not be a macro kstate defines (None: it may)."""
    if name in C_KEYWORDS:
        return "a C keyword"
    if is_reserved_identifier(name):
        return "reserved by C for the compiler and its library (names starting with __ or _ and a capital)"
    if name in SYSTEM_MACROS:
        return "a macro the compiler or the included headers define"
    if name in SYSTEM_TYPES or name in SYSTEM_TAGS:
        return "a type the generated headers use"
    if name in GENERATED_WORDS or name in runtime_words():
        return "a name the generated C code or its runtime (kstate_rt.h) uses"
    return None


def name_reserved(name: str) -> str | None:
    """Why ``name`` may not be a struct tag or member (None: it may)."""
    if name in C_KEYWORDS:
        return "a C keyword"
    if is_reserved_identifier(name):
        return "reserved by C for the compiler and its library (names starting with __ or _ and a capital)"
    if name in SYSTEM_MACROS:
        return "a macro the compiler or the included headers define"
    return None


def tag_reserved(name: str) -> str | None:
    """Why ``name`` may not be a struct tag (None: it may)."""
    if name in SYSTEM_TAGS:
        return "a struct of the runtime or the kernel API"
    return name_reserved(name)
