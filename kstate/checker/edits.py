"""What a hint proposes, as edits a program can apply.

A hint that proposes schema text (``min_version = 1;``, ``@since(2)``,
``@max(8)``) carries the same text as ``Edit``s: on one line of one schema
file, replace the first occurrence of ``old`` at or after ``column`` by
``new`` (``old`` may be empty: an insertion; ``new`` may hold line breaks:
new lines).  The hint's words quote the edits' text in backticks, so what
the user reads is what the tests apply (tests/test_check_hints.py applies
the edits of every fixture's findings, re-runs the check and asserts the
finding is gone).  Edits are not part of the JSON output.

Every helper returns None when the text it looks for is not on the line it
expects (a declaration written over several lines): the hint then keeps its
words and proposes no text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import model as m
from ..errors import SourceMap, Span


@dataclass(frozen=True)
class Edit:
    file: str
    line: int  # 1-based
    column: int  # 1-based: ``old`` is searched from here
    old: str
    new: str

    def apply(self, text: str) -> str:
        """``text`` (the whole file) with this edit made; ValueError when ``old`` is not there."""
        lines = text.split("\n")
        line = lines[self.line - 1]
        at = line.find(self.old, self.column - 1)
        if at < 0:
            raise ValueError(f"{self.file}:{self.line}: {self.old!r} not found from column {self.column}")
        lines[self.line - 1] = line[:at] + self.new + line[at + len(self.old):]
        return "\n".join(lines)


def find(sources: SourceMap | None, span: Span | None, pattern: str, new: str) -> Edit | None:
    """An edit replacing the first match of ``pattern`` (a regex) on ``span``'s line, at or after
    its column, by ``new``; None when the text is not there (a declaration over several lines)."""
    if sources is None or span is None:
        return None
    line = sources.line(span)
    if line is None:
        return None
    hit = re.compile(pattern).search(line, span.column - 1)
    if hit is None:
        return None
    return Edit(span.file, span.line, hit.start() + 1, hit.group(0), new)


def annotation(sources: SourceMap | None, span: Span | None, name: str, new: str | None) -> Edit | None:
    """Replace the ``@name(...)`` annotation of the field at ``span`` by ``new`` (None: delete it)."""
    pat = rf"\s*@{name}\s*\([^)]*\)" if new is None else rf"@{name}\s*\([^)]*\)"
    return find(sources, span, pat, new or "")


def set_annotation(sources: SourceMap | None, span: Span | None, name: str, new: str) -> Edit | None:
    """Write ``new`` (``@since(2)``) on the declaration at ``span``: in place of its ``@name(...)``
    when it has one, else before the ``;`` that ends it."""
    if sources is None or span is None:
        return None
    line = sources.line(span)
    if line is not None and re.compile(rf"@{name}\b").search(line, span.column - 1):
        return annotation(sources, span, name, new)
    return before_end(sources, span, " " + new)


def before_end(sources: SourceMap | None, span: Span | None, text: str) -> Edit | None:
    """Insert ``text`` before the ``;`` that ends the declaration at ``span`` (on its line)."""
    e = find(sources, span, r"\s*;", "")
    return None if e is None else Edit(e.file, e.line, e.column, e.old, text + ";")


def field_type(sources: SourceMap | None, span: Span | None) -> str | None:
    """The type as written in the field declaration at ``span`` (``u32[4]``, ``*mode``)."""
    e = find(sources, span, r":\s*[^;=@]*[^;=@\s]", "")
    return None if e is None else e.old[1:].strip()


def set_type(sources: SourceMap | None, span: Span | None, name: str, text: str) -> Edit | None:
    """Write ``name: text`` in the field declaration at ``span`` (its name token)."""
    return find(sources, span, rf"{re.escape(name)}\s*:\s*[^;=@]*[^;=@\s]", f"{name}: {text}")


def renumber(sources: SourceMap | None, span: Span | None, name: str, value: int) -> Edit | None:
    """The ``@name(N, ...)`` annotation of the declaration at ``span`` with ``value`` for N."""
    e = find(sources, span, rf"@{name}\s*\([^)]*\)", "")
    if e is None:
        return None
    return Edit(e.file, e.line, e.column, e.old, re.sub(r"\(\s*[^,)]*", f"({value}", e.old, count=1))


def after_statement(sources: SourceMap | None, span: Span | None, text: str) -> Edit | None:
    """Insert the statement ``text`` after the one at ``span`` (which ends with ``;`` on that
    line): on a line of its own with the same indentation when that statement ends its line,
    else on the same line."""
    if sources is None or span is None:
        return None
    line = sources.line(span)
    if line is None:
        return None
    end = line.find(";", span.column - 1)
    if end < 0:
        return None
    rest = line[end + 1:].strip()
    if not rest or rest.startswith("//"):
        indent = line[: len(line) - len(line.lstrip())]
        return Edit(span.file, span.line, len(line) + 1, "", "\n" + indent + text)
    return Edit(span.file, span.line, end + 1, ";", "; " + text)


def before_statement(sources: SourceMap | None, span: Span | None, text: str) -> Edit | None:
    """Insert the statement ``text`` before the one starting at ``span``: on a line of its own
    above it when that statement starts its line, else on the same line."""
    if sources is None or span is None:
        return None
    line = sources.line(span)
    if line is None:
        return None
    head = line[: span.column - 1]
    if not head.strip():
        return Edit(span.file, span.line, 1, "", head + text + "\n")
    return Edit(span.file, span.line, span.column, "", text + " ")


def append_item(sources: SourceMap | None, file: m.SchemaFile | None, text: str) -> Edit | None:
    """Add the item ``text`` at the end of ``file``."""
    if sources is None or file is None:
        return None
    lines = sources.lines(file.display)
    if lines is None:
        return None
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return Edit(file.display, 1, 1, "", text + "\n")
    return Edit(file.display, len(lines), len(lines[-1]) + 1, "", "\n\n" + text)


def set_property(sources: SourceMap | None, st: m.State, name: str, value: int) -> Edit | None:
    """``name = value;`` in state ``st``: the property rewritten where it is written, else
    added after the ``version`` (or ``id``) property."""
    span = st.version_span if name == "version" else st.min_version_span if name == "min_version" else st.id_span
    if span is not None:
        return find(sources, span, rf"{name}\s*=\s*[^;]*;", f"{name} = {value};")
    anchor = st.version_span or st.id_span
    return after_statement(sources, anchor, f"{name} = {value};")


def bump(sources: SourceMap | None, st: m.State, to: int) -> tuple[list[Edit | None], str]:
    """The edits that set ``st``'s version to ``to`` while it keeps reading the versions it reads
    (a defaulted ``min_version`` follows ``version``, so it is written out), and their words."""
    out = [set_property(sources, st, "version", to)]
    words = f"`version = {to};`"
    if st.min_version_span is None and st.min_version < to:
        out.append(set_property(sources, st, "min_version", st.min_version))
        words += f" with `min_version = {st.min_version};`"
    return out, words


def apply_all(texts: dict[str, str], edits) -> dict[str, str]:
    """``texts`` (file -> text) with every edit made, later positions first in a file."""
    out = dict(texts)
    for e in sorted(edits, key=lambda e: (e.file, -e.line, -e.column)):
        out[e.file] = e.apply(out[e.file])
    return out
