"""The stream decoder: framing, entries, subsections, nested states and
every diagnostic of docs/wire-format.md.

``decode_stream(codecs, data, lenient)`` never raises on bad data.  It walks
the stream header by header; each entry's payload goes to the compiled
payload decoder of its (state, version, byte order).  A payload decoder
raises ``Fail`` for an error; the entry is then kept as ``raw`` and, in strict
mode, decoding stops there (the document holds the entries decoded before,
and the failing entry as raw); in lenient mode it goes on from the entry's
``size`` wherever the framing allows, and the raw entry (or nested state)
also keeps, as ``partial``, the members decoded before its error
(``partial.py``, computed on the error path only).

The common entry (a SECTION of a state and version seen before in the same
stream, whose instance is new and whose payload fits) takes a fast path: the
header's first 12 bytes pick the fast variant of its payload decoder
(``compiler.py``), which builds no paths and raises ``Slow`` for anything it
would report; the entry then goes through the full path below as if the
fast path had not looked at it, so diagnostics are the full path's.
"""

from __future__ import annotations

import struct

from .limits import Limits
from .partial import failed_member, partial_fields
from .records import HEADER_SIZE, MAGIC_BE, MAGIC_LE, SECTION, SUBSECTION, fmt_of, header_struct
from .values import Fail, Slow

SEVERITY = {
    "UNKNOWN_ENUM": "warning", "UNKNOWN_FLAGS": "warning", "RETIRED_STATE": "warning",
    "TRAILING_DATA": "info",
}
SECTION_NAMES = {SECTION: "section", SUBSECTION: "subsection"}


