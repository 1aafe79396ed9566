"""Field rules: layout_writer(v) against layout_reader(v), position by position.

Names align the two layouts to *explain* a difference; wire types *decide*.
Pairing happens once (``align``): fields with the same name are matched, an
unmatched pair at the same position with the same wire type is a rename,
everything else is dropped or added.  Matched fields are then compared
aspect by aspect (type, shape, fixed value, bounds, enum values), each
difference its own finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import model as m
from . import edits
from .bounds import Narrowing, accepted, narrowing
from .context import Model
from .enums import compare_enum
from .wire import Slot, describe_type, slots


@dataclass
class Alignment:
    matched: list[tuple[Slot, Slot]]
    moved: list[tuple[Slot, Slot]]
    renamed: list[tuple[Slot, Slot]]
    dropped: list[Slot]
    added: list[Slot]


def align(old: list[Slot], new: list[Slot]) -> Alignment:
    by_new = {s.name: s for s in new}
    by_old = {s.name: s for s in old}
    matched = [(o, by_new[o.name]) for o in old if o.name in by_new]
    moved_idx = _moved([n.position for _, n in matched])
    moved = [matched[i] for i in moved_idx]
    un_new = {n.position: n for n in new if n.name not in by_old}
    renamed, dropped = [], []
    for o in old:
        if o.name in by_new:
            continue
        n = un_new.get(o.position)
        if n is not None and n.wire == o.wire:
            renamed.append((o, n))
            del un_new[o.position]
        else:
            dropped.append(o)
    added = sorted(un_new.values(), key=lambda s: s.position)
    return Alignment(matched, moved, renamed, dropped, added)


def narrowings(wslots: list[Slot], rslots: list[Slot], al: Alignment | None = None) -> list[tuple]:
    """(writer slot, reader slot, Narrowing) for every pair (matched by name or by position)
    whose reader's decoder rejects a value the writer's may write."""
    al = al or align(wslots, rslots)
    wa, ra = accepted(wslots), accepted(rslots)
    out = []
    for o, n in al.matched + al.renamed:
        nar = narrowing(wa.get(o.position), ra.get(n.position)) if _same_kind(o, n) else None
        if nar is not None:
            out.append((o, n, nar))
    return out


def _moved(seq: list[int]) -> list[int]:
    """Indices of ``seq`` outside *every* longest increasing subsequence.

    A rotation reports the one field that moved; a swap reports both.
    """
    n = len(seq)
    if n < 2:
        return []
    end = [1] * n
    for i in range(n):
        for j in range(i):
            if seq[j] < seq[i]:
                end[i] = max(end[i], end[j] + 1)
    start = [1] * n
    for i in reversed(range(n)):
        for j in range(i + 1, n):
            if seq[j] > seq[i]:
                start[i] = max(start[i], start[j] + 1)
    best = max(end)
    on_some = [end[i] + start[i] - 1 == best for i in range(n)]
    count: dict[int, int] = {}
    for i in range(n):
        if on_some[i]:
            count[end[i]] = count.get(end[i], 0) + 1
    return [i for i in range(n) if not (on_some[i] and count[end[i]] == 1)]


def compare_layout(model: Model, ws: m.State, rs: m.State, v: int) -> None:
    """All field findings for state ``ws``/``rs`` at the writer's version ``v``."""
    wslots, rslots = slots(ws.layouts[v]), slots(rs.layouts[v])
    al = align(wslots, rslots)
    W, R = model.W, model.R
    partner = {o.name: n.name for o, n in al.matched + al.renamed}
    for o, n in al.matched:
        _compare_pair(model, rs, v, o, n, n.name, partner)
    for o, n, nar in narrowings(wslots, rslots, al):
        _bounds_narrowed(model, rs, v, o, n, nar)
    for o, n in al.matched + al.renamed:
        _struct_bounds(model, rs, v, o, n, n.name)
    for o, n in al.moved:
        model.emit("FIELD_REORDERED", state=rs, field_=n.name, version=v, span=n.span,
                   writer_says=o.describe(), reader_says=n.describe(),
                   message=f"field '{n.name}' of {rs.name} moved: {W} writes it at position "
                           f"{o.position} of layout({v}), {R} reads it at position {n.position}",
                   hint=f"put '{n.name}' back where {W} has it; the wire is positional, so {R} would "
                        f"read another field's bytes into it")
    for o, n in al.renamed:
        model.emit("FIELD_RENAMED", state=rs, field_=n.name, version=v, span=n.span,
                   writer_says=o.describe(), reader_says=n.describe(),
                   message=f"field '{o.name}' of {rs.name} is called '{n.name}' in {R} (same position "
                           f"{n.position}, same wire type {describe_type(n)})",
                   hint="nothing to do if the rename is intended; the wire carries no names")
        _compare_values(model, rs, v, o, n, n.name)
    for o in al.dropped:
        _field_dropped(model, ws, rs, v, o)
    for n in al.added:
        since = max(rs.version, v + 1)
        proposed, words = [], f"mark '{n.name}' @since({since}) and make {rs.name}'s version at least {v + 1}"
        if not n.is_bits:
            proposed, bumped = _bumped(model, rs, since)
            proposed.append(edits.set_annotation(model.sources, n.span, "since", f"@since({since})"))
            words = f"mark '{n.name}' `@since({since})`" + (f" and bump {rs.name}: {bumped}" if bumped else "")
        model.emit("FIELD_ADDED_UNVERSIONED", state=rs, field_=n.name, version=v, span=n.span,
                   writer_says=None, reader_says=n.describe(),
                   message=f"field '{n.name}' ({describe_type(n)}) is in {R}'s layout({v}) of "
                           f"{rs.name} but {W} never writes it at version {v}: {R} would read bytes "
                           f"{W} did not write",
                   hint=words, edits=proposed)


