"""Compile one state version's layout (from the codec description) into a
fast payload decoder.

For each (state, version, byte order) this writes the source of one Python
function, ``decode(buf, off, end, path, ctx) -> (fields, off)``, and
compiles it once.  Consecutive fixed-size fields are read with a single
precompiled ``struct.Struct.unpack_from``; arrays of fixed-size elements are
read with ``iter_unpack`` over a zero-copy ``memoryview`` slice.  The struct
format strings come from the construct record definitions in
``records.py`` (the same ones the encoder builds with), so both directions
agree by construction.

Every check the wire format asks for is in the generated code: bounds before
every read, counts against ``@max`` and against the bytes left *before* the
list is built, ``bool`` bytes, fixed values, ``@range``, unused ``bits``,
unknown enum values and flags (warnings).  A failed check raises ``Fail``
with the diagnostic; warnings go to ``ctx.warn``.  Paths in diagnostics are
built only when something is wrong, so the hot path pays nothing for them.

The stream loop's fast path uses a second variant of the same code
(``Compiler(..., fast=True)``): ``decode(buf, off, end, ctx) -> fields``,
with the same checks but no path argument, and every failed check and every
warning raising ``Slow``; the entry must also end exactly where its layout
does.  The stream decoder then decodes that entry again with the full
variant, which reports it; so both variants' diagnostics are the full one's.

The description may come from a snapshot JSON, so no text of it ever becomes
source: the generated code holds only names this compiler made itself
(``_K3``, ``a0_1``, ``cnt2``, ``_decode5``) and integer literals it formatted
with ``repr(int)`` (``_lit``, which refuses anything but an ``int``).  Field
names, state names, paths and messages naming them are constants in the
namespace the code runs in (``_text``), looked up by a made-up name.
"""

from __future__ import annotations

import re
import struct

from . import limits as _limits
from .records import INT_CODES
from .values import Fail, Slow, char_value, flags_value
from .views import ArrayView, Element

HEADER_SIZE = 20
INLINE_ARRAY_MAX = 16  # fixed arrays up to this length are unpacked inline


def _lit(value) -> str:
    """An integer of the description as source text: the only way a number reaches code."""
    if type(value) is not int:
        raise TypeError(f"expected an int in the codec description, found {type(value).__name__}")
    return repr(value)


def _pct(text: str) -> str:
    """Text inside a ``%`` message template."""
    return text.replace("%", "%%")


def _unsigned(mb: dict) -> bool:
    """A count field that cannot be negative (an unsigned integer or a bits field)."""
    return "bits" in mb or (mb["type"][0] == "int" and INT_CODES[mb["type"][1]][0].isupper())


class _Fixed:
    """The plan of a fixed-size value: struct codes, and how to build its value."""

    def __init__(self, codes: list[str], size: int, build, weight: int = 1):
        self.codes = codes  # one struct code per variable, without byte order
        self.size = size
        self.build = build  # (vars, off_expr, path_expr, checks: list[str]) -> expr
        self.weight = weight  # values (limits.MAX_VALUES) one decoded value holds

    @property
    def nvars(self) -> int:
        return len(self.codes)


class _Lazy:
    """A function made on its first call (the code of a rare path is not compiled up front)."""

    def __init__(self, make):
        self.make = make
        self.fn = None

    def __call__(self, *args):
        if self.fn is None:
            self.fn = self.make()
        return self.fn(*args)


