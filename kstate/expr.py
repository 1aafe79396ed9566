"""Integer expressions: unbounded integers with C semantics for / and %."""

from __future__ import annotations

from typing import Callable

from . import syntax as s
from .errors import Span

# A shift wider than this is surely a mistake and would build huge integers.
MAX_SHIFT = 4096
# No value (literal or intermediate result) may have more bits than this, so
# a chain of multiplications cannot build a huge integer either; checked
# before each operation from the operands' sizes.
MAX_INT_BITS = 8192


class ExprError(Exception):
    def __init__(self, code: str, message: str, span: Span, help: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.help = help


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a: int, b: int) -> int:
    return a - b * _c_div(a, b)


def _shift(op: str, a: int, b: int, span: Span) -> int:
    if b < 0:
        raise ExprError("BAD_SHIFT", f"shift by a negative amount ({b})", span)
    if b > MAX_SHIFT:
        raise ExprError("BAD_SHIFT", f"shift by {b} is larger than {MAX_SHIFT}", span)
    return a << b if op == "<<" else a >> b


def _too_big(bits: int, span: Span) -> ExprError:
    return ExprError("LIMIT_EXCEEDED", f"the value of this expression has {bits} bits; "
                     f"kstate computes with at most {MAX_INT_BITS}-bit integers", span)


def names_in(expr: s.Expr) -> list[s.NameRef]:
    """Every name an expression refers to, left to right."""
    out: list[s.NameRef] = []
    todo = [expr]
    while todo:
        e = todo.pop()
        if isinstance(e, s.NameRef):
            out.append(e)
        elif isinstance(e, s.UnOp):
            todo.append(e.operand)
        elif isinstance(e, s.BinOp):
            todo.extend((e.right, e.left))
    return out


def start(expr: s.Expr) -> Span:
    """Where an expression begins (a binary operation's own span is its operator)."""
    while isinstance(expr, s.BinOp):
        expr = expr.left
    return expr.span


def evaluate(expr: s.Expr, lookup: Callable[[s.NameRef], int]) -> int:
    """Evaluate ``expr``; ``lookup`` resolves a name or raises ExprError.
    No literal or intermediate result exceeds ``MAX_INT_BITS`` bits."""
    if isinstance(expr, s.IntLit):
        if expr.value.bit_length() > MAX_INT_BITS:
            raise _too_big(expr.value.bit_length(), expr.span)
        return expr.value
    if isinstance(expr, s.NameRef):
        return lookup(expr)
    if isinstance(expr, s.UnOp):
        value = evaluate(expr.operand, lookup)
        return -value if expr.op == "-" else ~value
    left = evaluate(expr.left, lookup)
    right = evaluate(expr.right, lookup)
    # operands have at most MAX_INT_BITS bits and shifts are bounded, so the
    # result is cheap to compute (at most 2 * MAX_INT_BITS bits) and checked
    value = _binary(expr, left, right)
    if value.bit_length() > MAX_INT_BITS:
        raise _too_big(value.bit_length(), expr.span)
    return value


def _binary(expr: s.BinOp, left: int, right: int) -> int:
    op = expr.op
    if op in ("/", "%"):
        if right == 0:
            raise ExprError("DIVISION_BY_ZERO", f"division by zero ('{op}' with a right side of 0)",
                            expr.span)
        return _c_div(left, right) if op == "/" else _c_mod(left, right)
    if op in ("<<", ">>"):
        return _shift(op, left, right, expr.span)
    return {
        "+": int.__add__, "-": int.__sub__, "*": int.__mul__,
        "&": int.__and__, "|": int.__or__, "^": int.__xor__,
    }[op](left, right)


def render(expr: s.Expr) -> str:
    """The expression as source text (normalised spacing)."""
    if isinstance(expr, s.IntLit):
        return expr.text or str(expr.value)
    if isinstance(expr, s.NameRef):
        return expr.name
    if isinstance(expr, s.UnOp):
        return f"{expr.op}{render(expr.operand)}"
    return f"({render(expr.left)} {expr.op} {render(expr.right)})"