def _bumped(model: Model, rs: m.State, to: int) -> tuple[list, str | None]:
    """The edits (and their words) that make ``rs``'s version at least ``to``."""
    if rs.version >= to:
        return [], None
    proposed, words = edits.bump(model.sources, rs, to)
    return proposed, words


def _field_dropped(model: Model, ws: m.State, rs: m.State, v: int, o: Slot) -> None:
    """FIELD_DROPPED: what OLD writes at ``v`` is not in NEW's layout(v).  When NEW still
    declares the field, its ``@since``/``@removed`` took it out of layout(v): the message and hint
    say which, and the edit restores it; else the hint proposes keeping the field ``@removed``."""
    W, R = model.W, model.R
    later = rs.field(o.name)
    why = f"{R} would skip or misread it"
    hint = (f"keep '{o.name}' in {R} with @removed(N, \"why\") where N > {v}, or raise {rs.name}'s "
            f"min_version above {v} to refuse such streams loudly")
    proposed: list = []
    plain = not o.is_bits and (later is None or not later.is_bits)
    if plain and later is not None and (later.since or 0) > v:
        was = f"@since({o.member.since})" if o.member.since is not None else None
        why = (f"{R} declares '{o.name}' only from version {later.since} (@since({later.since})), so {R} "
               f"would misread {W}'s version-{v} stream")
        moved = (f"{R}'s @since of '{o.name}' moved from {o.member.since} to {later.since}" if was else
                 f"{R} gives '{o.name}' @since({later.since}) but {W} has it from the start")
        hint = (f"{moved}, and a version-{v} stream (what {W} writes) carries the field: "
                + (f"write `{was}` on '{o.name}' in {R}, as {W} has it" if was else
                   f"remove @since({later.since}) from '{o.name}' in {R}, as {W} has it"))
        proposed = [edits.annotation(model.sources, later.span, "since", was)]
    elif plain and later is not None and later.removed is not None and later.removed <= v:
        proposed, bumped = _bumped(model, rs, v + 1)
        fix = edits.renumber(model.sources, later.span, "removed", v + 1)
        proposed.append(fix)
        why = (f"{R} marks it @removed({later.removed}), but {W} still writes it at version {v}, so {R} "
               f"would misread the stream")
        hint = ((f"write `{fix.new}`" if fix else f"write @removed({v + 1}, ...)") + f" on '{o.name}' in {R} "
                f"(a field leaves the wire only above the version {W} writes)"
                + (f" and bump {rs.name}: {bumped}" if bumped else ""))
    elif plain and later is None:
        decl = _kept_declaration(model, o, v + 1)
        anchor = _anchor(model, ws, rs, o)
        if decl is not None and anchor is not None:
            proposed, bumped = _bumped(model, rs, v + 1)
            proposed.append(anchor(decl))
            hint = (f"keep '{o.name}' in {R} as `{decl}`" + (f" and bump {rs.name}: {bumped}" if bumped else "")
                    + f"; or raise {rs.name}'s min_version above {v} to refuse such streams loudly")
    model.emit("FIELD_DROPPED", state=rs, field_=o.name, version=v, span=o.span, where="writer",
               writer_says=o.describe(), reader_says=None,
               message=f"field '{o.name}' ({describe_type(o)}) that {W} writes in {rs.name} version {v} "
                       f"has no counterpart in {R}'s layout({v}): {why}",
               hint=hint, edits=proposed if all(e is not None for e in proposed) else ())