class Compiler:
    """Turns description layouts into decoder functions, caching them."""

    def __init__(self, desc: dict, byteorder: str, views: bool = False, fast: bool = False):
        self.desc = desc
        self.byteorder = byteorder
        self.bo = "<" if byteorder == "little" else ">"
        self.views = views  # arrays="memoryview": long arrays of check-free elements as ArrayView
        # fast: the stream loop's variant, ``decode(buf, off, end, ctx) -> fields``: no path,
        # and every error or warning raises ``Slow`` (the full decoder then reports it)
        self.fast = fast
        self.ns: dict = {"Fail": Fail, "_Slow": Slow, "_char": char_value, "_flags": flags_value,
                         "_view": ArrayView}
        self._elements: dict = {}
        self._names = 0
        self._texts: dict[str, str] = {}
        self.cache: dict = {}
        self.sources: dict = {}
        self._depths: dict | None = None
        self._plans: dict = {}
        self._costs: dict = {}

    # --- helpers ---------------------------------------------------------------

    def _const(self, prefix: str, value) -> str:
        self._names += 1
        name = f"_{prefix}{self._names}"
        self.ns[name] = value
        return name

    def _text(self, text: str) -> str:
        """The made-up name of a string constant (a key, a path suffix, a message)."""
        if type(text) is not str:
            raise TypeError(f"expected a str in the codec description, found {type(text).__name__}")
        name = self._texts.get(text)
        if name is None:
            name = self._texts[text] = self._const("K", text)
        return name

    def _padd(self, path: str, suffix: str) -> str:
        """Source of ``path + suffix`` (``path``: an expression made here)."""
        return self._path(f"({path} + {self._text(suffix)})")

    def _path(self, expr: str) -> str:
        """A path expression; the fast variant has no paths (``None``)."""
        return "None" if self.fast else expr

    def fail(self, code: str, args: str) -> str:
        """``raise Fail(code, args)`` (``args``: offset, path, message); the fast variant
        leaves the report to the full decoder."""
        return "raise _Slow" if self.fast else f"raise Fail({code!r}, {args})"

    def _raise_expr(self, expr: str) -> str:
        """``raise expr`` (an expression building a Fail); fast: ``raise _Slow``."""
        return "raise _Slow" if self.fast else f"raise {expr}"

    def warn(self, code: str, args: str) -> str:
        """``ctx.warn(code, args)``; the fast variant hands the entry to the full decoder."""
        return "raise _Slow" if self.fast else f"ctx.warn({code!r}, {args})"

    def _fn(self) -> str:
        self._names += 1
        return f"_decode{self._names}"

    def _unpacker(self, codes: list[str], iter_: bool = False) -> str:
        s = struct.Struct(self.bo + "".join(codes))
        return self._const("I" if iter_ else "S", s.iter_unpack if iter_ else s.unpack_from)

    def size_of(self, typ: tuple) -> int | None:
        kind = typ[0]
        if kind == "state":
            return None
        return self.fixed_plan(typ).size

    def member_size(self, mb: dict) -> int | None:
        if "bits" in mb:
            return INT_CODES[mb["bits"]][1]
        es = self.size_of(mb["type"])
        shape = mb.get("shape")
        if es is None:
            return None
        if shape is None:
            return es
        if shape[0] == "fixed":
            return es * shape[1]
        return None

    # --- fixed-size values -------------------------------------------------------

    def fixed_plan(self, typ: tuple) -> _Fixed:
        kind = typ[0]
        if kind in ("int", "addr", "folio"):
            code, size = INT_CODES[typ[1]] if kind == "int" else ("Q", 8)
            return _Fixed([code], size, lambda v, o, p, c: v[0])
        if kind == "bool":
            def build(v, o, p, c):
                c.append(f"if {v[0]} > 1: " + self.fail("BAD_VALUE", f"{o}, {p}, "
                                                         f"'expected a bool (0 or 1), found %d' % {v[0]}"))
                return f"({v[0]} == 1)"
            return _Fixed(["B"], 1, build)
        if kind == "char":
            n = int(_lit(typ[1]))
            return _Fixed([f"{n}s"], n, lambda v, o, p, c: f"_char({v[0]})")
        if kind == "bytes":
            return _Fixed(["1s"], 1, lambda v, o, p, c: f"{v[0]}.hex()")
        if kind == "enum":
            return self._enum_plan(typ[1])
        if kind == "struct":
            return self._struct_plan(typ[1])
        raise ValueError(f"not a fixed-size type: {typ!r}")

    def _enum_plan(self, name: str) -> _Fixed:
        e = self.desc["enums"][name]
        code, size = INT_CODES[e["base"]]
        if e["kind"] == "flags":
            known = 0
            for _, val in e["values"]:
                known |= val
            names = sorted(((val, n) for n, val in e["values"]), key=lambda x: x[0])
            table = self._const("F", tuple(names))
            combos = self._flag_combos(tuple(names))
            mask = self._const("M", known)
            msg = self._text(f"expected flags of {_pct(name)} "
                             f"({_pct(', '.join(n for n, _ in e['values']))}), found unnamed bits %#x")

            def build(v, o, p, c):
                c.append(f"if {v[0]} & ~{mask}: " + self.warn("UNKNOWN_FLAGS", f"{o}, {p}, "
                                                              f"{msg} % ({v[0]} & ~{mask})"))
                if combos is None:
                    return f"_flags({table}, {v[0]})"
                return f"([*{combos}[{v[0]}]] if {v[0]} in {combos} else _flags({table}, {v[0]}))"
            return _Fixed([code], size, build, 2 + len(e["values"]))
        table = self._const("E", {val: n for n, val in e["values"]})
        msg = self._text(f"expected a value of enum {_pct(name)}, found %d, which has no name")

        def build(v, o, p, c):
            c.append(f"if {v[0]} not in {table}: " + self.warn("UNKNOWN_ENUM", f"{o}, {p}, {msg} % {v[0]}"))
            return f"{table}.get({v[0]}, {v[0]})"
        return _Fixed([code], size, build)

    def _flag_combos(self, table: tuple) -> str | None:
        """The constant holding {value: names} for every OR of named flags (None past
        8 names): what ``flags_value`` returns, looked up instead of computed."""
        if len(table) > 8:
            return None
        words = {0}
        for bit, _ in table:
            words |= {w | bit for w in words}
        return self._const("C", {w: tuple(flags_value(table, w)) for w in words})

    def _bits_parts(self, mb: dict):
        """(code, size, [(name, shift, mask)], unused_mask) of a bits group."""
        code, size = INT_CODES[mb["bits"]]
        nbits = size * 8
        parts, used = [], 0
        for name, width, offset in mb["fields"]:
            shift = offset if self.byteorder == "little" else nbits - offset - width
            mask = (1 << width) - 1
            parts.append((name, shift, mask))
            used |= mask << shift
        return code, size, parts, ((1 << nbits) - 1) & ~used

    def _group_name(self, mb: dict) -> str:
        return "{" + ", ".join(f[0] for f in mb["fields"]) + "}"

    def _member_items(self, mb: dict, v: list[str], o: str, p: str, c: list[str]):
        """Dict items (key, expr) of one fixed-size member read into vars ``v``."""
        if "bits" in mb:
            code, size, parts, unused = self._bits_parts(mb)
            if unused:
                c.append(f"if {v[0]} & {_lit(unused)}: " + self.fail(
                    "BAD_VALUE", f"{o}, {self._padd(p, '.' + self._group_name(mb))}, 'expected the "
                    f"unused bits of the bits group to be zero, found %#x' % ({v[0]} & {_lit(unused)})"))
            items = []
            for name, shift, mask in parts:
                expr = f"({v[0]} >> {_lit(shift)} & {_lit(mask)})" if shift else f"({v[0]} & {_lit(mask)})"
                items.append((name, expr))
            return items
        fp = self.field_fixed_plan(mb)
        fpath = self._padd(p, "." + mb["name"])
        expr = fp.build(v, o, fpath, c)
        self._field_checks(mb, v, o, fpath, c)
        return [(mb["name"], expr)]

    def _field_checks(self, mb: dict, v: list[str], o: str, p: str, c: list[str]) -> None:
        if mb.get("shape") is not None:
            return
        if "fixed" in mb:
            fixed = _lit(mb["fixed"])
            msg = self._text(f"expected the fixed value {int(fixed):#x}, found %#x")
            c.append(f"if {v[0]} != {fixed}: " + self.fail("BAD_VALUE", f"{o}, {p}, {msg} % {v[0]}"))
        if "range" in mb:
            lo, hi = (_lit(b) for b in mb["range"])
            msg = self._text(f"expected a value in @range({lo}, {hi}), found %d")
            c.append(f"if not {lo} <= {v[0]} <= {hi}: " + self.fail("BAD_VALUE", f"{o}, {p}, {msg} % {v[0]}"))

    def member_vars(self, mb: dict) -> list[str]:
        if "bits" in mb:
            return [INT_CODES[mb["bits"]][0]]
        return self.field_fixed_plan(mb).codes

    def field_fixed_plan(self, mb: dict) -> _Fixed:
        """A field with no shape, or a short fixed array, or bytes[N], as one plan."""
        typ, shape = mb["type"], mb.get("shape")
        if shape is None:
            return self.fixed_plan(typ)
        n = int(_lit(shape[1]))
        if typ[0] == "bytes":
            return _Fixed([f"{n}s"], n, lambda v, o, p, c: f"{v[0]}.hex()")
        ep = self.fixed_plan(typ)
        if n > INLINE_ARRAY_MAX:  # a long array inside a struct: one helper function
            helper = self._array_helper(ep, n)
            return _Fixed([f"{n * ep.size}s"], n * ep.size,
                          lambda v, o, p, c: f"{helper}({v[0]}, {o}, {p}, ctx)", 1 + n * ep.weight)

        def build(v, o, p, c):
            parts = []
            k = ep.nvars
            for i in range(n):
                parts.append(ep.build(v[i * k:(i + 1) * k], f"({o} + {_lit(i * ep.size)})",
                                      self._padd(p, f"[{i}]"), c))
            return "[" + ", ".join(parts) + "]"
        return _Fixed(ep.codes * n, ep.size * n, build, 1 + n * ep.weight)

    def _array_helper(self, ep: _Fixed, n: int) -> str:
        """A compiled function decoding ``n`` elements of plan ``ep`` from raw bytes."""
        self._names += 1
        name = f"_array{self._names}"
        vs = [f"h_{j}" for j in range(ep.nvars)]
        checks: list[str] = []
        expr = ep.build(vs, f"(o + i * {_lit(ep.size)})", self._path("(p + '[' + str(i) + ']')"), checks)
        it = self._unpacker(ep.codes, iter_=True)
        L = [f"def {name}(raw, o, p, ctx):", "    lst = []",
             f"    for i, ({', '.join(vs)},) in enumerate({it}(raw)):"]
        L += ["        " + c for c in checks]
        L += [f"        lst.append({expr})", "    return lst"]
        src = "\n".join(L) + "\n"
        exec(compile(src, f"<kstate codec {name}>", "exec"), self.ns)  # noqa: S102 - text made here
        return name

    def _view_element(self, typ: tuple) -> str | None:
        """The constant holding the views.Element of ``typ``, or None when its values
        need a check (or the view would not be flat): those arrays stay lists."""
        key = typ
        if key not in self._elements:
            layout: list = []
            element = None
            if self._flat(typ, "", layout):
                ep = self.fixed_plan(typ)
                vs = [f"v{j}" for j in range(ep.nvars)]
                checks: list[str] = []
                expr = ep.build(vs, "0", "''", checks)
                if not checks and len(layout) == ep.nvars:
                    build = None
                    if not (len(vs) == 1 and expr == vs[0]):
                        fn = self._fn()
                        src = f"def {fn}({', '.join(vs)}):\n    return {expr}\n"
                        exec(compile(src, f"<kstate codec {fn}>", "exec"), self.ns)  # noqa: S102
                        build = self.ns[fn]
                    element = self._const("V", Element(struct.Struct(self.bo + "".join(ep.codes)), build, layout))
            self._elements[key] = element
        return self._elements[key]

    def element_key(self, typ: tuple):
        """The views.Element.key of ``typ`` (None: its arrays are never views)."""
        name = self._view_element(typ)
        return None if name is None else self.ns[name].key

    def _flat(self, typ: tuple, prefix: str, out: list, depth: int = 0) -> bool:
        """Append ``typ``'s (name, struct code, bits parts) to ``out``; False if a value of
        it needs a check (bool, enum, flags, unused bits, a fixed value, @range)."""
        kind = typ[0]
        if kind in ("int", "addr", "folio", "char", "bytes"):
            out.append((prefix, self.fixed_plan(typ).codes[0], None))
            return True
        if kind != "struct" or depth > 4:
            return False
        for mb in self.desc["structs"][typ[1]]:
            if "bits" in mb:
                code, _, parts, unused = self._bits_parts(mb)
                if unused:
                    return False
                out.append((prefix + self._group_name(mb), code, parts))
                continue
            shape = mb.get("shape")
            if "fixed" in mb or "range" in mb or (shape is not None and (
                    shape[0] != "fixed" or shape[1] > INLINE_ARRAY_MAX or mb["type"][0] == "bytes")):
                return False
            name = prefix + mb["name"]
            for sub in ([name] if shape is None else [f"{name}[{i}]" for i in range(shape[1])]):
                if not self._flat(mb["type"], sub if mb["type"][0] != "struct" else sub + ".", out, depth + 1):
                    return False
        return True

    def _struct_plan(self, name: str) -> _Fixed:
        plan = self._plans.get(name)  # memoized: a struct used n times is planned once
        if plan is None:
            plan = self._plans[name] = self._new_struct_plan(name)
        return plan

    def _new_struct_plan(self, name: str) -> _Fixed:
        members = self.desc["structs"][name]
        codes, spans, size = self._spans(members)
        weight = 1 + sum(self.member_weight(mb) for mb in members)

        def build(v, o, p, c):
            items = []
            for mb, start, count, rel in spans:
                items += self._member_items(mb, v[start:start + count], f"({o} + {_lit(rel)})", p, c)
            return "{" + ", ".join(f"{self._text(k)}: {e}" for k, e in items) + "}"
        return _Fixed(codes, size, build, weight)

    def member_weight(self, mb: dict) -> int:
        """Values (limits.MAX_VALUES) an inline member adds to its dict."""
        if "bits" in mb:
            return len(mb["fields"])
        return self.field_fixed_plan(mb).weight

    def is_inline(self, mb: dict) -> bool:
        if "bits" in mb:
            return True
        shape = mb.get("shape")
        if mb["type"][0] == "state":
            return False
        if shape is None:
            return True
        if shape[0] == "fixed":
            return mb["type"][0] == "bytes" or shape[1] <= INLINE_ARRAY_MAX
        return False

    # --- a whole layout ----------------------------------------------------------

    def payload_decoder(self, state: str, version: int):
        key = (state, version)
        fn = self.cache.get(key)
        if fn is None:
            if self._depths is None:
                self._depths = _limits.struct_depths(self.desc["structs"])
            depth = _limits.layout_depth(self.desc["states"][state]["layouts"][version], self._depths)
            if depth > _limits.MAX_TYPE_DEPTH:
                src, name = self._refuse(
                    f"expected plain structs nested at most {_limits.MAX_TYPE_DEPTH} deep, found "
                    f"{min(depth, 1 << 20)} levels in '{state}' version {version}")
            elif sum(self._member_cost(mb) for mb in self.desc["states"][state]["layouts"][version]) \
                    > _limits.MAX_LAYOUT_VALUES:
                src, name = self._refuse(
                    f"expected a layout of at most {_limits.MAX_LAYOUT_VALUES} values (plain structs "
                    f"and short arrays unrolled), found more in '{state}' version {version}")
            else:
                src, name = self._source(state, version)
            self.sources[key] = src
            label = f"<kstate codec {name} {self.byteorder}>"
            exec(compile(src, label, "exec"), self.ns)  # noqa: S102 - text made here, no input in it
            fn = self.cache[key] = self.ns[name]
        return fn

    def _refuse(self, message: str) -> tuple[str, str]:
        """A decoder that refuses every entry of a layout past a limit (LIMIT_EXCEEDED)."""
        name = self._fn()
        fail = self.fail("LIMIT_EXCEEDED", "off, path, " + self._text(message))
        return f"def {name}({self._params()}):\n    {fail}\n", name

    def _params(self) -> str:
        return "buf, off, end, ctx" if self.fast else "buf, off, end, path, ctx"

    def _code_cost(self, typ: tuple) -> int:
        """Variables the generated code of one value of ``typ`` unrolls (memoized)."""
        if typ[0] != "struct":
            return 1
        cost = self._costs.get(typ[1])
        if cost is None:
            cost = self._costs[typ[1]] = sum(self._member_cost(mb) for mb in self.desc["structs"][typ[1]])
        return cost

    def _member_cost(self, mb: dict) -> int:
        if "bits" in mb or mb["type"][0] in ("state", "bytes"):
            return 1
        shape, ec = mb.get("shape"), self._code_cost(mb["type"])
        if shape is None:
            return ec
        if shape[0] == "fixed" and shape[1] <= INLINE_ARRAY_MAX:
            return shape[1] * ec
        return 1 + ec  # a helper or a loop: the element's code once

    def _source(self, state: str, version: int) -> tuple[str, str]:
        layout = self.desc["states"][state]["layouts"][version]
        fname = self._fn()
        weight = 1 + sum(self.member_weight(mb) for mb in layout if self.is_inline(mb))
        self._items: list = []  # (key constant, expression): the fields dict, built once at the end
        L = [f"def {fname}({self._params()}):",
             f"    ctx.values -= {_lit(weight)}",
             "    if ctx.values < 0: " + self._raise_expr("ctx.too_many(off, path)")]
        counts = {}  # count field name -> its number, then (var, off var)
        for mb in layout:
            for name in self._count_names(mb, layout):
                counts.setdefault(name, len(counts))
        i = 0
        k = 0
        while i < len(layout):
            if self.is_inline(layout[i]):
                j = i
                while j < len(layout) and self.is_inline(layout[j]):
                    j += 1
                self._run(L, layout[i:j], counts, k)
                k += 1
                i = j
            else:
                self._variable(L, layout[i], counts, k)
                k += 1
                i += 1
        fields = "{" + ", ".join(f"{k}: {e}" for k, e in self._items) + "}"
        if self.fast:  # the entry (or nested state) must end where its layout does
            L.append("    if off != end: raise _Slow")
            L.append(f"    return {fields}")
        else:
            L.append(f"    return {fields}, off")
        return "\n".join(L) + "\n", fname

    def _field(self, key: str) -> str:
        """A new local holding the value of field ``key`` (a key constant), for the dict at the end."""
        self._names += 1
        var = f"fv{self._names}"
        self._items.append((key, var))
        return var

    def _spans(self, members) -> tuple[list[str], list[tuple], int]:
        """The struct codes of a run of fixed-size members, each member's
        (member, first code, number of codes, byte offset), and the run's size."""
        codes: list[str] = []
        spans = []
        size = 0
        for mb in members:
            mcodes = self.member_vars(mb)
            spans.append((mb, len(codes), len(mcodes), size))
            codes += mcodes
            size += self.member_size(mb)
        return codes, spans, size

    def _count_names(self, mb: dict, layout) -> list[str]:
        shape = mb.get("shape")
        return [shape[1]] if shape and shape[0] == "count" else []

    def _run(self, L: list[str], run: list[dict], counts: dict, k: int) -> None:
        codes, spans, size = self._spans(run)
        layout_info = []
        for mb, _, _, rel in spans:
            nm = self._group_name(mb) if "bits" in mb else mb["name"]
            layout_info.append((nm, rel, self.member_size(mb)))
        info = self._const("R", tuple(layout_info))
        if self.fast:
            L.append(f"    if end - off < {_lit(size)}: raise _Slow")
        else:
            # a run that does not fit is read field by field (the order of checks): the
            # values of the members before the one that does not fit are checked first
            count_names = frozenset(counts)
            slow = self._const("T", _Lazy(lambda: self._truncated_run(run, info, count_names)))
            L.append(f"    if end - off < {_lit(size)}: raise {slow}(buf, off, end, path, ctx)")
        vs = [f"a{k}_{n}" for n in range(len(codes))]
        L.append(f"    {', '.join(vs)}, = {self._unpacker(codes)}(buf, off)")
        checks: list[str] = []
        items = []
        for mb, start, count, rel in spans:
            v = vs[start:start + count]
            o = f"(off + {_lit(rel)})"
            its = self._member_items(mb, v, o, self._path("path"), checks)
            items += its
            names = [f[0] for f in mb["fields"]] if "bits" in mb else [mb["name"]]
            for nm, (key, expr) in zip(names, its):
                if nm in counts and isinstance(counts[nm], int):
                    cv, co = f"cnt{_lit(counts[nm])}", f"cnto{_lit(counts[nm])}"
                    counts[nm] = (cv, co)
                    L.append(f"    {cv} = {expr}")
                    if not self.fast:  # the offset of the count's diagnostics
                        L.append(f"    {co} = {o}")
                    checks += self._count_checks(mb, nm, cv, o)
        for c in checks:
            L.append("    " + c)
        for key, expr in items:
            if re.search(r"\boff\b", expr):  # reads at an offset (a long array's helper): now
                L.append(f"    {self._field(self._text(key))} = {expr}")
            else:
                self._items.append((self._text(key), expr))
        L.append(f"    off += {_lit(size)}")

    def _nested(self, state: str, path: str) -> str:
        """The call decoding a nested state at ``off``: ``(value, off)``."""
        if self.fast:
            return f"ctx.nested_fast({self._text(state)}, buf, off, end)"
        return f"ctx.nested({self._text(state)}, buf, off, end, {path})"

    def _count_checks(self, mb: dict, nm: str, cv: str, o: str) -> list[str]:
        """The checks of count ``nm`` (a member of ``mb``) read into ``cv`` at ``o``."""
        cpath = self._padd("path", "." + nm)
        out = []
        if not _unsigned(mb):
            out.append(f"if {cv} < 0: " + self.fail(
                "COUNT_OUT_OF_RANGE", f"{o}, {cpath}, 'expected a count >= 0, found %d' % {cv}"))
        cmax = None if "bits" in mb else mb.get("max")
        if cmax is not None:
            cmax = _lit(cmax)
            msg = self._text(f"expected a count <= @max({cmax}), found %d")
            out.append(f"if {cv} > {cmax}: " + self.fail("COUNT_OUT_OF_RANGE", f"{o}, {cpath}, {msg} % {cv}"))
        return out

    def _truncated_run(self, run: list[dict], info: str, count_names: frozenset):
        """The function a run of fixed-size members calls when it does not fit:
        each member that fits is read and checked, in order, and the first one
        that does not is TRUNCATED (returned, for the caller to raise)."""
        fname = self._fn()
        L = [f"def {fname}(buf, off, end, path, ctx):"]
        for n, (mb, _, _, rel) in enumerate(self._spans(run)[1]):
            codes = self.member_vars(mb)
            vs = [f"t{n}_{j}" for j in range(len(codes))]
            o = f"(off + {_lit(rel)})"
            L.append(f"    if end - off < {_lit(rel + self.member_size(mb))}: "
                     f"return Fail.truncated(off, end, path, {info})")
            L.append(f"    {', '.join(vs)}, = {self._unpacker(codes)}(buf, {o})")
            checks: list[str] = []
            items = self._member_items(mb, vs, o, "path", checks)
            names = [f[0] for f in mb["fields"]] if "bits" in mb else [mb["name"]]
            for nm, (_, expr) in zip(names, items):
                if nm in count_names:
                    checks.append(f"c{n} = {expr}")
                    checks += self._count_checks(mb, nm, f"c{n}", o)
            L += ["    " + c for c in checks]
        L.append(f"    return Fail.truncated(off, end, path, {info})")
        exec(compile("\n".join(L) + "\n", f"<kstate codec {fname} {self.byteorder}>", "exec"),  # noqa: S102
             self.ns)  # text made here, no input in it
        return self.ns[fname]

    def _variable(self, L: list[str], mb: dict, counts: dict, k: int) -> None:
        typ, shape, name = mb["type"], mb.get("shape"), mb["name"]
        key = self._text(name)
        fpath = self._padd("path", "." + name)
        if shape is None:  # a nested state
            L.append(f"    {self._field(key)}, off = {self._nested(typ[1], fpath)}")
            return
        amax = None if mb.get("max") is None else _lit(mb["max"])
        es = self.size_of(typ)
        if shape[0] == "count":
            cv, co = counts[shape[1]]
            cpath = self._padd("path", "." + shape[1])
            L.append(f"    n = {cv}")
            if amax is not None:
                msg = self._text(f"expected a count <= @max({amax}) of {_pct(name)}, found %d")
                L.append(f"    if n > {amax}: " + self.fail("COUNT_OUT_OF_RANGE", f"{co}, {cpath}, {msg} % n"))
            need = _lit(es if es is not None else HEADER_SIZE)
            what = f"{need} bytes" + (" (an entry header)" if es is None else "")
            msg = self._text(f"expected a count of {_pct(name)} that fits the %d bytes left (each "
                             f"element needs at least {what}), found %d")
            L.append(f"    if n * {need} > end - off: " + self.fail(
                "COUNT_OUT_OF_RANGE", f"{co}, {cpath}, {msg} % (end - off, n)"))
        elif shape[0] == "rest":
            L.append(f"    n = (end - off) // {_lit(es)}")
            if amax is not None:
                msg = self._text(f"expected at most @max({amax}) elements, found %d")
                L.append(f"    if n > {amax}: " + self.fail("COUNT_OUT_OF_RANGE", f"off, {fpath}, {msg} % n"))
        else:
            n = shape[1]
            L.append(f"    n = {_lit(n)}")
            if es is not None:
                L.append(f"    if end - off < {_lit(n * es)}: " + self._raise_expr(
                    f"Fail.truncated(off, end, path, {self._const('R', ((name, 0, n * es),))})"))
        view = self._view_element(typ) if self.views and es is not None and typ[0] != "bytes" else None
        if view is not None:  # zero-copy: the bytes and how to read them, nothing unpacked
            L.append("    ctx.values -= 1")
            L.append("    if ctx.values < 0: " + self._raise_expr(f"ctx.too_many(off, {fpath})"))
            L.append(f"    {self._field(key)} = _view(buf[off:off + n * {_lit(es)}], {view})")
            L.append(f"    off += n * {_lit(es)}")
            return
        if es is None or typ[0] == "bytes":  # nested states charge themselves; bytes: one string
            L.append("    ctx.values -= 1")
        else:
            L.append(f"    ctx.values -= 1 + n * {_lit(self.fixed_plan(typ).weight)}")
        L.append("    if ctx.values < 0: " + self._raise_expr(f"ctx.too_many(off, {fpath})"))
        if es is None:  # array of nested states
            L.append("    lst = []")
            L.append("    for i in range(n):")
            epath = self._path(f"{fpath} + '[' + str(i) + ']'")
            L.append(f"        v, off = {self._nested(typ[1], epath)}")
            L.append("        lst.append(v)")
            L.append(f"    {self._field(key)} = lst")
            return
        if typ[0] == "bytes":
            L.append(f"    {self._field(key)} = buf[off:off + n].hex()")
            L.append("    off += n")
            return
        ep = self.fixed_plan(typ)
        size = _lit(ep.size)
        vs = [f"e{k}_{j}" for j in range(ep.nvars)]
        checks: list[str] = []
        o = f"(off + i * {size})"
        p = self._path(f"({fpath} + '[' + str(i) + ']')")
        expr = ep.build(vs, o, p, checks)
        it = self._unpacker(ep.codes, iter_=True)
        target = "(" + ", ".join(vs) + ",)"
        src = f"{it}(buf[off:off + n * {size}])"
        if checks:
            L.append("    lst = []")
            L.append(f"    for i, {target} in enumerate({src}):")
            for c in checks:
                L.append("        " + c)
            L.append(f"        lst.append({expr})")
            L.append(f"    {self._field(key)} = lst")
        elif expr == vs[0] and len(vs) == 1:
            L.append(f"    {self._field(key)} = [{vs[0]} for {target} in {src}]")
        elif o in expr or p in expr:  # the element needs its index (a nested array helper, a path)
            L.append(f"    {self._field(key)} = [{expr} for i, {target} in enumerate({src})]")
        else:
            L.append(f"    {self._field(key)} = [{expr} for {target} in {src}]")
        L.append(f"    off += n * {size}")
