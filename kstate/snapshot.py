"""The canonical JSON snapshot of a schema set, and loading it back.

The snapshot is the stored baseline ``kstate check`` compares against
without the old sources, and what ``decode --schema`` accepts in place of
``.kstate`` files.  It holds the whole model: every item with its source
position, every member with its versions and annotations, and every state's
every layout.  ``to_json`` writes it; ``from_json`` rebuilds the same model
(layouts are recomputed from the members and checked against the stored
ones).  Keys come in a fixed order; the output is byte-identical for the
same schemas.
"""

from __future__ import annotations

import json

from . import model as m
from .errors import Span, UsageError

FORMAT = "kstate-snapshot"
FORMAT_VERSION = 1


# --- writing -----------------------------------------------------------------


def _pos(span: Span | None) -> dict | None:
    return None if span is None else {"file": span.file, "line": span.line, "column": span.column}


def _type_json(t: m.ValueType) -> dict:
    if isinstance(t, m.IntType):
        return {"kind": "int", "name": t.name}
    if isinstance(t, m.CharType):
        return {"kind": "char", "length": t.length}
    if isinstance(t, m.AddrType):
        return {"kind": "addr", "area": t.area}
    if isinstance(t, m.EnumType):
        return {"kind": t.kind, "name": t.decl.name}
    if isinstance(t, m.StructType):
        return {"kind": "struct", "name": t.decl.name}
    if isinstance(t, m.StateType):
        return {"kind": "state", "name": t.decl.name, "id": t.decl.id}
    return {"kind": t.kind}


def _shape_json(shape: m.Shape | None) -> dict | None:
    if shape is None:
        return None
    if isinstance(shape, m.Fixed):
        return {"kind": "fixed", "length": shape.length}
    if isinstance(shape, m.Counted):
        return {"kind": "count", "field": shape.count}
    return {"kind": "rest"}


def _member_json(mb: m.Member) -> dict:
    if mb.is_bits:
        return {
            "bits": mb.type.name,
            "fields": [{"name": b.name, "width": b.width, "offset": b.offset, "c_name": b.c_name,
                        "doc": b.doc, **_pos(b.span)} for b in mb.fields],
            "doc": mb.doc,
            **_pos(mb.span),
        }
    return {
        "name": mb.name,
        "c_name": mb.c_name,
        "type": _type_json(mb.type),
        "pointer": mb.pointer,
        "shape": _shape_json(mb.shape),
        "wire": mb.describe_wire(),
        "size": mb.size,
        "fixed": mb.fixed,
        "since": mb.since,
        "removed": mb.removed,
        "reason": mb.reason,
        "discard": mb.discard,
        "max": mb.max,
        "range": list(mb.range) if mb.range else None,
        "custom": {"save": mb.custom[0], "restore": mb.custom[1]} if mb.custom else None,
        "doc": mb.doc,
        **_pos(mb.span),
    }


def _layout_names(layout) -> list[str]:
    return [name for name, _ in m.member_names(layout)]


def _layout_size(layout) -> int | None:
    total = 0
    for mb in layout:
        if mb.size is None:
            return None
        total += mb.size
    return total


def _root_relative(node, names: dict[str, str]):
    """Every source position's file named relative to the schema root (as
    ``files[].path``), never as the working directory sees it: the snapshot
    is the same file whatever folder ``kstate compile`` ran in."""
    if isinstance(node, dict):
        return {k: (names.get(v, v) if k == "file" and isinstance(v, str) else _root_relative(v, names))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_root_relative(v, names) for v in node]
    return node


