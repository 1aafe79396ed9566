"""Byte spans of a decode document: which bytes hold which field, with its
type and decoded value.  The human views (``render.py``: text and hexdump;
``html_view.py``: the HTML viewer) are all built on this one walk.

The walk follows the decoded document alongside the codec description: sizes
follow from the types and the decoded array lengths, so no second decoder is
needed.  ``walk(...)`` is a generator of ``Span``s in stream order, so a
view can be written as it is walked (a 16 MiB stream is never held as text).

Kinds of span:

* ``group``: one top-level piece of the stream (the magic, an entry, the EOF
  marker, trailing data, bytes not decoded); ``title`` says what it is;
* ``frame``: a framing value (the magic, a header field, the EOF marker);
* ``leaf``: a field's value;  ``node``: a container (struct, array, nested
  state) whose members follow at ``depth + 1``;
* ``bits``: a bits group; its members follow as ``member`` spans on the same bytes;
* ``raw``: bytes kept raw (an entry that could not be decoded, unconsumed bytes);
* ``elided``: array elements left out (``value`` is how many);
* ``gap``: bytes nothing was decoded from (``title`` says why).
"""

from __future__ import annotations

import json

from .records import HEADER_SIZE, INT_CODES

NOT_DECODED = "not decoded (stopped at the first error; --lenient reads on)"
# errors after which even a lenient decode stops reading the stream
_STOPS_LENIENT = {"MISSING_EOF", "TRUNCATED", "BAD_SIZE"}


class Span:
    __slots__ = ("kind", "off", "size", "path", "type", "value", "depth", "typ", "title", "array")

    def __init__(self, kind, off, size, path, type_="", value=None, depth=0, typ=None, title=""):
        self.kind, self.off, self.size, self.path = kind, off, size, path
        self.type, self.value, self.depth, self.typ, self.title = type_, value, depth, typ, title
        self.array = None  # for an array node: (element type tuple, count, element size | None)

    @property
    def end(self) -> int:
        return self.off + self.size

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Span({self.kind}, {self.off}, {self.size}, {self.path!r}, {self.type!r}, {self.value!r})"


class Selection:
    """The ``--state``, ``--instance`` and ``--range`` filters of ``kstate decode``.

    An entry is shown when its state (name or id) and instance match and its
    bytes overlap the range; a section is also shown when one of its
    subsections matches (then only the matching subsections are shown)."""

    def __init__(self, state: str | None = None, instance: int | None = None,
                 start: int | None = None, end: int | None = None):
        self.state, self.instance, self.start, self.end = state, instance, start, end

    @property
    def active(self) -> bool:
        return any(x is not None for x in (self.state, self.instance, self.start, self.end))

    @property
    def by_entry(self) -> bool:
        return self.state is not None or self.instance is not None

    def overlaps(self, off: int, size: int) -> bool:
        lo = 0 if self.start is None else self.start
        if self.end is not None and off >= self.end:
            return False
        return off + max(size, 1) > lo

    def _own(self, e: dict) -> bool:
        if self.state is not None and self.state not in (e.get("state"), str(e.get("state_id"))):
            return False
        if self.instance is not None and e.get("instance_id") != self.instance:
            return False
        return self.overlaps(e["offset"], HEADER_SIZE + max(e.get("size", 0), 0))

    def subsections(self, e: dict) -> list:
        subs = e.get("subsections", [])
        if not self.active:
            return subs
        if self.state is None or self.state in (e.get("state"), str(e.get("state_id"))):
            return [s for s in subs if self.overlaps(s["offset"], HEADER_SIZE + max(s.get("size", 0), 0))
                    and (self.instance is None or s.get("instance_id") == self.instance)]
        return [s for s in subs if self._own(s)]

    def entry(self, e: dict) -> bool:
        return not self.active or self._own(e) or bool(self.subsections(e))

    def diagnostic(self, d: dict, shown: list) -> bool:
        """Whether a diagnostic belongs to what is shown (``shown``: (start, end) of shown entries)."""
        if not self.active:
            return True
        off = d["offset"]
        if self.by_entry:
            if not any(a <= off < b for a, b in shown):
                return False
        return self.overlaps(off, 1)

    def filter_doc(self, doc: dict) -> dict:
        """The document with only the selected entries (and their diagnostics)."""
        if not self.active:
            return doc
        entries, shown = [], []
        for e in doc["entries"]:
            if not self.entry(e):
                continue
            subs = self.subsections(e)
            if "subsections" in e:
                e = {**e, "subsections": subs}
            entries.append(e)
            for x in (e, *subs):
                shown.append((x["offset"], x["offset"] + HEADER_SIZE + max(x.get("size", 0), 0)))
        diags = [d for d in doc["diagnostics"] if self.diagnostic(d, shown)]
        return {**doc, "entries": entries, "diagnostics": diags}


