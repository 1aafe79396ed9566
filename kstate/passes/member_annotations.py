"""Member annotations (@since, @removed, @discard, @max, @range, @custom,
@c): which are allowed where, their arguments, and what they set on a field."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..errors import Span
from ..expr import start
from ..loader import SourceFile
from ..names import macro_reserved, name_reserved
from ..suggest import nearest
from .constants import evaluate
from .context import Context

KNOWN = {"since", "removed", "discard", "max", "range", "custom", "c"}
STATE_ONLY = {"since", "removed", "discard", "max"}


def collect(ctx: Context, anns: list[s.Annotation], owner_kind: str) -> dict[str, tuple[list, Span]] | None:
    """The annotations of one member by name; None after an error."""
    out: dict[str, tuple[list, Span]] = {}
    ok = True
    for a in anns:
        key = a.name.text
        if key not in KNOWN:
            ctx.r.error("BAD_ANNOTATION", f"unknown annotation @{key}; known: "
                        + ", ".join("@" + k for k in sorted(KNOWN)), a.name.span,
                        help=(f"did you mean '@{near}'?" if (near := nearest(key, sorted(KNOWN)))
                              else None))
            ok = False
            continue
        if key in out:
            ctx.r.error("BAD_ANNOTATION", f"@{key} given twice", a.name.span)
            ok = False
            continue
        if owner_kind == "struct" and key in STATE_ONLY:
            what = {"since": "versioned members", "removed": "versioned members",
                    "discard": "versioned members", "max": "counts"}[key]
            ctx.r.error("STRUCT_MEMBER", f"a plain struct has no {what}: @{key} is not allowed here",
                        a.name.span)
            ok = False
            continue
        out[key] = (a.args, a.name.span)
    return out if ok else None


def int_args(ctx: Context, key: str, args: list, span: Span, src: SourceFile, count: int) -> list[int] | None:
    if len(args) != count or any(isinstance(a, (s.StringLit, s.KeywordArg)) for a in args):
        shape = {"since": "@since(N)", "max": "@max(N)", "range": "@range(LO, HI)"}[key]
        ctx.r.error("BAD_ANNOTATION", f"@{key} takes integer arguments: {shape}", span)
        return None
    values = [evaluate(ctx, a, src) for a in args]
    return None if any(v is None for v in values) else values


def apply(ctx: Context, f: m.Field, key: str, args: list, span: Span, src: SourceFile) -> bool:
    """Set what annotation ``key`` says on ``f``; False after an error."""
    r = ctx.r
    if key == "since":
        v = int_args(ctx, key, args, span, src, 1)
        if v is None:
            return False
        f.since, f.since_span = v[0], span
    elif key == "removed":
        if len(args) != 2 or isinstance(args[0], (s.StringLit, s.KeywordArg)) \
                or not isinstance(args[1], s.StringLit):
            r.error("BAD_ANNOTATION", '@removed takes a version and a reason: '
                    '@removed(N, "why")', span)
            return False
        v = evaluate(ctx, args[0], src)
        if v is None:
            return False
        if not args[1].value.strip():
            r.error("BAD_ANNOTATION", "@removed needs a reason that says why", args[1].span)
            return False
        f.removed, f.removed_span, f.reason = v, span, args[1].value
    elif key == "discard":
        if args:
            r.error("BAD_ANNOTATION", "@discard takes no arguments", span)
            return False
        f.discard = True
    elif key == "max":
        v = int_args(ctx, key, args, span, src, 1)
        if v is None:
            return False
        if v[0] < 0:
            r.error("BAD_ANNOTATION", f"@max must not be negative ({v[0]})", span)
            return False
        if v[0] > m.MAX_PAYLOAD:
            r.error("BAD_ANNOTATION", f"@max({v[0]}) is more elements than an entry can hold: "
                    f"its payload is at most {m.MAX_PAYLOAD} bytes (the header's size is an i32)",
                    start(args[0]), help=f"use @max({m.MAX_PAYLOAD}) or less")
            return False
        f.max = v[0]
    elif key == "range":
        v = int_args(ctx, key, args, span, src, 2)
        if v is None:
            return False
        lo, hi = v
        base = f.type
        if not isinstance(base, m.IntType) or f.shape or f.pointer:
            r.error("BAD_ANNOTATION", f"@range applies to integer fields; '{f.name}' is "
                    f"{f.describe_type()}", span)
            return False
        if lo > hi:
            r.error("BAD_ANNOTATION", f"@range({lo}, {hi}): the low bound is above the high one",
                    span)
            return False
        if not (base.fits(lo) and base.fits(hi)):
            r.error("BAD_ANNOTATION", f"@range({lo}, {hi}) does not fit {base.name} "
                    f"({base.min} .. {base.max})", span)
            return False
        f.range = (lo, hi)
    elif key == "custom":
        names = {}
        for a in args:
            if not isinstance(a, s.KeywordArg) or a.key.text not in ("save", "restore") \
                    or not isinstance(a.value, s.NameRef) or a.key.text in names:
                r.error("BAD_ANNOTATION", "@custom takes C function names: "
                        "@custom(save = NAME, restore = NAME)", span)
                return False
            names[a.key.text] = a.value.name
        if set(names) != {"save", "restore"}:
            r.error("BAD_ANNOTATION", "@custom needs both save = NAME and restore = NAME", span)
            return False
        for n in names.values():
            why = macro_reserved(n)
            if why:
                r.error("RESERVED_NAME", f"C function name '{n}' is {why}", span,
                        help=f"name the function differently, e.g. {f.name}_{n}")
                return False
        f.custom = (names["save"], names["restore"])
    elif key == "c":
        if len(args) != 1 or not isinstance(args[0], s.NameRef):
            r.error("BAD_ANNOTATION", "@c takes one C identifier: @c(NAME)", span)
            return False
        name = args[0].name
        why = name_reserved(name)
        if why:
            r.error("RESERVED_NAME", f"C name '{name}' is {why}", args[0].span,
                    help=f"@c({name}_)")
            return False
        f.c_name = name
    return True
