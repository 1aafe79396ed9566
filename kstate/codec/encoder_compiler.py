"""Compile one state version's layout (from the codec description) into a
fast payload encoder: the mirror of ``compiler.py``.

For each (state, version, byte order) this writes the source of two Python
functions and compiles them once:

* ``size(f, ctx) -> int``: the payload's size in bytes, from the fixed sizes
  and the lengths of the arrays (nested states ask ``ctx.nsize``): what a
  nested state's room is counted with;
* ``pack(buf, off, f, ctx, st, inst) -> off``: the entry's size first (the
  same expression, inline), room for the whole entry in ``buf`` (the
  stream's ``bytearray``, grown by ``ctx.grow`` before anything is written
  past its end), then the entry's header at ``off`` (its state_id and
  version are literals of the code) and its payload after it; checks every
  value inline and packs runs of fixed-size members with one precompiled
  ``struct.Struct.pack_into`` (the header goes with the first run); arrays
  of fixed-size elements are one loop (integers: one ``pack_into`` of the
  whole list).

The generated code only decides *whether* a document is one it packs as
is.  Any check that fails (a missing or extra key, a value of the wrong type
or out of range, anything unusual such as a ``dict`` subclass) raises
``Bail`` (or lets a ``KeyError``, ``TypeError`` or ``struct.error`` through);
``packer.py`` then hands the document to the descriptive encoder
(``encoder.py``), which finds the same problem and reports it with its JSON
path and message.  So the hot path builds no path string and no message,
and errors stay exactly what they were.

Generated source never holds text taken from the schema or the document:
only identifiers made here, integer literals (``repr(int)``) and a few fixed
Python spellings.  Field names, state names and flag tables are constants
in the ``exec`` namespace (``_K3 = "pfn"``), referenced by those identifiers.
"""

from __future__ import annotations

import struct

from . import limits as _limits
from .compiler import Compiler
from .records import HEADER_SIZE, INT_CODES
from .views import ArrayView

INLINE_ARRAY_MAX = 16  # fixed arrays of scalars up to this length are unrolled
MAX_SOURCE_LINES = 20_000  # past this, a layout is left to the descriptive encoder


class Bail(Exception):
    """The generated encoder does not pack this document as is; the descriptive
    encoder (``encoder.py``) decides, and names the problem if there is one."""


class _TooLarge(Exception):
    pass


_MISSING = object()
_INT_ONLY = frozenset({int})


def _hex(v) -> bytes:
    if type(v) is not str:
        raise Bail
    return bytes.fromhex(v)


def _hex_n(v, n: int) -> bytes:
    data = _hex(v)
    if len(data) != n:
        raise Bail
    return data


def _hex_len(v) -> int:
    return len(_hex(v))


def _char_bytes(v, n: int) -> bytes:
    """A ``char[N]`` given as ``{"bytes": hex}`` (a ``str`` is handled inline)."""
    if type(v) is not dict or len(v) != 1:
        raise Bail
    return _hex_n(v["bytes"], n)


def _int(v) -> int:
    """An integer of the description, for the generated source (a crafted description
    with anything else in that place does not compile: the descriptive encoder runs)."""
    if type(v) is not int:
        raise ValueError(f"expected an integer in the codec description, found {type(v).__name__}")
    return v


def _all_int(v: list) -> bool:
    return set(map(type, v)) <= _INT_ONLY


class _Body:
    """Lines of generated code at one indentation, with the pending run of
    fixed-size values (struct codes and argument expressions) not yet packed."""

    def __init__(self, indent: int):
        self.indent = indent
        self.lines: list[str] = []
        self.codes: list[str] = []
        self.args: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    def push(self, code: str, arg: str) -> None:
        self.codes.append(code)
        self.args.append(arg)