class _Ctx:
    """Per-decode state handed to the payload decoders."""

    __slots__ = ("codecs", "byteorder", "lenient", "diags", "section_type", "hdr", "limits", "values",
                 "depth", "views")

    def __init__(self, codecs, byteorder: str, lenient: bool, limits: Limits, views: bool = False):
        self.views = views
        self.codecs = codecs
        self.byteorder = byteorder
        self.lenient = lenient
        self.diags: list = []
        self.section_type = SECTION
        self.hdr = header_struct(byteorder).unpack_from
        self.limits = limits
        self.values = limits.values  # values left to build (limits.MAX_VALUES)
        self.depth = 0  # nested states being decoded

    def too_many(self, off: int, path: str) -> Fail:
        """LIMIT_EXCEEDED: the decode would build more than ``limits.values`` values."""
        return Fail("LIMIT_EXCEEDED", off, path, f"expected a stream that decodes to at most "
                    f"{self.limits.values} values (integers, strings, lists, objects), found more")

    def diag(self, code: str, offset: int, path: str, message: str) -> None:
        self.diags.append({"code": code, "severity": SEVERITY.get(code, "error"),
                           "offset": offset, "path": path, "message": message})

    def warn(self, code: str, offset: int, path: str, message: str) -> None:
        self.diag(code, offset, path, message)

    def nested_fast(self, state: str, buf, off: int, end: int):
        """``nested`` for the fast variants (the fast path decodes SECTION entries only):
        anything ``nested`` would report, or decode as raw, raises ``Slow``."""
        sdesc = self.codecs.states[state]
        if end - off < HEADER_SIZE:
            raise Slow
        stype, sid, version, inst, size = self.hdr(buf, off)
        payload = off + HEADER_SIZE
        if (sid != sdesc["id"] or stype != SECTION or inst != 0 or size < 0 or size > end - payload
                or self.depth >= self.limits.nesting_depth
                or not sdesc["min_version"] <= version <= sdesc["version"]):
            raise Slow
        self.values -= 8
        if self.values < 0:
            raise Slow
        fn = self.codecs.compiler(self.byteorder, self.views, fast=True).payload_decoder(state, version)
        pend = payload + size
        self.depth += 1
        try:
            fields = fn(buf, payload, pend, self)
        finally:
            self.depth -= 1
        return {"state": state, "state_id": sid, "version": version, "offset": off, "size": size,
                "fields": fields}, pend

    def nested(self, state: str, buf, off: int, end: int, path: str):
        """Decode a nested state at ``off``: its full header, then its payload."""
        codecs = self.codecs
        sdesc = codecs.states[state]
        if end - off < HEADER_SIZE:
            raise Fail("TRUNCATED", off, path, f"expected a {HEADER_SIZE}-byte nested entry header, "
                       f"found {max(0, end - off)} byte(s) left in the entry")
        stype, sid, version, inst, size = self.hdr(buf, off)
        payload = off + HEADER_SIZE
        # the order of checks (docs/wire-format.md): identity, size, room, limits, version
        ident = None
        if sid != sdesc["id"]:
            ident = Fail("BAD_NESTED_STATE", off, path, f"expected nested state '{state}' "
                         f"(id {sdesc['id']}), found state_id {sid}")
        elif stype != self.section_type:
            ident = Fail("BAD_NESTED_STATE", off, path, f"expected the enclosing entry's section_type "
                         f"{self.section_type}, found {stype}")
        elif inst != 0:
            ident = Fail("BAD_NESTED_STATE", off, path, f"expected instance_id 0 in a nested "
                         f"state, found {inst}")
        if ident is not None and (not self.lenient or size < 0 or size > end - payload):
            raise ident  # lenient mode resumes after the nested entry only when its size allows
        if size < 0:
            raise Fail("BAD_SIZE", off, path, f"expected a nested entry size >= 0, found {size}")
        if size > end - payload:
            raise Fail("TRUNCATED", off, path, f"expected the nested entry's {size} byte(s) "
                       f"to fit in its entry, found {end - payload} left")
        pend = payload + size
        value = {"state": state, "state_id": sid, "version": version, "offset": off, "size": size}
        budget = self.values
        fn = fields = None  # set once the payload decoder runs (and once it returns)
        try:
            if ident is not None:
                raise ident
            if self.depth >= self.limits.nesting_depth:
                raise Fail("LIMIT_EXCEEDED", off, path, f"expected nested states at most "
                           f"{self.limits.nesting_depth} levels deep, found more")
            self.values -= 8
            if self.values < 0:
                raise self.too_many(off, path)
            _check_version(state, sdesc, version, off, path)
            fn = self.codecs.payload_decoder(state, version, self.byteorder, self.views)
            self.depth += 1
            try:
                fields, pos = fn(buf, payload, pend, path, self)
            except Fail as err:
                if err.code == "TRUNCATED":
                    raise Fail("BAD_NESTED_STATE", err.offset, err.path,
                               f"expected a nested size that holds its layout, found size {size}: "
                               f"{err.message}") from None
                raise
            finally:
                self.depth -= 1
            if pos != pend:
                raise Fail("BAD_NESTED_STATE", pos, path, f"expected nested size {pos - payload} "
                           f"(what its layout consumed), found {size}")
        except Fail as err:
            if not self.lenient:
                raise
            self.diag(err.code, err.offset, err.path, err.message)
            self.values = budget  # what it built is dropped
            value["raw"] = buf[payload:pend].hex()
            if fn is not None:  # its layout ran: keep what it decoded before the error
                layout = sdesc["layouts"][version]
                self.depth += 1
                try:
                    part = partial_fields(self, state, version, buf, payload, pend, path,
                                          len(layout) if fields is not None
                                          else failed_member(layout, path, err.path))
                finally:
                    self.depth -= 1
                if part is not None:
                    value["partial"] = part
            return value, pend
        value["fields"] = fields
        return value, pend


def _check_version(name: str, sdesc: dict, version: int, offset: int, path: str) -> None:
    if version > sdesc["version"]:
        raise Fail("VERSION_TOO_NEW", offset, path, f"expected version_id <= {sdesc['version']} "
                   f"(this schema's version of '{name}'), found {version}")
    if version < sdesc["min_version"]:
        raise Fail("VERSION_TOO_OLD", offset, path, f"expected version_id >= {sdesc['min_version']} "
                   f"(min_version of '{name}'), found {version}")


def _as_buffer(data) -> memoryview:
    mv = data if isinstance(data, memoryview) else memoryview(data)
    if mv.ndim != 1 or mv.itemsize != 1 or mv.format not in ("B", "b", "c"):
        mv = mv.cast("B")
    elif mv.format != "B":
        mv = mv.cast("B")
    return mv


