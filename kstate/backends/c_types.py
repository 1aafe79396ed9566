"""C spellings shared by the C backend: types, declarators, literals, comments.

Everything here is a pure function of the model; ``c_view`` assembles the
per-file view, ``c_user`` and ``c_kernel`` the two modes' code.
"""

from __future__ import annotations

import re
import textwrap

from .. import model as m

KERNEL = "kernel"
USER = "user"


def elem_base(t: m.ValueType, mode: str) -> tuple[str, str]:
    """(base C type, element suffix) of one element of ``t`` in ``mode``.

    ``char[N]`` is ``char`` with suffix ``[N]``; ``addr`` and ``folio`` are
    pointers in the kernel and their 8 wire bytes (u64) in userspace.
    """
    if isinstance(t, m.IntType):
        return t.c_type, ""
    if isinstance(t, m.BoolType):
        return "bool", ""
    if isinstance(t, m.CharType):
        return "char", f"[{t.length}]"
    if isinstance(t, m.BytesType):
        return "u8", ""
    if isinstance(t, m.AddrType):
        return ("void *" if mode == KERNEL else "u64"), ""
    if isinstance(t, m.FolioType):
        return ("struct folio *" if mode == KERNEL else "u64"), ""
    if isinstance(t, m.EnumType):
        return t.decl.base.c_type, ""
    if isinstance(t, (m.StructType, m.StateType)):
        return f"struct {t.decl.c_name or t.decl.name}", ""
    raise TypeError(t)


def _join(base: str, core: str) -> str:
    return base + ("" if base.endswith("*") or not core else " ") + core


def declarator(f: m.Field, name: str, mode: str) -> str:
    """The C declaration of field ``f`` as a struct member called ``name``.

    ``name=""`` gives the type name (for ``sizeof`` and the RFC macros).
    """
    base, suffix = elem_base(f.type, mode)
    shape = f.shape
    if f.pointer and isinstance(shape, m.Fixed):
        core = f"*{name}[{shape.length}]"
    elif f.pointer and shape is None:
        core = f"*{name}"
    elif f.pointer:
        core = f"**{name}"
    elif isinstance(shape, m.Fixed):
        core = f"{name}[{shape.length}]"
    elif shape is not None:
        core = f"*{name}"
    else:
        core = name
    if suffix:
        core = (f"({core})" if core.startswith("*") else core) + suffix
    return _join(base, core)


def uint_type(width: int) -> str:
    return f"u{8 * width}"


def literal(value: int, width: int, signed: bool) -> str:
    """An integer literal of the right C type, usable in ``#if`` too."""
    if signed:
        if width == 8:
            if value == -(1 << 63):
                return "(-9223372036854775807LL - 1)"
            return f"({value}LL)" if value < 0 else f"{value}LL"
        if value == -(1 << 31):
            return "(-2147483647 - 1)"
        return f"({value})" if value < 0 else str(value)
    suffix = "ULL" if width == 8 else "U"
    return f"{value:#x}{suffix}" if value > 9 else f"{value}{suffix}"


def u64(value: int) -> str:
    return f"{value:#x}ULL" if value > 9 else f"{value}ULL"


def s64(value: int) -> str:
    return literal(value, 8, True)


# control characters other than tab and line breaks (gcc warns about a NUL)
# and the bidirectional controls gcc's -Wbidi-chars refuses ("Trojan Source",
# CVE-2021-42574)
_HIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def defuse(text: str) -> str:
    """Text that is inert inside a C block comment: no ``*/`` to end it, no
    ``/*`` (``-Wcomment``), no ``??`` trigraph (``??/`` would splice lines),
    and control and bidi characters spelled ``<U+202E>`` as gcc shows them."""
    text = _HIDDEN.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)
    return text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")


#: the kernel's line limit (checkpatch.pl's max_line_length)
LINE_LIMIT = 100
#: comment text per line: fits the limit one tab in (struct members)
COMMENT_WIDTH = LINE_LIMIT - 8 - 4


def comment(doc: str | None, indent: str = "") -> list[str]:
    """A doc comment as C comment lines (its text defused, long lines wrapped)."""
    if not doc:
        return []
    lines: list[str] = []
    for line in defuse(doc).splitlines():
        line = line.rstrip()
        lines += textwrap.wrap(line, COMMENT_WIDTH, break_long_words=False, break_on_hyphens=False) or [""]
    if len(lines) == 1 and len(lines[0]) <= COMMENT_WIDTH - 3:
        return [f"{indent}/* {lines[0]} */"]
    return [f"{indent}/*"] + [f"{indent} * {l}".rstrip() for l in lines] + [f"{indent} */"]


