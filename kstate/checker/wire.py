"""Wire types of layouts, as the checker compares them.

``Field.wire``/``BitsGroup.wire`` (computed in the model) say what a reader
must agree on.  Two adjustments are made here, and only here:

* a ``[count]`` array names its count field; the checker replaces the name
  by the count field's position in the layout (a ``bits`` member's too), so
  renaming a count field (together with the arrays that use it) is a rename,
  not a shape change;
* bits members are flattened into *slots*: each member of a ``bits`` group is
  an ordinary field for the checker, with the wire type (group width, bit
  offset, bit width).

Bounds (``@max``, ``@range``) are not part of a layout's wire type here:
narrowing them is ``BOUNDS_NARROWED`` (``bounds``), widening them is silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import model as m
from ..errors import Span


@dataclass(frozen=True)
class Slot:
    """One field of a layout, bits members flattened."""

    name: str
    position: int  # 1-based, among the slots of the layout
    wire: tuple
    member: "m.Field | m.BitsField"
    group: "m.BitsGroup | None"
    span: Span

    @property
    def is_bits(self) -> bool:
        return self.group is not None

    def describe(self) -> str:
        return f"{self.name}: {describe_type(self)} at position {self.position}"


def describe_type(slot: Slot) -> str:
    if slot.group is not None:
        b = slot.member
        return f"{b.width}-bit member at bit {b.offset} of bits {slot.group.type.name}"
    f = slot.member
    text = f.describe_wire()
    if isinstance(f.type, m.EnumType) and f.type.decl.name not in text:
        text = f"{f.type.decl.name} ({text})"
    return text


def member_wire(mb: m.Member, count_pos: dict[str, int]) -> tuple:
    """``mb.wire`` with a count field's name replaced by its position."""
    if mb.is_bits:
        return mb.wire
    if isinstance(mb.shape, m.Counted):
        return (mb.type.wire, ("count", count_pos.get(mb.shape.count, mb.shape.count)), mb.fixed)
    return mb.wire


def slots(members) -> list[Slot]:
    """The flattened fields of ``members`` (a layout, or a struct's members)."""
    out: list[Slot] = []
    names: dict[str, int] = {}
    for mb in members:
        if mb.is_bits:
            for b in mb.fields:
                pos = len(out) + 1
                out.append(Slot(b.name, pos, ("bitfield", mb.type.width, b.offset, b.width), b, mb, b.span))
                names[b.name] = pos
        else:
            pos = len(out) + 1
            out.append(Slot(mb.name, pos, member_wire(mb, names), mb, None, mb.span))
            names[mb.name] = pos
    return out


def layout_wire(members) -> tuple:
    """The wire type of a whole layout: what LAYOUT_CHANGED_WITHOUT_BUMP compares."""
    pos: dict[str, object] = {}
    out = []
    for i, mb in enumerate(members):
        out.append(member_wire(mb, pos))
        if mb.is_bits:  # a bits member used as a count is named by its place, like a field
            pos.update((b.name, (i, k)) for k, b in enumerate(mb.fields))
        else:
            pos[mb.name] = i
    return tuple(out)


def subsection_ids(st: m.State, version: int) -> tuple:
    return tuple(s.state.id if s.state is not None else s.name for s in st.subsections_for(version))
