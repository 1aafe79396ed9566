"""Where a finding is annotated, when the text it blames is not in the
working tree.

A finding's ``span`` is first the exact place it blames, in whichever side
holds that text.  A CI system can only attach an annotation to a file of the
working tree, so when that side was read from git (``git:REF``) or a
snapshot, the annotation moves to the other side when that one was read from
files (docs/compatibility.md, "Where findings point"):

1. the same item in the working-tree side, found by name: the state's (or
   enum's, struct's, constant's) declaration, the member, the enum value, the
   ``version``/``min_version`` property;
2. for a member or value that is gone, its neighbour where it stood: the
   next one that still exists, else the previous one;
3. else the item that replaced it (a state with the same id, a retirement),
   else the finding's state;
4. else the working-tree file with the same path below the schema root, at
   its first line.

The exact position blamed stays in ``text_span`` (a "note: OLD's text"
in text, a SARIF related location); a finding that blames OLD has it as
``old_span`` (JSON ``old_file``/``old_line``/``old_column``) whether or not
the annotation moved.
"""

from __future__ import annotations

from dataclasses import replace

from .. import model as m
from ..errors import Span
from .finding import Finding


def on_disk(spec: str) -> bool:
    """Whether a side the user named is read from working-tree files."""
    return not spec.startswith("git:") and not spec.endswith(".json")


def _members(members) -> list[tuple[str, Span]]:
    out = []
    for mb in members:
        if mb.is_bits:
            out.extend((b.name, b.span) for b in mb.fields)
        else:
            out.append((mb.name, mb.span))
    return out


def _index(ss: m.SchemaSet) -> dict[Span, tuple]:
    """Every position in ``ss`` -> the item path it belongs to (computed once per set)."""
    cached = ss.__dict__.get("_span_index")
    if cached is not None:
        return cached
    idx: dict[Span, tuple] = {}

    def put(span, key):
        if span is not None:
            idx.setdefault(span, key)

    for c in ss.consts.values():
        put(c.span, ("const", c.name))
    for e in ss.enums.values():
        put(e.span, ("enum", e.name))
        for v in e.values:
            put(v.span, ("enum", e.name, "value", v.name))
    for st in ss.structs.values():
        put(st.span, ("struct", st.name))
        for name, span in _members(st.members):
            put(span, ("struct", st.name, "member", name))
    for st in ss.states.values():
        put(st.span, ("state", st.name))
        for prop in ("id", "version", "min_version"):
            put(getattr(st, f"{prop}_span"), ("state", st.name, prop))
        for mb in st.members:
            if mb.is_bits:
                put(mb.span, ("state", st.name, "member", mb.fields[0].name))
            else:
                for extra in (getattr(mb, "since_span", None), getattr(mb, "removed_span", None)):
                    put(extra, ("state", st.name, "member", mb.name))
        for name, span in _members(st.members):
            put(span, ("state", st.name, "member", name))
        for sub in st.subsections:
            put(sub.span, ("state", st.name, "sub", sub.name))
    for r in ss.retired.values():
        put(r.span, ("retired", r.name))
    ss.__dict__["_span_index"] = idx
    return idx


def _neighbour(names: list[tuple[str, Span]], gone: str, present: dict[str, Span]) -> Span | None:
    """The span in ``present`` of the member next to ``gone`` in ``names``."""
    order = [n for n, _ in names]
    if gone not in order:
        return None
    i = order.index(gone)
    for n in order[i + 1:] + order[:i][::-1]:
        if n in present:
            return present[n]
    return None


def _state_span(t: m.SchemaSet, name: str, b: m.SchemaSet) -> Span | None:
    if name in t.states:
        return t.states[name].span
    old = b.states.get(name) or b.retired.get(name)
    if old is not None:
        for st in t.states.values():
            if st.id == old.id:
                return st.span
        for r in t.retired.values():
            if r.id == old.id or r.name == name:
                return r.span
    return None


def _resolve(key: tuple, b: m.SchemaSet, t: m.SchemaSet) -> Span | None:
    kind, name = key[0], key[1]
    if kind == "const":
        return t.consts[name].span if name in t.consts else None
    if kind == "retired":
        return t.retired[name].span if name in t.retired else _state_span(t, name, b)
    if kind == "enum":
        e = t.enums.get(name)
        if e is None:
            return None
        if len(key) == 4:
            present = {v.name: v.span for v in e.values}
            return present.get(key[3]) or _neighbour([(v.name, v.span) for v in b.enums[name].values],
                                                     key[3], present) or e.span
        return e.span
    if kind == "struct":
        st = t.structs.get(name)
        if st is None:
            return None
        if len(key) == 4:
            present = dict(_members(st.members))
            return present.get(key[3]) or _neighbour(_members(b.structs[name].members), key[3], present) \
                or st.span
        return st.span
    # a state
    st = t.states.get(name)
    if st is None:
        return _state_span(t, name, b)
    if len(key) == 3:  # a property
        return getattr(st, f"{key[2]}_span") or st.span
    if len(key) == 4 and key[2] == "member":
        present = dict(_members(st.members))
        return present.get(key[3]) or _neighbour(_members(b.states[name].members), key[3], present) \
            or st.span
    if len(key) == 4 and key[2] == "sub":
        present = {sub.name: sub.span for sub in st.subsections}
        return present.get(key[3]) or _neighbour([(s.name, s.span) for s in b.states[name].subsections],
                                                 key[3], present) or st.span
    return st.span


def same_item(span: Span, b: m.SchemaSet, t: m.SchemaSet) -> Span | None:
    """Where ``t`` writes the item that ``b`` writes at ``span`` (found by name: a state's
    declaration or property, a member, an enum value, a subsection), or None when ``t`` does
    not have that item itself (no neighbour, no replacement)."""
    key = _index(b).get(span)
    if key is None:
        return None
    found = _resolve(key, b, t)
    if found is None:
        return None
    same = _index(t).get(found)
    if same != key and not (len(key) == 3 and same == key[:2] and _default(key, t)):
        return None
    return found


def _default(key: tuple, t: m.SchemaSet) -> bool:
    """A state property ``t`` does not write (defaulted): its state's name stands for it."""
    st = t.states.get(key[1])
    return st is not None and getattr(st, f"{key[2]}_span") is None


def counterpart(span: Span, state: str | None, b: m.SchemaSet, t: m.SchemaSet) -> Span | None:
    """Where in ``t`` (read from the working tree) a position of ``b`` is annotated."""
    key = _index(b).get(span)
    found = _resolve(key, b, t) if key is not None else None
    if found is None and state is not None:
        found = _state_span(t, state, b)
    if found is None:
        path = next((f.path for f in b.files if f.display == span.file), None)
        same = next((f for f in t.files if f.path == path), None)
        if same is not None:
            found = Span(same.display, 1, 1)
    return found


def locate(findings: list[Finding], old: tuple[str, m.SchemaSet], new: tuple[str, m.SchemaSet]) -> list[Finding]:
    """Each finding with its ``span`` in a working-tree file when the blamed
    side is not read from files and the other one is."""
    sides = {"old": old, "new": new}
    out = []
    for f in findings:
        if f.span is None:
            out.append(f)
            continue
        blamed = f.blame
        other = "new" if blamed == "old" else "old"
        (b_spec, b_set), (t_spec, t_set) = sides[blamed], sides[other]
        if not on_disk(b_spec) and on_disk(t_spec):
            where = counterpart(f.span, f.state, b_set, t_set)
            f = replace(f, span=where, sources=t_set.sources, text_span=f.span, text_sources=f.sources)
        out.append(f)
    return out
