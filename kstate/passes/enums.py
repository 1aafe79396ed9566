"""Pass 3, enums: the values of every enum and flags type (each fits the
base type; flags are non-zero; no two values alike)."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from .constants import evaluate
from .context import Context
from .types import int_type


def run(ctx: Context) -> None:
    for name, decl in ctx.decls.items():
        if decl.kind != "enum":
            continue
        node: s.EnumDecl = decl.node
        base = int_type(ctx, node.base, f"the type of {node.kind} '{name}'")
        values = []
        names: dict[str, s.EnumMember] = {}
        by_value: dict[int, s.EnumMember] = {}
        for member in node.members:
            ctx.check_identifier(member.name, f"{node.kind} value")
            if member.name.text in names:
                ctx.r.error("DUPLICATE_MEMBER", f"{node.kind} '{name}' already has a value named "
                            f"'{member.name.text}'", member.name.span,
                            f"first at {names[member.name.text].name.span}")
                continue
            names[member.name.text] = member
            value = evaluate(ctx, member.value, decl.src)
            if value is None or base is None:
                continue
            if not base.fits(value):
                ctx.r.error("BAD_ENUM_VALUE", f"{name}.{member.name.text} = {value} does not fit "
                            f"{base.name} ({base.min} .. {base.max})", member.name.span)
                continue
            if node.kind == "flags" and value == 0:
                ctx.r.error("BAD_ENUM_VALUE", f"flags value {name}.{member.name.text} is zero; "
                            "a flag needs at least one bit", member.name.span)
                continue
            if value in by_value:
                ctx.r.error("BAD_ENUM_VALUE", f"{name}.{member.name.text} has the value {value} of "
                            f"{by_value[value].name.text}", member.name.span,
                            f"first at {by_value[value].name.span}")
                continue
            by_value[value] = member
            values.append(m.EnumValue(member.name.text, value, member.name.span,
                                      f"{name}_{member.name.text}".upper(), member.doc))
        if base is not None:
            ctx.enums[name] = m.Enum(name, node.kind, base, tuple(values), decl.span,
                                     ctx.files[decl.src.real], node.doc)
