"""The ``docs`` backend: a Markdown page per schema file.

Each state gets its properties, a field table and a version-history grid
(which field is on the wire in which version), then its subsections.  The
view is computed here; the template only lays it out.
"""

from __future__ import annotations

import re

from .. import collector
from .. import model as m
from ..templating import render as render_template

LANG = "docs"
OWNS = "docs"


# control characters (NUL, terminal escape sequences) and bidirectional
# overrides ("Trojan Source") are shown as \xNN / \uNNNN, never emitted raw
_HIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    return _HIDDEN.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text)


def cell(text: str | None) -> str:
    """Text made safe for one Markdown table cell."""
    if not text:
        return ""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return "<br>".join(_visible(line.strip()) for line in text.splitlines())


def comment(text: str) -> str:
    """Text inside an HTML comment: ``--`` and ``>`` cannot end it."""
    return _visible(" ".join(text.replace("-", "&#45;").replace(">", "&gt;").split()))


def code(text: str) -> str:
    """A file name as a Markdown code span: backticks and line breaks cannot end it."""
    return _visible(" ".join(text.replace("`", "'").split()))


def paragraph(text: str | None) -> str:
    if not text:
        return ""
    return _visible(text.replace("<", "&lt;").replace(">", "&gt;"))


def _version_text(mb) -> tuple[str, str]:
    since = str(mb.since) if mb.since is not None else ""
    removed = str(mb.removed) if mb.removed is not None else ""
    return since, removed


def _removed_note(f: m.Field, st: m.State | None) -> str:
    hook = st.restore_hook(f) if st is not None else None
    if f.discard:
        tail = " (old bytes discarded)"
    elif hook:
        tail = f" (restore hook `{hook}()`)"
    elif f.custom:
        tail = ""
    else:
        tail = " (on the wire of no version read: no restore hook)"
    return f"removed: {cell(f.reason)}" + tail


def _notes(f: m.Field, st: m.State | None) -> str:
    notes = []
    if f.fixed is not None:
        notes.append(f"always {f.fixed:#x}")
    if f.max is not None:
        notes.append(f"at most {f.max}")
    if f.range is not None:
        notes.append(f"range {f.range[0]} .. {f.range[1]}")
    if f.counts:
        notes.append("count of " + ", ".join(f"`{c}`" for c in f.counts))
    if f.custom:
        notes.append(f"C: custom save `{f.custom[0]}`, restore `{f.custom[1]}`")
    if f.c_name != f.name:
        notes.append(f"C name `{f.c_name}`")
    if f.removed is not None:
        notes.append(_removed_note(f, st))
    if f.doc:
        notes.append(cell(f.doc))
    return "; ".join(notes)


def _rows(members, versions, st: m.State | None = None) -> list[dict]:
    rows = []
    for mb in members:
        since, removed = _version_text(mb)
        marks = ["x" if mb.present_in(v) else "" for v in versions]
        if mb.is_bits:
            for b in mb.fields:
                rows.append({"name": b.name, "type": f"bits {mb.type.name}: {b.width} (bit {b.offset})",
                             "since": since, "removed": removed, "notes": cell(b.doc), "marks": marks})
        else:
            rows.append({"name": mb.name, "type": cell(mb.describe_type()), "since": since,
                         "removed": removed, "notes": _notes(mb, st), "marks": marks})
    return rows


def _state_view(st: m.State) -> dict:
    versions = list(st.versions)
    return {
        "name": st.name, "doc": paragraph(st.doc), "id": st.id, "version": st.version,
        "min_version": st.min_version, "parent": st.parent.name if st.parent else None,
        "c_id": st.c_id, "versions": versions, "rows": _rows(st.members, versions, st),
        "subsections": [{"name": s.name, "since": s.since or "", "doc": cell(s.doc)}
                        for s in st.subsections],
        "sizes": [{"version": v, "fields": ", ".join(f"`{n}`" for n, _ in m.member_names(st.layouts[v]))}
                  for v in versions],
    }


def _item_view(item) -> dict:
    if isinstance(item, m.State):
        return {"kind": "state", **_state_view(item)}
    if isinstance(item, m.Struct):
        return {"kind": "struct", "name": item.name, "doc": paragraph(item.doc), "size": item.size,
                "rows": _rows(item.members, [])}
    if isinstance(item, m.Enum):
        return {"kind": item.kind, "name": item.name, "doc": paragraph(item.doc), "base": item.base.name,
                "entries": [{"name": v.name, "value": v.value if item.kind == "enum" else f"{v.value:#x}",
                            "c_name": v.c_name, "doc": cell(v.doc)} for v in item.values]}
    if isinstance(item, m.Const):
        return {"kind": "const", "name": item.name, "doc": paragraph(item.doc), "value": item.value}
    return {"kind": "retired", "name": item.name, "doc": paragraph(item.doc), "id": item.id,
            "reason": paragraph(item.reason)}


@collector.paused()
def render(schema_set: m.SchemaSet) -> dict[str, str]:
    out = {}
    for f in schema_set.files:
        out[f"docs/{f.stem}.md"] = render_template(
            "docs/schema.md.j2", file=comment(f.path), path=code(f.path),
            imports=[code(i) for i in f.imports], items=[_item_view(i) for i in f.items])
    return out