def _kept_declaration(model: Model, o: Slot, to: int) -> str | None:
    """OLD's declaration of the dropped field ``o``, marked ``@removed(to, "why")``, when NEW
    knows every name it uses."""
    line = model.writer.sources.line(o.span) if model.writer.sources is not None else None
    if line is None:
        return None
    end = line.find(";", o.span.column - 1)
    decl = line[o.span.column - 1:end].rstrip() if end >= 0 else ""
    if not decl or "@removed" in decl or not _names_known(o.member, model.reader):
        return None
    return f"{decl} @removed({to}, \"why\");"


def _names_known(f: m.Field, ss: m.SchemaSet) -> bool:
    t = f.type
    if isinstance(t, m.EnumType):
        return t.decl.name in ss.enums
    if isinstance(t, m.StructType):
        return t.decl.name in ss.structs
    if isinstance(t, m.StateType):
        return t.decl.name in ss.states
    if isinstance(f.shape, m.Counted):
        return False  # the count field is named by OLD: keep it simple, propose no text
    return True


def _anchor(model: Model, ws: m.State, rs: m.State, o: Slot):
    """Where NEW takes the dropped field back: before the NEW member that follows it in OLD, else
    after the one before it (plain fields both); a function of the declaration text, or None."""
    order = [mb for mb in ws.members if not mb.is_bits]
    names = [mb.name for mb in order]
    if o.name not in names:
        return None
    i = names.index(o.name)
    for mb in order[i + 1:]:
        there = rs.field(mb.name)
        if there is not None and not there.is_bits:
            return lambda text, span=there.span: edits.before_statement(model.sources, span, text)
    for mb in reversed(order[:i]):
        there = rs.field(mb.name)
        if there is not None and not there.is_bits:
            return lambda text, span=there.span: edits.after_statement(model.sources, span, text)
    return None


def _same_shape(fo: m.Field, fn: m.Field, partner: dict[str, str]) -> bool:
    """Array shapes agree; a ``[count]`` array must use the count field's counterpart."""
    if isinstance(fo.shape, m.Counted) and isinstance(fn.shape, m.Counted):
        return partner.get(fo.shape.count) == fn.shape.count
    return fo.shape == fn.shape


def _compare_pair(model: Model, st: m.State, v: int, o: Slot, n: Slot, path: str,
                  partner: dict[str, str]) -> None:
    if o.is_bits or n.is_bits:
        if o.wire != n.wire:
            _type_changed(model, st, v, o, n, path)
        return
    fo, fn = o.member, n.member
    struct_both = isinstance(fo.type, m.StructType) and isinstance(fn.type, m.StructType)
    type_changed = False
    if struct_both:
        _struct_changed(model, st, v, path, fo.type.decl, fn.type.decl)
    elif fo.type.wire != fn.type.wire:
        type_changed = True
    if (fo.shape is None) != (fn.shape is None):
        type_changed = True
    if type_changed:
        _type_changed(model, st, v, o, n, path)
    elif fo.shape is not None and not _same_shape(fo, fn, partner):
        shape = _shape_in_reader(fo, partner)
        fix = edits.find(model.sources, n.span, r"\[[^\]]*\]", shape) if shape else None
        model.emit("ARRAY_SHAPE_CHANGED", state=st, field_=path, version=v, span=n.span,
                   writer_says=o.describe(), reader_says=n.describe(),
                   message=f"array '{path}' of {st.name} is {_shape(fo)} in {model.W} but "
                           f"{_shape(fn)} in {model.R}",
                   hint=(f"restore the shape: `{shape}`" if fix else f"restore the shape {_shape(fo)}")
                        + f"; to change it, add a new field @since(NEW version) and mark '{path}' @removed",
                   edits=[fix])
    if fo.fixed != fn.fixed:
        fix = _fixed_edit(model, n, fo.fixed, fn.fixed)
        if fo.fixed is None:
            hint = (f"remove {model.R}'s fixed value ({_fixed(fn)}): a stream from {model.W} carries any "
                    f"value there")
        else:
            hint = (f"restore the fixed value {f'`{_fixed(fo)}`' if fix else _fixed(fo)}; a stream from "
                    f"{model.W} carries it")
        model.emit("FIXED_VALUE_CHANGED", state=st, field_=path, version=v, span=n.span,
                   writer_says=o.describe(), reader_says=n.describe(),
                   message=f"field '{path}' of {st.name} expects {_fixed(fo)} in {model.W} but "
                           f"{_fixed(fn)} in {model.R}",
                   hint=hint, edits=[fix])
    _compare_values(model, st, v, o, n, path)


