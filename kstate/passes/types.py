"""Type expressions of members: built-in, enum, struct and nested-state
types, and array dimensions (fixed, counted, rest)."""

from __future__ import annotations

from typing import Callable

from .. import model as m
from .. import syntax as s
from ..errors import Span
from ..expr import start
from ..loader import SourceFile
from .constants import evaluate
from .context import Context, Scope, article

#: (struct name, where it is used) -> the built struct, None after an error
StructOf = Callable[[str, Span], "m.Struct | None"]


def int_type(ctx: Context, name: s.Name, what: str) -> m.IntType | None:
    if name.text not in m.INT_TYPES:
        ctx.r.error("BAD_TYPE", f"{what} must be an integer type (u8 .. u64, i8 .. i64), "
                    f"not '{name.text}'", name.span)
        return None
    return m.int_type(name.text)


def too_big(ctx: Context, what: str, size: int, span: Span) -> None:
    ctx.r.error("BAD_SIZE", f"{what} takes {size} bytes on the wire; an entry holds at most "
                f"{m.MAX_PAYLOAD} (its header's size is an i32)", span)


class Types:
    """Resolves the type expressions of one pass; ``struct_of`` gives the
    struct a name means (the structs pass builds it on first use)."""

    def __init__(self, ctx: Context, struct_of: StructOf):
        self.ctx = ctx
        self.r = ctx.r
        self.struct_of = struct_of

    def dim(self, dim, src: SourceFile, scope: Scope):
        """A dimension: Fixed, Counted or Rest; None after an error."""
        if isinstance(dim, s.Rest):
            return m.Rest()
        if isinstance(dim, s.NameRef) and scope.owner_kind == "state":
            if dim.name in scope.names:
                return m.Counted(dim.name)
            if dim.name in scope.all_names and dim.name not in self.ctx.decls:
                self.r.error("BAD_COUNT", f"count field '{dim.name}' must come before the array",
                             dim.span)
                return None
        if isinstance(dim, s.NameRef) and scope.owner_kind == "struct" and dim.name in scope.all_names \
                and dim.name not in self.ctx.decls:
            self.r.error("STRUCT_MEMBER", f"a plain struct may not contain a variable-length array "
                         f"(count '{dim.name}')", dim.span)
            return None
        value = evaluate(self.ctx, dim, src)
        if value is None:
            return None
        if value < 0:
            self.r.error("NEGATIVE_SIZE", f"array size is negative ({value})", dim.span)
            return None
        if value == 0:
            self.r.error("BAD_SIZE", "array size must be at least 1", dim.span)
            return None
        return m.Fixed(value)

    def value_type(self, t: s.TypeExpr, src: SourceFile, scope: Scope):
        """(value type, shape) of a type expression; (None, None) after an error.
        A nested state's type is ``("state", name)`` until every state exists."""
        name = t.name.text
        dims = list(t.dims)
        if t.arg is not None and name != "addr":
            self.r.error("BAD_TYPE", f"type '{name}' takes no argument in parentheses", t.arg.span)
            return None, None
        vt = None
        shape = None
        if name in m.INT_TYPES:
            vt = m.int_type(name)
        elif name == "bool":
            vt = m.BoolType()
        elif name == "folio":
            vt = m.FolioType()
        elif name == "addr":
            if t.arg is None or t.arg.text not in m.ADDR_AREAS:
                self.r.error("BAD_TYPE", "addr needs its area: addr(vmemmap) or addr(linear)",
                             (t.arg or t.name).span)
                return None, None
            vt = m.AddrType(t.arg.text)
        elif name == "char":
            if not dims or isinstance(dims[0], s.Rest):
                self.r.error("BAD_TYPE", "char needs a fixed length: char[N]", t.name.span)
                return None, None
            first = dims.pop(0)
            if isinstance(first, s.NameRef) and first.name in scope.all_names \
                    and first.name not in self.ctx.decls:
                self.r.error("BAD_TYPE", "char[N] needs a constant length; use bytes[count] for "
                             "variable-length data", first.span)
                return None, None
            length = self.dim(first, src, scope)
            if length is None:
                return None, None
            if length.length > m.MAX_PAYLOAD:
                too_big(self.ctx, f"char[{length.length}]", length.length, start(first))
                return None, None
            vt = m.CharType(length.length)
        elif name == "bytes":
            if not dims:
                self.r.error("BAD_TYPE", "bytes needs a length: bytes[N], bytes[count] or bytes[..]",
                             t.name.span)
                return None, None
            vt = m.BytesType()
            shape = self.dim(dims.pop(0), src, scope)
            if shape is None:
                return None, None
            if dims:
                self.r.error("BAD_TYPE", "bytes[...] takes one dimension", t.span)
                return None, None
        else:
            decl = self.ctx.lookup_decl(t.name, src, "type")
            if decl is None:
                return None, None
            if decl.kind == "enum":
                e = self.ctx.enums.get(name)
                if e is None:
                    return None, None
                vt = m.EnumType(e)
            elif decl.kind == "struct":
                st = self.struct_of(name, t.name.span)
                if st is None:
                    return None, None
                vt = m.StructType(st)
            elif decl.kind == "state":
                vt = ("state", name)  # resolved once every state exists
            else:
                self.r.error("WRONG_KIND", f"'{name}' is {article(decl.kind)}, not a type", t.name.span)
                return None, None
        if dims:
            if len(dims) > 1:
                self.r.error("BAD_TYPE", "arrays have one dimension", t.span)
                return None, None
            shape = self.dim(dims[0], src, scope)
            if shape is None:
                return None, None
        return vt, shape