def width(line: str) -> int:
    return len(line.expandtabs(8))


def fits(line: str, limit: int = LINE_LIMIT) -> bool:
    """``width(line) <= limit``; most lines are far shorter: a tab is at most 8 columns."""
    return len(line) + 7 * line.count("\t") <= limit or width(line) <= limit


def align(column: int) -> str:
    """Leading whitespace reaching ``column`` (tabs, then spaces: kernel style)."""
    return "\t" * (column // 8) + " " * (column % 8)


_BREAKS = (", ", " << ", " >> ", " && ", " || ", " ? ", " : ", " + ", " - ", " * ", " / ", " | ", " & ")
# what wrap_c looks at, left to right: a string literal (whole: nothing in it
# breaks), a parenthesis or bracket, or the start of a break (zero-width, so
# breaks may overlap; the first of _BREAKS that matches is the one)
_WRAP_SCAN = re.compile(r'"(?:\\.?|[^"\\])*"?|[(\[]|[)\]]|(?=(' + "|".join(re.escape(b) for b in _BREAKS) + "))", re.S)


def wrap_c(line: str, limit: int = LINE_LIMIT, continued: bool = False) -> list[str]:
    """A C line longer than ``limit`` columns, broken after a comma or a binary
    operator, the rest aligned with the innermost open parenthesis (or one tab
    further in outside parentheses), as checkpatch.pl wants it."""
    if fits(line, limit):
        return [line]
    lead = line[:len(line) - len(line.lstrip("\t "))]
    best = None
    stack: list[int] = []
    for m in _WRAP_SCAN.finditer(line, len(lead)):
        i = m.start()
        op = m.group(1)
        if op is not None:
            cut = i + len(op) - 1
            # the outermost break that fits; the last one among those
            if width(line[:cut].rstrip()) <= limit and (best is None or len(stack) <= best[2]):
                best = (cut, stack[-1] + 1 if stack else None, len(stack))
        elif line[i] in "([":
            stack.append(width(line[:i]))
        elif line[i] in ")]":
            if stack:
                stack.pop()
    if best is None:
        return [line]
    cut, col, _ = best
    rest = line[cut:].lstrip()
    if col is not None:
        cont = align(col)
    else:  # outside parentheses: one tab in; a continued line keeps its own alignment
        cont = lead if continued else lead + "\t"
    return [line[:cut].rstrip()] + wrap_c(cont + rest, limit, True)


def wrap_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        for part in line.split("\n"):
            if len(part) + 7 * part.count("\t") <= LINE_LIMIT:  # fits(part)'s quick test, inline
                out.append(part)
            else:
                out += wrap_c(part)
    return out


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def mask(width_bits: int) -> int:
    return (1 << width_bits) - 1


def is_memcpy(t: m.ValueType) -> bool:
    """Elements whose C object bytes are their wire bytes in native order."""
    return isinstance(t, (m.IntType, m.BoolType, m.CharType, m.BytesType, m.EnumType, m.StructType))


def wire_min(t: m.ValueType) -> int:
    """The fewest wire bytes one element can take (a nested state: its header)."""
    return 20 if isinstance(t, m.StateType) else t.size


def int_of(t: m.ValueType) -> m.IntType | None:
    """The integer type behind ``t`` (enums and flags: their base)."""
    if isinstance(t, m.IntType):
        return t
    if isinstance(t, m.EnumType):
        return t.decl.base
    if isinstance(t, m.BytesType):
        return m.int_type("u8")
    return None


_IDENT = re.compile(r"[A-Za-z_]\w*")
_USES = re.compile(r"(?<!->)(?<![.\w])[A-Za-z_]\w*")


def function_body(params: list[str], decls: list[str], body: list[str]) -> list[str]:
    """A function body that declares only the locals ``body`` uses (each of
    ``decls`` declares one, named last before ``=``) and casts to void only
    the parameters nothing uses, so ``-Wall -Wextra -Werror`` holds without
    boilerplate."""
    # a word after `->` or `.` is a member (a field may be called `field`), not the variable
    used = set(_USES.findall("\n".join(body)))  # one line's words cannot run into the next's
    kept: list[str] = []
    for decl in reversed(decls):  # a later declaration may use an earlier one
        name = _IDENT.findall(decl.split("=")[0])[-1]
        if name in used:
            kept.insert(0, decl)
            used.update(_USES.findall(decl))
    voids = [f"(void){p};" for p in params if p not in used]
    head = kept + voids
    return head + ([""] if head and body else []) + body
