"""Userspace C: bounds-checked get/put code for plain structs and states.

Each function here returns the body lines (C statements, tab-indented
relative to the function body) of one generated function; the template lays
the functions out.  Readers read any supported version and check every rule
the Python decoder checks with an ``error`` severity; writers write the
current version.
"""

from __future__ import annotations

from .. import model as m
from .c_types import function_body, int_of, mask, s64, u64, uint_type, wire_min


def _conv(it: m.IntType, var: str) -> str:
    """The C value of type ``it`` from the zero-extended wire integer ``var``."""
    if it.signed:
        return f"({it.c_type})({uint_type(it.width)}){var}"
    return f"({it.c_type}){var}"


def _signed_value(it: m.IntType, var: str) -> str:
    return f"(s64)({it.c_type})({uint_type(it.width)}){var}"


def _range_cond(it: m.IntType, lo: int, hi: int, value: str) -> str | None:
    """A condition true when ``value`` (a 64-bit expression) is outside [lo, hi]."""
    parts = []
    if it.signed:
        if lo > it.min:
            parts.append(f"{value} < {s64(lo)}")
        if hi < it.max:
            parts.append(f"{value} > {s64(hi)}")
    else:
        if lo > 0:
            parts.append(f"{value} < {u64(lo)}")
        if hi < it.max:
            parts.append(f"{value} > {u64(hi)}")
    return " || ".join(parts) or None


def _indent(lines: list[str], n: int = 1) -> list[str]:
    return [("\t" * n + l) if l else l for l in lines]


def _guard(cond: str | None, err: str, at: str = "c->pos") -> list[str]:
    """``return err`` when ``cond`` holds, the problem recorded at byte ``at`` of the cursor."""
    return [] if cond is None else [f"if ({cond})", f"\treturn ks_fail(c, {at}, {err});"]


def _put_guard(cond: str | None, err: str) -> list[str]:
    return [] if cond is None else [f"if ({cond})", f"\treturn {err};"]


def _room(size: int) -> list[str]:
    """A field's room, checked for the whole field before any value in it
    (the order of checks, docs/wire-format.md)."""
    return _guard(f"ks_left(c) < {size}", "KS_ERR_TRUNCATED")


# --- elements ----------------------------------------------------------------


def get_elem(t: m.ValueType, lv: str) -> list[str]:
    """Read one element of ``t`` from cursor ``c`` into the lvalue ``lv``."""
    it = int_of(t)
    if it is not None:
        return [f"KS_TRY(ks_get_uint(c, {it.width}, &ks_v));", f"{lv} = {_conv(it, 'ks_v')};"]
    if isinstance(t, m.BoolType):
        return ["KS_TRY(ks_get_uint(c, 1, &ks_v));", *_guard("ks_v > 1", "KS_ERR_BAD_VALUE", "c->pos - 1"),
                f"{lv} = ks_v != 0;"]
    if isinstance(t, m.CharType):
        return [f"KS_TRY(ks_get_bytes(c, {lv}, {t.length}));"]
    if isinstance(t, (m.AddrType, m.FolioType)):
        return ["KS_TRY(ks_get_uint(c, 8, &ks_v));", f"{lv} = ks_v;"]
    if isinstance(t, m.StructType):
        return [f"KS_TRY({t.decl.c_name}_ks_get(c, &{lv}));"]
    if isinstance(t, m.StateType):
        return [f"KS_TRY({t.decl.name}_ks_get_nested(c, &{lv}, st, arena));"]
    raise TypeError(t)


def put_elem(t: m.ValueType, rv: str) -> list[str]:
    """Write one element of ``t`` (the C expression ``rv``) to writer ``w``."""
    it = int_of(t)
    if it is not None:
        value = f"(u64)(s64){rv}" if it.signed else f"(u64){rv}"
        return [f"KS_TRY(ks_put_uint(w, {value}, {it.width}));"]
    if isinstance(t, m.BoolType):
        return [f"KS_TRY(ks_put_uint(w, {rv} ? 1 : 0, 1));"]
    if isinstance(t, m.CharType):
        return [f"KS_TRY(ks_put(w, {rv}, {t.length}));"]
    if isinstance(t, (m.AddrType, m.FolioType)):
        return [f"KS_TRY(ks_put_uint(w, {rv}, 8));"]
    if isinstance(t, m.StructType):
        return [f"KS_TRY({t.decl.c_name}_ks_put(w, &{rv}));"]
    if isinstance(t, m.StateType):
        return [f"KS_TRY({t.decl.name}_ks_put_nested(w, &{rv}, st));"]
    raise TypeError(t)


def _bulk(t: m.ValueType) -> bool:
    """Elements copied as raw bytes: one-byte integers and bytes."""
    it = int_of(t)
    return it is not None and it.width == 1


