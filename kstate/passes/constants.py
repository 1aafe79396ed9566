"""Pass 2, constants: every constant's value, in dependency order (cycles
reported), and ``evaluate``, which the later passes use for every integer
expression of a schema."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..expr import ExprError, evaluate as evaluate_expr, names_in, render, start
from ..loader import SourceFile
from ..suggest import did_you_mean
from .context import Context, article

# A constant is a 64-bit literal in C (#define): signed or unsigned.
CONST_MIN, CONST_MAX = -(1 << 63), (1 << 64) - 1


class _Reported(Exception):
    """An error already reported; unwinds one expression."""


def evaluate(ctx: Context, expr: s.Expr, src: SourceFile) -> int | None:
    """The value of ``expr`` as written in ``src``; None after an error (reported)."""
    def lookup(ref: s.NameRef) -> int:
        decl = ctx.decls.get(ref.name)
        if decl is None:
            raise ExprError("UNKNOWN_NAME", f"unknown constant '{ref.name}'", ref.span,
                            help=did_you_mean(ref.name, ctx.names_of("constant")))
        if decl.kind != "const":
            raise ExprError("WRONG_KIND", f"'{ref.name}' is {article(decl.kind)}, not a constant",
                            ref.span)
        if not ctx.sees(src, decl):
            raise ExprError("UNKNOWN_NAME",
                            f"'{ref.name}' is defined in {decl.src.display}, which "
                            f"{src.display} does not import", ref.span)
        value = _const(ctx, ref.name)
        if value is None:
            raise _Reported()
        return value

    try:
        return evaluate_expr(expr, lookup)
    except ExprError as err:
        ctx.r.error(err.code, err.message, err.span, help=err.help)
    except _Reported:
        pass
    return None


def _const(ctx: Context, name: str) -> int | None:
    """The value of constant ``name`` (None after an error).  ``run`` calls
    this in dependency order, so evaluating one constant never recurses into
    another that is not computed yet; cycles are reported there."""
    if name in ctx.consts:
        c = ctx.consts[name]
        return c.value if c is not None else None
    decl = ctx.decls[name]
    ctx.consts[name] = None  # until computed: a reference to it now is a cycle, reported already
    value = evaluate(ctx, decl.node.value, decl.src)
    if value is not None and not CONST_MIN <= value <= CONST_MAX:
        ctx.r.error("BAD_CONST_VALUE", f"constant {name} = {value if value.bit_length() <= 128 else '...'} "
                    "does not fit 64 bits (-2^63 .. 2^64-1): the C header defines it as a 64-bit literal",
                    start(decl.node.value))
        value = None
    if value is not None:
        ctx.consts[name] = m.Const(name, value, decl.span, ctx.files[decl.src.real], decl.node.doc,
                                   render(decl.node.value))
    return value


def _const_order(ctx: Context) -> list[str]:
    """Every constant after the constants its value uses (an iterative
    depth-first walk: a chain of thousands of constants cannot exhaust
    Python's stack); each cycle is reported once, at the constant where the
    walk re-entered it."""
    deps = {}
    for name, decl in ctx.decls.items():
        if decl.kind == "const":
            deps[name] = [r.name for r in names_in(decl.node.value)
                          if r.name in ctx.decls and ctx.decls[r.name].kind == "const"]
    order: list[str] = []
    done: set[str] = set()
    for root in deps:
        if root in done:
            continue
        path, where = [root], {root: 0}
        stack = [iter(deps[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                name = path.pop()
                del where[name]
                done.add(name)
                order.append(name)
            elif nxt in where:
                if nxt not in ctx.consts:
                    cycle = path[where[nxt]:] + [nxt]
                    if len(cycle) > 9:
                        cycle = cycle[:4] + ["..."] + cycle[-4:]
                    ctx.r.error("CONST_CYCLE", "constants defined in terms of each other: "
                                + " -> ".join(cycle), ctx.decls[nxt].span)
                    ctx.consts[nxt] = None
            elif nxt not in done:
                where[nxt] = len(path)
                path.append(nxt)
                stack.append(iter(deps[nxt]))
    return order


def run(ctx: Context) -> None:
    for name in _const_order(ctx):
        _const(ctx, name)
