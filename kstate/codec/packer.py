"""The encoder's fast path: a decode document to a stream with the generated
payload encoders of ``encoder_compiler.py``.

One pass over the entries: each entry's header keys (state, version,
instance, subsections) are checked as ``encoder.py`` does, then its
generated ``pack`` sizes the entry, makes room for it in the stream's
buffer (``_Ctx.grow``: by at least an eighth, never past the stream size
limit, so the buffer is allocated a few times at most and checked against
the limit first) and packs the header and payload into it.  ``pack_stream``
returns None as soon as anything is not what it packs
as is (see ``Bail``); ``encoder.encode_doc`` then runs the descriptive
encoder, which either names the problem (``EncodeError`` with the JSON path)
or encodes the unusual document.  Accepting a subset of what the descriptive
encoder accepts, and packing the same bytes, is what the tests hold it to.
"""

from __future__ import annotations

import struct

from .encoder_compiler import Bail, EncoderCompiler, _hex
from .limits import Limits
from .records import EOF, HEADER_SIZE, MAGIC, SECTION, SUBSECTION, header_struct

DOC_KEYS = frozenset({"byteorder", "size", "entries", "diagnostics"})
ENTRY_KEYS = frozenset({"section", "state", "state_id", "version", "instance_id", "offset", "size", "fields",
                        "raw", "partial", "subsections"})
FIELDS_ENTRY_KEYS = ENTRY_KEYS - {"raw", "partial"}
NESTED_KEYS = frozenset({"state", "state_id", "version", "offset", "size", "fields", "raw", "partial"})
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
_MISSING = object()


