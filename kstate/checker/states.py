"""State rules: pairing states by id, versions, subsections and history.

``check_model`` runs the update model for one direction: for every state the
writer has, find the reader's state with the same ``state_id`` (pairing
happens here, once), then ask model rules 1-6 in order.  Field rules run only
when rules 1 and 2 hold (``fields.compare_layout``).
"""

from __future__ import annotations

from .. import model as m
from ..errors import Span
from . import edits
from .context import Model, state_span
from .fields import align, compare_layout, narrowings
from .wire import layout_wire, slots, subsection_ids


def check_model(model: Model) -> None:
    W, R = model.writer, model.reader
    reader_retired = {r.id: r for r in R.retired.values()}
    for ws in sorted(W.states.values(), key=lambda s: s.id):
        rs = R.state_by_id(ws.id)
        same = R.states.get(ws.name)
        if same is not None and same.id != ws.id:
            model.emit("STATE_ID_CHANGED", state=same, state_id=ws.id, version=ws.version, span=same.span,
                       writer_says=f"state {ws.name}: id {ws.id}", reader_says=f"state {same.name}: id {same.id}",
                       message=f"state {ws.name} has id {ws.id} in {model.W} but {same.id} in {model.R}: "
                               f"{model.R} would not recognise {model.W}'s entries (the wire carries ids)",
                       hint=f"give {ws.name} its id back: `id = {ws.id};`",
                       edits=[edits.set_property(model.sources, same, "id", ws.id)])
        if rs is not None:
            check_pair(model, ws, rs)
        elif ws.id in reader_retired:
            ret = reader_retired[ws.id]
            what = (f"the subsection entries of {ws.name} that {model.W} writes after {ws.parent.name}'s"
                    if ws.parent is not None else f"entries of {ws.name} that {model.W} writes")
            model.emit("STATE_RETIRED", state=ws, version=ws.version, span=ret.span,
                       writer_says=f"state {ws.name} (id {ws.id}) version {ws.version}",
                       reader_says=f"retired state {ret.name} (id {ret.id}): {ret.reason}",
                       message=f"{model.R} retires id {ws.id}: {what} will be reported and skipped "
                               f"({ret.reason})",
                       hint="nothing to do if this is intended; waive it to record the decision")
        elif same is None:
            _state_deleted(model, ws)
    for wr in sorted(W.retired.values(), key=lambda r: r.id):
        if wr.id in reader_retired:
            continue
        user = R.state_by_id(wr.id)
        if user is not None and model.direction == "update":
            fresh = _fresh_id(model)
            model.emit("STATE_ID_REUSED", state=user, version=None, span=user.span,
                       writer_says=f"retired state {wr.name} (id {wr.id}): {wr.reason}",
                       reader_says=f"state {user.name} (id {user.id})",
                       message=f"id {wr.id} was retired ({wr.name}: {wr.reason}) but NEW gives it to "
                               f"state {user.name}: streams from kernels that wrote {wr.name} would be "
                               f"misread",
                       hint=f"give {user.name} a fresh id (`id = {fresh};` is used on neither side) and keep "
                            f"the retirement of {wr.name} in NEW",
                       edits=[edits.set_property(model.sources, user, "id", fresh)])
        else:
            _retirement_dropped(model, wr, user)


def _state_deleted(model: Model, ws: m.State) -> None:
    retire = f"retired state {ws.name} {{ id = {ws.id}; reason = \"why\"; }}"
    if model.direction == "update":
        message = (f"state {ws.name} (id {ws.id}) that OLD writes has no state with id {ws.id} in NEW: "
                   f"NEW would skip its entries, and the state they preserve would be lost")
    else:
        message = (f"state {ws.name} (id {ws.id}) is new in NEW: after a rollback, the older kernel (OLD) "
                   f"does not know state id {ws.id} and skips its entries, so the state they preserve "
                   f"is lost")
    target = model.reader.file(ws.file.path) or (model.reader.files[0] if model.reader.files else None)
    model.emit("STATE_DELETED", state=ws, version=ws.version, span=ws.span, where="writer",
               writer_says=f"state {ws.name} (id {ws.id}) version {ws.version}", reader_says=None,
               message=message,
               hint=f"keep state {ws.name} in NEW, or retire its id on record: `{retire}`",
               edits=[edits.append_item(model.sources, target, retire)],
               rollback_hint=f"OLD's schema is already shipped: if losing {ws.name}'s state on a rollback to "
                             f"OLD is acceptable, waive STATE_DELETED with state = \"{ws.name}\" and "
                             f"direction = \"rollback\"; otherwise ship a kernel that knows state "
                             f"{ws.name} before the one that writes it")


