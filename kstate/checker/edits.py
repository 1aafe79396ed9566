"""What a hint proposes, as an edit a program can apply.

A hint that proposes schema text (``min_version = 1;``, ``@since(2)``,
``@max(8)``) carries the same text as ``Edit``s: on one line of one schema
file, replace the first occurrence of ``old`` at or after ``column`` by
``new``.  The hint's words are written from the edits, so what the user
reads is what the tests apply (tests/test_check_hints.py applies every edit
and checks the finding is gone).  Edits are not part of the JSON output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def apply_all(texts: dict[str, str], edits) -> dict[str, str]:
    """``texts`` (file -> text) with every edit made, later columns first on a line."""
    out = dict(texts)
    for e in sorted(edits, key=lambda e: (e.file, e.line, -e.column)):
        out[e.file] = e.apply(out[e.file])
    return out
