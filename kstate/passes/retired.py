"""Pass 7, retired: retired states (an id and a reason, both required)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..limits import MAX_ID
from .constants import evaluate
from .context import Context


def run(ctx: Context) -> None:
    for name, decl in ctx.decls.items():
        if decl.kind != "retired":
            continue
        node: s.RetiredDecl = decl.node
        for sp in node.duplicates:
            ctx.r.error("DUPLICATE_PROPERTY", f"retired state '{name}' sets a property twice", sp)
        if node.id is None or node.reason is None:
            ctx.r.error("MISSING_PROPERTY", f"retired state '{name}' needs both 'id = ...;' and "
                        "'reason = \"...\";'", node.name.span)
            continue
        if not node.reason.value.strip():
            ctx.r.error("MISSING_PROPERTY", f"retired state '{name}' needs a reason that says why",
                        node.reason.span)
            continue
        sid = evaluate(ctx, node.id, decl.src)
        if sid is None:
            continue
        if not 1 <= sid <= MAX_ID:
            ctx.r.error("BAD_ID", f"state id must be in 1 .. {MAX_ID}, not {sid}", node.id.span
                        if hasattr(node.id, "span") else node.name.span)
            continue
        ctx.retired[name] = m.RetiredState(name, sid, node.reason.value, decl.span,
                                           ctx.files[decl.src.real], None, node.doc)
