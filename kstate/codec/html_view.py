"""``kstate decode --format html``: one self-contained HTML file (no network,
no external assets; it works from ``file://``) with the entry and field tree
beside the hex of the stream.

The page is ``templates/viewer/viewer.html`` (layout, style and script; no
data).  This module writes it with two data blocks:

* ``<script type="application/json" id="kstate-doc">``: the tree built from
  ``spans.py`` (every node: label, path, kind, offset, size, type, value as
  decoded), the diagnostics and the enums.  It is ``json.dumps`` output with
  ``ensure_ascii`` (so U+2028/U+2029 and every non-ASCII character are
  ``\\uXXXX``) and with ``<``, ``>`` and ``&`` written as ``\\u003c``,
  ``\\u003e``, ``\\u0026``: no string from the blob or the schema can close
  the script element or open a comment.  The page reads it with
  ``JSON.parse`` and shows every string with ``textContent``, never as HTML.
* ``<script type="text/plain" id="kstate-bytes">``: the stream, base64
  (only ``A-Z a-z 0-9 + / =``).

An array of fixed-size elements longer than ``PAGE`` is not written element
by element (a 16 MiB stream holds a million folios): the tree carries its
count, element size and the layout of its first element, each leaf with how
to read it (integer type, enum, bits shift and width), and the page reads the
elements of the page on screen from the bytes.  Both are written as they are
built, so memory stays bounded by the tree, not by the text.
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources

from .render import selection_note, summary
from .spans import Selection, Walker, show

PAGE = 100  # array elements per page in the viewer (also the template threshold)
_CHUNK = 3 * 16384  # base64 is written in chunks of whole 3-byte groups


def _decoder(codecs, typ: tuple | None):
    """How the page reads a template leaf from the bytes."""
    if not typ:
        return None
    kind = typ[0]
    if kind == "int":
        return ["int", typ[1]]
    if kind == "enum":
        return ["enum", typ[1], codecs.enums[typ[1]]["base"]]
    if kind == "bits":
        return ["bits", typ[1], typ[2], typ[3]]
    if kind == "char":
        return ["char", typ[1]]
    if kind in ("bool", "addr", "folio"):
        return [kind]
    return None


class _Builder:
    def __init__(self, codecs):
        self.codecs = codecs
        self.root: dict = {"l": "stream", "k": "root", "o": 0, "n": 0, "c": []}
        self.stack: list = [(-1, self.root)]
        self.template = None  # (array node, its depth, base offset, stack) while capturing element 0

    def node(self, sp, label: str, value: str = "") -> dict:
        nd = {"l": label, "p": sp.path, "k": sp.kind, "o": sp.off, "n": sp.size}
        if sp.type:
            nd["t"] = sp.type
        if value:
            nd["v"] = value
        return nd

    def add(self, sp) -> None:
        if self.template is not None:
            arr, depth, base, stack = self.template
            if sp.kind == "elided" and sp.depth == depth + 1:
                esize, count = arr["a"]["esize"], arr["a"]["count"]
                arr["a"]["el"] = stack[0][1]["c"][0] if stack[0][1]["c"] else None
                arr["n"] = esize * count
                self.template = None
                return
            nd = self._make(sp)
            if nd is None:
                return
            nd["o"] -= base
            d = _decoder(self.codecs, sp.typ) if sp.kind in ("leaf", "member") else None
            if d is not None:
                nd["d"] = d
                nd.pop("v", None)
            self._attach(stack, sp, nd)
            return
        nd = self._make(sp)
        if nd is None:
            return
        self._attach(self.stack, sp, nd)
        if sp.kind == "node" and sp.array is not None:
            typ, count, esize = sp.array
            if esize is not None and count > PAGE:
                nd["a"] = {"count": count, "esize": esize}
                self.template = (nd, sp.depth, sp.off, [(sp.depth, {"c": []})])

    def _make(self, sp) -> dict | None:
        kind = sp.kind
        if kind == "group":
            if sp.value is None:
                return None  # magic, EOF, gaps: their one span follows
            return self.node(sp, sp.path, sp.title)
        if kind == "frame":
            label = sp.path.rsplit(".", 1)[-1] if " header." in sp.path else sp.path
            return self.node(sp, label, str(sp.value))
        if kind in ("gap", "raw"):
            label = sp.path.rsplit(" ", 1)[-1] if sp.path and kind == "raw" else "bytes"
            if sp.path == "trailing data":
                label = "trailing data"
            return self.node(sp, label, sp.title)
        if kind == "elided":
            return None
        label = sp.path.rsplit(".", 1)[-1]
        if kind in ("node", "bits"):
            value = ""
            if sp.array is not None:
                value = f"{sp.array[1]} element(s)"
            return self.node(sp, label, value)
        return self.node(sp, label, show(sp.typ, sp.value, 64))

    def _attach(self, stack, sp, nd) -> None:
        depth = sp.depth + 1 if sp.kind == "member" else sp.depth  # under its bits group
        if sp.kind == "frame" and " header." in sp.path:
            while stack[-1][0] >= depth:
                stack.pop()
            parent = stack[-1][1]
            kids = parent.setdefault("c", [])
            if not kids or kids[-1].get("k") != "header":
                kids.append({"l": "header", "p": sp.path.split(" header.")[0] + " header", "k": "header",
                             "o": sp.off, "n": 20, "t": "5 x i32", "c": []})
            kids[-1]["c"].append(nd)
            return
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1].setdefault("c", []).append(nd)
        if sp.kind in ("group", "node", "bits"):
            nd.setdefault("c", [])
            stack.append((depth, nd))


def build(codecs, doc: dict, lenient: bool = False, selection: Selection | None = None,
          title: str = "") -> dict:
    """The viewer's document: tree, diagnostics, enums (without the bytes)."""
    sel = selection or Selection()
    b = _Builder(codecs)
    for sp in Walker(codecs, doc, lenient, None, sel, template_over=PAGE).walk():
        if (sel.start is not None or sel.end is not None) and sp.kind != "group" \
                and not sel.overlaps(sp.off, sp.size) and b.template is None:
            continue
        b.add(sp)
    shown = sel.filter_doc(doc)
    enums = {name: {"kind": e["kind"], "values": [[n, str(v)] for n, v in e["values"]]}
             for name, e in codecs.enums.items()}
    line = "; ".join([summary(doc, sel, lenient), *selection_note(doc, shown, sel)])
    return {"title": title, "summary": line, "size": doc["size"],
            "byteorder": doc["byteorder"], "page": PAGE, "tree": b.root["c"], "enums": enums,
            "diagnostics": shown["diagnostics"]}


def safe_json(value) -> str:
    """JSON that can sit inside a <script> element whatever its strings hold."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def template() -> str:
    """The page, with its Content-Security-Policy naming the hash of its one script: nothing
    else runs, nothing is fetched (``default-src 'none'``)."""
    page = resources.files("kstate").joinpath("templates/viewer/viewer.html").read_text(encoding="utf-8")
    start = page.rindex("<script>") + len("<script>")
    script = page[start:page.index("</script>", start)]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return page.replace("'KSTATE-SCRIPT-HASH'", f"'sha256-{digest}'", 1)


def write_html(out, codecs, doc: dict, data, *, lenient: bool = False, selection: Selection | None = None,
               title: str = "") -> None:
    page = template()
    head, rest = page.split("<!--KSTATE-DOC-->", 1)
    middle, tail = rest.split("<!--KSTATE-BYTES-->", 1)
    out.write(head)
    out.write(safe_json(build(codecs, doc, lenient, selection, title)))
    out.write(middle)
    with memoryview(data) as mv:
        for i in range(0, len(mv), _CHUNK):
            out.write(base64.b64encode(mv[i:i + _CHUNK]).decode("ascii"))
    out.write(tail)