# --- bits groups -------------------------------------------------------------


def _bits_offsets(g: m.BitsGroup, b: m.BitsField, order: str) -> int:
    return b.offset_for(order, 8 * g.type.width)


def _used_mask(g: m.BitsGroup, order: str) -> int:
    used = 0
    for b in g.fields:
        used |= mask(b.width) << _bits_offsets(g, b, order)
    return used


def get_bits(g: m.BitsGroup, obj: str) -> list[str]:
    width = g.type.width
    out = [f"KS_TRY(ks_get_uint(c, {width}, &ks_v));"]
    le, be = _used_mask(g, "little"), _used_mask(g, "big")
    full = mask(8 * width)
    if le != full:
        out += _guard(f"ks_v & ~(c->big ? {u64(be)} : {u64(le)})", "KS_ERR_BAD_VALUE", f"c->pos - {width}")
    for b in g.fields:
        shift = f"(c->big ? {_bits_offsets(g, b, 'big')} : {_bits_offsets(g, b, 'little')})"
        out.append(f"{obj}{b.c_name} = (ks_v >> {shift}) & {u64(mask(b.width))};")
    return out


def put_bits(g: m.BitsGroup, obj: str, storage: str | None = None) -> list[str]:
    """Write a bits group.  ``storage``: the address of the group's bytes in a
    plain struct (packed: the group is its bytes on the wire, its bit-fields
    laid out as GCC does on this machine, ``BitsField.offset_for``); they are
    read in one load there instead of field by field, which GCC does a byte
    at a time in a packed struct."""
    width = g.type.width
    out = [] if storage is None else [f"ks_r = ks_load({storage}, {width}, KS_HOST_BIG);"]
    out.append("ks_v = 0;")
    for b in g.fields:
        big, little = _bits_offsets(g, b, "big"), _bits_offsets(g, b, "little")
        value = f"(u64){obj}{b.c_name}" if storage is None else f"(ks_r >> (KS_HOST_BIG ? {big} : {little}))"
        out.append(f"ks_v |= ({value} & {u64(mask(b.width))}) << (w->big ? {big} : {little});")
    out.append(f"KS_TRY(ks_put_uint(w, ks_v, {width}));")
    return out


# --- fields ------------------------------------------------------------------


def _scalar_checks(f: m.Field, it: m.IntType) -> list[str]:
    """Checks on a just-read integer ``ks_v``: fixed value, @range, a count's sign and @max."""
    out: list[str] = []
    at = f"c->pos - {it.width}"
    if f.fixed is not None:
        want = f.fixed & mask(8 * it.width)
        out += _guard(f"ks_v != {u64(want)}", "KS_ERR_BAD_VALUE", at)
    value = _signed_value(it, "ks_v") if it.signed else "ks_v"
    if f.range is not None:
        out += _guard(_range_cond(it, f.range[0], f.range[1], value), "KS_ERR_BAD_VALUE", at)
    if f.counts and it.signed:
        out += _guard(f"{value} < 0", "KS_ERR_COUNT_OUT_OF_RANGE", at)
    if f.max is not None and f.shape is None:
        out += _guard(_range_cond(it, it.min if it.signed else 0, f.max, value), "KS_ERR_COUNT_OUT_OF_RANGE", at)
    return out


def _filled(t: m.ValueType) -> bool:
    """Whether reading an element of ``t`` writes every byte of its C object:
    no pointer that must start NULL, no member a version leaves out (nested
    states), no unused bits of a ``bits`` group."""
    if isinstance(t, m.StateType):
        return False
    if not isinstance(t, m.StructType):
        return True
    for mb in t.decl.members:
        if mb.is_bits:
            if mb.used_bits != 8 * mb.type.width:
                return False
        elif mb.pointer or not isinstance(mb.shape, (m.Fixed, type(None))) or not _filled(mb.type):
            return False
    return True


def _alloc(lv: str, n: str, t: m.ValueType | None) -> list[str]:
    """Arena storage for ``n`` elements at ``lv``: left uninitialised when each is
    an element of ``t`` that the reader fills completely, else zeroed (``t``
    None: the elements are pointers, which start NULL)."""
    take = "ks_arena_take" if t is not None and _filled(t) else "ks_arena_alloc"
    return [f"{lv} = {take}(arena, {n}, sizeof(*{lv}), __alignof__(*{lv}));",
            *_guard(f"!{lv}", "KS_ERR_NO_SPACE")]


