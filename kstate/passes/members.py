"""The members of a struct or a state: fields (type, shape, fixed value,
annotations) and bits groups, checked the same way for both owners."""

from __future__ import annotations

from .. import model as m
from .. import syntax as s
from ..expr import start
from ..loader import SourceFile
from . import member_annotations
from .constants import evaluate
from .context import Context, Scope
from .types import StructOf, Types, int_type, too_big


class Members:
    def __init__(self, ctx: Context, struct_of: StructOf):
        self.ctx = ctx
        self.r = ctx.r
        self.types = Types(ctx, struct_of)

    def build(self, nodes: list, src: SourceFile, owner: str, owner_kind: str) -> list:
        """The members that built; a member that failed is reported and left out."""
        scope = Scope(owner, owner_kind)
        for node in nodes:
            if isinstance(node, s.BitsDecl):
                scope.all_names.update(b.name.text for b in node.members)
            else:
                scope.all_names.add(node.name.text)
        out: list = []
        for node in nodes:
            if isinstance(node, s.BitsDecl):
                group = self._bits(node, src, scope)
                if group is not None:
                    out.append(group)
                continue
            f = self._field(node, src, scope)
            if f is not None:
                out.append(f)
        return out

    def _new_member_name(self, name: s.Name, scope: Scope, what: str) -> bool:
        self.ctx.check_identifier(name, what)
        if name.text in scope.names:
            self.r.error("DUPLICATE_MEMBER", f"{scope.owner} already has a member named '{name.text}'",
                         name.span, f"first at {scope.names[name.text]}")
            return False
        scope.names[name.text] = name.span
        return True

    def _bits(self, node: s.BitsDecl, src: SourceFile, scope: Scope) -> m.BitsGroup | None:
        base = int_type(self.ctx, node.type, "a bits group's type")
        fields = []
        offset = 0
        ok = base is not None
        for b in node.members:
            if not self._new_member_name(b.name, scope, "bits member"):
                ok = False
                continue
            width = evaluate(self.ctx, b.width, src)
            if width is None:
                ok = False
                continue
            if width < 1:
                self.r.error("BAD_BITS", f"bit-field '{b.name.text}' needs a width of at least 1, not {width}",
                             b.name.span)
                ok = False
                continue
            fields.append(m.BitsField(b.name.text, width, offset, b.name.span, b.name.text, b.doc))
            offset += width
        if base is not None and offset > 8 * base.width:
            self.r.error("BAD_BITS", f"bit-fields take {offset} bits; {base.name} has {8 * base.width}",
                         node.type.span)
            ok = False
        if not fields and ok:
            self.r.error("BAD_BITS", "a bits group needs at least one member", node.type.span)
            ok = False
        return m.BitsGroup(base, tuple(fields), node.span, node.doc) if ok else None

    def _field(self, node: s.FieldDecl, src: SourceFile, scope: Scope) -> m.Field | None:
        if not self._new_member_name(node.name, scope, "field"):
            return None
        vt, shape = self.types.value_type(node.type, src, scope)
        anns = member_annotations.collect(self.ctx, node.annotations, scope.owner_kind)
        if vt is None:
            return None
        f = m.Field(node.name.text, vt, node.name.span, pointer=node.type.pointer, shape=shape,
                    doc=node.doc, c_name=node.name.text)
        ok = True
        if isinstance(shape, m.Fixed):
            elem = m.ENTRY_HEADER_SIZE if isinstance(vt, tuple) or vt.size is None else vt.size
            if shape.length * elem > m.MAX_PAYLOAD:
                too_big(self.ctx, f"'{f.name}'", shape.length * elem, start(node.type.dims[-1]))
                ok = False
        if scope.owner_kind == "struct":
            why = None
            if isinstance(vt, tuple):
                why = "a nested state"
            elif f.pointer:
                why = "a pointer"
            elif isinstance(shape, m.Counted):
                why = "a variable-length array"
            elif isinstance(shape, m.Rest):
                why = "a [..] array"
            if why:
                self.r.error("STRUCT_MEMBER", f"a plain struct may not contain {why} ('{f.name}')",
                             node.name.span)
                ok = False
        if isinstance(shape, m.Rest) and not isinstance(vt, tuple) and vt.size is None:
            self.r.error("BAD_REST", f"'{f.name}': a [..] array needs elements of a fixed size",
                         node.name.span)
            ok = False
        if isinstance(shape, m.Rest) and isinstance(vt, tuple):
            self.r.error("BAD_REST", f"'{f.name}': a [..] array needs elements of a fixed size; "
                         "a nested state has none", node.name.span)
            ok = False
        # fixed value
        if node.fixed is not None:
            value = evaluate(self.ctx, node.fixed, src)
            if value is not None:
                base = vt.decl.base if isinstance(vt, m.EnumType) else vt
                if not isinstance(base, (m.IntType, m.BoolType)) or shape or f.pointer:
                    self.r.error("BAD_FIXED_VALUE", f"'{f.name}': only integer, enum, flags and bool "
                                 "fields can have a fixed value", node.name.span)
                    ok = False
                elif isinstance(base, m.BoolType) and value not in (0, 1):
                    self.r.error("BAD_FIXED_VALUE", f"'{f.name}': a bool's fixed value must be 0 or 1",
                                 node.fixed.span if hasattr(node.fixed, "span") else node.name.span)
                    ok = False
                elif isinstance(base, m.IntType) and not base.fits(value):
                    self.r.error("BAD_FIXED_VALUE", f"'{f.name}': fixed value {value} does not fit "
                                 f"{base.name}", node.name.span)
                    ok = False
                else:
                    f.fixed = value
            else:
                ok = False
        if anns is None:
            return None
        for key, (args, span) in anns.items():
            if not member_annotations.apply(self.ctx, f, key, args, span, src):
                ok = False
        return f if ok else None
