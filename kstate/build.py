"""Syntax trees to the typed model, checking every rule of the language.

The passes run in order; each reports into one ``Reporter`` and goes on
after an error where it can, so one run reports every problem:

1. ``_declare``     names of all items, duplicates, reserved words
2. ``_constants``   constant values (any order, cycles reported)
3. ``_enums``       enum and flags values
4. ``_structs``     plain structs (sizes; recursion reported)
5. ``_states``      properties, fields, annotations, layouts per version
6. ``_set_rules``   ids, subsections, nested-state recursion, C name clashes
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import model as m
from . import syntax as s
from .errors import Reporter, SchemaError, SourceMap, Span
from .expr import ExprError, evaluate, names_in, render, start
from .limits import MAX_ID, MAX_LAYOUT_MEMBERS, MAX_NAME_LENGTH, MAX_TYPE_NESTING, MAX_VERSION, MAX_VERSION_SPAN
from .loader import SourceFile
from .names import (BUILTIN_TYPES, GENERATED_WORDS, SYSTEM_MACROS, is_identifier, macro_reserved, name_reserved,
                    runtime_words, tag_reserved)
from .suggest import did_you_mean, nearest

# A constant is a 64-bit literal in C (#define): signed or unsigned.
CONST_MIN, CONST_MAX = -(1 << 63), (1 << 64) - 1


@dataclass
class _Decl:
    kind: str  # const | enum | struct | state | retired
    node: object
    src: SourceFile

    @property
    def span(self) -> Span:
        return self.node.name.span


class _Builder:
    def __init__(self, sources: list[SourceFile]):
        self.sources = sources
        self.r = Reporter()
        self.decls: dict[str, _Decl] = {}
        self.visible: dict[Path, set[Path]] = {}
        self.files: dict[Path, m.SchemaFile] = {}
        self.consts: dict[str, m.Const | None] = {}
        self.enums: dict[str, m.Enum] = {}
        self.structs: dict[str, m.Struct | None] = {}
        self.struct_stack: list[str] = []
        self.states: dict[str, m.State] = {}
        self.retired: dict[str, m.RetiredState] = {}
        self.too_deep: set[str] = set()  # states past MAX_TYPE_NESTING, reported
        self.layout_members = 0  # members of every layout built so far (MAX_LAYOUT_MEMBERS)

    # --- helpers -------------------------------------------------------------

    def _check_identifier(self, name: s.Name, what: str) -> None:
        """Only the length: what C makes of a name is checked in _c_names."""
        if len(name.text) > MAX_NAME_LENGTH:
            self.r.error("LIMIT_EXCEEDED", f"{what} '{name.text[:32]}...' is {len(name.text)} characters "
                         f"long; names have at most {MAX_NAME_LENGTH}", name.span)

    def _visible(self, src: SourceFile, decl: _Decl) -> bool:
        return decl.src.real in self.visible[src.real]

    def _lookup_decl(self, name: s.Name | s.NameRef, src: SourceFile, want: str) -> _Decl | None:
        text = name.text if isinstance(name, s.Name) else name.name
        decl = self.decls.get(text)
        if decl is None:
            self.r.error("UNKNOWN_NAME", f"unknown {want} '{text}'", name.span,
                         help=did_you_mean(text, self._names_of(want)))
            return None
        if not self._visible(src, decl):
            self.r.error("UNKNOWN_NAME",
                         f"'{text}' is defined in {decl.src.display}, which {src.display} does not import",
                         name.span, help=f'add `import "{_relative_import(src, decl.src)}";`')
            return None
        return decl

    _KINDS = {"type": ("enum", "struct", "state"), "state": ("state",), "constant": ("const",)}

    def _names_of(self, want: str) -> list[str]:
        """The names a misspelt ``want`` could have meant, for "did you mean"."""
        kinds = self._KINDS.get(want, ())
        names = sorted(n for n, d in self.decls.items() if d.kind in kinds)
        return sorted(BUILTIN_TYPES) + names if want == "type" else names

    def eval(self, expr: s.Expr, src: SourceFile) -> int | None:
        def lookup(ref: s.NameRef) -> int:
            decl = self.decls.get(ref.name)
            if decl is None:
                raise ExprError("UNKNOWN_NAME", f"unknown constant '{ref.name}'", ref.span,
                                help=did_you_mean(ref.name, self._names_of("constant")))
            if decl.kind != "const":
                raise ExprError("WRONG_KIND", f"'{ref.name}' is {_article(decl.kind)}, not a constant",
                                ref.span)
            if not self._visible(src, decl):
                raise ExprError("UNKNOWN_NAME",
                                f"'{ref.name}' is defined in {decl.src.display}, which "
                                f"{src.display} does not import", ref.span)
            value = self._const(ref.name, ref.span)
            if value is None:
                raise _Reported()
            return value

        try:
            return evaluate(expr, lookup)
        except ExprError as err:
            self.r.error(err.code, err.message, err.span, help=err.help)
        except _Reported:
            pass
        return None

    # --- pass 1: declarations -------------------------------------------------

    def _declare(self) -> None:
        kinds = {s.ConstDecl: "const", s.EnumDecl: "enum", s.StructDecl: "struct",
                 s.StateDecl: "state", s.RetiredDecl: "retired"}
        for src in self.sources:
            self.files[src.real] = m.SchemaFile(src.rel, src.display)
            if src.tree is None:
                continue
            for item in src.tree.items:
                if isinstance(item, s.ImportDecl):
                    continue
                kind = kinds[type(item)]
                name = item.name
                self._check_identifier(name, "name")
                if name.text in BUILTIN_TYPES:
                    self.r.error("RESERVED_NAME", f"'{name.text}' is a built-in type name", name.span)
                    continue
                prev = self.decls.get(name.text)
                if prev is not None:
                    self.r.error("DUPLICATE_NAME", f"'{name.text}' is already defined",
                                 name.span, f"first defined at {prev.span}")
                    continue
                self.decls[name.text] = _Decl(kind, item, src)
        by_real = {src.real: src for src in self.sources}
        for src in self.sources:
            seen: set[Path] = set()
            todo = [src.real]
            while todo:
                p = todo.pop()
                if p in seen:
                    continue
                seen.add(p)
                todo.extend(by_real[p].imports)
            self.visible[src.real] = seen
            self.files[src.real].imports = tuple(by_real[p].rel for p in src.imports)

    # --- pass 2: constants ----------------------------------------------------

    def _const(self, name: str, used_at: Span | None = None) -> int | None:
        """The value of constant ``name`` (None after an error).  ``_constants``
        calls this in dependency order, so evaluating one constant never recurses
        into another that is not computed yet; cycles are reported there."""
        if name in self.consts:
            c = self.consts[name]
            return c.value if c is not None else None
        decl = self.decls[name]
        self.consts[name] = None  # until computed: a reference to it now is a cycle, reported already
        value = self.eval(decl.node.value, decl.src)
        if value is not None and not CONST_MIN <= value <= CONST_MAX:
            self.r.error("BAD_CONST_VALUE", f"constant {name} = {value if value.bit_length() <= 128 else '...'} "
                         "does not fit 64 bits (-2^63 .. 2^64-1): the C header defines it as a 64-bit literal",
                         start(decl.node.value))
            value = None
        if value is not None:
            self.consts[name] = m.Const(name, value, decl.span, self.files[decl.src.real], decl.node.doc,
                                        render(decl.node.value))
        return value

    def _const_order(self) -> list[str]:
        """Every constant after the constants its value uses (an iterative
        depth-first walk: a chain of thousands of constants cannot exhaust
        Python's stack); each cycle is reported once, at the constant where the
        walk re-entered it."""
        deps = {}
        for name, decl in self.decls.items():
            if decl.kind == "const":
                deps[name] = [r.name for r in names_in(decl.node.value)
                              if r.name in self.decls and self.decls[r.name].kind == "const"]
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
                    if nxt not in self.consts:
                        cycle = path[where[nxt]:] + [nxt]
                        if len(cycle) > 9:
                            cycle = cycle[:4] + ["..."] + cycle[-4:]
                        self.r.error("CONST_CYCLE", "constants defined in terms of each other: "
                                     + " -> ".join(cycle), self.decls[nxt].span)
                        self.consts[nxt] = None
                elif nxt not in done:
                    where[nxt] = len(path)
                    path.append(nxt)
                    stack.append(iter(deps[nxt]))
        return order

    def _constants(self) -> None:
        for name in self._const_order():
            self._const(name)

    # --- pass 3: enums and flags ----------------------------------------------

    def _int_type(self, name: s.Name, what: str) -> m.IntType | None:
        if name.text not in m.INT_TYPES:
            self.r.error("BAD_TYPE", f"{what} must be an integer type (u8 .. u64, i8 .. i64), "
                         f"not '{name.text}'", name.span)
            return None
        return m.int_type(name.text)

    def _enums(self) -> None:
        for name, decl in self.decls.items():
            if decl.kind != "enum":
                continue
            node: s.EnumDecl = decl.node
            base = self._int_type(node.base, f"the type of {node.kind} '{name}'")
            values = []
            names: dict[str, s.EnumMember] = {}
            by_value: dict[int, s.EnumMember] = {}
            for member in node.members:
                self._check_identifier(member.name, f"{node.kind} value")
                if member.name.text in names:
                    self.r.error("DUPLICATE_MEMBER", f"{node.kind} '{name}' already has a value named "
                                 f"'{member.name.text}'", member.name.span,
                                 f"first at {names[member.name.text].name.span}")
                    continue
                names[member.name.text] = member
                value = self.eval(member.value, decl.src)
                if value is None or base is None:
                    continue
                if not base.fits(value):
                    self.r.error("BAD_ENUM_VALUE", f"{name}.{member.name.text} = {value} does not fit "
                                 f"{base.name} ({base.min} .. {base.max})", member.name.span)
                    continue
                if node.kind == "flags" and value == 0:
                    self.r.error("BAD_ENUM_VALUE", f"flags value {name}.{member.name.text} is zero; "
                                 "a flag needs at least one bit", member.name.span)
                    continue
                if value in by_value:
                    self.r.error("BAD_ENUM_VALUE", f"{name}.{member.name.text} has the value {value} of "
                                 f"{by_value[value].name.text}", member.name.span,
                                 f"first at {by_value[value].name.span}")
                    continue
                by_value[value] = member
                values.append(m.EnumValue(member.name.text, value, member.name.span,
                                          f"{name}_{member.name.text}".upper(), member.doc))
            if base is not None:
                self.enums[name] = m.Enum(name, node.kind, base, tuple(values), decl.span,
                                          self.files[decl.src.real], node.doc)

    # --- types ----------------------------------------------------------------

    def _dim(self, dim, src: SourceFile, ctx: "_Members"):
        """A dimension: Fixed, Counted or Rest; None after an error."""
        if isinstance(dim, s.Rest):
            return m.Rest()
        if isinstance(dim, s.NameRef) and ctx.owner_kind == "state":
            if dim.name in ctx.names:
                return m.Counted(dim.name)
            if dim.name in ctx.all_names and dim.name not in self.decls:
                self.r.error("BAD_COUNT", f"count field '{dim.name}' must come before the array",
                             dim.span)
                return None
        if isinstance(dim, s.NameRef) and ctx.owner_kind == "struct" and dim.name in ctx.all_names \
                and dim.name not in self.decls:
            self.r.error("STRUCT_MEMBER", f"a plain struct may not contain a variable-length array "
                         f"(count '{dim.name}')", dim.span)
            return None
        value = self.eval(dim, src)
        if value is None:
            return None
        if value < 0:
            self.r.error("NEGATIVE_SIZE", f"array size is negative ({value})", dim.span)
            return None
        if value == 0:
            self.r.error("BAD_SIZE", "array size must be at least 1", dim.span)
            return None
        return m.Fixed(value)

    def _too_big(self, what: str, size: int, span: Span) -> None:
        self.r.error("BAD_SIZE", f"{what} takes {size} bytes on the wire; an entry holds at most "
                     f"{m.MAX_PAYLOAD} (its header's size is an i32)", span)

    def _value_type(self, t: s.TypeExpr, src: SourceFile, ctx: "_Members"):
        """(value type, shape) of a type expression; (None, None) after an error."""
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
            if isinstance(first, s.NameRef) and first.name in ctx.all_names and first.name not in self.decls:
                self.r.error("BAD_TYPE", "char[N] needs a constant length; use bytes[count] for "
                             "variable-length data", first.span)
                return None, None
            length = self._dim(first, src, ctx)
            if length is None:
                return None, None
            if length.length > m.MAX_PAYLOAD:
                self._too_big(f"char[{length.length}]", length.length, start(first))
                return None, None
            vt = m.CharType(length.length)
        elif name == "bytes":
            if not dims:
                self.r.error("BAD_TYPE", "bytes needs a length: bytes[N], bytes[count] or bytes[..]",
                             t.name.span)
                return None, None
            vt = m.BytesType()
            shape = self._dim(dims.pop(0), src, ctx)
            if shape is None:
                return None, None
            if dims:
                self.r.error("BAD_TYPE", "bytes[...] takes one dimension", t.span)
                return None, None
        else:
            decl = self._lookup_decl(t.name, src, "type")
            if decl is None:
                return None, None
            if decl.kind == "enum":
                e = self.enums.get(name)
                if e is None:
                    return None, None
                vt = m.EnumType(e)
            elif decl.kind == "struct":
                st = self._struct(name, t.name.span)
                if st is None:
                    return None, None
                vt = m.StructType(st)
            elif decl.kind == "state":
                vt = ("state", name)  # resolved once every state exists
            else:
                self.r.error("WRONG_KIND", f"'{name}' is {_article(decl.kind)}, not a type", t.name.span)
                return None, None
        if dims:
            if len(dims) > 1:
                self.r.error("BAD_TYPE", "arrays have one dimension", t.span)
                return None, None
            shape = self._dim(dims[0], src, ctx)
            if shape is None:
                return None, None
        return vt, shape

    # --- members (shared by structs and states) -------------------------------

    def _members(self, nodes: list, src: SourceFile, owner: str, owner_kind: str) -> list:
        ctx = _Members(owner, owner_kind)
        for node in nodes:
            if isinstance(node, s.BitsDecl):
                ctx.all_names.update(b.name.text for b in node.members)
            else:
                ctx.all_names.add(node.name.text)
        out: list = []
        for node in nodes:
            if isinstance(node, s.BitsDecl):
                group = self._bits(node, src, ctx)
                if group is not None:
                    out.append(group)
                continue
            f = self._field(node, src, ctx)
            if f is not None:
                out.append(f)
        return out

    def _new_member_name(self, name: s.Name, ctx: "_Members", what: str) -> bool:
        self._check_identifier(name, what)
        if name.text in ctx.names:
            self.r.error("DUPLICATE_MEMBER", f"{ctx.owner} already has a member named '{name.text}'",
                         name.span, f"first at {ctx.names[name.text]}")
            return False
        ctx.names[name.text] = name.span
        return True

    def _bits(self, node: s.BitsDecl, src: SourceFile, ctx: "_Members") -> m.BitsGroup | None:
        base = self._int_type(node.type, "a bits group's type")
        fields = []
        offset = 0
        ok = base is not None
        for b in node.members:
            if not self._new_member_name(b.name, ctx, "bits member"):
                ok = False
                continue
            width = self.eval(b.width, src)
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

    def _field(self, node: s.FieldDecl, src: SourceFile, ctx: "_Members") -> m.Field | None:
        if not self._new_member_name(node.name, ctx, "field"):
            return None
        vt, shape = self._value_type(node.type, src, ctx)
        anns = self._annotations(node.annotations, src, ctx.owner_kind)
        if vt is None:
            return None
        f = m.Field(node.name.text, vt, node.name.span, pointer=node.type.pointer, shape=shape,
                    doc=node.doc, c_name=node.name.text)
        ok = True
        if isinstance(shape, m.Fixed):
            elem = m.ENTRY_HEADER_SIZE if isinstance(vt, tuple) or vt.size is None else vt.size
            if shape.length * elem > m.MAX_PAYLOAD:
                self._too_big(f"'{f.name}'", shape.length * elem, start(node.type.dims[-1]))
                ok = False
        if ctx.owner_kind == "struct":
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
            value = self.eval(node.fixed, src)
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
            if not self._apply(f, key, args, span, ctx, src):
                ok = False
        return f if ok else None

    # --- annotations ------------------------------------------------------------

    _ANNOTATIONS = {"since", "removed", "discard", "max", "range", "custom", "c"}
    _STATE_ONLY = {"since", "removed", "discard", "max"}

    def _annotations(self, anns: list[s.Annotation], src: SourceFile, owner_kind: str):
        out: dict[str, tuple[list, Span]] = {}
        ok = True
        for a in anns:
            key = a.name.text
            if key not in self._ANNOTATIONS:
                self.r.error("BAD_ANNOTATION", f"unknown annotation @{key}; known: "
                             + ", ".join("@" + k for k in sorted(self._ANNOTATIONS)), a.name.span,
                             help=(f"did you mean '@{near}'?" if (near := nearest(key, sorted(self._ANNOTATIONS)))
                                   else None))
                ok = False
                continue
            if key in out:
                self.r.error("BAD_ANNOTATION", f"@{key} given twice", a.name.span)
                ok = False
                continue
            if owner_kind == "struct" and key in self._STATE_ONLY:
                what = {"since": "versioned members", "removed": "versioned members",
                        "discard": "versioned members", "max": "counts"}[key]
                self.r.error("STRUCT_MEMBER", f"a plain struct has no {what}: @{key} is not allowed here",
                             a.name.span)
                ok = False
                continue
            out[key] = (a.args, a.name.span)
        return out if ok else None

    def _int_args(self, key, args, span, src, count: int) -> list[int] | None:
        if len(args) != count or any(isinstance(a, (s.StringLit, s.KeywordArg)) for a in args):
            shape = {"since": "@since(N)", "max": "@max(N)", "range": "@range(LO, HI)"}[key]
            self.r.error("BAD_ANNOTATION", f"@{key} takes integer arguments: {shape}", span)
            return None
        values = [self.eval(a, src) for a in args]
        return None if any(v is None for v in values) else values

    def _apply(self, f: m.Field, key: str, args: list, span: Span, ctx: "_Members",
               src: SourceFile) -> bool:
        if key == "since":
            v = self._int_args(key, args, span, src, 1)
            if v is None:
                return False
            f.since, f.since_span = v[0], span
        elif key == "removed":
            if len(args) != 2 or isinstance(args[0], (s.StringLit, s.KeywordArg)) \
                    or not isinstance(args[1], s.StringLit):
                self.r.error("BAD_ANNOTATION", '@removed takes a version and a reason: '
                             '@removed(N, "why")', span)
                return False
            v = self.eval(args[0], src)
            if v is None:
                return False
            if not args[1].value.strip():
                self.r.error("BAD_ANNOTATION", "@removed needs a reason that says why", args[1].span)
                return False
            f.removed, f.removed_span, f.reason = v, span, args[1].value
        elif key == "discard":
            if args:
                self.r.error("BAD_ANNOTATION", "@discard takes no arguments", span)
                return False
            f.discard = True
        elif key == "max":
            v = self._int_args(key, args, span, src, 1)
            if v is None:
                return False
            if v[0] < 0:
                self.r.error("BAD_ANNOTATION", f"@max must not be negative ({v[0]})", span)
                return False
            if v[0] > m.MAX_PAYLOAD:
                self.r.error("BAD_ANNOTATION", f"@max({v[0]}) is more elements than an entry can hold: "
                             f"its payload is at most {m.MAX_PAYLOAD} bytes (the header's size is an i32)",
                             start(args[0]), help=f"use @max({m.MAX_PAYLOAD}) or less")
                return False
            f.max = v[0]
            ctx.max_spans[f.name] = span
        elif key == "range":
            v = self._int_args(key, args, span, src, 2)
            if v is None:
                return False
            lo, hi = v
            base = f.type
            if not isinstance(base, m.IntType) or f.shape or f.pointer:
                self.r.error("BAD_ANNOTATION", f"@range applies to integer fields; '{f.name}' is "
                             f"{f.describe_type()}", span)
                return False
            if lo > hi:
                self.r.error("BAD_ANNOTATION", f"@range({lo}, {hi}): the low bound is above the high one",
                             span)
                return False
            if not (base.fits(lo) and base.fits(hi)):
                self.r.error("BAD_ANNOTATION", f"@range({lo}, {hi}) does not fit {base.name} "
                             f"({base.min} .. {base.max})", span)
                return False
            f.range = (lo, hi)
        elif key == "custom":
            names = {}
            for a in args:
                if not isinstance(a, s.KeywordArg) or a.key.text not in ("save", "restore") \
                        or not isinstance(a.value, s.NameRef) or a.key.text in names:
                    self.r.error("BAD_ANNOTATION", "@custom takes C function names: "
                                 "@custom(save = NAME, restore = NAME)", span)
                    return False
                names[a.key.text] = a.value.name
            if set(names) != {"save", "restore"}:
                self.r.error("BAD_ANNOTATION", "@custom needs both save = NAME and restore = NAME", span)
                return False
            for n in names.values():
                why = macro_reserved(n)
                if why:
                    self.r.error("RESERVED_NAME", f"C function name '{n}' is {why}", span,
                                 help=f"name the function differently, e.g. {f.name}_{n}")
                    return False
            f.custom = (names["save"], names["restore"])
        elif key == "c":
            if len(args) != 1 or not isinstance(args[0], s.NameRef):
                self.r.error("BAD_ANNOTATION", "@c takes one C identifier: @c(NAME)", span)
                return False
            name = args[0].name
            why = name_reserved(name)
            if why:
                self.r.error("RESERVED_NAME", f"C name '{name}' is {why}", args[0].span,
                             help=f"@c({name}_)")
                return False
            f.c_name = name
        return True

    # --- pass 4: structs ------------------------------------------------------

    def _struct(self, name: str, used_at: Span) -> m.Struct | None:
        if name in self.structs:
            return self.structs[name]
        decl = self.decls[name]
        if name in self.struct_stack:
            cycle = self.struct_stack[self.struct_stack.index(name):] + [name]
            self.r.error("RECURSIVE_TYPE", "a struct contains itself: " + " -> ".join(cycle), used_at)
            return None
        self.struct_stack.append(name)
        node: s.StructDecl = decl.node
        members = self._members(node.members, decl.src, f"struct '{name}'", "struct")
        self.struct_stack.pop()
        if name in self.structs:  # recursion already reported through this struct
            return self.structs[name]
        ok = len(members) == sum(1 for _ in node.members)
        if not node.members:
            self.r.error("EMPTY", f"struct '{name}' has no members", decl.span)
            ok = False
        st = None
        if ok:
            size = sum(mb.size for mb in members)
            if size > m.MAX_PAYLOAD:
                self._too_big(f"struct '{name}'", size, decl.span)
                ok = False
        if ok:
            st = m.Struct(name, tuple(members), decl.span, self.files[decl.src.real], size, node.doc, name)
        self.structs[name] = st
        return st

    def _nesting(self) -> None:
        """Refuse chains of structs and nested states deeper than MAX_TYPE_NESTING
        before any pass recurses along them (an iterative walk of the syntax)."""
        kids: dict[str, list[tuple[str, Span]]] = {}
        for name, decl in self.decls.items():
            if decl.kind in ("struct", "state"):
                kids[name] = [(mb.type.name.text, mb.type.name.span) for mb in decl.node.members
                              if isinstance(mb, s.FieldDecl) and mb.type.name.text in self.decls
                              and self.decls[mb.type.name.text].kind in ("struct", "state")]
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
            decl = self.decls[name]
            if h == MAX_TYPE_NESTING + 1:
                self.r.error("LIMIT_EXCEEDED", f"{decl.kind} '{name}' holds types nested {h} levels deep "
                             f"(structs and nested states inside each other); at most {MAX_TYPE_NESTING}",
                             decl.span)
            if decl.kind == "struct":
                self.structs[name] = None
            else:
                self.too_deep.add(name)

    def _structs(self) -> None:
        for name, decl in self.decls.items():
            if decl.kind == "struct":
                self._struct(name, decl.span)

    # --- pass 5: states -------------------------------------------------------

    def _properties(self, node: s.StateDecl, src: SourceFile) -> dict | None:
        props: dict[str, tuple[int | None, Span]] = {}
        for p in node.properties:
            if p.key in props:
                self.r.error("DUPLICATE_PROPERTY", f"state '{node.name.text}' sets '{p.key}' twice",
                             p.span, f"first at {props[p.key][1]}")
                continue
            props[p.key] = (self.eval(p.value, src), p.span)
        ok = True
        for key in ("id", "version"):
            if key not in props:
                self.r.error("MISSING_PROPERTY", f"state '{node.name.text}' needs '{key} = ...;'",
                             node.name.span)
                ok = False
            elif props[key][0] is None:
                ok = False
        if not ok:
            return None
        sid, id_span = props["id"]
        version, v_span = props["version"]
        if not 1 <= sid <= MAX_ID:
            self.r.error("BAD_ID", f"state id must be in 1 .. {MAX_ID}, not {sid}", id_span)
            ok = False
        if not 1 <= version <= MAX_VERSION:
            self.r.error("BAD_VERSION", f"version must be in 1 .. {MAX_VERSION}, not {version}", v_span)
            ok = False
        min_version, mv_span = props.get("min_version", (version, None))
        if min_version is None:
            return None
        if ok and not 1 <= min_version <= version:
            self.r.error("BAD_VERSION", f"min_version must be in 1 .. version ({version}), "
                         f"not {min_version}", mv_span)
            ok = False
        if ok and version - min_version + 1 > MAX_VERSION_SPAN:
            self.r.error("BAD_VERSION", f"state '{node.name.text}' spans {version - min_version + 1} "
                         f"versions ({min_version} .. {version}); a state supports at most "
                         f"{MAX_VERSION_SPAN}", mv_span or v_span,
                         help=f"set min_version = {version - MAX_VERSION_SPAN + 1} (or higher): readers "
                         "drop the oldest versions")
            ok = False
        if not ok:
            return None
        return {"id": sid, "version": version, "min_version": min_version,
                "id_span": id_span, "version_span": v_span, "min_version_span": mv_span}

    def _state(self, name: str, decl: _Decl) -> None:
        node: s.StateDecl = decl.node
        for sp in node.misplaced:
            self.r.error("MISPLACED_MEMBER", "fields come before the subsection lines", sp)
        props = self._properties(node, decl.src)
        ctx_name = f"state '{name}'"
        members = self._members(node.members, decl.src, ctx_name, "state")
        if props is None or len(members) != len(node.members):
            # report what can be checked, then give up on this state
            return
        subs = []
        for sub in node.subsections:
            anns = {a.name.text: a for a in sub.annotations}
            since = None
            for a in sub.annotations:
                if a.name.text != "since":
                    self.r.error("BAD_ANNOTATION", f"a subsection line takes only @since, not @{a.name.text}",
                                 a.name.span)
            if "since" in anns:
                v = self._int_args("since", anns["since"].args, anns["since"].name.span, decl.src, 1)
                since = v[0] if v else None
                if since is not None and not 1 <= since <= props["version"]:
                    self.r.error("BAD_SINCE", f"subsection @since({since}) must be in 1 .. version "
                                 f"({props['version']})", anns["since"].name.span)
            subs.append(m.Subsection(sub.name.text, sub.name.span, since, sub.doc))
        st = m.State(name, props["id"], props["version"], props["min_version"], tuple(members),
                     tuple(subs), decl.span, self.files[decl.src.real], props["id_span"],
                     props["version_span"], props["min_version_span"], node.doc, name)
        cells = sum(max(0, min(mb.removed if mb.removed is not None else st.version + 1, st.version + 1)
                           - max(mb.since or 0, st.min_version)) for mb in st.members)
        self.layout_members += cells
        if self.layout_members > MAX_LAYOUT_MEMBERS:
            self.r.error("LIMIT_EXCEEDED", f"state '{name}' has {cells} members on the wire summed over "
                         f"its {st.version - st.min_version + 1} versions, which takes the schema set past "
                         f"{MAX_LAYOUT_MEMBERS} (every version's layout is generated)",
                         st.min_version_span or st.version_span,
                         help="raise min_version (fewer versions), or split the state")
            return
        self._versions(st)
        self._counts(st, decl)
        self.states[name] = st

    def _versions(self, st: m.State) -> None:
        for f in st.members:
            if f.is_bits:
                continue
            if f.since is not None and not 1 <= f.since <= st.version:
                self.r.error("BAD_SINCE", f"'{f.name}' @since({f.since}) must be in 1 .. version "
                             f"({st.version}) of state '{st.name}'", f.since_span,
                             "bump the state's version when you add a field")
            if f.removed is not None:
                if not 1 <= f.removed <= st.version:
                    self.r.error("BAD_REMOVED", f"'{f.name}' @removed({f.removed}) must be in 1 .. "
                                 f"version ({st.version}) of state '{st.name}'", f.removed_span,
                                 f"to stop writing '{f.name}', set version = {max(f.removed, st.version + 1)}")
                elif f.since is not None and f.since >= f.removed:
                    self.r.error("BAD_REMOVED", f"'{f.name}' is removed (version {f.removed}) no later "
                                 f"than it appears (version {f.since})", f.removed_span)
                elif f.removed <= st.min_version:
                    self.r.warning("REMOVED_FIELD_UNUSED",
                                   f"'{f.name}' is removed at version {f.removed} <= min_version "
                                   f"{st.min_version}: it is on the wire in no supported version",
                                   f.span, "the line may now be deleted")
            if f.discard and f.removed is None:
                self.r.error("BAD_ANNOTATION", f"@discard on '{f.name}' needs @removed(N, \"why\")", f.span)
        for v in st.versions:
            st.layouts[v] = tuple(mb for mb in st.members if mb.present_in(v))

    def _counts(self, st: m.State, decl: _Decl) -> None:
        fields = {n: f for n, f in m.member_names(st.members)}
        users: dict[str, list[str]] = {}
        for f in st.members:
            if f.is_bits or not isinstance(f.shape, m.Counted):
                continue
            count = fields.get(f.shape.count)
            if count is None:
                continue
            users.setdefault(count.name, []).append(f.name)
            if isinstance(count, m.BitsField):
                pass  # bit-fields are unsigned
            elif not isinstance(count.type, m.IntType) or count.shape or count.pointer:
                self.r.error("BAD_COUNT", f"count of '{f.name}' must be an integer field; "
                             f"'{count.name}' is {count.describe_type()}", f.span)
                continue
            elif count.type.signed and not (count.range and count.range[0] >= 0):
                self.r.error("BAD_COUNT", f"count of '{f.name}' must be unsigned or have "
                             f"@range(0, ...); '{count.name}' is {count.type.name}", f.span)
                continue
            missing = [v for v in st.versions if f.present_in(v) and not
                       (count.present_in(v) if isinstance(count, m.Field) else True)]
            if missing:
                self.r.error("BAD_COUNT", f"'{f.name}' is on the wire in version {missing[0]} but its "
                             f"count '{count.name}' is not", f.span)
        for n, f in fields.items():
            if isinstance(f, m.Field):
                f.counts = tuple(users.get(n, ()))
                if f.max is not None and not f.counts and not isinstance(f.shape, (m.Counted, m.Rest)):
                    self.r.error("BAD_ANNOTATION", f"@max applies to count fields and to [count] or [..] "
                                 f"arrays; '{n}' is neither", f.span)
        for v, layout in st.layouts.items():
            for i, f in enumerate(layout):
                if isinstance(f.shape, m.Rest) and i != len(layout) - 1:
                    self.r.error("BAD_REST", f"'{f.name}' is a [..] array but is not the last field on "
                                 f"the wire in version {v} of '{st.name}' (next: "
                                 f"'{layout[i + 1].name}')", f.span)
                    break

    def _states(self) -> None:
        for name, decl in self.decls.items():
            if decl.kind == "state" and name not in self.too_deep:
                self._state(name, decl)
        # nested state references become StateType now that every state exists
        for st in self.states.values():
            for f in st.members:
                if not f.is_bits and isinstance(f.type, tuple):
                    target = self.states.get(f.type[1])
                    f.type = m.StateType(target) if target else None
        for name in list(self.states):
            st = self.states[name]
            if any(not f.is_bits and f.type is None for f in st.members):
                del self.states[name]

    def _retired(self) -> None:
        for name, decl in self.decls.items():
            if decl.kind != "retired":
                continue
            node: s.RetiredDecl = decl.node
            for sp in node.duplicates:
                self.r.error("DUPLICATE_PROPERTY", f"retired state '{name}' sets a property twice", sp)
            if node.id is None or node.reason is None:
                self.r.error("MISSING_PROPERTY", f"retired state '{name}' needs both 'id = ...;' and "
                             "'reason = \"...\";'", node.name.span)
                continue
            if not node.reason.value.strip():
                self.r.error("MISSING_PROPERTY", f"retired state '{name}' needs a reason that says why",
                             node.reason.span)
                continue
            sid = self.eval(node.id, decl.src)
            if sid is None:
                continue
            if not 1 <= sid <= MAX_ID:
                self.r.error("BAD_ID", f"state id must be in 1 .. {MAX_ID}, not {sid}", node.id.span
                             if hasattr(node.id, "span") else node.name.span)
                continue
            self.retired[name] = m.RetiredState(name, sid, node.reason.value, decl.span,
                                                self.files[decl.src.real], None, node.doc)

    # --- pass 6: rules over the whole set ---------------------------------------

    def _set_rules(self) -> None:
        by_id: dict[int, object] = {}
        for item in sorted(list(self.states.values()) + list(self.retired.values()),
                           key=lambda i: (i.span.file, i.span.line, i.span.column)):
            prev = by_id.get(item.id)
            if prev is not None:
                self.r.error("DUPLICATE_ID", f"id {item.id} of '{item.name}' is already used by "
                             f"'{prev.name}'", item.id_span or item.span, f"'{prev.name}' is at {prev.span}")
            else:
                by_id[item.id] = item
        nested: dict[str, Span] = {}
        for st in self.states.values():
            for f in st.members:
                if not f.is_bits and isinstance(f.type, m.StateType):
                    nested.setdefault(f.type.decl.name, f.span)
        for st in self.states.values():
            seen = set()
            for sub in st.subsections:
                decl = self.decls.get(sub.name)
                if decl is None or decl.kind != "state":
                    if decl is None:
                        self.r.error("UNKNOWN_NAME", f"unknown state '{sub.name}'", sub.span)
                    else:
                        self.r.error("BAD_SUBSECTION", f"'{sub.name}' is {_article(decl.kind)}, not a state",
                                     sub.span)
                    continue
                src = next(s_ for s_ in self.sources if self.files[s_.real] is st.file)
                if not self._visible(src, decl):
                    self._lookup_decl(s.Name(sub.name, sub.span), src, "state")
                    continue
                target = self.states.get(sub.name)
                if target is None:
                    continue
                if target is st:
                    self.r.error("BAD_SUBSECTION", f"state '{st.name}' cannot be its own subsection", sub.span)
                    continue
                if sub.name in seen:
                    self.r.error("BAD_SUBSECTION", f"'{sub.name}' is listed twice", sub.span)
                    continue
                seen.add(sub.name)
                if target.parent is not None:
                    self.r.error("BAD_SUBSECTION", f"'{sub.name}' is already a subsection of "
                                 f"'{target.parent.name}'; a state belongs to one parent", sub.span)
                    continue
                if sub.name in nested:
                    self.r.error("BAD_SUBSECTION", f"'{sub.name}' is used as a nested field type at "
                                 f"{nested[sub.name]}; a subsection's fields live in its parent",
                                 sub.span)
                    continue
                if target.subsections:
                    self.r.error("BAD_SUBSECTION", f"'{sub.name}' has subsections of its own; "
                                 "subsections do not nest", sub.span)
                    continue
                target.parent = st
                sub.state = target
        self._state_recursion()
        self._c_names()

    def _state_recursion(self) -> None:
        graph = {name: [(f.type.decl.name, f.span) for f in st.members
                        if not f.is_bits and isinstance(f.type, m.StateType)]
                 for name, st in self.states.items()}
        color: dict[str, int] = {}

        def visit(n: str, stack: list[str]) -> None:
            color[n] = 1
            stack.append(n)
            for target, span in graph.get(n, ()):
                if color.get(target) == 1:
                    cycle = stack[stack.index(target):] + [target]
                    self.r.error("RECURSIVE_TYPE", "a state contains itself: " + " -> ".join(cycle), span)
                elif target not in color:
                    visit(target, stack)
            stack.pop()
            color[n] = 2

        for n in sorted(graph):
            if n not in color:
                visit(n, [])

    def _c_names(self) -> None:
        """Every C identifier the headers make of a schema name is checked where
        C uses it (names.py says which words each kind must avoid): tags and
        members against keywords and the headers' macros, macros against every
        word the generated C and its headers use, file-scope functions against
        each other and the runtime; and no two items share a C name."""
        reported: set[int] = set()

        def reserved(why: str | None, what: str, c_name: str, span: Span, fix: str) -> bool:
            if why is None:
                return False
            if id(span) not in reported:
                reported.add(id(span))
                self.r.error("RESERVED_NAME", f"{what} is the C name '{c_name}', which is {why}; the "
                             "generated C would not compile", span, help=fix)
            return True

        # struct tags and members: their own namespaces
        used: dict[str, str] = {}  # C words of the set that are not macros -> who uses them
        for item in [*self.states.values(), *(st for st in self.structs.values() if st)]:
            kind = "state" if isinstance(item, m.State) else "struct"
            reserved(tag_reserved(item.c_name), f"{kind} '{item.name}'", item.c_name, item.span,
                     f"rename the {kind} (e.g. {item.name}_ser)")
            used.setdefault(item.c_name, f"{kind} '{item.name}'")
            for n, f in m.member_names(item.members):
                if isinstance(f, m.Field):
                    fix = f"keep the name and set its C name: {n}: ... @c({f.c_name}_);"
                else:
                    fix = f"rename the bits member (e.g. {n}_)"
                reserved(name_reserved(f.c_name), f"'{n}' of {kind} '{item.name}'", f.c_name, f.span, fix)
                used.setdefault(f.c_name, f"'{n}' of {kind} '{item.name}'")
                if isinstance(f, m.Field) and f.custom:
                    for fn in f.custom:
                        used.setdefault(fn, f"a @custom function of '{n}'")

        for st in self.states.values():
            used.setdefault(f"ks_{st.name}_ctx", f"the kernel context member of state '{st.name}'")

        # file-scope functions and tables, named after their state or struct
        functions: dict[str, tuple[str, Span]] = {}

        def function(c_name: str, what: str, span: Span) -> None:
            why = None
            if c_name in self_words:
                why = "a name of the runtime (kstate_rt.h) or the kernel API"
            if reserved(why, what, c_name, span, "rename it"):
                return
            prev = functions.get(c_name)
            if prev is not None and prev[0] != what and id(span) not in reported:
                reported.add(id(span))
                self.r.error("C_NAME_CLASH", f"{what} and {prev[0]} both define the C function '{c_name}'",
                             span, f"the other is at {prev[1]}", help="rename one of them")
            else:
                functions[c_name] = (what, span)
            used.setdefault(c_name, what)

        self_words = runtime_words() | GENERATED_WORDS | SYSTEM_MACROS
        for st in self.structs.values():
            if st is not None:
                for suffix in ("ks_get", "ks_put"):
                    function(f"{st.c_name}_{suffix}", f"struct '{st.name}'", st.span)
        for st in self.states.values():
            what = f"state '{st.name}'"
            for suffix in ("ks_get_payload", "ks_put_payload", "ks_get_nested", "ks_put_nested", "ks_read",
                           "ks_write_entry", "ks_write", "kstate", "ks_ctx", "ks_entry_probe",
                           "ks_entry_save_probe"):
                function(f"{st.name}_{suffix}", what, st.span)
            for mb in st.members:
                if mb.is_bits:
                    continue
                for kind in ("save", "restore", "count"):
                    function(f"{st.name}_ks_{mb.c_name}_{kind}", what, mb.span)
                if mb.removed is not None and not mb.discard:
                    function(f"{st.name}_restore_{mb.name}", what, mb.span)

        # macros: every later use of the word is replaced
        macros: dict[str, tuple[str, Span]] = {}

        def claim(c_name: str, what: str, span: Span, fix: str) -> None:
            if reserved(macro_reserved(c_name), what, c_name, span, fix):
                return
            prev = macros.get(c_name)
            if prev is not None:
                self.r.error("C_NAME_CLASH", f"{what} and {prev[0]} both become the C name {c_name}",
                             span, f"the other is at {prev[1]}")
            elif c_name in used:
                self.r.error("C_NAME_CLASH", f"{what} becomes the C macro {c_name}, which would replace "
                             f"the C name of {used[c_name]}", span, help=fix)
            else:
                macros[c_name] = (what, span)

        items = sorted([*self.states.values(), *(c for c in self.consts.values() if c),
                        *self.enums.values()], key=lambda i: (i.span.file, i.span.line, i.span.column))
        for item in items:
            if isinstance(item, m.State):
                for c_name in (item.c_id, item.c_version, item.c_min_version):
                    claim(c_name, f"state '{item.name}'", item.span, f"rename the state (e.g. {item.name}_ser)")
            elif isinstance(item, m.Const):
                claim(item.name, f"constant '{item.name}'", item.span,
                      f"rename the constant (e.g. {item.name.upper()}_VALUE)")
            else:
                for v in item.values:
                    claim(v.c_name, f"{item.kind} value {item.name}.{v.name}", v.span,
                          f"rename the {item.kind} value or the {item.kind}")
        for st in self.states.values():
            if st.parent is not None:
                continue
            members: dict[str, tuple[str, Span]] = {}
            group = (st, *[sub.state for sub in st.subsections if sub.state])
            for owner in group:  # the kernel's per-object context member of each state of the struct
                members[f"ks_{owner.name}_ctx"] = (f"the kernel context member of state '{owner.name}'", owner.span)
            for owner in group:
                for n, f in m.member_names(owner.members):
                    prev = members.get(f.c_name)
                    where = f"'{n}'" + ("" if owner is st else f" (of subsection '{owner.name}')")
                    if prev is not None:
                        self.r.error("C_NAME_CLASH", f"{where} and {prev[0]} are both the C member "
                                     f"'{f.c_name}' of struct {st.name}", f.span,
                                     f"the other is at {prev[1]}; rename one in C with @c(NAME)")
                    else:
                        members[f.c_name] = (where, f.span)
        for st in self.structs.values():
            if st is None:
                continue
            members = {}
            for n, f in m.member_names(st.members):
                if f.c_name in members:
                    self.r.error("C_NAME_CLASH", f"'{n}' and {members[f.c_name]} are both the C member "
                                 f"'{f.c_name}' of struct {st.name}", f.span)
                else:
                    members[f.c_name] = f"'{n}'"

    # --- driver ---------------------------------------------------------------

    def run(self) -> m.SchemaSet:
        self._declare()
        self._constants()
        self._enums()
        self._nesting()
        self._structs()
        self._states()
        self._retired()
        self._set_rules()
        for src in self.sources:
            sf = self.files[src.real]
            if src.tree is None:
                continue
            for item in src.tree.items:
                if isinstance(item, s.ImportDecl):
                    continue
                decl = self.decls.get(item.name.text)
                if decl is None or decl.node is not item:
                    continue
                built = {"const": self.consts, "enum": self.enums, "struct": self.structs,
                         "state": self.states, "retired": self.retired}[decl.kind].get(item.name.text)
                if built is not None:
                    sf.items.append(built)
        files = sorted(self.files.values(), key=lambda f: f.path)
        return m.SchemaSet(files, {k: v for k, v in self.consts.items() if v},
                           dict(self.enums), {k: v for k, v in self.structs.items() if v},
                           dict(self.states), dict(self.retired),
                           [d for d in self.r.diagnostics if d.severity != "error"])


class _Reported(Exception):
    """An error already reported; unwinds one expression."""


@dataclass
class _Members:
    owner: str
    owner_kind: str  # "state" | "struct"

    def __post_init__(self):
        self.names: dict[str, Span] = {}  # members declared so far
        self.all_names: set[str] = set()  # every member of the owner
        self.max_spans: dict[str, Span] = {}


def _article(kind: str) -> str:
    return {"const": "a constant", "enum": "an enum", "struct": "a struct", "state": "a state",
            "retired": "a retired state"}.get(kind, kind)


def _relative_import(src: SourceFile, target: SourceFile) -> str:
    import os
    return Path(os.path.relpath(target.real, src.real.parent)).as_posix()


def build(sources: list[SourceFile], source_map: SourceMap) -> m.SchemaSet:
    b = _Builder(sources)
    result = b.run()
    if b.r.has_errors:
        raise SchemaError(sorted(b.r.diagnostics, key=_diag_key), source_map)
    result.warnings.sort(key=_diag_key)
    return result


def _diag_key(d):
    sp = d.span
    return (sp.file, sp.line, sp.column) if sp else ("", 0, 0)
