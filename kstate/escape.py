"""Text from input, made safe to print: no control character reaches a
terminal, a log or a CI annotation.

Every value kstate prints that came from input (file names, waiver reasons,
rule/state/field values, source lines, git refs) passes through
``printable`` at the one place it is rendered (``Diagnostic.render``, the
check formatters, the CLI's error line).  Control characters (C0, DEL, C1:
newline, ESC, BEL, NEL U+0085), line and paragraph separators (U+2028,
U+2029) and format characters (bidi overrides, zero-width characters, BOM)
are spelled ``\\xNN`` (below U+0100) or ``\\uNNNN``/``\\UNNNNNNNN``; every
other character, letters of any script included, is kept.
"""

from __future__ import annotations

import re
import unicodedata

# ASCII fast path, then the Unicode categories: Cc (controls), Cf (format:
# bidi, zero-width, BOM), Zl/Zp (U+2028/U+2029), Cs (lone surrogates from
# surrogateescape-decoded names), Co/Cn (private use, unassigned).
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
_NON_PRINTABLE_ASCII = re.compile(r"[\x00-\x1f\x7f]")


def _spell(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_safe_char(ch: str) -> bool:
    if ch < "\x80":
        return " " <= ch < "\x7f"
    return unicodedata.category(ch) not in _UNSAFE_CATEGORIES


def printable(text: object) -> str:
    """``text`` (``str()`` of it) with every unsafe character spelled as an escape."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii():
        if not _NON_PRINTABLE_ASCII.search(s):
            return s
        return _NON_PRINTABLE_ASCII.sub(lambda m: _spell(m[0]), s)
    return "".join(ch if is_safe_char(ch) else _spell(ch) for ch in s)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")


def json_text(dumped: str) -> str:
    """A ``json.dumps(..., ensure_ascii=False)`` result with the characters
    that JSON allows raw but logs and viewers treat as line breaks or
    reordering (DEL, C1, U+2028/U+2029, bidi and zero-width format
    characters) written as ``\\uNNNN`` escapes.  These characters only occur
    inside JSON strings, so the document decodes to the same values."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", dumped)