def _fresh_id(model: Model) -> int:
    """An id no state and no retirement uses on either side."""
    used = [x.id for ss in (model.writer, model.reader) for x in (*ss.states.values(), *ss.retired.values())]
    return max(used, default=0) + 1


def _retirement_dropped(model: Model, wr: m.RetiredState, user: m.State | None) -> None:
    reason = wr.reason if wr.reason.isprintable() and not set(wr.reason) & set('"\\') else "why"
    retire = f"retired state {wr.name} {{ id = {wr.id}; reason = \"{reason}\"; }}"
    if model.direction == "update":
        message = (f"OLD retires id {wr.id} ({wr.name}) but NEW does not list it as retired: the id could "
                   f"be reused by mistake")
        hint = f"keep `{retire}` in NEW"
        target = model.reader.file(wr.file.path) or (model.reader.files[0] if model.reader.files else None)
        proposed = [edits.append_item(model.sources, target, retire)]
    elif user is not None:
        message = (f"NEW retires id {wr.id} ({wr.name}), which OLD restores as state {user.name}: after a "
                   f"rollback, OLD finds no {user.name} entries (NEW writes none), so nothing is restored "
                   f"for it")
        hint = "nothing to do if retiring the state is intended (OLD had the id first)"
        proposed = []
    else:
        message = (f"NEW retires id {wr.id} ({wr.name}), which OLD does not list as retired: OLD is shipped, "
                   f"so only kernels after NEW are kept from reusing the id")
        hint = "nothing to do: NEW's retirement is what keeps the id from being reused"
        proposed = []
    model.emit("RETIREMENT_DROPPED", state=wr, version=None, span=wr.span, where="writer",
               writer_says=f"retired state {wr.name} (id {wr.id}): {wr.reason}",
               reader_says=f"state {user.name} (id {user.id})" if user else None,
               message=message, hint=hint, edits=proposed)


def _same_layout(ws: m.State, rs: m.State) -> bool:
    v = ws.version
    u = v if v in rs.layouts else rs.version
    return layout_wire(ws.layouts[v]) == layout_wire(rs.layouts[u])


