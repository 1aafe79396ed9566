"""Pass 1, declare: the names of all items (duplicates and built-in type
names refused) and the files each file sees through its imports."""

from __future__ import annotations

from pathlib import Path

from .. import model as m
from .. import syntax as s
from ..names import BUILTIN_TYPES
from .context import Context, Decl

_KINDS = {s.ConstDecl: "const", s.EnumDecl: "enum", s.StructDecl: "struct",
          s.StateDecl: "state", s.RetiredDecl: "retired"}


def run(ctx: Context) -> None:
    for src in ctx.sources:
        ctx.files[src.real] = m.SchemaFile(src.rel, src.display)
        if src.tree is None:
            continue
        for item in src.tree.items:
            if isinstance(item, s.ImportDecl):
                continue
            kind = _KINDS[type(item)]
            name = item.name
            ctx.check_identifier(name, "name")
            if name.text in BUILTIN_TYPES:
                ctx.r.error("RESERVED_NAME", f"'{name.text}' is a built-in type name", name.span)
                continue
            prev = ctx.decls.get(name.text)
            if prev is not None:
                ctx.r.error("DUPLICATE_NAME", f"'{name.text}' is already defined",
                            name.span, f"first defined at {prev.span}")
                continue
            ctx.decls[name.text] = Decl(kind, item, src)
    by_real = {src.real: src for src in ctx.sources}
    for src in ctx.sources:
        seen: set[Path] = set()
        todo = [src.real]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo.extend(by_real[p].imports)
        ctx.visible[src.real] = seen
        ctx.files[src.real].imports = tuple(by_real[p].rel for p in src.imports)
