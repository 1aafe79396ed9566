"""Pass 5, structs: every plain struct with its members and size; a struct
that contains itself is reported where the cycle closes.  A struct is built
on first use, so the struct a field names is complete before the field."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..errors import Span
from .context import Context
from .members import Members
from .types import too_big


class _Structs:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.stack: list[str] = []  # structs being built, outermost first
        self.members = Members(ctx, self.struct)

    def struct(self, name: str, used_at: Span) -> m.Struct | None:
        ctx = self.ctx
        if name in ctx.structs:
            return ctx.structs[name]
        decl = ctx.decls[name]
        if name in self.stack:
            cycle = self.stack[self.stack.index(name):] + [name]
            ctx.r.error("RECURSIVE_TYPE", "a struct contains itself: " + " -> ".join(cycle), used_at)
            return None
        self.stack.append(name)
        node: s.StructDecl = decl.node
        members = self.members.build(node.members, decl.src, f"struct '{name}'", "struct")
        self.stack.pop()
        if name in ctx.structs:  # recursion already reported through this struct
            return ctx.structs[name]
        ok = len(members) == sum(1 for _ in node.members)
        if not node.members:
            ctx.r.error("EMPTY", f"struct '{name}' has no members", decl.span)
            ok = False
        st = None
        if ok:
            size = sum(mb.size for mb in members)
            if size > m.MAX_PAYLOAD:
                too_big(ctx, f"struct '{name}'", size, decl.span)
                ok = False
        if ok:
            st = m.Struct(name, tuple(members), decl.span, ctx.files[decl.src.real], size, node.doc, name)
        ctx.structs[name] = st
        return st


def run(ctx: Context) -> None:
    structs = _Structs(ctx)
    for name, decl in ctx.decls.items():
        if decl.kind == "struct":
            structs.struct(name, decl.span)
