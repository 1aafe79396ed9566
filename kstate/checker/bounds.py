"""Bounds: which values a layout's decoder accepts, field by field.

``BOUNDS_NARROWED`` asks one question: may the writer put a value in a field
that the reader's decoder rejects?  What a decoder accepts is not always
written on the field itself:

* an integer field accepts its type's range, narrowed by ``@range``;
* a count field (an integer or a ``bits`` member used as a ``[count]``)
  accepts at most the tightest of its type's maximum, its own ``@max`` and
  the ``@max`` of every array it counts: the decoder checks the count
  against each;
* a ``[..]`` array accepts at most its ``@max`` elements.

So a writer with ``n: u8 @max(4); arr: u16[n];`` never writes more than 4
elements, and a reader with ``n: u8; arr: u16[n] @max(10);`` accepts all of
them: not a narrowing.  ``accepted`` computes the effective interval once per
slot; ``narrowing`` compares two of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import model as m
from .wire import Slot

INF = float("inf")


@dataclass(frozen=True)
class Limit:
    """One end of an interval and what sets it: ``value``, the words for it
    (``@max(4)``, ``u8``, ``'arr' @max(6)``) and the slot where it is written."""

    value: float
    why: str
    slot: Slot
    annotation: str | None = None  # the annotation text that sets it, when one does


@dataclass(frozen=True)
class Accepts:
    """An interval of accepted values: every limit that applies, the tightest binding."""

    los: tuple[Limit, ...]
    his: tuple[Limit, ...]

    @property
    def lo(self) -> Limit:
        return max(self.los, key=lambda x: x.value)

    @property
    def hi(self) -> Limit:
        return min(self.his, key=lambda x: x.value)

    def with_hi(self, limit: Limit) -> "Accepts":
        return Accepts(self.los, self.his + (limit,))

    def describe(self) -> str:
        def num(x: float) -> str:
            return "unbounded" if x in (INF, -INF) else str(int(x))

        whys = [self.lo.why] + ([self.hi.why] if self.hi.why != self.lo.why else [])
        return f"{num(self.lo.value)} .. {num(self.hi.value)} ({', '.join(whys)})"


def _field_interval(s: Slot) -> Accepts | None:
    f = s.member
    if isinstance(f, m.BitsField):
        why = f"{f.width}-bit member"
        return Accepts((Limit(0, why, s),), (Limit(f.max_value, why, s),))
    if isinstance(f.type, m.IntType) and f.shape is None:
        t = f.type
        los, his = [Limit(t.min, t.name, s)], [Limit(t.max, t.name, s)]
        if f.range is not None:
            text = f"@range({f.range[0]}, {f.range[1]})"
            los.append(Limit(f.range[0], text, s, text))
            his.append(Limit(f.range[1], text, s, text))
        if f.max is not None:
            his.append(Limit(f.max, f"@max({f.max})", s, f"@max({f.max})"))
        return Accepts(tuple(los), tuple(his))
    if isinstance(f.shape, m.Rest):
        his = [Limit(INF, "[..]", s)]
        if f.max is not None:
            his.append(Limit(f.max, f"@max({f.max})", s, f"@max({f.max})"))
        return Accepts((Limit(0, "[..]", s),), tuple(his))
    return None


def accepted(layout: list[Slot]) -> dict[int, Accepts]:
    """Slot position -> the interval its decoder accepts (only slots that have bounds).

    A count's interval includes the ``@max`` of the arrays it counts in this layout."""
    out = {s.position: a for s in layout if (a := _field_interval(s)) is not None}
    by_name = {s.name: s for s in layout}
    for s in layout:
        f = s.member
        if s.is_bits or not isinstance(f.shape, m.Counted) or f.max is None:
            continue
        count = by_name.get(f.shape.count)
        if count is None or count.position not in out:
            continue
        text = f"@max({f.max})"
        out[count.position] = out[count.position].with_hi(Limit(f.max, f"'{s.name}' {text}", s, text))
    return out


@dataclass(frozen=True)
class Narrowing:
    writer: Accepts
    reader: Accepts
    binding: Limit  # the reader's tightest limit that rejects the writer's values

    @property
    def what(self) -> str:
        return "@range narrowed" if (self.binding.annotation or "").startswith("@range") else "@max lowered"

    def fixes(self) -> list[tuple[Slot, str, str | None]]:
        """(slot, annotation written there, what to write instead; None: delete it) for every
        reader limit that rejects a value the writer may write."""
        wlo, whi = self.writer.lo.value, self.writer.hi.value
        out: dict[tuple[int, str], tuple[Slot, str, str | None]] = {}
        rejecting = [x for x in self.reader.los if x.value > wlo] + [x for x in self.reader.his if x.value < whi]
        for lim in rejecting:
            if lim.annotation is None:
                continue
            if lim.annotation.startswith("@range"):
                f = lim.slot.member
                new = f"@range({int(min(wlo, f.range[0]))}, {int(max(whi, f.range[1]))})"
            else:
                new = None if whi == INF else f"@max({int(whi)})"
            out[(lim.slot.position, lim.annotation)] = (lim.slot, lim.annotation, new)
        return list(out.values())


def narrowing(writer: Accepts | None, reader: Accepts | None) -> Narrowing | None:
    """How ``reader`` rejects values ``writer`` may write, or None when it accepts them all."""
    if writer is None or reader is None:
        return None
    if reader.hi.value < writer.hi.value:
        return Narrowing(writer, reader, reader.hi)
    if reader.lo.value > writer.lo.value:
        return Narrowing(writer, reader, reader.lo)
    return None
