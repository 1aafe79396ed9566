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
