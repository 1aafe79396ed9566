"""Human formats of a decode document: ``text`` (an indented tree with
offsets) and ``hexdump`` (every byte, 16 to a line, each line annotated with
the paths of the fields its bytes belong to).

Both walk the decoded document alongside the codec description to recover
each field's byte span (sizes follow from the types and the decoded array
lengths), so they need no second decoder.
"""

from __future__ import annotations

import json

from .records import HEADER_SIZE, INT_CODES

# span kinds: "leaf" a value's bytes; "node" a container (struct, array, nested
# state) whose children follow; "bits" a bits group (its members follow as
# "member" spans on the same bytes); "frame" magic/headers/EOF; "raw" raw bytes.


class _Walker:
    def __init__(self, codecs):
        self.c = codecs
        self.comp = codecs.compiler("little")
        self.out: list[tuple] = []  # (offset, size, label, value, depth, kind)

    def add(self, off, size, label, value, depth, kind):
        self.out.append((off, size, label, value, depth, kind))

    def entry(self, e: dict, path: str, depth: int) -> int:
        off, size = e["offset"], e["size"]
        title = (f"{e['section']} {e.get('state') or 'state ' + str(e['state_id'])} (id {e['state_id']}) "
                 f"version {e['version']} instance {e['instance_id']}, {size} byte(s)")
        self.add(off, HEADER_SIZE, f"{path} header", title, depth, "frame")
        payload = off + HEADER_SIZE
        if "fields" in e and e.get("state") in self.c.states:
            layout = self.c.states[e["state"]]["layouts"].get(e["version"])
            end = self.members(layout or [], e["fields"], payload, path, depth + 1)
            if end < payload + max(size, 0):
                self.add(end, payload + size - end, f"{path} (unconsumed)", None, depth + 1, "raw")
        elif "raw" in e:
            self.add(payload, len(e["raw"]) // 2, f"{path} raw", e["raw"], depth + 1, "raw")
        return payload + max(size, 0)

    def members(self, layout, fields: dict, off: int, path: str, depth: int) -> int:
        for mb in layout:
            if "bits" in mb:
                size = INT_CODES[mb["bits"]][1]
                group = "{" + ", ".join(f[0] for f in mb["fields"]) + "}"
                self.add(off, size, f"{path}.{group}", None, depth, "bits")
                for name, _, _ in mb["fields"]:
                    if name in fields:
                        self.add(off, size, f"{path}.{name}", fields[name], depth, "member")
                off += size
                continue
            name = mb["name"]
            if name not in fields:
                return off
            off = self.field(mb, fields[name], off, f"{path}.{name}", depth)
        return off

    def field(self, mb: dict, value, off: int, path: str, depth: int) -> int:
        typ, shape = mb["type"], mb.get("shape")
        if shape is None:
            return self.value(typ, value, off, path, depth)
        if typ[0] == "bytes":
            size = len(value) // 2
            self.add(off, size, path, value, depth, "leaf")
            return off + size
        self.add(off, 0, path, f"[{len(value)} element(s)]", depth, "node")
        for i, v in enumerate(value):
            off = self.value(typ, v, off, f"{path}[{i}]", depth + 1)
        return off

    def value(self, typ: tuple, value, off: int, path: str, depth: int) -> int:
        kind = typ[0]
        if kind == "struct":
            self.add(off, 0, path, None, depth, "node")
            return self.members(self.c.structs[typ[1]], value, off, path, depth + 1)
        if kind == "state":
            title = f"nested {value.get('state')} version {value.get('version')}, {value.get('size')} byte(s)"
            self.add(off, HEADER_SIZE, f"{path} header", title, depth, "frame")
            payload = off + HEADER_SIZE
            if "fields" in value:
                layout = self.c.states[typ[1]]["layouts"].get(value["version"], [])
                self.members(layout, value["fields"], payload, path, depth + 1)
            else:
                self.add(payload, len(value.get("raw", "")) // 2, f"{path} raw", value.get("raw"),
                         depth + 1, "raw")
            return payload + value.get("size", 0)
        size = self.comp.size_of(typ)
        self.add(off, size, path, value, depth, "leaf")
        return off + size


def spans(codecs, doc: dict) -> list[tuple]:
    w = _Walker(codecs)
    if doc.get("byteorder") is None:
        return w.out
    w.add(0, 4, "magic", f"0x3B37778C ({doc['byteorder']}-endian)", 0, "frame")
    end = 4
    for e in doc["entries"]:
        path = f"{e.get('state') or 'state ' + str(e['state_id'])}[instance {e['instance_id']}]"
        end = max(end, w.entry(e, path, 0))
        for s in e.get("subsections", []):
            spath = f"{path}/{s.get('state') or 'state ' + str(s['state_id'])}"
            end = max(end, w.entry(s, spath, 1))
    codes = {d["code"] for d in doc["diagnostics"]}
    if "MISSING_EOF" not in codes and end + 4 <= doc["size"] and not (codes & {"TRUNCATED", "BAD_SIZE"}):
        w.add(end, 4, "EOF", "-1", 0, "frame")
        if end + 4 < doc["size"]:
            w.add(end + 4, doc["size"] - end - 4, "trailing data", None, 0, "raw")
    return w.out


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and not value.startswith(("[", "0x", "nested", "section", "subsection")):
        return json.dumps(value)
    return value if isinstance(value, str) else json.dumps(value)


def text(codecs, doc: dict) -> str:
    """An indented tree with offsets."""
    lines = [f"kstate stream: {doc['byteorder'] or 'unknown'}-endian, {doc['size']} byte(s), "
             f"{len(doc['entries'])} entr{'y' if len(doc['entries']) == 1 else 'ies'}"]
    for off, size, label, value, depth, kind in spans(codecs, doc):
        if kind == "bits":
            continue
        indent = "  " * (depth + 1)
        if kind == "frame":
            lines.append(f"{off:>8}  {indent}{label}: {value}")
        elif kind == "raw":
            shown = "" if value is None else f" {value[:64]}{'...' if len(value) > 64 else ''}"
            lines.append(f"{off:>8}  {indent}{label} ({size} byte(s)){shown}")
        else:
            name = label.rsplit(".", 1)[-1] if not label.endswith("]") else label.rsplit(".", 1)[-1]
            shown = _show(value) if kind != "node" or value else ""
            lines.append(f"{off:>8}  {indent}{name}{': ' + shown if shown else ''}")
    for d in doc["diagnostics"]:
        lines.append(f"{d['severity']}[{d['code']}] at offset {d['offset']} {d['path'] or '(stream)'}: "
                     f"{d['message']}")
    return "\n".join(lines) + "\n"


def hexdump(codecs, doc: dict, data) -> str:
    """Every byte, 16 to a line, with the paths of the fields each line holds."""
    marks = [(off, off + size, label) for off, size, label, _, _, kind in spans(codecs, doc)
             if size > 0 and kind in ("leaf", "frame", "raw", "bits")]
    marks.sort()
    lines = []
    n = len(data)
    j = 0
    active: list = []
    for start in range(0, n, 16):
        stop = min(start + 16, n)
        while j < len(marks) and marks[j][0] < stop:
            active.append(marks[j])
            j += 1
        active = [m for m in active if m[1] > start]
        labels = [m[2] for m in active if m[0] < stop]
        chunk = bytes(data[start:stop])
        hexs = " ".join(f"{b:02x}" for b in chunk)
        text_ = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start:08x}  {hexs:<47}  |{text_:<16}|  {'; '.join(labels) if labels else '(not decoded)'}")
    for d in doc["diagnostics"]:
        lines.append(f"{d['severity']}[{d['code']}] at offset {d['offset']} {d['path'] or '(stream)'}: "
                     f"{d['message']}")
    return "\n".join(lines) + "\n"
