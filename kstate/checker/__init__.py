"""``kstate check``: the compatibility checker that refuses silent data loss.

``check(old, new, direction)`` compares two compiled schema sets and returns
the findings, sorted and de-duplicated.  The model is docs/compatibility.md's:
OLD writes each state at its version, NEW must restore it exactly.  Rules are
data (``rules.RULES``); pairing of states happens in ``states``, of fields
in ``fields.align``; formatters live in ``formats``; waivers in ``waivers``;
chains of sides in ``chain``.
"""

from __future__ import annotations

from .. import model as m
from ..errors import UsageError
from .context import Model
from .finding import Finding, Summary, sort_findings
from .rules import BY_NAME, RULES, Rule
from .states import check_model

__all__ = ["check", "Finding", "Summary", "RULES", "Rule", "BY_NAME", "DIRECTIONS"]

DIRECTIONS = {"update": ("update",), "rollback": ("rollback",), "both": ("update", "rollback")}


def check(old: m.SchemaSet, new: m.SchemaSet, direction: str = "update") -> list[Finding]:
    """Every finding for the change OLD -> NEW in ``direction`` (update, rollback, both)."""
    if direction not in DIRECTIONS:
        raise UsageError(f"unknown direction {direction!r}: use update, rollback or both")
    findings: list[Finding] = []
    for d in DIRECTIONS[direction]:
        model = Model(old, new, d) if d == "update" else Model(new, old, d)
        check_model(model)
        findings.extend(model.findings)
    old_label = old.origin or "OLD"
    new_label = new.origin or "NEW"
    return sort_findings(f.with_sides(old_label, new_label, 0) for f in findings)
