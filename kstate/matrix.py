"""The live-update qualification matrix: for N kernels' schemas (oldest
first), which updates and rollbacks are safe.

Cell (row, column) is the move from kernel ``row`` to kernel ``column``:
an update when the row is older, a rollback when it is newer.  Its value is
the number of error findings of that move, 0 meaning safe.  With waivers
(``matrix --waivers FILE``, or kstate.toml's ``[check] waivers``) a waived
error is counted apart: a cell whose every error is waived reads ``waived``
(a deliberate cut), not an error count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from . import model as m
from .checker import check


@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    kind: str  # "update" | "rollback"
    errors: int
    warnings: int
    rules: tuple[str, ...]  # the error rules found, sorted, unique (waived ones excluded)
    waived: int = 0  # errors a waiver accepts
    waived_rules: tuple[str, ...] = ()


def build_matrix(sides: list[tuple[str, m.SchemaSet]], waivers=None) -> list[list[Cell | None]]:
    """``waivers``: a list of ``checker.waivers.Waiver``; they mark findings
    waived the way ``kstate check --waivers`` does."""
    n = len(sides)
    grid: list[list[Cell | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if i < j:  # kernel i updates to kernel j: i writes, j restores
                findings = check(sides[i][1], sides[j][1], "update")
                kind = "update"
            else:  # kernel i rolls back to the older kernel j: i writes, j restores
                findings = check(sides[j][1], sides[i][1], "rollback")
                kind = "rollback"
            if waivers:
                findings = [replace(f, waived=True, waiver_reason=w.reason) if w is not None else f
                            for f in findings for w in [next((w for w in waivers if w.matches(f)), None)]]
            errors = [f for f in findings if f.severity == "error" and not f.waived]
            waived = [f for f in findings if f.severity == "error" and f.waived]
            grid[i][j] = Cell(i, j, kind, len(errors),
                              sum(1 for f in findings if f.severity == "warning" and not f.waived),
                              tuple(sorted({f.rule for f in errors})), len(waived),
                              tuple(sorted({f.rule for f in waived})))
    return grid


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.errors == 0:
        return "waived" if cell.waived else "OK"
    return f"{cell.errors} (+{cell.waived} waived)" if cell.waived else str(cell.errors)


def to_text(labels: list[str], grid) -> str:
    head = ["from \\ to"] + labels
    rows = [[labels[i]] + [_cell_text(c) for c in grid[i]] for i in range(len(labels))]
    widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + rows]
    lines.append("")
    lines.append("row -> column: above the diagonal an update, below it a rollback; "
                 "a number is the count of errors (kstate check says which); "
                 "waived: every error of that move is waived on purpose")
    return "\n".join(lines) + "\n"


def to_markdown(labels: list[str], grid) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| from \\ to | " + " | ".join(f"`{esc(l)}`" for l in labels) + " |",
             "|---|" + "---|" * len(labels)]
    for i, label in enumerate(labels):
        lines.append(f"| `{esc(label)}` | " + " | ".join(_cell_text(c) for c in grid[i]) + " |")
    return "\n".join(lines) + "\n"


def to_json(labels: list[str], grid) -> str:
    doc = {
        "sides": labels,
        "matrix": [[None if c is None else c.errors for c in row] for row in grid],
        "cells": [{"from": labels[c.row], "to": labels[c.column], "kind": c.kind, "errors": c.errors,
                   "warnings": c.warnings, "rules": list(c.rules), "safe": c.errors == 0,
                   "waived": c.waived, "waived_rules": list(c.waived_rules)}
                  for row in grid for c in row if c is not None],
    }
    return json.dumps(doc, indent=2) + "\n"


FORMATS = {"text": to_text, "markdown": to_markdown, "json": to_json}