def parse_range(text: str) -> tuple[int | None, int | None]:
    """``START:END`` (bytes, decimal or 0x hex, either may be empty) -> (start, end)."""
    if ":" not in text:
        raise ValueError(f"expected START:END (for instance 0x100:0x200 or 4096:), found {text!r}")
    a, b = text.split(":", 1)

    def num(s: str) -> int | None:
        s = s.strip()
        if not s:
            return None
        try:
            v = int(s, 0)
        except ValueError:
            raise ValueError(f"expected a byte offset (decimal or 0x hex), found {s!r}") from None
        if v < 0:
            raise ValueError(f"expected a byte offset >= 0, found {s!r}")
        return v

    start, end = num(a), num(b)
    if start is not None and end is not None and end <= start:
        raise ValueError(f"expected END > START, found {text!r}")
    return start, end


# --- names and values ---------------------------------------------------------

def type_name(typ: tuple) -> str:
    kind = typ[0]
    if kind == "int":
        return typ[1]
    if kind == "char":
        return f"char[{typ[1]}]"
    if kind == "addr":
        return f"addr({typ[1]})"
    if kind in ("enum", "struct", "state"):
        return typ[1]
    if kind == "bits":  # ("bits", int type, shift, width)
        return f"{typ[1]}:{typ[3]}"
    return kind  # bool, bytes, folio


def show(typ: tuple | None, value, limit: int = 32) -> str:
    """A decoded value the way a person reads it (strings JSON-quoted, so control
    bytes from a blob never reach a terminal)."""
    kind = typ[0] if typ else None
    if value is None:
        return ""
    if kind in ("addr", "folio") and isinstance(value, int):
        return f"{value:#x}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "enum" and isinstance(value, list):  # flags
        parts = [str(v) if isinstance(v, str) else f"{v:#x}" for v in value]
        return "|".join(parts) if parts else "0 (no flag)"
    if kind == "enum" and isinstance(value, int):
        return f"{value} (no name)"
    if kind == "enum":
        return str(value)
    if kind == "char" and isinstance(value, dict):
        return "bytes " + _hex(value.get("bytes", ""), limit)
    if kind == "bytes" and isinstance(value, str):
        return _hex(value, limit) if value else "(empty)"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _hex(h: str, limit: int) -> str:
    if len(h) <= 2 * limit:
        return h
    return f"{h[:2 * limit]}... ({len(h) // 2} bytes)"


def entry_path(e: dict, parent: str | None = None) -> str:
    name = e.get("state") or f"state {e['state_id']}"
    return f"{parent}/{name}" if parent else f"{name}[{e['instance_id']}]"


def entry_title(e: dict) -> str:
    name = e.get("state") or "unknown state"
    return (f"{e['section']} {name} (id {e['state_id']}) version {e['version']} "
            f"instance {e['instance_id']}, payload {e['size']} byte(s)")


_SECTION_CODES = {"section": 2, "subsection": 1}


def header_spans(e: dict, path: str, depth: int, nested: bool = False, section=None):
    """The five decoded i32 of an entry (or nested state) header; a nested state's
    section_type is its enclosing entry's (``section``)."""
    off = e["offset"]
    section = e.get("section") if section is None else section
    stype = _SECTION_CODES.get(section, section)
    vals = [("section_type", stype, section if not nested else ""),
            ("state_id", e["state_id"], e.get("state") or ("unknown" if not nested else "")),
            ("version_id", e["version"], ""), ("instance_id", e.get("instance_id", 0), ""),
            ("size", e["size"], "")]
    i32 = ("int", "i32")
    for i, (name, v, note) in enumerate(vals):
        shown = f"{v} ({str(note).upper() if name == 'section_type' else note})" if note else v
        yield Span("frame", off + 4 * i, 4, f"{path} header.{name}", "i32", shown, depth, i32)


# --- the walk -----------------------------------------------------------------