def to_json(ss: m.SchemaSet) -> str:
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": [{"path": f.path, "display": f.path, "imports": list(f.imports),
                   "items": [{"kind": i.item_kind, "name": i.name} for i in f.items]}
                  for f in ss.files],
        "constants": [{"name": c.name, "value": c.value, "expr": c.expr_text, "doc": c.doc,
                       **_pos(c.span)} for c in _by_name(ss.consts)],
        "enums": [{"name": e.name, "kind": e.kind, "type": e.base.name, "doc": e.doc, **_pos(e.span),
                   "values": [{"name": v.name, "value": v.value, "c_name": v.c_name, "doc": v.doc,
                               **_pos(v.span)} for v in e.values]}
                  for e in _by_name(ss.enums)],
        "structs": [{"name": st.name, "c_name": st.c_name, "size": st.size, "doc": st.doc, **_pos(st.span),
                     "members": [_member_json(mb) for mb in st.members]}
                    for st in _by_name(ss.structs)],
        "states": [{
            "name": st.name, "id": st.id, "version": st.version, "min_version": st.min_version,
            "c_name": st.c_name, "parent": st.parent.name if st.parent else None, "doc": st.doc,
            **_pos(st.span),
            "id_position": _pos(st.id_span), "version_position": _pos(st.version_span),
            "min_version_position": _pos(st.min_version_span),
            "members": [_member_json(mb) for mb in st.members],
            "subsections": [{"name": sub.name, "id": sub.state.id if sub.state else None,
                             "since": sub.since, "doc": sub.doc, **_pos(sub.span)}
                            for sub in st.subsections],
            "layouts": [{"version": v, "fields": _layout_names(st.layouts[v]),
                         "size": _layout_size(st.layouts[v])} for v in st.versions],
        } for st in _by_name(ss.states)],
        "retired": [{"name": r.name, "id": r.id, "reason": r.reason, "doc": r.doc, **_pos(r.span)}
                    for r in _by_name(ss.retired)],
    }
    doc = _root_relative(doc, {f.display: f.path for f in ss.files})
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _by_name(d: dict) -> list:
    return [d[k] for k in sorted(d)]


# --- reading -----------------------------------------------------------------


def is_snapshot(data: object) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def _span(d: dict | None) -> Span | None:
    if d is None:
        return None
    return Span(str(d["file"]), int(d["line"]), int(d["column"]))