class _Ctx:
    """What the generated encoders of one ``pack_stream`` call share: nested states."""

    __slots__ = ("comp", "states", "depth", "max_depth", "hdr", "max_size")

    def __init__(self, comp: EncoderCompiler, limits: Limits):
        self.comp = comp
        self.states = comp.desc["states"]
        self.depth = 0
        self.max_depth = limits.nesting_depth
        self.hdr = header_struct(comp.byteorder).pack_into
        self.max_size = limits.stream_size

    def grow(self, buf: bytearray, need: int) -> None:
        """Make ``buf`` at least ``need`` bytes long (the generated packs call it
        before they write past its end); a stream past the size limit is left to
        the descriptive encoder, which names the limit."""
        if need > self.max_size:
            raise Bail
        buf.extend(bytes(min(self.max_size, max(need, len(buf) + len(buf) // 8)) - len(buf)))

    def _nested_fns(self, state: str, v):
        if type(v) is not dict or not NESTED_KEYS.issuperset(v):
            raise Bail
        sdesc = self.states[state]
        if "state" in v and v["state"] != state:
            raise Bail
        if "state_id" in v and v["state_id"] != sdesc["id"]:
            raise Bail
        version = v.get("version", sdesc["version"])
        if type(version) is not int:
            raise Bail
        if "raw" in v:
            return version, None
        if not sdesc["min_version"] <= version <= sdesc["version"] or "fields" not in v or "partial" in v:
            raise Bail
        fns = self.comp.payload_encoder(state, version)
        if fns is None:
            raise Bail
        return version, fns

    def nsize(self, state: str, v) -> int:
        """Bytes of a nested state (header and payload)."""
        _, fns = self._nested_fns(state, v)
        if fns is None:
            return HEADER_SIZE + len(_hex(v["raw"]))
        return HEADER_SIZE + fns[0](v["fields"], self)

    def npack(self, buf, off: int, state: str, v, stype: int) -> int:
        """Pack a nested state at ``off`` (its header, then its payload) in an entry
        of ``stype``; the offset after it."""
        version, fns = self._nested_fns(state, v)
        start = off + HEADER_SIZE
        if fns is None:
            data = _hex(v["raw"])
            end = start + len(data)
            if end > len(buf):
                raise Bail  # the entry's size counted it: not a document packed as is
            buf[start:end] = data
            self.hdr(buf, off, stype, self.states[state]["id"], version, 0, end - start)
            return end
        if self.depth >= self.max_depth:
            raise Bail
        self.depth += 1
        end = fns[1](buf, off, v["fields"], self, stype, 0)
        self.depth -= 1
        return end


class _Packer:
    """The pass over the entries, packing into ``buf`` (a ``bytearray`` that grows)."""

    def __init__(self, codecs, comp: EncoderCompiler, ctx: _Ctx, buf: bytearray, max_entries: int):
        self.c = codecs
        self.comp = comp
        self.ctx = ctx
        self.buf = buf
        self.count = 0  # entries (sections and subsections) seen
        self.max_entries = max_entries

    def entries(self, entries: list, stype: int, parent, off: int) -> int:
        """Pack a list of entries (and their subsections) at ``off``: the common case
        inline (an entry naming a known state, with ``fields``), the rest in ``other``;
        the offset after them."""
        infos, buf, ctx = self.comp.entry_infos(), self.buf, self.ctx
        want = "section" if stype == SECTION else "subsection"
        inst0 = parent[1] if parent else 0
        self.count += len(entries)
        if self.count > self.max_entries:
            raise Bail  # the descriptive encoder says which limit, and where
        for e in entries:
            # not a dict, an unexpected key, or "raw" (not in FIELDS_ENTRY_KEYS); a name
            # that is not a known state's (an unhashable one raises TypeError: Bail)
            info = infos.get(e.get("state")) if type(e) is dict and FIELDS_ENTRY_KEYS.issuperset(e) else None
            if info is None:
                off = self.other(e, stype, parent, off)
                continue
            sid, version, fns_of = info
            given = e.get("state_id")
            if given is not sid and given is not None and (given != sid or type(given) is not int):
                raise Bail
            sec = e.get("section")
            if sec is not want and sec is not None and (sec != want or type(sec) is not str):
                raise Bail
            version = e.get("version", version)
            fns = fns_of.get(version) if type(version) is int else None
            if fns is None:
                name = e["state"]
                fns = self._fns(name, self.c.states[name], version)
            inst = e.get("instance_id", inst0)  # its range: the header's struct checks it
            if type(inst) is not int:
                raise Bail
            if parent is not None:
                self._check_parent(e["state"], inst, parent)
            off = fns[1](buf, off, e["fields"], ctx, stype, inst)
            if e.get("subsections"):  # as encoder.py: a missing or empty (falsy) one is none
                off = self._subsections(e["subsections"], stype, False, (e["state"], inst, version), off)
        return off

    def _fns(self, name: str, sdesc: dict, version):
        if type(version) is not int or not sdesc["min_version"] <= version <= sdesc["version"]:
            raise Bail
        fns = self.comp.payload_encoder(name, version)
        if fns is None:
            raise Bail
        self.comp.entry_infos()[name][2][version] = fns
        return fns

    def _check_parent(self, name, inst: int, parent) -> None:
        pname, pinst, pversion = parent
        if inst != pinst or not any(s == name and (since or 0) <= pversion
                                    for s, since in self.c.states[pname]["subsections"]):
            raise Bail

    def _subsections(self, subs, stype: int, raw: bool, parent, off: int) -> int:
        if type(subs) is not list or stype != SECTION or raw:
            raise Bail  # odd, or a raw parent's subsections: the descriptive encoder
        return self.entries(subs, SUBSECTION, parent, off)

    def other(self, e, stype: int, parent, off: int) -> int:
        """An entry by ``state_id`` only, or ``raw``, with every check of ``encoder.py``."""
        if type(e) is not dict or not ENTRY_KEYS.issuperset(e):
            raise Bail
        sec = e.get("section", _MISSING)
        if sec is not _MISSING and (type(sec) is not str
                                    or sec != ("section" if stype == SECTION else "subsection")):
            raise Bail
        raw = "raw" in e
        if (raw and "fields" in e) or ("partial" in e and not raw):
            raise Bail
        name, sid = self._state_of(e, raw)
        states = self.c.states
        sdesc = states.get(name) if name else None
        version = e.get("version", sdesc["version"] if sdesc else None)
        inst = e.get("instance_id", parent[1] if parent else 0)
        if type(version) is not int or type(inst) is not int or not _I32_MIN <= inst <= _I32_MAX:
            raise Bail
        if parent is not None:
            self._check_parent(name, inst, parent)
        if raw:
            payload = _hex(e["raw"])
            end = off + HEADER_SIZE + len(payload)
            if end > len(self.buf):
                self.ctx.grow(self.buf, end)
            self.ctx.hdr(self.buf, off, stype, sid, version, inst, len(payload))
            self.buf[off + HEADER_SIZE:end] = payload
            off = end
        else:
            fns = self._fns(name, sdesc, version)
            off = fns[1](self.buf, off, e["fields"], self.ctx, stype, inst)
        subs = e.get("subsections", _MISSING)
        if subs is _MISSING or (type(subs) is list and not subs):
            return off
        return self._subsections(subs, stype, raw, (name, inst, version), off)

    def _state_of(self, e: dict, raw: bool):
        name = e.get("state")
        sid = e.get("state_id")
        if sid is not None and type(sid) is not int:
            raise Bail
        c = self.c
        if name is None:
            if sid is None:
                raise Bail
            name = c.by_id.get(sid) or (c.retired_by_id.get(sid) if raw else None)
            if name is None and not raw:
                raise Bail
            return name, sid
        if type(name) is not str:
            raise Bail
        if name in c.states:
            real = c.states[name]["id"]
        elif raw and name in c.desc["retired"]:
            real = c.desc["retired"][name]
        else:
            raise Bail
        if sid is not None and sid != real:
            raise Bail
        return name, real


def pack_stream(codecs, doc, byteorder: str, limits: Limits) -> bytes | None:
    """The stream of ``doc``, or None: the descriptive encoder must decide."""
    try:
        return _pack(codecs, doc, byteorder, limits)
    except Exception:  # noqa: BLE001 - Bail, or a check that failed in Python itself (KeyError ...)
        return None


def _pack(codecs, doc, byteorder: str, limits: Limits) -> bytes | None:
    if type(doc) is not dict or not DOC_KEYS.issuperset(doc):
        return None
    entries = doc.get("entries")
    if type(entries) is not list:
        return None
    comp = codecs.encoder(byteorder)
    ctx = _Ctx(comp, limits)
    buf = bytearray(min(limits.stream_size, 4 + 64 * len(entries)))  # grows as the entries need
    packer = _Packer(codecs, comp, ctx, buf, limits.entries)
    struct.pack_into(("<" if byteorder == "little" else ">") + "I", buf, 0, MAGIC)
    off = packer.entries(entries, SECTION, None, 4)
    if off + 4 > len(buf):
        buf.extend(bytes(off + 4 - len(buf)))
    struct.pack_into(("<" if byteorder == "little" else ">") + "i", buf, off, EOF)
    del buf[off + 4:]
    return bytes(buf)
