"""What every rule function works with: the two sets of one direction, and a
way to emit findings.

The checker always runs the *update* model: ``writer`` writes a stream and
``reader`` restores it.  For ``--direction update`` the writer is OLD; for
``rollback`` the roles are swapped (``Model.swapped``), so the same rule
functions give the swapped model's rule names.  ``emit`` labels each finding
with its direction and keeps the JSON keys ``old``/``new`` describing the
user's OLD and NEW sides in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import model as m
from ..errors import Span
from .finding import Finding
from .locations import same_item
from .rules import severity


@dataclass
class Model:
    writer: m.SchemaSet
    reader: m.SchemaSet
    direction: str = "update"
    findings: list[Finding] = field(default_factory=list)

    @property
    def W(self) -> str:  # how messages name the writer's schema
        return "OLD" if self.direction == "update" else "NEW"

    @property
    def R(self) -> str:
        return "NEW" if self.direction == "update" else "OLD"

    @property
    def sources(self):
        """The reader's schema text (what hints propose to edit)."""
        return self.reader.sources

    def emit(self, rule: str, *, state: m.State | m.RetiredState | None = None,
             field_: str | None = None, version: int | None = None, span: Span | None = None,
             where: str = "reader", writer_says: str | None = None, reader_says: str | None = None,
             message: str, hint: str | None = None, edits=(), state_id: int | None = None,
             rollback_hint: str | None = None) -> None:
        """Record a finding; ``where`` says whose source ``span`` is in; ``edits`` are the
        reader's schema text changes that ``hint`` proposes; ``state_id`` overrides the state's id.

        In rollback the reader is OLD, which is shipped: no edit of it is proposed, an error's
        hint says the fix belongs in NEW (``rollback_hint``, else the general words), and an
        error blamed on OLD's text of an item NEW has too is blamed on NEW's (the side the hint
        says to fix)."""
        if self.direction == "rollback":
            edits = ()
            if severity(rule) == "error":
                hint = rollback_hint or (
                    "OLD's schema is already shipped, so the fix belongs in NEW: undo this change in NEW "
                    "(or stage it: ship a kernel that can read it first), or accept that a rollback to OLD "
                    f"is not supported and waive {rule} with {_waiver_keys(state)}")
                if where == "reader" and span is not None:
                    moved = same_item(span, self.reader, self.writer)
                    if moved is not None:
                        span, where = moved, "writer"
        sources = (self.reader if where == "reader" else self.writer).sources
        old, new = (writer_says, reader_says) if self.direction == "update" else (reader_says, writer_says)
        self.findings.append(Finding(
            rule=rule, direction=self.direction,
            state=state.name if state is not None else None,
            state_id=state_id if state_id is not None else state.id if state is not None else None,
            field=field_, version=version, span=span, old=old, new=new,
            message=message, hint=hint, sources=sources,
            edits=() if any(e is None for e in edits) else tuple(edits),  # all of the fix, or none
            blame="old" if (where == "writer") == (self.direction == "update") else "new"))


def _waiver_keys(state) -> str:
    """The keys of the waiver that accepts a rollback finding (docs/compatibility.md, Waivers)."""
    return (f"state = \"{state.name}\" and " if state is not None else "state = \"*\" and ") + \
        "direction = \"rollback\""


def state_span(st: m.State, which: str) -> Span:
    """The ``version``/``min_version`` property of ``st``, or its name when defaulted."""
    span = st.version_span if which == "version" else st.min_version_span
    return span or st.span