def check_pair(model: Model, ws: m.State, rs: m.State) -> None:
    v = ws.version
    W, R = model.W, model.R
    if ws.name != rs.name:
        if _same_layout(ws, rs):
            model.emit("STATE_RENAMED", state=rs, version=v, span=rs.span,
                       writer_says=f"state {ws.name} (id {ws.id})", reader_says=f"state {rs.name} (id {rs.id})",
                       message=f"state {ws.name} (id {ws.id}) is called {rs.name} in {R}, with the same layout",
                       hint="nothing to do if the rename is intended; the wire carries ids, not names")
        else:
            fresh = _fresh_id(model)
            model.emit("STATE_ID_REUSED", state=rs, version=v, span=rs.span,
                       writer_says=f"state {ws.name} (id {ws.id})", reader_says=f"state {rs.name} (id {rs.id})",
                       message=f"id {ws.id} belongs to state {ws.name} in {W} but to {rs.name}, with an "
                               f"incompatible layout, in {R}: {R} would misread {ws.name}'s entries",
                       hint=f"give {rs.name} a fresh id (`id = {fresh};` is used on neither side); if "
                            f"{ws.name} is gone, retire id {ws.id}",
                       edits=[edits.set_property(model.sources, rs, "id", fresh)])
    accepted = True
    if v > rs.version:
        accepted = False
        model.emit("VERSION_REGRESSED", state=rs, version=v, span=state_span(rs, "version"),
                   writer_says=f"version = {v}", reader_says=f"version = {rs.version}",
                   message=f"{W} writes {rs.name} at version {v} but {R} only reads up to version "
                           f"{rs.version}",
                   hint=f"write `version = {v};` in {R}'s {rs.name}, and describe {W}'s layout({v}) there",
                   edits=[edits.set_property(model.sources, rs, "version", v)],
                   rollback_hint=f"OLD's schema is already shipped and reads {rs.name} only up to version "
                                 f"{rs.version}, so the fix belongs in NEW: keep its version at {rs.version} "
                                 f"(undo the bump, or stage it: ship a kernel that reads version {v} first), "
                                 f"or accept that a rollback to OLD is not supported and waive "
                                 f"VERSION_REGRESSED with state = \"{rs.name}\" and direction = \"rollback\"")
    elif v < rs.min_version:
        accepted = False
        _min_version_excludes(model, ws, rs, v)
    if accepted:
        compare_layout(model, ws, rs, v)
        if rs.version == v and layout_wire(ws.layouts[v]) != layout_wire(rs.layouts[v]):
            bump_edits, bump_words = edits.bump(model.sources, rs, v + 1)
            model.emit("LAYOUT_CHANGED_WITHOUT_BUMP", state=rs, version=v, span=state_span(rs, "version"),
                       writer_says=_layout_text(ws, v), reader_says=_layout_text(rs, v),
                       message=f"layout({v}) of {rs.name} differs in wire type between {W} and {R}, but "
                               f"both call it version {v}",
                       hint=f"bump {rs.name}'s version: {bump_words}, and version the change with "
                            f"@since({v + 1}) / @removed({v + 1}, \"why\")",
                       edits=bump_edits)
    if rs.version > v and v >= rs.min_version and layout_wire(rs.layouts[rs.version]) == layout_wire(ws.layouts[v]) \
            and subsection_ids(rs, rs.version) == subsection_ids(ws, v):
        unbumped = not _versions_above(rs, v)  # version = v still compiles
        model.emit("VERSION_BUMP_WITHOUT_CHANGE", state=rs, version=rs.version,
                   span=state_span(rs, "version"),
                   writer_says=f"version = {v}", reader_says=f"version = {rs.version}",
                   message=f"{rs.name}'s version goes from {v} to {rs.version} but layout({rs.version}) "
                           f"equals {W}'s layout({v}): the bump changes nothing on the wire",
                   hint=(f"keep `version = {v};`: a bump only makes rollback to {W} impossible" if unbumped
                         else f"keep version {v} (with the @since/@removed versions above {v} moved back): "
                              f"a bump only makes rollback to {W} impossible"),
                   edits=[edits.set_property(model.sources, rs, "version", v)] if unbumped else ())
    _history(model, ws, rs, v)
    _subsections(model, ws, rs, v)


def _min_version_excludes(model: Model, ws: m.State, rs: m.State, v: int) -> None:
    W, R = model.W, model.R
    if rs.min_version_span is None:  # defaulted: the version line sets it
        says = f"min_version defaults to version ({rs.min_version})"
        span = rs.version_span or rs.span
        fix = f"add `min_version = {v};` to {R}'s {rs.name}"
    else:
        says = f"min_version = {rs.min_version}"
        span = rs.min_version_span
        fix = f"write `min_version = {v};` in {R}'s {rs.name} instead of {says}"
    model.emit("MIN_VERSION_EXCLUDES_OLD", state=rs, version=v, span=span,
               writer_says=f"version = {v}", reader_says=says,
               message=f"{W} writes {rs.name} at version {v} but {R} refuses versions below "
                       f"{rs.min_version}" + (f" ({says})" if rs.min_version_span is None else "")
                       + f": the update path from {W} is cut",
               hint=f"{fix} ({R} must then still describe {W}'s layout({v})), or waive this finding if "
                    f"cutting the update path from {W}'s {rs.name} is intended",
               edits=[edits.set_property(model.sources, rs, "min_version", v)])