class _Reader:
    def __init__(self, doc: dict):
        self.doc = doc
        self.files = {f["path"]: m.SchemaFile(f["path"], f["display"], tuple(f["imports"]))
                      for f in doc["files"]}
        self.by_display = {f.display: f for f in self.files.values()}
        self.enums: dict[str, m.Enum] = {}
        self.structs: dict[str, m.Struct] = {}
        self.states: dict[str, m.State] = {}
        self.struct_docs = {s["name"]: s for s in doc["structs"]}
        self.state_docs = {s["name"]: s for s in doc["states"]}

    def file_of(self, d: dict) -> m.SchemaFile:
        f = self.by_display.get(d["file"])
        if f is None:
            raise ValueError(f"item position names unknown file {d['file']!r}")
        return f

    def value_type(self, t: dict) -> m.ValueType:
        kind = t["kind"]
        if kind == "int":
            if t["name"] not in m.INT_TYPES:
                raise ValueError(f"unknown integer type {t['name']!r}")
            return m.int_type(t["name"])
        if kind == "bool":
            return m.BoolType()
        if kind == "char":
            return m.CharType(int(t["length"]))
        if kind == "bytes":
            return m.BytesType()
        if kind == "addr":
            if t["area"] not in m.ADDR_AREAS:
                raise ValueError(f"unknown addr area {t['area']!r}")
            return m.AddrType(t["area"])
        if kind == "folio":
            return m.FolioType()
        if kind in ("enum", "flags"):
            return m.EnumType(self.enums[t["name"]])
        if kind == "struct":
            return m.StructType(self.struct(t["name"], ()))
        if kind == "state":
            return ("state", t["name"])  # resolved once all states exist
        raise ValueError(f"unknown type kind {kind!r}")

    def shape(self, d: dict | None) -> m.Shape | None:
        if d is None:
            return None
        if d["kind"] == "fixed":
            return m.Fixed(int(d["length"]))
        if d["kind"] == "count":
            return m.Counted(str(d["field"]))
        if d["kind"] == "rest":
            return m.Rest()
        raise ValueError(f"unknown shape {d['kind']!r}")

    def member(self, d: dict) -> m.Member:
        if "bits" in d:
            fields = tuple(m.BitsField(b["name"], int(b["width"]), int(b["offset"]), _span(b),
                                       b.get("c_name") or b["name"], b.get("doc"))
                           for b in d["fields"])
            return m.BitsGroup(m.int_type(d["bits"]), fields, _span(d), d.get("doc"))
        f = m.Field(d["name"], self.value_type(d["type"]), _span(d), pointer=bool(d["pointer"]),
                    shape=self.shape(d["shape"]), fixed=d["fixed"], since=d["since"],
                    removed=d["removed"], reason=d["reason"], discard=bool(d["discard"]), max=d["max"],
                    range=tuple(d["range"]) if d["range"] else None,
                    custom=(d["custom"]["save"], d["custom"]["restore"]) if d["custom"] else None,
                    c_name=d.get("c_name") or d["name"], doc=d.get("doc"))
        f.since_span = f.removed_span = f.span
        return f

    def struct(self, name: str, stack: tuple) -> m.Struct:
        if name in self.structs:
            return self.structs[name]
        if name in stack:
            raise ValueError(f"struct {name!r} contains itself")
        d = self.struct_docs[name]
        members = tuple(self.member(mb) for mb in d["members"])
        st = m.Struct(name, members, _span(d), self.file_of(d), sum(mb.size for mb in members),
                      d.get("doc"), d.get("c_name") or name)
        self.structs[name] = st
        return st

    def read(self, origin: str) -> m.SchemaSet:
        doc = self.doc
        consts = {c["name"]: m.Const(c["name"], int(c["value"]), _span(c), self.file_of(c), c.get("doc"),
                                     c.get("expr", "")) for c in doc["constants"]}
        for e in doc["enums"]:
            values = tuple(m.EnumValue(v["name"], int(v["value"]), _span(v), v["c_name"], v.get("doc"))
                           for v in e["values"])
            self.enums[e["name"]] = m.Enum(e["name"], e["kind"], m.int_type(e["type"]), values, _span(e),
                                           self.file_of(e), e.get("doc"))
        for name in self.struct_docs:
            self.struct(name, ())
        for d in doc["states"]:
            subs = tuple(m.Subsection(sub["name"], _span(sub), sub["since"], sub.get("doc"))
                         for sub in d["subsections"])
            st = m.State(d["name"], int(d["id"]), int(d["version"]), int(d["min_version"]),
                         tuple(self.member(mb) for mb in d["members"]), subs, _span(d), self.file_of(d),
                         _span(d.get("id_position")), _span(d.get("version_position")),
                         _span(d.get("min_version_position")), d.get("doc"), d.get("c_name") or d["name"])
            self.states[st.name] = st
        for st in self.states.values():
            for mb in st.members:
                if not mb.is_bits and isinstance(mb.type, tuple):
                    mb.type = m.StateType(self.states[mb.type[1]])
            for sub in st.subsections:
                sub.state = self.states[sub.name]
                sub.state.parent = st
            counts: dict[str, list[str]] = {}
            for mb in st.members:
                if not mb.is_bits and isinstance(mb.shape, m.Counted):
                    counts.setdefault(mb.shape.count, []).append(mb.name)
            for mb in st.members:
                if not mb.is_bits:
                    mb.counts = tuple(counts.get(mb.name, ()))
            for v in st.versions:
                st.layouts[v] = tuple(mb for mb in st.members if mb.present_in(v))
        for d in doc["states"]:
            st = self.states[d["name"]]
            for layout in d["layouts"]:
                v = int(layout["version"])
                if v not in st.layouts or _layout_names(st.layouts[v]) != list(layout["fields"]):
                    raise ValueError(f"state {st.name!r}: stored layout of version {v} does not match "
                                     "its members")
        retired = {r["name"]: m.RetiredState(r["name"], int(r["id"]), r["reason"], _span(r),
                                             self.file_of(r), None, r.get("doc"))
                   for r in doc["retired"]}
        everything = {**consts, **self.enums, **self.structs, **self.states, **retired}
        for fd in doc["files"]:
            f = self.files[fd["path"]]
            f.items = [everything[i["name"]] for i in fd["items"]]
        files = sorted(self.files.values(), key=lambda f: f.path)
        return m.SchemaSet(files, consts, dict(self.enums), dict(self.structs), dict(self.states),
                           retired, [], origin)


def from_json(text: str, origin: str) -> m.SchemaSet:
    """Rebuild the model from a snapshot; ``UsageError`` when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise UsageError(f"{origin}: not valid JSON: {err}") from None
    if not is_snapshot(doc):
        raise UsageError(f"{origin}: not a kstate snapshot (no \"format\": \"{FORMAT}\")")
    if doc.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"{origin}: snapshot format_version {doc.get('format_version')!r} is not "
                         f"supported (this kstate reads {FORMAT_VERSION})")
    try:
        return _Reader(doc).read(origin)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
        detail = f"missing key {err}" if isinstance(err, KeyError) else str(err)
        raise UsageError(f"{origin}: malformed kstate snapshot: {detail}") from None
