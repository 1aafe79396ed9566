"""Pass 6, states: properties (id, version, min_version), members,
subsection lines, versioned annotations, the layout of every version and
the count fields; then nested-state fields get their state."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..errors import Span
from ..limits import MAX_ID, MAX_LAYOUT_MEMBERS, MAX_VERSION, MAX_VERSION_SPAN
from ..loader import SourceFile
from . import member_annotations
from .constants import evaluate
from .context import Context, Decl
from .members import Members


class _States:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.r = ctx.r
        # every struct is built by now (structs pass): a name is looked up, not built
        self.members = Members(ctx, lambda name, used_at: ctx.structs[name])
        self.layout_members = 0  # members of every layout built so far (MAX_LAYOUT_MEMBERS)

    def run(self) -> None:
        ctx = self.ctx
        for name, decl in ctx.decls.items():
            if decl.kind == "state" and name not in ctx.too_deep:
                self._state(name, decl)
        # nested state references become StateType now that every state exists
        for st in ctx.states.values():
            for f in st.members:
                if not f.is_bits and isinstance(f.type, tuple):
                    target = ctx.states.get(f.type[1])
                    f.type = m.StateType(target) if target else None
        for name in list(ctx.states):
            st = ctx.states[name]
            if any(not f.is_bits and f.type is None for f in st.members):
                del ctx.states[name]

    def _properties(self, node: s.StateDecl, src: SourceFile) -> dict | None:
        props: dict[str, tuple[int | None, Span]] = {}
        for p in node.properties:
            if p.key in props:
                self.r.error("DUPLICATE_PROPERTY", f"state '{node.name.text}' sets '{p.key}' twice",
                             p.span, f"first at {props[p.key][1]}")
                continue
            props[p.key] = (evaluate(self.ctx, p.value, src), p.span)
        ok = True
        for key in ("id", "version"):
            if key not in props:
                self.r.error("MISSING_PROPERTY", f"state '{node.name.text}' needs '{key} = ...;'",
                             node.name.span)
                ok = False
            elif props[key][0] is None:
                ok = False
        if not ok:
            return None
        sid, id_span = props["id"]
        version, v_span = props["version"]
        if not 1 <= sid <= MAX_ID:
            self.r.error("BAD_ID", f"state id must be in 1 .. {MAX_ID}, not {sid}", id_span)
            ok = False
        if not 1 <= version <= MAX_VERSION:
            self.r.error("BAD_VERSION", f"version must be in 1 .. {MAX_VERSION}, not {version}", v_span)
            ok = False
        min_version, mv_span = props.get("min_version", (version, None))
        if min_version is None:
            return None
        if ok and not 1 <= min_version <= version:
            self.r.error("BAD_VERSION", f"min_version must be in 1 .. version ({version}), "
                         f"not {min_version}", mv_span)
            ok = False
        if ok and version - min_version + 1 > MAX_VERSION_SPAN:
            self.r.error("BAD_VERSION", f"state '{node.name.text}' spans {version - min_version + 1} "
                         f"versions ({min_version} .. {version}); a state supports at most "
                         f"{MAX_VERSION_SPAN}", mv_span or v_span,
                         help=f"set min_version = {version - MAX_VERSION_SPAN + 1} (or higher): readers "
                         "drop the oldest versions")
            ok = False
        if not ok:
            return None
        return {"id": sid, "version": version, "min_version": min_version,
                "id_span": id_span, "version_span": v_span, "min_version_span": mv_span}

    def _state(self, name: str, decl: Decl) -> None:
        node: s.StateDecl = decl.node
        for sp in node.misplaced:
            self.r.error("MISPLACED_MEMBER", "fields come before the subsection lines", sp)
        props = self._properties(node, decl.src)
        ctx_name = f"state '{name}'"
        members = self.members.build(node.members, decl.src, ctx_name, "state")
        if props is None or len(members) != len(node.members):
            # report what can be checked, then give up on this state
            return
        subs = []
        for sub in node.subsections:
            anns = {a.name.text: a for a in sub.annotations}
            since = None
            for a in sub.annotations:
                if a.name.text != "since":
                    self.r.error("BAD_ANNOTATION", f"a subsection line takes only @since, not @{a.name.text}",
                                 a.name.span)
            if "since" in anns:
                since_ann = anns["since"]
                v = member_annotations.int_args(self.ctx, "since", since_ann.args, since_ann.name.span,
                                                decl.src, 1)
                since = v[0] if v else None
                if since is not None and not 1 <= since <= props["version"]:
                    self.r.error("BAD_SINCE", f"subsection @since({since}) must be in 1 .. version "
                                 f"({props['version']})", anns["since"].name.span)
            subs.append(m.Subsection(sub.name.text, sub.name.span, since, sub.doc))
        st = m.State(name, props["id"], props["version"], props["min_version"], tuple(members),
                     tuple(subs), decl.span, self.ctx.files[decl.src.real], props["id_span"],
                     props["version_span"], props["min_version_span"], node.doc, name)
        cells = sum(max(0, min(mb.removed if mb.removed is not None else st.version + 1, st.version + 1)
                           - max(mb.since or 0, st.min_version)) for mb in st.members)
        self.layout_members += cells
        if self.layout_members > MAX_LAYOUT_MEMBERS:
            self.r.error("LIMIT_EXCEEDED", f"state '{name}' has {cells} members on the wire summed over "
                         f"its {st.version - st.min_version + 1} versions, which takes the schema set past "
                         f"{MAX_LAYOUT_MEMBERS} (every version's layout is generated)",
                         st.min_version_span or st.version_span,
                         help="raise min_version (fewer versions), or split the state")
            return
        self._versions(st)
        self._counts(st)
        self.ctx.states[name] = st

    def _versions(self, st: m.State) -> None:
        for f in st.members:
            if f.is_bits:
                continue
            if f.since is not None and not 1 <= f.since <= st.version:
                self.r.error("BAD_SINCE", f"'{f.name}' @since({f.since}) must be in 1 .. version "
                             f"({st.version}) of state '{st.name}'", f.since_span,
                             "bump the state's version when you add a field")
            if f.removed is not None:
                if not 1 <= f.removed <= st.version:
                    self.r.error("BAD_REMOVED", f"'{f.name}' @removed({f.removed}) must be in 1 .. "
                                 f"version ({st.version}) of state '{st.name}'", f.removed_span,
                                 f"to stop writing '{f.name}', set version = {max(f.removed, st.version + 1)}")
                elif f.since is not None and f.since >= f.removed:
                    self.r.error("BAD_REMOVED", f"'{f.name}' is removed (version {f.removed}) no later "
                                 f"than it appears (version {f.since})", f.removed_span)
                elif f.removed <= st.min_version:
                    self.r.warning("REMOVED_FIELD_UNUSED",
                                   f"'{f.name}' is removed at version {f.removed} <= min_version "
                                   f"{st.min_version}: it is on the wire in no supported version",
                                   f.span, "the line may now be deleted")
            if f.discard and f.removed is None:
                self.r.error("BAD_ANNOTATION", f"@discard on '{f.name}' needs @removed(N, \"why\")", f.span)
        for v in st.versions:
            st.layouts[v] = tuple(mb for mb in st.members if mb.present_in(v))

    def _counts(self, st: m.State) -> None:
        fields = {n: f for n, f in m.member_names(st.members)}
        users: dict[str, list[str]] = {}
        for f in st.members:
            if f.is_bits or not isinstance(f.shape, m.Counted):
                continue
            count = fields.get(f.shape.count)
            if count is None:
                continue
            users.setdefault(count.name, []).append(f.name)
            if isinstance(count, m.BitsField):
                pass  # bit-fields are unsigned
            elif not isinstance(count.type, m.IntType) or count.shape or count.pointer:
                self.r.error("BAD_COUNT", f"count of '{f.name}' must be an integer field; "
                             f"'{count.name}' is {count.describe_type()}", f.span)
                continue
            elif count.type.signed and not (count.range and count.range[0] >= 0):
                self.r.error("BAD_COUNT", f"count of '{f.name}' must be unsigned or have "
                             f"@range(0, ...); '{count.name}' is {count.type.name}", f.span)
                continue
            missing = [v for v in st.versions if f.present_in(v) and not
                       (count.present_in(v) if isinstance(count, m.Field) else True)]
            if missing:
                self.r.error("BAD_COUNT", f"'{f.name}' is on the wire in version {missing[0]} but its "
                             f"count '{count.name}' is not", f.span)
        for n, f in fields.items():
            if isinstance(f, m.Field):
                f.counts = tuple(users.get(n, ()))
                if f.max is not None and not f.counts and not isinstance(f.shape, (m.Counted, m.Rest)):
                    self.r.error("BAD_ANNOTATION", f"@max applies to count fields and to [count] or [..] "
                                 f"arrays; '{n}' is neither", f.span)
        for v, layout in st.layouts.items():
            for i, f in enumerate(layout):
                if isinstance(f.shape, m.Rest) and i != len(layout) - 1:
                    self.r.error("BAD_REST", f"'{f.name}' is a [..] array but is not the last field on "
                                 f"the wire in version {v} of '{st.name}' (next: "
                                 f"'{layout[i + 1].name}')", f.span)
                    break



def run(ctx: Context) -> None:
    _States(ctx).run()