class Walker:
    """``walk()`` yields the spans of ``doc`` in stream order.

    ``max_elements``: arrays show at most that many elements, then one
    ``elided`` span for the rest (None: all).  ``template_over``: an array of
    fixed-size elements longer than that yields its first element only (then
    one ``elided`` span), for a view that reads the others itself from the
    bytes with that element's layout (the HTML viewer)."""

    def __init__(self, codecs, doc: dict, lenient: bool = False, max_elements: int | None = None,
                 selection: Selection | None = None, template_over: int | None = None, data=None):
        self.c = codecs
        self.doc = doc
        self.bo = doc.get("byteorder") or "little"
        self.comp = codecs.compiler(self.bo)
        self.lenient = lenient
        self.max = max_elements
        self.sel = selection or Selection()
        self.template_over = template_over
        self.data = data  # the stream, when the view has it: an EOF marker is only named where it is
        self.emit = True
        self.section = "section"  # of the entry being walked (nested headers repeat it)
        self.in_template = False

    # sizes of fixed-size things
    def size_of(self, typ: tuple) -> int | None:
        try:
            return self.comp.size_of(typ)
        except Exception:  # noqa: BLE001 - a type without a fixed size
            return None

    def walk(self):
        doc = self.doc
        if doc.get("byteorder") is None:
            if doc["size"]:
                yield Span("group", 0, doc["size"], "", title="not decoded (no stream magic)")
                yield Span("gap", 0, doc["size"], "", title="not decoded (no stream magic)")
            return
        sel = self.sel
        plain = not sel.by_entry
        if plain and sel.overlaps(0, 4):
            yield Span("group", 0, 4, "magic", title=f"stream magic ({self.bo}-endian)")
            yield Span("frame", 0, 4, "magic", "u32", f"0x3b37778c ({self.bo}-endian)", 0, ("int", "u32"))
        end = 4
        for e in doc["entries"]:
            eend = e["offset"] + HEADER_SIZE + max(e.get("size", 0), 0)
            subs = sel.subsections(e) if sel.active else e.get("subsections", [])
            if sel.entry(e):
                path = entry_path(e)
                if not sel.active or sel._own(e):
                    yield from self.entry(e, path)
                for s in subs:
                    yield from self.entry(s, entry_path(s, path), 1)
            end = max(end, eend, *(s["offset"] + HEADER_SIZE + max(s.get("size", 0), 0)
                                   for s in e.get("subsections", [])))
        if plain:
            yield from self.tail(end)

    def tail(self, end: int):
        """What follows the last entry: the EOF marker, trailing data, or bytes not decoded."""
        doc, n = self.doc, self.doc["size"]
        if end >= n:
            return
        errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
        stopped = (any(d["code"] in _STOPS_LENIENT or (d["code"] == "LIMIT_EXCEEDED" and not d["path"])
                       for d in errors) if self.lenient else bool(errors))
        sel = self.sel
        at_end = [d for d in errors if d["offset"] == end and d["code"] == "TRUNCATED" and not d["path"]]
        if at_end:
            title = f"truncated: {n - end} byte(s), too few for an entry header"
            spans = [Span("gap", end, n - end, "", title=title)]
        elif stopped or (self.data is not None and bytes(self.data[end:end + 4]) != b"\xff\xff\xff\xff"):
            spans = [Span("gap", end, n - end, "", title=NOT_DECODED)]
        else:
            spans = [Span("frame", end, 4, "EOF", "i32", -1, 0, ("int", "i32"))]
            if end + 4 < n:
                spans.append(Span("raw", end + 4, n - end - 4, "trailing data", title="trailing data"))
        for sp in spans:
            if sel.overlaps(sp.off, sp.size):
                yield Span("group", sp.off, sp.size, sp.path or sp.title,
                           title=sp.title or "end of stream marker")
                yield sp

    def entry(self, e: dict, path: str, depth: int = 0):
        off, size = e["offset"], max(e.get("size", 0), 0)
        self.section = e.get("section")
        yield Span("group", off, HEADER_SIZE + size, path, title=entry_title(e), value=e, depth=depth)
        yield from header_spans(e, path, depth + 1)
        payload = off + HEADER_SIZE
        if "fields" in e and e.get("state") in self.c.states:
            layout = self.c.states[e["state"]]["layouts"].get(e["version"]) or []
            end = yield from self.members(layout, e["fields"], payload, path, depth + 1)
            if end < payload + size:
                yield Span("raw", end, payload + size - end, f"{path} (unconsumed)", depth=depth + 1,
                           title="unconsumed")
        elif "raw" in e:
            n = len(e["raw"]) // 2
            codes = [d["code"] for d in self.doc["diagnostics"] if off <= d["offset"] < payload + size]
            why = f"not decoded ({codes[0]} in this entry)" if codes else "not decoded"
            if "RETIRED_STATE" in codes:
                why = "kept raw (a retired state)"
            elif e.get("section") == "subsection" and not codes:
                why = "kept raw (its section was not decoded)"
            start = yield from self.partial(e, payload, path, depth + 1)
            if start > payload:
                why = why.replace("not decoded", "not decoded from here on", 1)
            if payload + n > start:
                yield Span("raw", start, payload + n - start, f"{path} payload",
                           value=e["raw"][2 * (start - payload):], depth=depth + 1, title=why)

    def partial(self, e: dict, payload: int, path: str, depth: int):
        """The members a lenient decode read before the error of a raw entry or nested
        state (its ``partial``); the offset after them."""
        part, state = e.get("partial"), e.get("state")
        if not isinstance(part, dict) or state not in self.c.states:
            return payload
        layout = self.c.states[state]["layouts"].get(e.get("version")) or []
        return (yield from self.members(layout, part, payload, path, depth))

    def members(self, layout, fields: dict, off: int, path: str, depth: int):
        for mb in layout:
            if "bits" in mb:
                if not any(f[0] in fields for f in mb["fields"]):
                    return off  # a partial decode that stopped at this group
                code, size = INT_CODES[mb["bits"]]
                nbits = size * 8
                group = "{" + ", ".join(f[0] for f in mb["fields"]) + "}"
                if self.emit:
                    yield Span("bits", off, size, f"{path}.{group}", f"{mb['bits']} bits", None, depth,
                               ("int", mb["bits"]))
                    for name, width, lo in mb["fields"]:
                        if name in fields:
                            shift = lo if self.bo == "little" else nbits - lo - width
                            typ = ("bits", mb["bits"], shift, width)
                            yield Span("member", off, size, f"{path}.{name}", type_name(typ), fields[name],
                                       depth, typ)
                off += size
                continue
            name = mb["name"]
            if name not in fields:
                return off
            off = yield from self.field(mb, fields[name], off, f"{path}.{name}", depth)
        return off

    def field(self, mb: dict, value, off: int, path: str, depth: int):
        typ, shape = mb["type"], mb.get("shape")
        if shape is None:
            return (yield from self.value(typ, value, off, path, depth))
        if typ[0] == "bytes":
            size = len(value) // 2
            if self.emit:
                yield Span("leaf", off, size, path, f"bytes[{size}]", value, depth, typ)
            return off + size
        count = len(value)
        esize = self.size_of(typ)
        if esize is not None:
            total = count * esize
        else:  # nested states: each is its header and its size
            total = sum(HEADER_SIZE + max(v.get("size", 0), 0) for v in value if isinstance(v, dict))
        node = Span("node", off, total, path, f"{type_name(typ)}[{count}]", None, depth, typ)
        node.array = (typ, count, esize)
        if self.emit:
            yield node
        limit = count if self.max is None else min(count, self.max)
        templated = (self.template_over is not None and esize is not None and count > self.template_over
                     and not self.in_template)
        if templated:  # element 0 is the template: arrays inside it are walked whole
            limit = 1
            self.in_template = True
        try:
            for i in range(limit):
                off = yield from self.value(typ, value[i], off, f"{path}[{i}]", depth + 1)
        finally:
            if templated:
                self.in_template = False
        if limit < count:
            start = off
            if esize is not None:
                off += esize * (count - limit)
            else:
                emit, self.emit = self.emit, False
                try:
                    for i in range(limit, count):
                        off = yield from self.value(typ, value[i], off, "", depth + 1)
                finally:
                    self.emit = emit
            if self.emit:
                yield Span("elided", start, off - start, path, "", count - limit, depth + 1, typ,
                           title=f"[{limit}..{count - 1}]")
        return off

    def value(self, typ: tuple, value, off: int, path: str, depth: int):
        kind = typ[0]
        if kind == "struct":
            size = self.size_of(typ)
            if self.emit:
                yield Span("node", off, size or 0, path, typ[1], None, depth, typ)
            return (yield from self.members(self.c.structs[typ[1]], value, off, path, depth + 1))
        if kind == "state":
            size = value.get("size", 0)
            if self.emit:
                yield Span("node", off, HEADER_SIZE + size, path, f"state {typ[1]}", None, depth, typ)
                yield from header_spans(value, path, depth + 1, nested=True, section=self.section)
            payload = off + HEADER_SIZE
            if "fields" in value:
                layout = self.c.states[typ[1]]["layouts"].get(value["version"], [])
                yield from self.members(layout, value["fields"], payload, path, depth + 1)
            else:
                start = yield from self.partial(value, payload, path, depth + 1)
                if self.emit and payload + size > start:
                    raw = value.get("raw")
                    yield Span("raw", start, payload + size - start, f"{path} payload",
                               value=raw[2 * (start - payload):] if isinstance(raw, str) else raw,
                               depth=depth + 1, title="not decoded from here on (an error in this nested state)"
                               if start > payload else "not decoded (an error in this nested state)")
            return payload + size
        size = self.size_of(typ) or 0
        if self.emit:
            yield Span("leaf", off, size, path, type_name(typ), value, depth, typ)
        return off + size


def count_entries(doc: dict) -> tuple[int, int]:
    """(sections, subsections) in the document."""
    subs = sum(len(e.get("subsections", [])) for e in doc["entries"])
    return len(doc["entries"]), subs
