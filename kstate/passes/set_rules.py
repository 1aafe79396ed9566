"""Pass 8, set rules: rules over the whole set — unique state ids (retired
ones included), subsections (each a state, with one parent, not nested, not
a nested field type) and states that contain themselves."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..errors import Span
from .context import Context, article


def run(ctx: Context) -> None:
    _ids(ctx)
    _subsections(ctx)
    _state_recursion(ctx)


def _ids(ctx: Context) -> None:
    by_id: dict[int, object] = {}
    for item in sorted(list(ctx.states.values()) + list(ctx.retired.values()),
                       key=lambda i: (i.span.file, i.span.line, i.span.column)):
        prev = by_id.get(item.id)
        if prev is not None:
            ctx.r.error("DUPLICATE_ID", f"id {item.id} of '{item.name}' is already used by "
                        f"'{prev.name}'", item.id_span or item.span, f"'{prev.name}' is at {prev.span}")
        else:
            by_id[item.id] = item


def _subsections(ctx: Context) -> None:
    nested: dict[str, Span] = {}
    for st in ctx.states.values():
        for f in st.members:
            if not f.is_bits and isinstance(f.type, m.StateType):
                nested.setdefault(f.type.decl.name, f.span)
    for st in ctx.states.values():
        seen = set()
        for sub in st.subsections:
            decl = ctx.decls.get(sub.name)
            if decl is None or decl.kind != "state":
                if decl is None:
                    ctx.r.error("UNKNOWN_NAME", f"unknown state '{sub.name}'", sub.span)
                else:
                    ctx.r.error("BAD_SUBSECTION", f"'{sub.name}' is {article(decl.kind)}, not a state",
                                sub.span)
                continue
            src = next(s_ for s_ in ctx.sources if ctx.files[s_.real] is st.file)
            if not ctx.sees(src, decl):
                ctx.lookup_decl(s.Name(sub.name, sub.span), src, "state")
                continue
            target = ctx.states.get(sub.name)
            if target is None:
                continue
            if target is st:
                ctx.r.error("BAD_SUBSECTION", f"state '{st.name}' cannot be its own subsection", sub.span)
                continue
            if sub.name in seen:
                ctx.r.error("BAD_SUBSECTION", f"'{sub.name}' is listed twice", sub.span)
                continue
            seen.add(sub.name)
            if target.parent is not None:
                ctx.r.error("BAD_SUBSECTION", f"'{sub.name}' is already a subsection of "
                            f"'{target.parent.name}'; a state belongs to one parent", sub.span)
                continue
            if sub.name in nested:
                ctx.r.error("BAD_SUBSECTION", f"'{sub.name}' is used as a nested field type at "
                            f"{nested[sub.name]}; a subsection's fields live in its parent",
                            sub.span)
                continue
            if target.subsections:
                ctx.r.error("BAD_SUBSECTION", f"'{sub.name}' has subsections of its own; "
                            "subsections do not nest", sub.span)
                continue
            target.parent = st
            sub.state = target


def _state_recursion(ctx: Context) -> None:
    graph = {name: [(f.type.decl.name, f.span) for f in st.members
                    if not f.is_bits and isinstance(f.type, m.StateType)]
             for name, st in ctx.states.items()}
    color: dict[str, int] = {}

    def visit(n: str, stack: list[str]) -> None:
        color[n] = 1
        stack.append(n)
        for target, span in graph.get(n, ()):
            if color.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                ctx.r.error("RECURSIVE_TYPE", "a state contains itself: " + " -> ".join(cycle), span)
            elif target not in color:
                visit(target, stack)
        stack.pop()
        color[n] = 2

    for n in sorted(graph):
        if n not in color:
            visit(n, [])
