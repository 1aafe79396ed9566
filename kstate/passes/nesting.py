"""Pass 4, nesting: chains of structs and nested states deeper than
MAX_TYPE_NESTING are refused before any later pass recurses along them (an
iterative walk of the syntax)."""

from __future__ import annotations

from .. import syntax as s
from ..errors import Span
from ..limits import MAX_TYPE_NESTING
from .context import Context


def run(ctx: Context) -> None:
    kids: dict[str, list[tuple[str, Span]]] = {}
    for name, decl in ctx.decls.items():
        if decl.kind in ("struct", "state"):
            kids[name] = [(mb.type.name.text, mb.type.name.span) for mb in decl.node.members
                          if isinstance(mb, s.FieldDecl) and mb.type.name.text in ctx.decls
                          and ctx.decls[mb.type.name.text].kind in ("struct", "state")]
    height: dict[str, int] = {}
    for root in kids:
        if root in height:
            continue
        active = {root}
        stack = [(root, iter(kids[root]))]
        while stack:
            name, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                active.discard(name)
                height[name] = 1 + max((height.get(k, 0) for k, _ in kids[name] if k not in active),
                                       default=0)
            elif nxt[0] not in height and nxt[0] not in active:
                active.add(nxt[0])
                stack.append((nxt[0], iter(kids[nxt[0]])))
    for name, h in height.items():
        if h <= MAX_TYPE_NESTING:
            continue
        decl = ctx.decls[name]
        if h == MAX_TYPE_NESTING + 1:
            ctx.r.error("LIMIT_EXCEEDED", f"{decl.kind} '{name}' holds types nested {h} levels deep "
                        f"(structs and nested states inside each other); at most {MAX_TYPE_NESTING}",
                        decl.span)
        if decl.kind == "struct":
            ctx.structs[name] = None
        else:
            ctx.too_deep.add(name)