def _versions_above(st: m.State, v: int) -> bool:
    """Whether a member or subsection of ``st`` names a version above ``v`` (@since/@removed)."""
    marks = [x for mb in st.members for x in (mb.since, getattr(mb, "removed", None))]
    marks += [sub.since for sub in st.subsections]
    return any(x is not None and x > v for x in marks)


def _layout_text(st: m.State, v: int) -> str:
    return ", ".join(f"{s.name}: {s.describe().split(': ', 1)[1].rsplit(' at position', 1)[0]}"
                     for s in slots(st.layouts[v])) or "(empty)"


def _history(model: Model, ws: m.State, rs: m.State, v: int) -> None:
    lo = max(ws.min_version, rs.min_version)
    hi = min(v - 1, rs.version)
    bad = [u for u in range(lo, hi + 1)
           if layout_wire(ws.layouts[u]) != layout_wire(rs.layouts[u])
           or narrowings(slots(ws.layouts[u]), slots(rs.layouts[u]))]
    if not bad:
        return
    u = bad[0]
    name, span, where = _first_difference(ws, rs, u)
    versions = ", ".join(str(x) for x in bad)
    raise_min = f"raise {rs.name}'s min_version above {bad[-1]} if {model.R} no longer needs to read them"
    restore = _restore_history(model, ws, rs, name)
    if restore is not None:
        fix, words = restore
        hint = f"older versions are history: {words}, as {model.W} has it; or {raise_min}"
    else:
        fix = edits.set_property(model.sources, rs, "min_version", bad[-1] + 1)
        hint = (f"older versions are history: keep their layouts exactly (restore the @since/@removed "
                f"versions and types they had), or raise {rs.name}'s min_version above {bad[-1]} "
                f"(`min_version = {bad[-1] + 1};`) if {model.R} no longer needs to read them")
    model.emit("HISTORY_REWRITTEN", state=rs, field_=name, version=u, span=span, where=where,
               writer_says=f"layout({u}): {_layout_text(ws, u)}", reader_says=f"layout({u}): {_layout_text(rs, u)}",
               message=f"{model.W} and {model.R} describe version(s) {versions} of {rs.name} differently"
                       + (f" (first difference: field '{name}')" if name else ""),
               hint=hint, edits=[fix])


def _restore_history(model: Model, ws: m.State, rs: m.State, name: str | None):
    """(edit, words) giving the reader's field ``name`` the writer's @since and @removed when
    they are what differs (same name, same wire type), else None."""
    wf, rf = (ws.field(name), rs.field(name)) if name else (None, None)
    if wf is None or rf is None or wf.is_bits or rf.is_bits or wf.wire != rf.wire:
        return None
    if wf.removed != rf.removed or wf.since == rf.since:
        return None  # only a moved @since is restored by one edit
    if wf.since is None:
        return edits.annotation(model.sources, rf.span, "since", None), f"remove @since({rf.since}) from '{name}'"
    fix = edits.set_annotation(model.sources, rf.span, "since", f"@since({wf.since})")
    return fix, f"write `@since({wf.since})` on '{name}'"


