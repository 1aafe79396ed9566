"""A finding: one rule broken (or one warning) for one state, field and version.

``Finding.to_json`` gives the exact JSON shape of docs/cli.md (every key present,
``null`` where it does not apply).  ``sort_findings`` orders and
de-duplicates a list once, before any formatter sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field

from ..errors import SourceMap, Span
from .edits import Edit
from .rules import severity

JSON_KEYS = ("rule", "severity", "direction", "old_side", "new_side", "state", "state_id", "field",
             "version", "file", "line", "column", "old_file", "old_line", "old_column", "old", "new",
             "message", "hint", "waived")
DIRECTIONS = ("update", "rollback")


@dataclass(frozen=True)
class Finding:
    rule: str
    direction: str | None = "update"
    old_side: str | None = None
    new_side: str | None = None
    state: str | None = None
    state_id: int | None = None
    field: str | None = None
    version: int | None = None
    span: Span | None = None
    file_only: str | None = None  # a file without a position (the waiver file)
    old: str | None = None
    new: str | None = None
    message: str = ""
    hint: str | None = None
    waived: bool = False
    waiver_reason: str | None = None
    pair: int = 0  # index of the (old, new) pair in the run, for ordering
    sources: SourceMap | None = dc_field(default=None, compare=False, hash=False, repr=False)
    blame: str = "new"  # whose text the finding blames: "old" or "new"
    text_span: Span | None = None  # the exact position blamed, when ``span`` was moved (locations.py)
    text_sources: SourceMap | None = dc_field(default=None, compare=False, hash=False, repr=False)
    # what the hint proposes, as edits of the schema text (not in the JSON output)
    edits: tuple[Edit, ...] = dc_field(default=(), compare=False, hash=False, repr=False)

    @property
    def severity(self) -> str:
        return severity(self.rule)

    @property
    def file(self) -> str | None:
        return self.span.file if self.span else self.file_only

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    @property
    def old_span(self) -> Span | None:
        """OLD's exact position, when the finding blames OLD's text."""
        if self.blame != "old":
            return None
        return self.text_span or self.span

    @property
    def old_file(self) -> str | None:
        return self.old_span.file if self.old_span else None

    @property
    def old_line(self) -> int | None:
        return self.old_span.line if self.old_span else None

    @property
    def old_column(self) -> int | None:
        return self.old_span.column if self.old_span else None

    def with_sides(self, old_side: str, new_side: str, pair: int) -> "Finding":
        return replace(self, old_side=old_side, new_side=new_side, pair=pair)

    def __getitem__(self, key: str):
        """``finding["rule"]``: the JSON keys, for callers that treat findings as records."""
        if key not in JSON_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> dict:
        return {key: getattr(self, key) for key in JSON_KEYS}

    def sort_key(self) -> tuple:
        return (self.pair, DIRECTIONS.index(self.direction) if self.direction in DIRECTIONS else 9,
                self.file or "", self.line or 0, self.column or 0, self.rule, self.state or "",
                self.field or "", self.version or 0, self.message)


def sort_findings(findings) -> list[Finding]:
    """Sorted by pair, direction and position; exact duplicates dropped."""
    seen: set[tuple] = set()
    out: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        key = tuple(f.to_json().values()) + (f.pair,)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


@dataclass
class Summary:
    errors: int = 0
    warnings: int = 0
    waived: int = 0

    @classmethod
    def of(cls, findings) -> "Summary":
        s = cls()
        for f in findings:
            if f.waived:
                s.waived += 1
            elif f.severity == "error":
                s.errors += 1
            else:
                s.warnings += 1
        return s

    def __getitem__(self, key: str):
        """``finding["rule"]``: the JSON keys, for callers that treat findings as records."""
        if key not in JSON_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> dict:
        return {"errors": self.errors, "warnings": self.warnings, "waived": self.waived}