def _shape_in_reader(fo: m.Field, partner: dict[str, str]) -> str | None:
    """OLD's array shape as NEW writes it (a count field by NEW's name), or None."""
    if isinstance(fo.shape, m.Counted):
        count = partner.get(fo.shape.count)
        return f"[{count}]" if count is not None else None
    return fo.shape.suffix() if fo.shape is not None else None


def _fixed_edit(model: Model, n: Slot, old: int | None, new: int | None):
    """The edit that gives the field at ``n`` OLD's fixed value ``old`` (None: no fixed value)."""
    if new is not None and old is not None:
        return edits.find(model.sources, n.span, r"=\s*[^;@]*[^;@\s]", f"= {old:#x}")
    if new is not None:
        return edits.find(model.sources, n.span, r"\s*=\s*[^;@]*[^;@\s]", "")
    e = edits.find(model.sources, n.span, r"\s*(?=[@;])", "")
    return None if e is None else edits.Edit(e.file, e.line, e.column, e.old, f" = {old:#x}" + e.old)


def _same_kind(o: Slot, n: Slot) -> bool:
    """A matched pair whose bounds can be compared: same element type and kind of shape
    (a changed type or shape is reported as such, and its bounds mean something else)."""
    if o.is_bits or n.is_bits:
        return o.wire == n.wire
    fo, fn = o.member, n.member
    return fo.type.wire == fn.type.wire and type(fo.shape) is type(fn.shape)


def _struct_bounds(model: Model, st: m.State, v: int, o: Slot, n: Slot, path: str) -> None:
    """BOUNDS_NARROWED inside the plain structs of a matched or renamed pair (and theirs):
    a member's bounds are part of the wire type wherever the struct is used."""
    if o.is_bits or n.is_bits:
        return
    to, tn = o.member.type, n.member.type
    if not (isinstance(to, m.StructType) and isinstance(tn, m.StructType)):
        return
    wslots, rslots = slots(to.decl.members), slots(tn.decl.members)
    al = align(wslots, rslots)
    for so, sn, nar in narrowings(wslots, rslots, al):
        _bounds_narrowed(model, st, v, so, sn, nar, f"{path}.")
    for so, sn in al.matched + al.renamed:
        _struct_bounds(model, st, v, so, sn, f"{path}.{sn.name}")


def _bounds_narrowed(model: Model, st: m.State, v: int, o: Slot, n: Slot, nar: Narrowing,
                     prefix: str = "") -> None:
    """BOUNDS_NARROWED: the reader's decoder rejects a value the writer may write in the pair
    ``o``/``n`` (matched by name or by position: a rename never hides a narrowing); ``prefix``
    is the path of the struct member the pair is in (``x.``), if any."""
    W, R = model.W, model.R
    at = nar.binding.slot
    fixes = nar.fixes()
    words = "; ".join(f"write `{new}` on '{slot.name}' instead of {old}" if new else
                      f"remove {old} from '{slot.name}'" for slot, old, new in fixes)
    proposed = [edits.annotation(model.sources, slot.span, old[1:old.index("(")], new)
                for slot, old, new in fixes]
    named = f"'{prefix}{n.name}'" if o.name == n.name else f"'{prefix}{n.name}' ({W}'s '{prefix}{o.name}')"
    model.emit("BOUNDS_NARROWED", state=st, field_=prefix + at.name, version=v, span=at.span,
               writer_says=f"{prefix}{o.name}: {nar.writer.describe()}",
               reader_says=f"{prefix}{n.name}: {nar.reader.describe()}",
               message=f"{nar.what} for field {named} of {st.name}: {W} may write "
                       f"{nar.writer.describe()}, {R} accepts only {nar.reader.describe()}: values {W} "
                       f"may write would be rejected",
               hint=f"accept every value {W} may write: {words}" if words else
                    f"keep {R}'s bounds at least as wide as {W}'s",
               edits=proposed if len(proposed) == len(fixes) else ())


def _compare_values(model: Model, st: m.State, v: int, o: Slot, n: Slot, path: str) -> None:
    """Enum values, also inside plain structs, for a matched or renamed pair."""
    if o.is_bits or n.is_bits:
        return
    to, tn = o.member.type, n.member.type
    if isinstance(to, m.EnumType) and isinstance(tn, m.EnumType) and to.kind == tn.kind:
        compare_enum(model, st, path, v, to.decl, tn.decl)
    elif isinstance(to, m.StructType) and isinstance(tn, m.StructType):
        al = align(slots(to.decl.members), slots(tn.decl.members))
        for so, sn in al.matched + al.renamed:
            _compare_values(model, st, v, so, sn, f"{path}.{sn.name}")