def get_field(f: m.Field, obj: str, count_lv: str | None, rest_lv: str | None,
              count_at: str | None = None) -> list[str]:
    """Read field ``f`` into ``obj`` + its C member (``obj`` ends in ``->``);
    ``count_at`` is the local holding where a ``[count]`` array's count field starts."""
    lv = f"{obj}{f.c_name}"
    t, shape = f.type, f.shape
    it = int_of(t)
    if shape is None and not f.pointer:
        if it is not None and (f.fixed is not None or f.range is not None or f.max is not None
                               or (f.counts and it.signed)):
            return [f"KS_TRY(ks_get_uint(c, {it.width}, &ks_v));", *_scalar_checks(f, it),
                    f"{lv} = {_conv(it, 'ks_v')};"]
        if isinstance(t, m.BoolType) and f.fixed is not None:
            return [*get_elem(t, lv), *_guard(f"{lv} != {bool(f.fixed) and 'true' or 'false'}",
                                              "KS_ERR_BAD_VALUE", "c->pos - 1")]
        return get_elem(t, lv)
    if shape is None:  # *T
        return [f"if (!{lv}) {{", *_indent(_alloc(lv, "1", t)), "}", *get_elem(t, f"(*{lv})")]
    if isinstance(shape, m.Fixed):
        n = shape.length
        room = [] if isinstance(t, m.StateType) else _room(n * t.size)
        if f.pointer:
            return [*room, f"for (ks_i = 0; ks_i < {n}; ks_i++) {{",
                    f"\tif (!{lv}[ks_i]) {{", *_indent(_alloc(f"{lv}[ks_i]", "1", t), 2), "\t}",
                    *_indent(get_elem(t, f"(*{lv}[ks_i])")), "}"]
        if _bulk(t):
            return [f"KS_TRY(ks_get_bytes(c, {lv}, {n}));"]
        return [*room, f"for (ks_i = 0; ks_i < {n}; ks_i++) {{", *_indent(get_elem(t, f"{lv}[ks_i]")), "}"]
    # runtime count: [count] or [..]; COUNT_OUT_OF_RANGE is at the count field (the array, for [..])
    out: list[str] = []
    if isinstance(shape, m.Counted):
        out.append(f"ks_n = (size_t){count_lv};")
        if f.max is not None:
            out += _guard(f"ks_n > {f.max}", "KS_ERR_COUNT_OUT_OF_RANGE", count_at)
        out += _guard(f"ks_n > ks_left(c) / {wire_min(t)}", "KS_ERR_COUNT_OUT_OF_RANGE", count_at)
    else:
        out.append(f"ks_n = ks_left(c) / {t.size};")
        if f.max is not None:
            out += _guard(f"ks_n > {f.max}", "KS_ERR_COUNT_OUT_OF_RANGE")
    out += [f"{lv} = NULL;", "if (ks_n) {", *_indent(_alloc(lv, "ks_n", None if f.pointer else t)), "}"]
    if rest_lv is not None:
        out.append(f"{rest_lv} = ks_n;")
    if f.pointer:
        out += ["for (ks_i = 0; ks_i < ks_n; ks_i++) {", *_indent(_alloc(f"{lv}[ks_i]", "1", t)),
                *_indent(get_elem(t, f"(*{lv}[ks_i])")), "}"]
    elif _bulk(t):
        out.append(f"KS_TRY(ks_get_bytes(c, {lv}, ks_n));")
    else:
        out += ["for (ks_i = 0; ks_i < ks_n; ks_i++) {", *_indent(get_elem(t, f"{lv}[ks_i]")), "}"]
    return out


def put_field(f: m.Field, obj: str, count_lv: str | None, rest_lv: str | None) -> list[str]:
    """Write field ``f`` from ``obj`` + its C member."""
    lv = f"{obj}{f.c_name}"
    t, shape = f.type, f.shape
    it = int_of(t)
    if shape is None and not f.pointer:
        if f.fixed is not None:
            value = f.fixed & mask(8 * it.width) if it is not None else f.fixed
            return [f"KS_TRY(ks_put_uint(w, {u64(value)}, {it.width if it else 1}));"]
        out: list[str] = []
        if it is not None and (f.range is not None or f.max is not None):
            value = f"(s64){lv}" if it.signed else f"(u64){lv}"
            if f.range is not None:
                out += _put_guard(_range_cond(it, f.range[0], f.range[1], value), "KS_ERR_BAD_VALUE")
            if f.max is not None:
                out += _put_guard(_range_cond(it, it.min if it.signed else 0, f.max, value),
                              "KS_ERR_COUNT_OUT_OF_RANGE")
        return out + put_elem(t, lv)
    if shape is None:
        return [f"if (!{lv})", "\treturn KS_ERR_NULL;", *put_elem(t, f"(*{lv})")]
    if isinstance(shape, m.Fixed):
        n = shape.length
        if f.pointer:
            return [f"for (ks_i = 0; ks_i < {n}; ks_i++) {{", f"\tif (!{lv}[ks_i])",
                    "\t\treturn KS_ERR_NULL;", *_indent(put_elem(t, f"(*{lv}[ks_i])")), "}"]
        if _bulk(t):
            return [f"KS_TRY(ks_put(w, {lv}, {n}));"]
        return [f"for (ks_i = 0; ks_i < {n}; ks_i++) {{", *_indent(put_elem(t, f"{lv}[ks_i]")), "}"]
    out = [f"ks_n = (size_t){count_lv if isinstance(shape, m.Counted) else rest_lv};"]
    if f.max is not None:
        out += _put_guard(f"ks_n > {f.max}", "KS_ERR_COUNT_OUT_OF_RANGE")
    out += _put_guard(f"ks_n && !{lv}", "KS_ERR_NULL")
    if f.pointer:
        out += ["for (ks_i = 0; ks_i < ks_n; ks_i++) {", f"\tif (!{lv}[ks_i])", "\t\treturn KS_ERR_NULL;",
                *_indent(put_elem(t, f"(*{lv}[ks_i])")), "}"]
    elif _bulk(t):
        out.append(f"KS_TRY(ks_put(w, {lv}, ks_n));")
    else:
        out += ["for (ks_i = 0; ks_i < ks_n; ks_i++) {", *_indent(put_elem(t, f"{lv}[ks_i]")), "}"]
    return out


