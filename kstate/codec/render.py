"""Human formats of a decode document: ``text`` (an indented tree, each line
the byte range it reads, in hex like the hexdump, and the decoded value) and
``hexdump`` (every byte, 16 to a row, grouped per entry, each field's byte
range, path, type and decoded value under the row it starts in, and each
diagnostic at the byte where it starts).

Both are written as they are walked (``write_text`` / ``write_hexdump`` take
a file object), from the spans of ``spans.py``.  ``text()`` and ``hexdump()``
return the same output as a string.
"""

from __future__ import annotations

import io

from .spans import Selection, Walker, count_entries, show

DEFAULT_MAX_ELEMENTS = 8


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def offset_width(size: int) -> int:
    """Hex digits of the stream's offsets (at least 4), the same on every line of a view."""
    return max(4, len(f"{max(size - 1, 0):x}"))


def hex_offset(off: int, width: int) -> str:
    return f"0x{off:0{width}x}"


def hex_range(off: int, size: int, width: int) -> str:
    """``0x0018..0x001f`` (inclusive), or ``0x0018 (0 bytes)`` padded to the same width."""
    if size <= 0:
        return f"{hex_offset(off, width)} (0 bytes)".ljust(2 * width + 6)
    return f"{hex_offset(off, width)}..{hex_offset(off + size - 1, width)}"


def summary(doc: dict, selection: Selection | None = None, lenient: bool = False) -> str:
    secs, subs = count_entries(doc)
    n = secs + subs
    line = (f"kstate stream: {doc['byteorder'] or 'unknown'}-endian, {_plural(doc['size'], 'byte', 'bytes')}, "
            f"{_plural(n, 'entry', 'entries')} ({_plural(secs, 'section', 'sections')}, "
            f"{_plural(subs, 'subsection', 'subsections')})")
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    if errors and not lenient and doc["byteorder"]:
        first = min(errors, key=lambda d: d["offset"])
        line += (f"; decoding stopped at the first error, at "
                 f"{hex_offset(first['offset'], offset_width(doc['size']))} (offset {first['offset']})")
    return line


def selection_note(full: dict, shown: dict, sel: Selection) -> list[str]:
    if not sel.active:
        return []
    parts = []
    if sel.state is not None:
        parts.append(f"--state {sel.state}")
    if sel.instance is not None:
        parts.append(f"--instance {sel.instance}")
    if sel.start is not None or sel.end is not None:
        parts.append(f"--range {'' if sel.start is None else sel.start}:{'' if sel.end is None else sel.end}")
    a, b = count_entries(shown), count_entries(full)
    lines = [f"showing {sum(a)} of {_plural(sum(b), 'entry', 'entries')} ({' '.join(parts)})"]
    hidden = len(full["diagnostics"]) - len(shown["diagnostics"])
    if hidden:
        lines.append(f"{_plural(hidden, 'diagnostic', 'diagnostics')} outside the selection not shown")
    return lines


def _diag_line(d: dict, width: int) -> str:
    return (f"{d['severity']}[{d['code']}] at {hex_offset(d['offset'], width)} (offset {d['offset']}) "
            f"{d['path'] or '(stream)'}: {d['message']}")


def _elided_text(sp, name: bool = True) -> str:
    where = f"{_last(sp.path)}{sp.title}, " if name else ""
    return (f"... {_plural(sp.value, 'more element', 'more elements')} left out ({where}"
            f"{_plural(sp.size, 'byte', 'bytes')}; --all or --max-elements N shows them)")


def write_text(out, codecs, doc: dict, *, lenient: bool = False, max_elements: int | None = None,
               selection: Selection | None = None) -> None:
    """An indented tree: each line the byte range it reads (hex, inclusive) and what it holds."""
    sel = selection or Selection()
    shown = sel.filter_doc(doc)
    out.write(summary(doc, sel, lenient) + "\n")
    for line in selection_note(doc, shown, sel):
        out.write(line + "\n")
    width = offset_width(doc["size"])
    w = Walker(codecs, doc, lenient, max_elements, sel)
    for sp in w.walk():
        kind = sp.kind
        if kind in ("bits", "frame") and " header." in sp.path:
            continue
        if kind == "bits":
            continue
        if sel.start is not None or sel.end is not None:
            if not sel.overlaps(sp.off, sp.size):
                continue
        head = f"{hex_range(sp.off, sp.size, width)}  {'  ' * sp.depth}"
        if kind == "group":
            if sp.value is not None:  # an entry
                out.write(f"{head}{sp.path}: {sp.title}\n")
        elif kind == "frame":
            out.write(f"{head}{sp.path} = {sp.value}\n")
        elif kind == "gap":
            out.write(f"{head}{sp.title} ({_plural(sp.size, 'byte', 'bytes')})\n")
        elif kind == "raw":
            h = sp.value
            shown_hex = "" if h is None else f" {h[:64]}{'...' if len(h) > 64 else ''}"
            out.write(f"{head}{sp.path.rsplit(' ', 1)[-1] if ' ' in sp.path else sp.path}: {sp.title} "
                      f"({_plural(sp.size, 'byte', 'bytes')}){shown_hex}\n")
        elif kind == "elided":
            out.write(f"{head}{_elided_text(sp)}\n")
        else:
            name = _last(sp.path)
            if kind == "node":
                if sp.array is not None:
                    value = f"{_plural(sp.array[1], 'element', 'elements')} ({sp.type})"
                elif sp.typ and sp.typ[0] == "state":
                    value = sp.type
                else:
                    value = ""
                out.write(f"{head}{name}{': ' + value if value else ''}\n")
            else:
                out.write(f"{head}{name} = {show(sp.typ, sp.value, 32)}\n")
    for d in shown["diagnostics"]:
        out.write(_diag_line(d, width) + "\n")