def _bad_section_type(off: int, path: str, stype: int, fail: bool = False) -> dict:
    message = f"expected section_type 2 (SECTION), 1 (SUBSECTION) or -1 (EOF), found {stype}"
    if fail:
        return {"code": "BAD_SECTION_TYPE", "offset": off, "path": path, "message": message}
    return {"code": "BAD_SECTION_TYPE", "severity": "error", "offset": off, "path": path, "message": message}


def _orphan(off: int, path: str, fail: bool = False) -> dict:
    message = "expected a SECTION entry before this SUBSECTION, found none"
    if fail:
        return {"code": "BAD_SECTION_TYPE", "offset": off, "path": path, "message": message}
    return {"code": "BAD_SECTION_TYPE", "severity": "error", "offset": off, "path": path, "message": message}


def _ids(ids, limit: int = 8) -> str:
    ids = sorted(ids)
    text = ", ".join(str(i) for i in ids[:limit])
    return text + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _unknown_state_message(sid: int, by_id: dict, buf, off: int, n: int, hdr) -> str:
    """Which ids the stream names and which the schema set knows, so a
    wrong ``--schema`` is obvious.  The stream's ids come from a walk over
    the entry headers from here on (sizes followed, at most 4,096 headers)."""
    seen = {sid}
    pos = off
    for _ in range(4096):
        if pos + HEADER_SIZE > n:
            break
        stype, other, _v, _i, size = hdr(buf, pos)
        if stype not in (SECTION, SUBSECTION) or size < 0:
            break
        seen.add(other)
        pos += HEADER_SIZE + size
    known = ", ".join(f"{i} ({by_id[i]})" for i in sorted(by_id)[:8])
    if len(by_id) > 8:
        known += f" and {len(by_id) - 8} more"
    return (f"expected a state_id of this schema set, found {sid}; the stream's entries name "
            f"state_id {_ids(seen)}, the schema set knows {known or 'none'} "
            f"(is --schema the schemas of the kernel that wrote the stream?)")