def version_cond(f: m.Field, st: m.State) -> str | None:
    """The C condition on ``version`` for a field of ``st``; None: always on the wire."""
    parts = []
    if f.since is not None and f.since > st.min_version:
        parts.append(f"version >= {f.since}")
    if f.removed is not None:
        parts.append(f"version < {f.removed}")
    return " && ".join(parts) or None


def present_anywhere(f: m.Field | m.BitsGroup, st: m.State) -> bool:
    return st.on_wire(f)


LOCALS = ["u64 ks_v = 0;", "size_t ks_i = 0;", "size_t ks_n = 0;"]


def struct_get(s: m.Struct) -> list[str]:
    body = _room(s.size)
    for mb in s.members:
        body += get_bits(mb, "v->") if mb.is_bits else get_field(mb, "v->", None, None)
    return function_body(["c", "v"], LOCALS, body + ["return KS_OK;"])


def struct_put(s: m.Struct) -> list[str]:
    body = []
    offset = 0  # of the member in the packed struct: its wire offset (c_view asserts it)
    for mb in s.members:
        at = "(const u8 *)v" + (f" + {offset}" if offset else "")
        body += put_bits(mb, "v->", at) if mb.is_bits else put_field(mb, "v->", None, None)
        offset += mb.size
    return function_body(["w", "v"], LOCALS + ["u64 ks_r = 0;"], body + ["return KS_OK;"])


def _lvs(f: m.Field, st: m.State, rest_names: dict) -> tuple[str | None, str | None]:
    count_lv = rest_lv = None
    if isinstance(f.shape, m.Counted):
        cf = st.field(f.shape.count)
        count_lv = f"obj->{cf.c_name}"
    if isinstance(f.shape, m.Rest):
        rest_lv = f"obj->{rest_names[id(f)]}"
    return count_lv, rest_lv


def state_get(st: m.State, rest_names: dict) -> list[str]:
    # where each count field starts, for the COUNT_OUT_OF_RANGE of its arrays
    count_at: dict[str, str] = {}
    for mb in st.members:
        if not mb.is_bits and isinstance(mb.shape, m.Counted):
            count_at.setdefault(mb.shape.count, f"ks_at[{len(count_at)}]")
    body = []
    for mb in st.members:
        if not present_anywhere(mb, st):
            continue
        names = [b.name for b in mb.fields] if mb.is_bits else [mb.name]
        code = [f"{count_at[n]} = c->pos;" for n in names if n in count_at]
        if mb.is_bits:
            code += get_bits(mb, "obj->")
        else:
            count_lv, rest_lv = _lvs(mb, st, rest_names)
            at = count_at.get(mb.shape.count) if isinstance(mb.shape, m.Counted) else None
            code += get_field(mb, "obj->", count_lv, rest_lv, at)
        cond = None if mb.is_bits else version_cond(mb, st)
        body += code if cond is None else [f"if ({cond}) {{", *_indent(code), "}"]
    decls = LOCALS + ([f"size_t ks_at[{len(count_at)}] = {{ 0 }};"] if count_at else [])
    return function_body(["c", "obj", "st", "arena", "version"], decls, body + ["return KS_OK;"])


def state_put(st: m.State, rest_names: dict) -> list[str]:
    body = []
    for mb in st.layouts[st.version]:
        if mb.is_bits:
            body += put_bits(mb, "obj->")
            continue
        count_lv, rest_lv = _lvs(mb, st, rest_names)
        body += put_field(mb, "obj->", count_lv, rest_lv)
    return function_body(["w", "obj", "st"], LOCALS, body + ["return KS_OK;"])