def _last(path: str) -> str:
    """The last component of a field path: ``x.y[3]`` -> ``y[3]``, ``a[7]`` -> ``a[7]``."""
    return path.rsplit(".", 1)[-1]


class _HexWriter:
    """Rows of 16 bytes (aligned to the stream), split where a new entry starts;
    under each row the notes (fields, diagnostics) that start in it."""

    def __init__(self, out, data, lo: int, hi: int, width: int, diags: list):
        self.out, self.data, self.lo, self.hi, self.w = out, data, lo, hi, width
        self.pos = self.seg_end = 0
        self.notes: list[str] = []
        self.diags = sorted(diags, key=lambda d: d["offset"])
        self.di = 0

    def x(self, off: int) -> str:
        return hex_offset(off, self.w)

    def rng(self, off: int, size: int) -> str:
        return hex_range(off, size, self.w)

    def segment(self, start: int, end: int, heading: str) -> None:
        self.finish_segment()
        self.out.write(f"\n== {heading}\n")
        self.pos, self.seg_end = max(start, self.lo), min(end, self.hi)

    def finish_segment(self) -> None:
        self.rows_until(self.seg_end)
        self.flush_notes(self.seg_end)

    def rows_until(self, off: int) -> None:
        """Print every row that ends at or before ``off``."""
        while self.pos < self.seg_end:
            rowend = min((self.pos // 16 + 1) * 16, self.seg_end)
            if rowend > off:
                break
            self.row(self.pos, rowend)
            self.pos = rowend

    def note(self, off: int, text: str) -> None:
        self.rows_until(off)
        self.notes.append((off, text))

    def row(self, a: int, b: int) -> None:
        base = a - a % 16
        chunk = bytes(self.data[a:b])
        pad = a - base
        cells = ["  "] * pad + [f"{c:02x}" for c in chunk]
        cells += ["  "] * (16 - len(cells))
        text_ = " " * pad + "".join(chr(c) if 32 <= c < 127 else "." for c in chunk)
        self.out.write(f"{base:08x}  {' '.join(cells)}  |{text_:<16}|\n")
        self.flush_notes(b)

    def flush_notes(self, upto: int) -> None:
        for off, text_ in self.notes:
            self.diags_until(off)
            self.out.write(f"          {text_}\n")
        self.notes = []
        self.diags_until(upto)

    def diags_until(self, upto: int) -> None:
        while self.di < len(self.diags) and self.diags[self.di]["offset"] < upto:
            d = self.diags[self.di]
            self.out.write(f"          {self.x(d['offset'])}  {d['severity']}[{d['code']}] "
                           f"{d['path'] or '(stream)'}: {d['message']}\n")
            self.di += 1

    def elide(self, off: int, size: int, text_: str) -> None:
        self.rows_until(off)
        if self.pos < off:
            self.row(self.pos, min(off, self.seg_end))
        self.flush_notes(off)
        self.out.write(f"          {self.rng(off, size)}  {text_}\n")
        self.diags_until(off + size)
        self.pos = max(self.pos, min(off + size, self.seg_end))

    def finish(self) -> None:
        self.finish_segment()
        self.diags_until(1 << 62)


def write_hexdump(out, codecs, doc: dict, data, *, lenient: bool = False,
                  max_elements: int | None = DEFAULT_MAX_ELEMENTS, selection: Selection | None = None) -> None:
    """Every byte, 16 to a row, grouped per entry, with each field's range, path, type and value."""
    sel = selection or Selection()
    shown = sel.filter_doc(doc)
    out.write(summary(doc, sel, lenient) + "\n")
    for line in selection_note(doc, shown, sel):
        out.write(line + "\n")
    n = len(data)
    lo = sel.start or 0
    hi = n if sel.end is None else min(sel.end, n)
    hx = _HexWriter(out, data, lo, hi, offset_width(n), shown["diagnostics"])
    for sp in Walker(codecs, doc, lenient, max_elements, sel, data=data).walk():
        if not sel.overlaps(sp.off, sp.size) and sp.kind != "group":
            continue
        kind = sp.kind
        if kind == "group":
            if not sel.overlaps(sp.off, sp.size):
                continue
            heading = f"{sp.path}: {sp.title}" if sp.value is not None else sp.title
            hx.segment(sp.off, sp.end, f"{heading} [{hx.rng(sp.off, sp.size)}]")
        elif kind == "elided":
            hx.elide(sp.off, sp.size, f"{sp.path}{sp.title} {_elided_text(sp, False)}")
        elif kind in ("gap",):
            hx.note(sp.off, f"{hx.rng(sp.off, sp.size)}  {sp.title}")
        elif kind == "raw":
            hx.note(sp.off, f"{hx.rng(sp.off, sp.size)}  {sp.path}: {sp.title}")
        elif kind == "node":
            hx.note(sp.off, f"{hx.rng(sp.off, sp.size)}  {sp.path} {sp.type}")
        elif kind == "bits":
            hx.note(sp.off, f"{hx.rng(sp.off, sp.size)}  {sp.path} {sp.type}")
        else:  # frame, leaf, member
            hx.note(sp.off, f"{hx.rng(sp.off, sp.size)}  {sp.path} {sp.type} = "
                            f"{sp.value if kind == 'frame' else show(sp.typ, sp.value, 32)}")
    hx.finish()


def text(codecs, doc: dict, **kw) -> str:
    buf = io.StringIO()
    write_text(buf, codecs, doc, **kw)
    return buf.getvalue()


def hexdump(codecs, doc: dict, data, **kw) -> str:
    buf = io.StringIO()
    write_hexdump(buf, codecs, doc, data, **kw)
    return buf.getvalue()
