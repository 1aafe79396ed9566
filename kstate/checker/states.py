"""State rules: pairing states by id, versions, subsections and history.

``check_model`` runs the update model for one direction: for every state the
writer has, find the reader's state with the same ``state_id`` (pairing
happens here, once), then ask model rules 1-6 in order.  Field rules run only
when rules 1 and 2 hold (``fields.compare_layout``).
"""

from __future__ import annotations

from .. import model as m
from ..errors import Span
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
                       hint=f"give {ws.name} its id {ws.id} back")
        if rs is not None:
            check_pair(model, ws, rs)
        elif ws.id in reader_retired:
            ret = reader_retired[ws.id]
            model.emit("STATE_RETIRED", state=ws, version=ws.version, span=ret.span,
                       writer_says=f"state {ws.name} (id {ws.id}) version {ws.version}",
                       reader_says=f"retired state {ret.name} (id {ret.id}): {ret.reason}",
                       message=f"{model.R} retires id {ws.id}: entries of {ws.name} that {model.W} writes "
                               f"will be reported and skipped ({ret.reason})",
                       hint="nothing to do if this is intended; waive it to record the decision")
        elif same is None:
            model.emit("STATE_DELETED", state=ws, version=ws.version, span=ws.span, where="writer",
                       writer_says=f"state {ws.name} (id {ws.id}) version {ws.version}", reader_says=None,
                       message=f"state {ws.name} (id {ws.id}) that {model.W} writes has no state with id "
                               f"{ws.id} in {model.R}: its entries would be skipped",
                       hint=f"keep state {ws.name} in {model.R}, or retire it explicitly: "
                            f"'retired state {ws.name} {{ id = {ws.id}; reason = \"...\"; }}'")
    for wr in sorted(W.retired.values(), key=lambda r: r.id):
        if wr.id in reader_retired:
            continue
        user = R.state_by_id(wr.id)
        if user is not None and model.direction == "update":
            model.emit("STATE_ID_REUSED", state=user, version=None, span=user.span,
                       writer_says=f"retired state {wr.name} (id {wr.id}): {wr.reason}",
                       reader_says=f"state {user.name} (id {user.id})",
                       message=f"id {wr.id} was retired ({wr.name}: {wr.reason}) but {model.R} gives it to "
                               f"state {user.name}: streams from kernels that wrote {wr.name} would be "
                               f"misread",
                       hint=f"give {user.name} a fresh id and keep 'retired state {wr.name}' in {model.R}")
        else:
            model.emit("RETIREMENT_DROPPED", state=wr, version=None, span=wr.span, where="writer",
                       writer_says=f"retired state {wr.name} (id {wr.id}): {wr.reason}",
                       reader_says=f"state {user.name} (id {user.id})" if user else None,
                       message=f"{model.W} retires id {wr.id} ({wr.name}) but {model.R} does not list it "
                               f"as retired: the id could be reused by mistake",
                       hint=f"keep 'retired state {wr.name} {{ id = {wr.id}; reason = \"...\"; }}' in "
                            f"{model.R}")


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
            model.emit("STATE_ID_REUSED", state=rs, version=v, span=rs.span,
                       writer_says=f"state {ws.name} (id {ws.id})", reader_says=f"state {rs.name} (id {rs.id})",
                       message=f"id {ws.id} belongs to state {ws.name} in {W} but to {rs.name}, with an "
                               f"incompatible layout, in {R}: {R} would misread {ws.name}'s entries",
                       hint=f"give {rs.name} a fresh id; if {ws.name} is gone, retire id {ws.id}")
    accepted = True
    if v > rs.version:
        accepted = False
        model.emit("VERSION_REGRESSED", state=rs, version=v, span=state_span(rs, "version"),
                   writer_says=f"version = {v}", reader_says=f"version = {rs.version}",
                   message=f"{W} writes {rs.name} at version {v} but {R} only reads up to version "
                           f"{rs.version}",
                   hint=f"keep {R}'s version of {rs.name} at least {v}, describing {W}'s layout({v})")
    elif v < rs.min_version:
        accepted = False
        model.emit("MIN_VERSION_EXCLUDES_OLD", state=rs, version=v, span=state_span(rs, "min_version"),
                   writer_says=f"version = {v}", reader_says=f"min_version = {rs.min_version}",
                   message=f"{W} writes {rs.name} at version {v} but {R} refuses versions below "
                           f"{rs.min_version}: the update path from {W} is cut",
                   hint=f"lower min_version to {v} (keeping fields @removed above {v}), or waive this "
                        f"finding if dropping {W}'s {rs.name} state is intended")
    if accepted:
        compare_layout(model, ws, rs, v)
        if rs.version == v and layout_wire(ws.layouts[v]) != layout_wire(rs.layouts[v]):
            model.emit("LAYOUT_CHANGED_WITHOUT_BUMP", state=rs, version=v, span=state_span(rs, "version"),
                       writer_says=_layout_text(ws, v), reader_says=_layout_text(rs, v),
                       message=f"layout({v}) of {rs.name} differs in wire type between {W} and {R}, but "
                               f"both call it version {v}",
                       hint=f"bump {rs.name}'s version to {v + 1} and version the change with "
                            f"@since({v + 1}) / @removed({v + 1}, \"why\")")
    if rs.version > v and v >= rs.min_version and layout_wire(rs.layouts[rs.version]) == layout_wire(ws.layouts[v]) \
            and subsection_ids(rs, rs.version) == subsection_ids(ws, v):
        model.emit("VERSION_BUMP_WITHOUT_CHANGE", state=rs, version=rs.version,
                   span=state_span(rs, "version"),
                   writer_says=f"version = {v}", reader_says=f"version = {rs.version}",
                   message=f"{rs.name}'s version goes from {v} to {rs.version} but layout({rs.version}) "
                           f"equals {W}'s layout({v}): the bump changes nothing on the wire",
                   hint=f"keep version = {v}; a bump only makes rollback to {W} impossible")
    _history(model, ws, rs, v)
    _subsections(model, ws, rs, v)


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
    model.emit("HISTORY_REWRITTEN", state=rs, field_=name, version=u, span=span, where=where,
               writer_says=f"layout({u}): {_layout_text(ws, u)}", reader_says=f"layout({u}): {_layout_text(rs, u)}",
               message=f"{model.W} and {model.R} describe version(s) {versions} of {rs.name} differently"
                       + (f" (first difference: field '{name}')" if name else ""),
               hint=f"older versions are history: keep their layouts exactly (restore the @since/@removed "
                    f"versions and types they had), or raise {rs.name}'s min_version above {bad[-1]} if "
                    f"{model.R} no longer needs to read them")


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
    for sub in ws.subsections_for(v):
        if sid(sub) in reader_at_v:
            continue
        later = reader_all.get(sid(sub))
        why = (f"{model.R} expects it only from version {later.since}" if later is not None
               else f"{model.R}'s {rs.name} does not declare it")
        model.emit("SUBSECTION_DROPPED", state=rs, field_=None, version=v, span=sub.span, where="writer",
                   writer_says=f"subsection {sub.name}" + (f" @since({sub.since})" if sub.since else ""),
                   reader_says=(f"subsection {later.name} @since({later.since})" if later is not None else None),
                   message=f"{model.W}'s {ws.name} may write subsection {sub.name} after version-{v} entries, "
                           f"but {why}: it would be skipped silently",
                   hint=f"keep 'subsection {sub.name};' in {model.R}'s {rs.name}, present at version {v}")
    for key, sub in reader_all.items():
        if key in writer_all:
            continue
        model.emit("SUBSECTION_ADDED", state=rs, version=v, span=sub.span,
                   writer_says=None,
                   reader_says=f"subsection {sub.name}" + (f" @since({sub.since})" if sub.since else ""),
                   message=f"{model.R}'s {rs.name} declares subsection {sub.name}, which {model.W}'s does not",
                   hint=f"fine for this direction; a kernel running {model.W}'s schema would skip "
                        f"subsection {sub.name}")
