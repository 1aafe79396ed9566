"""The ``python`` backend: one module per schema file holding the codec
description (``kstate.codec.describe``) of its enums, structs and every
version of every state, plus ``python/__init__.py`` that merges them and
builds the codecs with ``kstate.codec.runtime``.

The description rendered here is exactly what ``describe_file`` builds in
memory, so the generated path and the in-memory path share one
implementation (tests check both decode identically).  Templates only lay
out precomputed text.
"""

from __future__ import annotations

import re

from .. import collector
from .. import model as m
from ..codec.construct_source import render as construct_source
from ..codec.describe import describe_file, member_of
from ..templating import render as render_template

LANG = "python"
OWNS = "python"
RESERVED = {"ENUMS", "STRUCTS", "STATES", "RETIRED", "DESCRIPTION", "MODULES", "STRUCT_CODECS",
            "PAYLOAD_CODECS", "cs", "k"}


# control characters (NUL makes a module unimportable; ESC sequences reach a
# terminal) and bidirectional overrides ("Trojan Source", CVE-2021-42574)
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _one_line(text: str | None) -> str:
    """Text for a ``#`` comment: one line (every line break, including the
    Unicode ones Python's tokenizer does not take as a newline, is a space),
    other control and bidi characters spelled as ``\\xNN``/``\\uNNNN``."""
    text = " ".join((text or "").split())
    return _HIDDEN.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text)


def _in_docstring(text: str) -> str:
    """A file or folder name inside a generated ``\"\"\"`` docstring: backslashes and
    quotes escaped, one line, so no name can end the string or form an escape."""
    return _one_line(text.replace("\\", "\\\\").replace('"', '\\"'))


def _member_comment(mb) -> str:
    parts = []
    if mb.is_bits:
        return _one_line(mb.doc)
    if mb.since is not None:
        parts.append(f"since {mb.since}")
    if mb.removed is not None:
        parts.append(f"removed in {mb.removed}: {_one_line(mb.reason)}")
    if mb.doc:
        parts.append(_one_line(mb.doc))
    return "; ".join(parts)


def _members(members) -> list[dict]:
    return [{"text": repr(member_of(mb)), "comment": _member_comment(mb)} for mb in members]


def _module(sf: m.SchemaFile) -> str:
    desc = describe_file(sf)
    consts = [{"name": m.py_identifier(c.name), "value": c.value} for c in sf.items_of(m.Const)
              if m.py_identifier(c.name) not in RESERVED and not c.name.startswith("_")]
    enums = [{"name": e.name, "name_repr": repr(e.name), "kind": e.kind, "kind_repr": repr(e.kind),
              "base": e.base.name, "base_repr": repr(e.base.name), "doc": _one_line(e.doc),
              "entries": [f"({v.name!r}, {v.value:#x})" for v in e.values]}
             for e in sf.items_of(m.Enum)]
    structs = [{"name": s.name, "name_repr": repr(s.name), "size": s.size, "doc": _one_line(s.doc),
                "members": _members(s.members)} for s in sf.items_of(m.Struct)]
    states = []
    for s in sf.items_of(m.State):
        d = desc["states"][s.name]
        states.append({
            "name": s.name, "name_repr": repr(s.name), "upper": m.py_identifier(s.name.upper()),
            "id": s.id, "version": s.version, "min_version": s.min_version, "doc": _one_line(s.doc),
            "parent_repr": repr(d["parent"]), "subsections_repr": repr(d["subsections"]),
            "layouts": [{"version": v, "members": _members(s.layouts[v])} for v in s.versions],
        })
    retired = [{"name_repr": repr(r.name), "id": r.id, "reason": _one_line(r.reason)}
               for r in sf.items_of(m.RetiredState)]
    return render_template("python/module.py.j2", source=_in_docstring(sf.path), consts=consts, enums=enums,
                           structs=structs, states=states, retired=retired,
                           construct_source=construct_source(desc).rstrip("\n"))


def module_name(sf: m.SchemaFile) -> str:
    """``kvm/gmem.kstate`` -> ``kvm.gmem`` (relative to the generated package)."""
    return sf.stem.replace("/", ".")


@collector.paused()
def render(schema_set: m.SchemaSet) -> dict[str, str]:
    out: dict[str, str] = {}
    folders: set[str] = set()
    for sf in schema_set.files:
        out[f"python/{sf.stem}.py"] = _module(sf)
        parts = sf.stem.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folders.add("/".join(parts[:i]))
    for folder in sorted(folders):
        out[f"python/{folder}/__init__.py"] = render_template("python/subpackage.py.j2",
                                                               folder=_in_docstring(folder))
    modules = sorted(repr(module_name(sf)) for sf in schema_set.files)
    out["python/__init__.py"] = render_template("python/init.py.j2", modules=modules)
    return out
