"""The codec description: a plain-data picture of a schema set's wire layouts.

This is the single interface between the schema model and the codec
runtime.  ``describe(schema_set)`` builds it in memory from the model; the
``python`` backend renders exactly the same data, per schema file, into the
generated modules.  ``kstate.codec.runtime`` turns a description into
codecs, so both paths share one implementation and decode identically.

Shape (only literals: dicts, lists, tuples, str, int, bool, None)::

    {"enums":   {name: {"kind": "enum"|"flags", "base": "u32",
                        "values": [(NAME, value), ...]}},
     "structs": {name: [member, ...]},
     "states":  {name: {"id": 16, "version": 3, "min_version": 1,
                        "parent": None | parent name,
                        "subsections": [(name, since | None), ...],
                        "layouts": {version: [member, ...]}}},
     "retired": {name: id}}

A member is a field ``{"name", "type", ["pointer"], ["shape"], ["fixed"],
["max"], ["range"]}`` or a bits group ``{"bits": "u64", "fields":
[(name, width, little_endian_offset), ...]}``.  A type is a tuple:
``("int", "u32")``, ``("bool",)``, ``("char", N)``, ``("bytes",)``,
``("addr", area)``, ``("folio",)``, ``("enum", name)`` (enum or flags),
``("struct", name)`` or ``("state", name)``.  A shape is ``("fixed", N)``,
``("count", field)`` or ``("rest",)``.
"""

from __future__ import annotations

from .. import model as m


def type_of(t) -> tuple:
    if isinstance(t, m.IntType):
        return ("int", t.name)
    if isinstance(t, m.BoolType):
        return ("bool",)
    if isinstance(t, m.CharType):
        return ("char", t.length)
    if isinstance(t, m.BytesType):
        return ("bytes",)
    if isinstance(t, m.AddrType):
        return ("addr", t.area)
    if isinstance(t, m.FolioType):
        return ("folio",)
    if isinstance(t, m.EnumType):
        return ("enum", t.decl.name)
    if isinstance(t, m.StructType):
        return ("struct", t.decl.name)
    if isinstance(t, m.StateType):
        return ("state", t.decl.name)
    raise TypeError(f"unknown value type {t!r}")


def shape_of(s) -> tuple | None:
    if s is None:
        return None
    if isinstance(s, m.Fixed):
        return ("fixed", s.length)
    if isinstance(s, m.Counted):
        return ("count", s.count)
    return ("rest",)


def member_of(mb) -> dict:
    if mb.is_bits:
        return {"bits": mb.type.name,
                "fields": [(b.name, b.width, b.offset) for b in mb.fields]}
    out: dict = {"name": mb.name, "type": type_of(mb.type)}
    if mb.pointer:
        out["pointer"] = True
    if mb.shape is not None:
        out["shape"] = shape_of(mb.shape)
    if mb.fixed is not None:
        out["fixed"] = mb.fixed
    if mb.max is not None:
        out["max"] = mb.max
    if mb.range is not None:
        out["range"] = (mb.range[0], mb.range[1])
    return out


def enum_of(e: m.Enum) -> dict:
    return {"kind": e.kind, "base": e.base.name, "values": [(v.name, v.value) for v in e.values]}


def state_of(st: m.State) -> dict:
    return {"id": st.id, "version": st.version, "min_version": st.min_version,
            "parent": st.parent.name if st.parent is not None else None,
            "subsections": [(s.name, s.since) for s in st.subsections],
            "layouts": {v: [member_of(mb) for mb in st.layouts[v]] for v in st.versions}}


def describe_items(items) -> dict:
    """The description of ``items`` (declarations of one file or of a whole set)."""
    out: dict = {"enums": {}, "structs": {}, "states": {}, "retired": {}}
    for it in items:
        if isinstance(it, m.Enum):
            out["enums"][it.name] = enum_of(it)
        elif isinstance(it, m.Struct):
            out["structs"][it.name] = [member_of(mb) for mb in it.members]
        elif isinstance(it, m.State):
            out["states"][it.name] = state_of(it)
        elif isinstance(it, m.RetiredState):
            out["retired"][it.name] = it.id
    return out


def describe_file(sf: m.SchemaFile) -> dict:
    return describe_items(sf.items)


def describe(schema_set: m.SchemaSet) -> dict:
    """The description of a whole schema set (what the generated package holds)."""
    return describe_items([*schema_set.enums.values(), *schema_set.structs.values(),
                           *schema_set.states.values(), *schema_set.retired.values()])


def merge(parts) -> dict:
    out: dict = {"enums": {}, "structs": {}, "states": {}, "retired": {}}
    for part in parts:
        for key in out:
            out[key].update(part.get(key, {}))
    return out