class EncoderCompiler:
    """Turns description layouts into (size, pack) functions, caching them."""

    def __init__(self, desc: dict, byteorder: str):
        self.desc = desc
        self.byteorder = byteorder
        self.bo = "<" if byteorder == "little" else ">"
        self.ns: dict = {"_AV": ArrayView, "_B": Bail, "_M": _MISSING, "_hex": _hex, "_hexn": _hex_n, "_hexlen": _hex_len,
                         "_charb": _char_bytes, "_allint": _all_int}
        self._names = 0
        self._lines = 0
        self.cache: dict = {}
        self.sources: dict = {}
        self._depths: dict | None = None
        self._sizes: dict = {}
        self._infos: dict | None = None
        self._view_keys: dict = {}
        self._view_decoder = Compiler(desc, byteorder, views=True)  # knows which arrays are views

    # --- helpers ---------------------------------------------------------------

    def _const(self, prefix: str, value) -> str:
        self._names += 1
        name = f"_{prefix}{self._names}"
        self.ns[name] = value
        return name

    def _key(self, name: str) -> str:
        """The identifier of a constant holding a field name (never the name in the source)."""
        return self._const("K", name)

    def _var(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def _line(self, body: _Body, text: str) -> None:
        self._lines += 1
        if self._lines > MAX_SOURCE_LINES:
            raise _TooLarge
        body.line(text)

    def _flush(self, body: _Body) -> None:
        """Pack the pending run of fixed-size values at ``off`` and move ``off`` past it."""
        if not body.codes:
            return
        s = struct.Struct(self.bo + "".join(body.codes))
        packer = self._const("S", s.pack_into)
        args = ", ".join(body.args)
        self._line(body, f"{packer}(buf, off, {args})")
        self._line(body, f"off += {s.size!r}")
        body.codes, body.args = [], []

    # --- sizes -----------------------------------------------------------------

    def fixed_size(self, typ: tuple) -> int | None:
        """Bytes of one value of ``typ``; None for a nested state (it has a header and a layout)."""
        kind = typ[0]
        if kind == "int":
            return INT_CODES[typ[1]][1]
        if kind in ("addr", "folio"):
            return 8
        if kind in ("bool", "bytes"):
            return 1
        if kind == "char":
            return _int(typ[1])
        if kind == "enum":
            return INT_CODES[self.desc["enums"][typ[1]]["base"]][1]
        if kind == "struct":
            size = self._sizes.get(typ[1])
            if size is None:  # memoized: a struct of two copies of a struct ... is linear
                size = self._sizes[typ[1]] = sum(self.member_fixed_size(mb) for mb in self.desc["structs"][typ[1]])
            return size
        return None

    def member_fixed_size(self, mb: dict) -> int:
        if "bits" in mb:
            return INT_CODES[mb["bits"]][1]
        return self.fixed_size(mb["type"]) * _int(mb["shape"][1]) if mb.get("shape") else self.fixed_size(mb["type"])

    # --- values ----------------------------------------------------------------

    def value(self, typ: tuple, x: str, body: _Body) -> str | None:
        """Check the value in variable ``x`` and add it to the pending run; the
        expression packed for a scalar (None for a struct, which adds several)."""
        kind = typ[0]
        if kind in ("int", "addr", "folio"):
            code = INT_CODES[typ[1]][0] if kind == "int" else "Q"
            self._line(body, f"if type({x}) is not int: raise _B")  # struct checks the range
            body.push(code, x)
            return x
        if kind == "bool":
            self._line(body, f"if {x} is not True and {x} is not False: raise _B")
            body.push("B", x)
            return x
        if kind == "char":
            n = _int(typ[1])
            y = self._var("c")
            self._line(body, f"if type({x}) is str:")
            self._line(body, f"    {y} = {x}.encode('utf-8', 'surrogatepass')")
            self._line(body, f"    if len({y}) > {n!r} or 0 in {y}: raise _B")
            self._line(body, "else:")
            self._line(body, f"    {y} = _charb({x}, {n!r})")
            body.push(f"{n}s", y)
            return y
        if kind == "bytes":
            y = self._var("d")
            self._line(body, f"{y} = _hexn({x}, 1)")
            body.push("1s", y)
            return y
        if kind == "enum":
            return self._enum(typ[1], x, body)
        if kind == "struct":
            self._line(body, f"if type({x}) is not dict: raise _B")
            self.members(self.desc["structs"][typ[1]], x, body, counted=False)
            return None
        raise ValueError(f"not a fixed-size type: {typ!r}")

    def _enum(self, name: str, x: str, body: _Body) -> str:
        e = self.desc["enums"][name]
        table = self._const("E", {n: v for n, v in e["values"]})
        y = self._var("w")
        self._line(body, f"if type({x}) is int: {y} = {x}")
        if e["kind"] == "flags":  # names only: a list with an integer in it is left to encoder.py
            it = self._var("i")
            self._line(body, f"elif type({x}) is list:")
            self._line(body, f"    {y} = 0")
            self._line(body, f"    for {it} in {x}: {y} |= {table}[{it}]")
        else:
            self._line(body, f"elif type({x}) is str: {y} = {table}[{x}]")
        self._line(body, "else: raise _B")
        body.push(INT_CODES[e["base"]][0], y)  # struct checks that the word fits the base
        return y

    def _bits(self, mb: dict, x: str, body: _Body, counts: dict, present: list) -> None:
        code, size = INT_CODES[mb["bits"]]
        nbits = size * 8
        parts = []
        for name, width, offset in mb["fields"]:
            width, offset = _int(width), _int(offset)
            shift = offset if self.byteorder == "little" else nbits - offset - width
            b = self._var("b")
            key = self._key(name)
            if name in counts:
                self._optional(body, b, x, key, counts[name], present)
                self._line(body, f"if {b} != {counts[name]}: raise _B")
            else:
                self._line(body, f"{b} = {x}[{key}]")
                present[0] += 1
            self._line(body, f"if type({b}) is not int or not 0 <= {b} <= {(1 << width) - 1!r}: raise _B")
            parts.append(f"{b} << {shift!r}" if shift else b)
        w = self._var("w")
        self._line(body, f"{w} = {' | '.join(parts)}")
        if mb["bits"].startswith("i"):
            self._line(body, f"if {w} >= {1 << (nbits - 1)!r}: {w} -= {1 << nbits!r}")
        body.push(code, w)

    def _optional(self, body: _Body, v: str, x: str, key: str, default: str, present: list) -> None:
        """``v = x[key]`` if present (counted in ``present``), else ``default``."""
        if present[1] is None:
            present[1] = self._var("p")
            self._line(body, f"{present[1]} = 0")
        self._line(body, f"{v} = {x}.get({key}, _M)")
        self._line(body, f"if {v} is _M: {v} = {default}")
        self._line(body, f"else: {present[1]} += 1")

    # --- members ---------------------------------------------------------------

    def members(self, layout, x: str, body: _Body, counted: bool) -> None:
        """Check and pack the members of ``layout`` from the dict in ``x``; the
        dict must hold exactly the members' names (fixed and count fields may
        be left out)."""
        present = [0, None]  # required keys read, variable counting optional keys present
        counts: dict = {}  # count field name -> variable holding the length
        arrays: dict = {}  # counted array name -> variable holding its value
        if counted:
            for mb in layout:
                shape = mb.get("shape")
                if "bits" in mb or not shape or shape[0] != "count":
                    continue
                a = self._var("a")
                self._line(body, f"{a} = {x}[{self._key(mb['name'])}]")
                if mb["type"][0] == "bytes":
                    self._line(body, f"{a} = _hex({a})")
                else:
                    self._line(body, f"if type({a}) is not list and type({a}) is not _AV: raise _B")
                present[0] += 1
                arrays[mb["name"]] = a
                if shape[1] in counts:
                    self._line(body, f"if len({a}) != {counts[shape[1]]}: raise _B")
                else:
                    n = self._var("n")
                    self._line(body, f"{n} = len({a})")
                    counts[shape[1]] = n
        for mb in layout:
            if "bits" in mb:
                self._bits(mb, x, body, counts, present)
                continue
            name = mb["name"]
            if name in arrays:
                v = arrays[name]
            elif "fixed" in mb or name in counts:
                v = self._var("v")
                default = repr(_int(mb["fixed"])) if "fixed" in mb else counts[name]
                self._optional(body, v, x, self._key(name), default, present)
            else:
                v = self._var("v")
                self._line(body, f"{v} = {x}[{self._key(name)}]")
                present[0] += 1
            self.field(mb, v, body, counts)
        want = f"{present[0]!r} + {present[1]}" if present[1] else repr(present[0])
        self._line(body, f"if len({x}) != {want}: raise _B")

    def field(self, mb: dict, v: str, body: _Body, counts: dict) -> None:
        typ, shape = mb["type"], mb.get("shape")
        if shape is None:
            if typ[0] == "state":
                self._flush(body)
                self._line(body, f"off = ctx.npack(buf, off, {self._const('T', typ[1])}, {v}, st)")
                return
            arg = self.value(typ, v, body)
            if "fixed" in mb:
                self._line(body, f"if {arg} != {_int(mb['fixed'])!r}: raise _B")
            if "range" in mb:
                lo, hi = mb["range"]
                self._line(body, f"if not {_int(lo)!r} <= {arg} <= {_int(hi)!r}: raise _B")
            if "max" in mb:
                self._line(body, f"if {arg} > {_int(mb['max'])!r}: raise _B")
            if mb["name"] in counts:
                self._line(body, f"if {arg} != {counts[mb['name']]}: raise _B")
            return
        amax = mb.get("max")
        if typ[0] == "bytes":
            if shape[0] == "fixed":
                d = self._var("d")
                self._line(body, f"{d} = _hexn({v}, {_int(shape[1])!r})")
                body.push(f"{_int(shape[1])}s", d)
                return
            d = v if shape[0] == "count" else self._var("d")  # a counted one is decoded already
            if shape[0] != "count":
                self._line(body, f"{d} = _hex({v})")
            if amax is not None:
                self._line(body, f"if len({d}) > {_int(amax)!r}: raise _B")
            self._flush(body)
            self._line(body, f"buf[off:off + len({d})] = {d}")
            self._line(body, f"off += len({d})")
            return
        if shape[0] == "fixed":
            n = _int(shape[1])
            self._line(body, f"if type({v}) is not list and type({v}) is not _AV or len({v}) != {n!r}: raise _B")
        elif shape[0] == "rest":
            self._line(body, f"if type({v}) is not list and type({v}) is not _AV: raise _B")
        if amax is not None:
            self._line(body, f"if len({v}) > {_int(amax)!r}: raise _B")
        kind = typ[0]
        if kind == "state":
            self._flush(body)
            e = self._var("e")
            self._line(body, f"for {e} in {v}:")
            self._line(body, f"    off = ctx.npack(buf, off, {self._const('T', typ[1])}, {e}, st)")
            return
        if shape[0] == "fixed" and 0 < shape[1] <= INLINE_ARRAY_MAX and kind != "struct":
            self._line(body, f"if type({v}) is _AV: {v} = {v}.tolist()")
            elems = [self._var("x") for _ in range(shape[1])]
            self._line(body, f"{', '.join(elems)}, = {v}")
            for el in elems:
                self.value(typ, el, body)
            return
        self._flush(body)
        # a view of the same element layout (decode(..., arrays="memoryview")): its bytes
        view_key = self._const("VK", self._view_key(typ))
        self._line(body, f"if type({v}) is _AV:")
        self._line(body, f"    if {v}.element.key != {view_key}: {v} = {v}.tolist()")
        self._line(body, "    else:")
        self._line(body, f"        buf[off:off + len({v}.raw)] = {v}.raw")
        self._line(body, f"        off += len({v}.raw)")
        self._line(body, f"if type({v}) is list:")
        body.indent += 1
        self._array_loop(typ, v, body)
        body.indent -= 1

    def _view_key(self, typ: tuple):
        """The views.Element.key a view of ``typ`` elements has (in this byte order)."""
        return self._view_keys.setdefault(typ, self._view_decoder.element_key(typ))

    def _array_loop(self, typ: tuple, v: str, body: _Body) -> None:
        kind = typ[0]
        if kind in ("int", "addr", "folio"):
            code = INT_CODES[typ[1]][0] if kind == "int" else "Q"
            pack = self._const("N", _list_packer(self.bo + code))
            self._line(body, f"if not _allint({v}): raise _B")
            self._line(body, f"{pack}(buf, off, {v})")
            self._line(body, f"off += len({v}) * {struct.calcsize('<' + code)!r}")
            return
        e = self._var("e")
        self._line(body, f"for {e} in {v}:")
        inner = _Body(body.indent + 1)
        self.value(typ, e, inner)
        self._flush(inner)
        body.lines += inner.lines

    # --- a whole layout ----------------------------------------------------------

    def entry_infos(self) -> dict:
        """state name -> (id, version, {checked version: (size, pack)}): what the
        packer's entry loop needs, in one lookup."""
        infos = self._infos
        if infos is None:
            infos = self._infos = {name: (s["id"], s["version"], {}) for name, s in self.desc["states"].items()}
        return infos

    def payload_encoder(self, state: str, version):
        """(size, pack) of one state version, or None: the descriptive encoder
        handles it (a version the state does not have, or a layout the limits
        keep from compiling)."""
        sdesc = self.desc["states"].get(state)
        if sdesc is None or type(version) is not int or version not in sdesc["layouts"]:
            return None
        key = (state, version)
        if key in self.cache:
            return self.cache[key]
        fns = None
        layout = sdesc["layouts"][version]
        if self._depths is None:
            self._depths = _limits.struct_depths(self.desc["structs"])
        if _limits.layout_depth(layout, self._depths) <= _limits.MAX_TYPE_DEPTH:
            self._lines = 0
            try:
                src, names = self._source(layout, sdesc["id"], version)
                exec(compile(src, f"<kstate encoder {self.byteorder} {len(self.cache)}>", "exec"), self.ns)
                fns = (self.ns[names[0]], self.ns[names[1]])
                self.sources[key] = src
            except (_TooLarge, SyntaxError, RecursionError, MemoryError, ValueError, TypeError, KeyError,
                    IndexError, struct.error):
                # too big or too deep for Python's compiler, or a crafted description:
                # the descriptive encoder handles (or refuses) this layout
                fns = None
        self.cache[key] = fns
        return fns

    def _source(self, layout, sid: int, version: int) -> tuple[str, tuple[str, str]]:
        size_name, pack_name = self._var("size_"), self._var("pack_")
        const = 0
        terms = []
        for mb in layout:
            if "bits" in mb:
                const += INT_CODES[mb["bits"]][1]
                continue
            typ, shape = mb["type"], mb.get("shape")
            key = self._key(mb["name"])
            es = self.fixed_size(typ)
            if typ[0] == "state":
                t = self._const("T", typ[1])
                if shape is None:
                    terms.append(f"ctx.nsize({t}, f[{key}])")
                else:
                    terms.append(f"sum([ctx.nsize({t}, e) for e in f[{key}]])")
            elif shape is None:
                const += es
            elif shape[0] == "fixed":
                const += es * _int(shape[1])
            elif typ[0] == "bytes":
                terms.append(f"_hexlen(f[{key}])")
            else:
                terms.append(f"len(f[{key}]) * {es!r}")
        size_expr = " + ".join([repr(const)] + terms)
        size_src = f"def {size_name}(f, ctx):\n    return {size_expr}\n"
        body = _Body(1)
        body.codes, body.args = ["i"] * 5, ["st", repr(_int(sid)), repr(_int(version)), "inst", "size"]  # the header
        self._line(body, "if type(f) is not dict: raise _B")
        self._line(body, f"size = {size_expr}")
        self._line(body, f"end = off + {HEADER_SIZE!r} + size")
        self._line(body, "if end > len(buf): ctx.grow(buf, end)")
        self.members(layout, "f", body, counted=True)
        self._flush(body)
        self._line(body, "if off != end: raise _B")
        self._line(body, "return off")
        pack_src = f"def {pack_name}(buf, off, f, ctx, st, inst):\n" + "\n".join(body.lines) + "\n"
        return size_src + pack_src, (size_name, pack_name)


def _list_packer(fmt: str):
    """``pack(buf, off, values)`` for a whole list of integers of one struct code."""
    order, code = fmt[0], fmt[1:]

    def pack(buf, off, values):
        struct.pack_into(f"{order}{len(values)}{code}", buf, off, *values)
    return pack


__all__ = ["Bail", "EncoderCompiler", "HEADER_SIZE"]