def _type_changed(model: Model, st: m.State, v: int, o: Slot, n: Slot, path: str) -> None:
    fix = None
    if not o.is_bits and not n.is_bits and _names_known(o.member, model.reader):
        text = edits.field_type(model.writer.sources, o.span)
        fix = edits.set_type(model.sources, n.span, n.name, text) if text else None
    model.emit("FIELD_TYPE_CHANGED", state=st, field_=path, version=v, span=n.span,
               writer_says=o.describe(), reader_says=n.describe(),
               message=f"field '{path}' of {st.name} is {describe_type(o)} in {model.W} but "
                       f"{describe_type(n)} in {model.R}: the wire types differ",
               hint=(f"restore the type: `{fix.new}`" if fix else f"restore the type {describe_type(o)}")
                    + f"; to change a type, add a new field @since(NEW version) and mark '{path}' @removed",
               edits=[fix])


STRUCT_RULES = (("changed", "FIELD_TYPE_CHANGED", "changed its layout"),
                ("moved", "FIELD_REORDERED", "reordered its members"),
                ("renamed", "FIELD_RENAMED", "renamed members"))


def _struct_changed(model: Model, st: m.State, v: int, path: str, so: m.Struct, sn: m.Struct) -> None:
    """At most one finding per kind for a field whose plain struct changed; the path names
    the (first) member concerned: FIELD_TYPE_CHANGED for a changed layout, FIELD_REORDERED for
    members of the same types in another order, FIELD_RENAMED for renamed members."""
    diffs = _struct_diffs(so.members, sn.members, path)
    for kind, rule, what in STRUCT_RULES:
        mine = [d for d in diffs if d[0] == kind]
        if not mine:
            continue
        _, first_path, fo, fn, _ = mine[0]
        span, where = (fn.span, "reader") if fn is not None else (fo.span, "writer")
        details = "; ".join(d[4] for d in mine)
        fix = ("nothing to do if the rename is intended" if kind == "renamed" else
               f"restore struct {sn.name} as {model.W} has it, or give the changed layout a new "
               f"struct name used by a new @since field")
        model.emit(rule, state=st, field_=first_path, version=v, span=span, where=where,
                   writer_says=f"struct {so.name}: " + ", ".join(x.describe() for x in slots(so.members)),
                   reader_says=f"struct {sn.name}: " + ", ".join(x.describe() for x in slots(sn.members)),
                   message=f"plain struct {sn.name} used by field '{path}' of {st.name} {what}: {details}",
                   hint=fix)


def _struct_diffs(om, nm, path: str) -> list[tuple]:
    """(kind, path, old slot, new slot, text) for every difference between two structs."""
    al = align(slots(om), slots(nm))
    out: list[tuple] = []
    for o, n in al.matched:
        p = f"{path}.{n.name}"
        fo, fn = o.member, n.member
        if (not o.is_bits and not n.is_bits and isinstance(fo.type, m.StructType)
                and isinstance(fn.type, m.StructType) and fo.wire[1:] == fn.wire[1:]):
            out.extend(_struct_diffs(fo.type.decl.members, fn.type.decl.members, p))
        elif o.wire != n.wire:
            out.append(("changed", p, o, n, f"'{p}' is {describe_type(o)}, now {describe_type(n)}"))
    for o, n in al.moved:
        p = f"{path}.{n.name}"
        out.append(("moved", p, o, n, f"'{p}' moved from position {o.position} to {n.position}"))
    for o, n in al.renamed:
        p = f"{path}.{n.name}"
        out.append(("renamed", p, o, n, f"'{path}.{o.name}' is now called '{n.name}'"))
    for o in al.dropped:
        p = f"{path}.{o.name}"
        out.append(("changed", p, o, None, f"'{p}' ({describe_type(o)}) was dropped"))
    for n in al.added:
        p = f"{path}.{n.name}"
        out.append(("changed", p, None, n, f"'{p}' ({describe_type(n)}) was added"))
    out.sort(key=lambda d: (d[3] or d[2]).position)
    return out


def _shape(f: m.Field) -> str:
    return f.shape.suffix() if f.shape is not None else "a scalar"


def _fixed(f: m.Field) -> str:
    return "any value" if f.fixed is None else f"= {f.fixed:#x}"
