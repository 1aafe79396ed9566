"""The canonical JSON snapshot of a schema set, and loading it back.

The snapshot is the stored baseline ``kstate check`` compares against
without the old sources, and what ``decode --schema`` accepts in place of
``.kstate`` files.  It holds the whole model: every item with its source
position, every member with its versions and annotations, and every state's
every layout.  ``to_json`` writes it; ``from_json`` rebuilds the same model
through ``snapshot_read`` (the same rules as ``.kstate`` text; layouts are
recomputed from the members and checked against the stored ones).  Keys
come in a fixed order; the output is byte-identical for the same schemas.
"""

from __future__ import annotations

import json
import re

from . import jsontext, model as m
from .errors import Diagnostic, SchemaError, Span
from .limits import MAX_SNAPSHOT_BYTES

FORMAT = "kstate-snapshot"
FORMAT_VERSION = 1


# --- writing -----------------------------------------------------------------


def _positions(names: dict[str, str]):
    """The writer of source positions, each file named relative to the schema
    root (as ``files[].path``), never as the working directory sees it: the
    snapshot is the same file whatever folder ``kstate compile`` ran in."""
    def pos(span: Span | None) -> dict | None:
        if span is None:
            return None
        return {"file": names.get(span.file, span.file), "line": span.line, "column": span.column}
    return pos


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


def _member_json(mb: m.Member, pos) -> dict:
    if mb.is_bits:
        return {
            "bits": mb.type.name,
            "fields": [{"name": b.name, "width": b.width, "offset": b.offset, "c_name": b.c_name,
                        "doc": b.doc, **pos(b.span)} for b in mb.fields],
            "doc": mb.doc,
            **pos(mb.span),
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
        **pos(mb.span),
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


_BIDI = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def to_json(ss: m.SchemaSet) -> str:
    pos = _positions({f.display: f.path for f in ss.files})
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": [{"path": f.path, "display": f.path, "imports": list(f.imports),
                   "items": [{"kind": i.item_kind, "name": i.name} for i in f.items]}
                  for f in ss.files],
        "constants": [{"name": c.name, "value": c.value, "expr": c.expr_text, "doc": c.doc,
                       **pos(c.span)} for c in _by_name(ss.consts)],
        "enums": [{"name": e.name, "kind": e.kind, "type": e.base.name, "doc": e.doc, **pos(e.span),
                   "values": [{"name": v.name, "value": v.value, "c_name": v.c_name, "doc": v.doc,
                               **pos(v.span)} for v in e.values]}
                  for e in _by_name(ss.enums)],
        "structs": [{"name": st.name, "c_name": st.c_name, "size": st.size, "doc": st.doc, **pos(st.span),
                     "members": [_member_json(mb, pos) for mb in st.members]}
                    for st in _by_name(ss.structs)],
        "states": [{
            "name": st.name, "id": st.id, "version": st.version, "min_version": st.min_version,
            "c_name": st.c_name, "parent": st.parent.name if st.parent else None, "doc": st.doc,
            **pos(st.span),
            "id_position": pos(st.id_span), "version_position": pos(st.version_span),
            "min_version_position": pos(st.min_version_span),
            "members": [_member_json(mb, pos) for mb in st.members],
            "subsections": [{"name": sub.name, "id": sub.state.id if sub.state else None,
                             "since": sub.since, "doc": sub.doc, **pos(sub.span)}
                            for sub in st.subsections],
            "layouts": [{"version": v, "fields": _layout_names(st.layouts[v]),
                         "size": _layout_size(st.layouts[v])} for v in st.versions],
        } for st in _by_name(ss.states)],
        "retired": [{"name": r.name, "id": r.id, "reason": r.reason, "doc": r.doc, **pos(r.span)}
                    for r in _by_name(ss.retired)],
    }
    # control and bidi characters as \uXXXX escapes: the same text when read
    # back, but inert in an editor or a terminal (json.dumps escapes only C0);
    # all of them but DEL are outside ASCII, which most snapshots never leave
    text = jsontext.dumps(doc)
    if text.isascii() and "\x7f" not in text:
        return text + "\n"
    return _BIDI.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n"


def _by_name(d: dict) -> list:
    return [d[k] for k in sorted(d)]


# --- reading -----------------------------------------------------------------


def is_snapshot(data: object) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def from_json(text: str, origin: str) -> m.SchemaSet:
    """Rebuild the model from a snapshot.  The snapshot is input: it is checked
    like ``.kstate`` text (``snapshot_read``); ``SchemaError`` with every problem,
    positioned in the JSON text and naming the JSON path, when it breaks a rule."""
    from .snapshot_read import CODE, _JsonText, read

    where = _JsonText(origin, text)

    def fail(code: str, message: str, line: int = 1, column: int = 1):
        return SchemaError([Diagnostic(code, message, Span(origin, line, column))], where)

    if len(text) > MAX_SNAPSHOT_BYTES:
        raise fail("FILE_TOO_LARGE", f"{origin} is larger than {MAX_SNAPSHOT_BYTES} bytes (the limit of a "
                   "snapshot)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise fail(CODE, f"not valid JSON: {err.msg}", err.lineno, err.colno) from None
    except RecursionError:
        raise fail(CODE, "not valid JSON: arrays and objects nest too deeply") from None
    except ValueError as err:  # an integer of more than 4300 digits
        raise fail(CODE, f"not valid JSON: {str(err).split(';')[0]}") from None
    if not is_snapshot(doc):
        found = doc.get("format") if isinstance(doc, dict) else None
        raise fail(CODE, f"$.format: not a kstate snapshot (expected \"format\": \"{FORMAT}\", found "
                   f"{json.dumps(found)[:60] if isinstance(found, str) else 'none'})",
                   *_at(where, "$.format"))
    if type(doc.get("format_version")) is not int or doc["format_version"] != FORMAT_VERSION:
        found = doc.get("format_version")
        shown = found if type(found) is int and abs(found) < 1 << 64 else "another value"
        raise fail(CODE, f"$.format_version: snapshot format_version {shown} is not supported (this "
                   f"kstate reads {FORMAT_VERSION})", *_at(where, "$.format_version"))
    return read(text, origin, doc)


def _at(where, path: str) -> tuple[int, int]:
    span = where.span(path)
    return span.line, span.column