def _keep_subsection(model: Model, rs: m.State, sub: m.Subsection, later: m.Subsection | None):
    """(edit, words) that make the reader's ``rs`` declare ``sub`` at the writer's versions."""
    if later is not None:
        was = f"@since({sub.since})" if sub.since else None
        fix = edits.annotation(model.sources, later.span, "since", was)
        return fix, (f"write `{was}` on 'subsection {later.name}' in {model.R}'s {rs.name}" if was else
                     f"remove @since({later.since}) from 'subsection {later.name}' in {model.R}'s {rs.name}")
    target = model.reader.state_by_id(sub.state.id) if sub.state is not None else None
    if target is None:
        return None, (f"keep state {sub.name} in {model.R} and declare it as a subsection of {rs.name} "
                      f"again, present at the writer's version")
    text = f"subsection {target.name};" if not sub.since else f"subsection {target.name} @since({sub.since});"
    # subsection lines come after every field (MISPLACED_MEMBER): after the last of either
    if rs.subsections:
        anchor = rs.subsections[-1].span
    elif rs.members:
        anchor = rs.members[-1].span if not rs.members[-1].is_bits else None  # a bits group ends below
    else:
        anchor = rs.version_span or rs.id_span
    fix = edits.after_statement(model.sources, anchor, text)
    return fix, f"keep `{text}` in {model.R}'s {rs.name}"


def _first_difference(ws: m.State, rs: m.State, u: int) -> tuple[str | None, Span, str]:
    """(field, span, whose span) of the first position where layout(u) of ``ws`` and ``rs`` differ
    (else of the first field whose bounds the reader narrowed).

    The field is the writer's there when the reader's layout(u) lacks it (blamed where the reader
    still declares it, with the @since/@removed that took it out of layout(u)), else the reader's."""
    wl, rl = slots(ws.layouts[u]), slots(rs.layouts[u])
    al = align(wl, rl)
    kept = {o.name for o, _ in al.matched + al.renamed}
    for k in range(max(len(wl), len(rl))):
        o = wl[k] if k < len(wl) else None
        n = rl[k] if k < len(rl) else None
        if o is not None and n is not None and o.wire == n.wire:  # same, or renamed
            continue
        if o is not None and o.name not in kept:
            later = rs.field(o.name)
            if later is not None:
                return o.name, later.span, "reader"
            return o.name, o.span, "writer"
        if n is not None:
            return n.name, n.span, "reader"
        return o.name, o.span, "writer"
    for _, _, nar in narrowings(wl, rl, al):  # same wire types; the reader rejects values
        return nar.binding.slot.name, nar.binding.slot.span, "reader"
    return None, rs.span, "reader"


def _subsections(model: Model, ws: m.State, rs: m.State, v: int) -> None:
    def sid(sub: m.Subsection):
        return sub.state.id if sub.state is not None else sub.name

    reader_at_v = {sid(s) for s in rs.subsections_for(v)}
    reader_all = {sid(s): s for s in rs.subsections}
    writer_all = {sid(s) for s in ws.subsections}
    retired = {r.id for r in model.reader.retired.values()}
    for sub in ws.subsections_for(v):
        if sid(sub) in reader_at_v or sid(sub) in retired:
            continue  # a retired subsection state is STATE_RETIRED's (its entries are reported, skipped)
        later = reader_all.get(sid(sub))
        why = (f"{model.R} expects it only from version {later.since}" if later is not None
               else f"{model.R}'s {rs.name} does not declare it")
        fix, words = _keep_subsection(model, rs, sub, later)
        model.emit("SUBSECTION_DROPPED", state=rs, field_=None, version=v, span=sub.span, where="writer",
                   writer_says=f"subsection {sub.name}" + (f" @since({sub.since})" if sub.since else ""),
                   reader_says=(f"subsection {later.name} @since({later.since})" if later is not None else None),
                   message=f"{model.W}'s {ws.name} may write subsection {sub.name} after version-{v} entries, "
                           f"but {why}: it would be skipped silently",
                   hint=words, edits=[fix])
    for key, sub in reader_all.items():
        if key in writer_all:
            continue
        model.emit("SUBSECTION_ADDED", state=rs, version=v, span=sub.span,
                   writer_says=None,
                   reader_says=f"subsection {sub.name}" + (f" @since({sub.since})" if sub.since else ""),
                   message=f"{model.R}'s {rs.name} declares subsection {sub.name}, which {model.W}'s does not",
                   hint=f"fine for this direction; a kernel running {model.W}'s schema would skip "
                        f"subsection {sub.name}")