def decode_stream(codecs, data, lenient: bool = False, limits: Limits | None = None,
                  arrays: str = "list") -> dict:
    if arrays not in ("list", "memoryview"):
        raise ValueError(f"arrays: expected 'list' or 'memoryview', found {arrays!r}")
    views = arrays == "memoryview"
    limits = limits or Limits()
    buf = _as_buffer(data)
    n = len(buf)
    doc: dict = {"byteorder": None, "size": n, "entries": [], "diagnostics": []}
    diags = doc["diagnostics"]
    if n > limits.stream_size:
        diags.append({"code": "LIMIT_EXCEEDED", "severity": "error", "offset": limits.stream_size,
                      "path": "", "message": f"expected a stream of at most {limits.stream_size} "
                                             f"bytes, found {n}"})
        return doc
    head = bytes(buf[:4])
    if head == MAGIC_LE:
        byteorder = "little"
    elif head == MAGIC_BE:
        byteorder = "big"
    else:
        found = head.hex() if head else "nothing"
        diags.append({"code": "BAD_MAGIC", "severity": "error", "offset": 0, "path": "",
                      "message": f"expected the magic 0x3B37778C (8c77373b or 3b37778c), found {found}"
                                 + ("" if len(head) == 4 else f" ({n} byte(s))")})
        return doc
    doc["byteorder"] = byteorder
    ctx = _Ctx(codecs, byteorder, lenient, limits, views)
    max_entries = limits.entries
    nent = 0  # entries (sections and subsections) read
    ctx.diags = diags
    hdr = ctx.hdr
    states, by_id, retired_by_id = codecs.states, codecs.by_id, codecs.retired_by_id
    decoder_of = codecs.compiler(byteorder, views).payload_decoder
    fast_of = codecs.compiler(byteorder, views, fast=True).payload_decoder
    head = struct.Struct(fmt_of(["12s", "i", "i"], byteorder)).unpack_from  # (type, id, version), instance, size
    entries = doc["entries"]
    seen: dict = {}  # state_id -> the instance_ids of its SECTION entries so far
    slow_sections: list = []  # SECTION entries of the full path: "subsections" is added at the end
    # a SECTION header's first 12 bytes -> (fast payload decoder, state name, state_id, version, seen[state_id])
    fast: dict = {}
    parent = None  # (entry dict, state name | None, version, instance, last subsection index, path | None)
    fparent = None  # the last entry, when the fast path decoded it: the full path makes it the parent
    off = 4
    while True:
        if n - off >= HEADER_SIZE:  # the fast path
            key, inst, size = head(buf, off)
            hit = fast.get(key)
            if hit is not None:
                fn, name, sid, version, insts = hit
                pend = off + HEADER_SIZE + size
                if size >= 0 and pend <= n and inst not in insts and nent < max_entries:
                    budget = ctx.values
                    try:
                        fields = fn(buf, off + HEADER_SIZE, pend, ctx)
                    except (Slow, RecursionError):
                        ctx.values = budget  # the full path decodes it again, and says what is wrong
                    else:
                        nent += 1
                        insts.add(inst)
                        fparent = {"section": "section", "state": name, "state_id": sid, "version": version,
                                   "instance_id": inst, "offset": off, "size": size, "fields": fields,
                                   "subsections": []}
                        entries.append(fparent)
                        off = pend
                        continue
        if fparent is not None:
            parent = (fparent, fparent["state"], fparent["version"], fparent["instance_id"], -1, None)
            fparent = None
        left = n - off
        if left == 0:
            diags.append({"code": "MISSING_EOF", "severity": "error", "offset": off, "path": "",
                          "message": f"expected an EOF marker (i32 -1) after the last entry, found "
                                     f"the end of the stream at offset {off}"})
            break
        if left < 4:
            diags.append({"code": "TRUNCATED", "severity": "error", "offset": off, "path": "",
                          "message": f"expected an entry header or EOF marker, found {left} byte(s)"})
            break
        first = int.from_bytes(buf[off:off + 4], byteorder, signed=True)
        if first == -1:
            off += 4
            if off < n:
                diags.append({"code": "TRAILING_DATA", "severity": "info", "offset": off, "path": "",
                              "message": f"expected the stream to end after the EOF marker, found "
                                         f"{n - off} more byte(s)"})
            break
        if left < HEADER_SIZE:  # the order of checks (docs/wire-format.md): section_type first
            if first not in (SECTION, SUBSECTION):
                diags.append(_bad_section_type(off, "", first))
            elif first == SUBSECTION and parent is None:
                diags.append(_orphan(off, ""))
            else:
                diags.append({"code": "TRUNCATED", "severity": "error", "offset": off, "path": "",
                              "message": f"expected a {HEADER_SIZE}-byte entry header, found {left} byte(s)"})
            break
        if nent >= max_entries:
            diags.append({"code": "LIMIT_EXCEEDED", "severity": "error", "offset": off, "path": "",
                          "message": f"expected at most {max_entries} entries in a stream, found more"})
            break
        nent += 1
        stype, sid, version, inst, size = hdr(buf, off)
        payload = off + HEADER_SIZE
        is_sub = stype == SUBSECTION
        name = by_id.get(sid)
        rname = None if name else retired_by_id.get(sid)
        entry = {"section": SECTION_NAMES.get(stype, stype), "state": name or rname, "state_id": sid,
                 "version": version, "instance_id": inst, "offset": off, "size": size}
        if stype == SECTION:
            slow_sections.append(entry)
        if is_sub and parent is not None:
            ppath = parent[5] or f"{parent[1]}[instance {parent[3]}]"
            path = f"{ppath}/{name or rname or f'state {sid}'}"
        else:
            path = f"{name or rname or f'state {sid}'}[instance {inst}]"
        if (size < 0 or payload + size > n) and (
                (stype != SECTION and not is_sub) or (is_sub and parent is None)):
            # a bad section_type is reported before the size (docs/wire-format.md)
            entry["raw"] = ""
            entries.append(entry)
            diags.append(_bad_section_type(off, path, stype) if not is_sub else _orphan(off, path))
            break
        if size < 0:
            entry["raw"] = ""
            entries.append(entry)
            diags.append({"code": "BAD_SIZE", "severity": "error", "offset": off, "path": path,
                          "message": f"expected an entry size >= 0, found {size}"})
            break
        pend = payload + size
        if pend > n:
            entry["raw"] = buf[payload:n].hex()
            entries.append(entry)
            diags.append({"code": "TRUNCATED", "severity": "error", "offset": off, "path": path,
                          "message": f"expected {size} payload byte(s) after the header, found "
                                     f"{max(0, n - payload)} before the end of the stream"})
            break
        error = None
        ran = False  # the payload decoder ran (lenient mode keeps what it decoded before an error)
        container = entries
        if stype != SECTION and not is_sub:
            error = Fail(**_bad_section_type(off, path, stype, fail=True))
            parent = None
        elif is_sub and parent is None:
            error = Fail(**_orphan(off, path, fail=True))
        elif is_sub:
            pentry, pname, pversion, pinst, last, _ = parent
            container = pentry.setdefault("subsections", [])
            if pname is None or "raw" in pentry:
                entry["raw"] = buf[payload:pend].hex()  # its parent was not decoded: keep it as is
                container.append(entry)
                off = pend
                continue
            subs = [s for s, since in states[pname]["subsections"] if (since or 0) <= pversion]
            idx = subs.index(name) if name in subs else -1
            if idx < 0:
                error = Fail("UNKNOWN_SUBSECTION", off, path, f"expected a subsection of "
                             f"'{pname}' version {pversion} ({', '.join(subs) or 'none'}), "
                             f"found state_id {sid}")
            elif inst != pinst:
                error = Fail("UNKNOWN_SUBSECTION", off, path, f"expected the parent's "
                             f"instance_id {pinst}, found {inst}")
            elif idx <= last:
                error = Fail("UNKNOWN_SUBSECTION", off, path, f"expected the subsections of "
                             f"'{pname}' once each in declared order ({', '.join(subs)}), found "
                             f"'{name}' again or out of order")
            else:
                parent = (pentry, pname, pversion, pinst, idx, parent[5])
        else:
            insts = seen.setdefault(sid, set())
            if inst in insts:
                error = Fail("DUPLICATE_INSTANCE", off, path, f"expected each (state_id, "
                             f"instance_id) once, found ({sid}, {inst}) again")
            insts.add(inst)
            parent = (entry, name, version, inst, -1, path)
        if error is None:
            if name is None and rname is not None:
                ctx.diag("RETIRED_STATE", off, path, f"expected a state this schema set "
                         f"restores, found retired state '{rname}' (id {sid}); its bytes are kept raw")
                entry["raw"] = buf[payload:pend].hex()
                container.append(entry)
                off = pend
                continue
            if not name:
                error = Fail("UNKNOWN_STATE", off, path, _unknown_state_message(sid, by_id, buf, off, n, hdr))
        if error is None:
            sdesc = states[name]
            budget = ctx.values
            try:
                _check_version(name, sdesc, version, off, path)
                ctx.section_type = stype
                fn = decoder_of(name, version)
                if stype == SECTION:
                    fast[bytes(buf[off:off + 12])] = (fast_of(name, version), name, sid, version, seen[sid])
                ran = True
                fields, pos = fn(buf, payload, pend, path, ctx)
                if pos != pend:
                    entry["fields"] = fields
                    container.append(entry)
                    diags.append({"code": "UNCONSUMED_BYTES", "severity": "error", "offset": pos,
                                  "path": path, "message": f"expected {pos - payload} payload byte(s) "
                                  f"(what layout version {version} consumed), found size {size}: "
                                  f"{pend - pos} byte(s) left over"})
                    if not lenient:
                        break
                    off = pend
                    continue
            except Fail as err:
                error = err
            except RecursionError:  # not expected: the limits keep the recursion shallow
                error = Fail("LIMIT_EXCEEDED", payload, path, "expected nesting within Python's "
                             "recursion limit, found deeper")
            if error is not None:
                ctx.values = budget  # what it built is dropped
        if error is not None:
            entry["raw"] = buf[payload:pend].hex()
            if lenient and ran:
                part = partial_fields(ctx, name, version, buf, payload, pend, path,
                                      failed_member(states[name]["layouts"][version], path, error.path))
                if part is not None:
                    entry["partial"] = part
            container.append(entry)
            diags.append({"code": error.code, "severity": "error", "offset": error.offset,
                          "path": error.path, "message": error.message})
            if not lenient:
                break
            off = pend
            continue
        entry["fields"] = fields
        container.append(entry)
        off = pend
    for e in slow_sections:  # every SECTION entry lists its subsections, after its fields
        e.setdefault("subsections", [])
    return doc
