"""Diagnostics: the one type every phase reports problems with.

A diagnostic has a stable ``code``, a ``severity`` and a source ``Span``;
``render()`` prints it like a C compiler does (``FILE:LINE:COL:
error[CODE]: message``, the source line, a caret).  Phases collect
diagnostics instead of raising; ``SchemaError`` carries all of them out of
``kstate.load`` at the end of the first phase that found errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable

from .escape import printable

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True, order=True)
class Span:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    severity: str = ERROR
    notes: tuple[str, ...] = ()
    help: str | None = None  # what to do about it: a fix that works when applied

    def render(self, sources: "SourceMap | None" = None) -> str:
        """The compiler-style text.  Everything that came from input (the file
        name, the message, the notes, the source line) is ``printable``: a
        control character cannot end a line or forge a CI annotation."""
        where = f"{printable(self.span)}: " if self.span else "kstate: "
        lines = [f"{where}{self.severity}[{self.code}]: {printable(self.message)}"]
        text = sources.line(self.span) if (sources and self.span) else None
        if text is not None:
            start = max(0, self.span.column - 1)
            lines.append(f"    {printable(text.expandtabs(8))}")
            caret_col = len(printable(text[:start].expandtabs(8)))
            width = 1
            if self.span.end_line == self.span.line and self.span.end_column:
                end = max(start + 1, self.span.end_column - 1)
                width = max(1, len(printable(text[:end].expandtabs(8))) - caret_col)
            lines.append("    " + " " * caret_col + "^" + "~" * (width - 1))
        for note in self.notes:
            lines.append(f"    note: {printable(note)}")
        if self.help:
            lines.append(f"    help: {printable(self.help)}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        out = {"code": self.code, "severity": self.severity, "message": self.message}
        out.update(self.span.to_json() if self.span else
                   {"file": None, "line": None, "column": None})
        if self.help:
            out["help"] = self.help
        return out


class SourceMap:
    """The text of every source file read, for caret rendering."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}

    def add(self, display: str, text: str) -> None:
        self._texts[display] = text.splitlines()

    def lines(self, display: str) -> list[str] | None:
        """Every line of the file shown as ``display``, or None when it was not read."""
        lines = self._texts.get(display)
        return None if lines is None else list(lines)

    def line(self, span: Span) -> str | None:
        lines = self._texts.get(span.file)
        if lines is None or not (1 <= span.line <= len(lines)):
            return None
        return lines[span.line - 1]


class KstateError(Exception):
    """Root of every error kstate raises on purpose.  ``help``, when given, is
    what to do about it (printed as a ``help:`` line under the message)."""

    exit_code = 2
    help: str | None = None

    def __init__(self, *args, help: str | None = None):
        super().__init__(*args)
        if help is not None:
            self.help = help

    def render(self) -> str:
        """``kstate: error: MESSAGE``, then the ``help:`` line if there is one."""
        out = f"kstate: error: {printable(self)}"
        return out + (f"\n    help: {printable(self.help)}" if self.help else "")


class UsageError(KstateError):
    """Bad arguments, unreadable files, bad git refs: exit code 2."""


class SchemaError(KstateError):
    """A schema set that does not compile; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: SourceMap | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = sources
        errors = [d for d in self.diagnostics if d.severity == ERROR]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = f"{len(errors)} error(s)"
        if first is not None:
            summary += f"; first: {first.span or 'kstate'}: {first.message}"
        super().__init__(summary)

    def render(self) -> str:
        """Every diagnostic, then one summary line (``kstate: 3 errors, 1 warning``)."""
        return "\n".join([d.render(self.sources) for d in self.diagnostics] + [summary_line(self.diagnostics)])


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(diagnostics: Iterable[Diagnostic]) -> str:
    """The line that ends every run that reported errors."""
    diagnostics = list(diagnostics)
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = sum(d.severity == WARNING for d in diagnostics)
    return f"kstate: {_count(errors, 'error')}, {_count(warnings, 'warning')}"


@dataclass
class Reporter:
    """Collects the diagnostics of one phase."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None, *notes: str,
              help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, ERROR, tuple(notes), help))

    def warning(self, code: str, message: str, span: Span | None, *notes: str,
                help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, WARNING, tuple(notes), help))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self.diagnostics)

    def to_json(self) -> str:
        return json.dumps([d.to_json() for d in self.diagnostics])
