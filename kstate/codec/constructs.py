"""Construct building blocks for KSTATE payloads: the declarative codec.

Every version of every state is also a plain ``construct`` definition (see
``construct_source.py``, which writes them into the generated modules and
builds them in memory from the same text).  They parse a payload into the
decode document's field values and build those values back into bytes, and
the test suite holds the fast runtime (``compiler.py``) to agreeing with
them byte for byte.  They are the codec a person reads and can reuse; the
runtime is the one ``kstate decode`` runs, because it must check, report
and stay within 1.5x of hand-written ``struct`` code.
"""

from __future__ import annotations

import construct as cs

from .records import SECTION, header, int_field
from .values import char_value, flags_value

INT_NAMES = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64")


class ByteOrder:
    """The integer fields of one byte order: ``bo.u32``, ``bo.addr`` ..."""

    def __init__(self, name: str):
        self.name = name
        for n in INT_NAMES:
            setattr(self, n, int_field(n, name))
        self.addr = self.folio = self.u64


BYTEORDERS = {"little": ByteOrder("little"), "big": ByteOrder("big")}


class Record(cs.Adapter):
    """A ``Struct`` of members; ``bits`` groups (members named ``_bitsN``) are
    flattened into it, as the decode document shows them."""

    def __init__(self, *subcons, groups: dict[str, tuple[str, ...]] | None = None):
        super().__init__(cs.Struct(*subcons))
        self.groups = groups or {}

    def _decode(self, obj, context, path):
        out = {}
        for key, value in obj.items():
            if key in self.groups:
                out.update(value)
            elif not key.startswith("_"):
                out[key] = value
        return out

    def _encode(self, obj, context, path):
        out = dict(obj)
        for key, names in self.groups.items():
            out[key] = {n: out.pop(n) for n in names}
        return out


class Bits(cs.Adapter):
    """A ``bits`` group: one integer whose members are GCC bit-fields (first
    member in the least significant bits on little-endian, the most
    significant on big-endian); unused bits must be zero."""

    def __init__(self, subcon, byteorder: str, *fields: tuple[str, int]):
        super().__init__(subcon)
        total = subcon.sizeof() * 8
        self.fields = []
        offset = 0
        for name, width in fields:
            shift = offset if byteorder == "little" else total - offset - width
            self.fields.append((name, shift, (1 << width) - 1))
            offset += width
        self.used = 0
        for _, shift, mask in self.fields:
            self.used |= mask << shift
        self.total = total
        self.signed = subcon.fmtstr[-1].islower()

    def _decode(self, obj, context, path):
        obj &= (1 << self.total) - 1  # a signed group's bits, as an unsigned word
        if obj & ~self.used:
            raise cs.ValidationError(f"unused bits set: {obj & ~self.used:#x}", path=path)
        return {name: (obj >> shift) & mask for name, shift, mask in self.fields}

    def _encode(self, obj, context, path):
        value = 0
        for name, shift, mask in self.fields:
            v = obj[name]
            if not 0 <= v <= mask:
                raise cs.ValidationError(f"{name}={v} does not fit", path=path)
            value |= v << shift
        if self.signed and value >= 1 << (self.total - 1):
            value -= 1 << self.total  # the same bits, as the signed integer the group is
        return value


class Bool01(cs.Adapter):
    """``bool``: one byte, 0 or 1 (any other byte is an error)."""

    def __init__(self):
        super().__init__(cs.Int8ub)

    def _decode(self, obj, context, path):
        if obj not in (0, 1):
            raise cs.ValidationError(f"bool byte is {obj}, not 0 or 1", path=path)
        return obj == 1

    def _encode(self, obj, context, path):
        return int(bool(obj))


class Char(cs.Adapter):
    """``char[N]``: the text before the first NUL, or ``{"bytes": hex}``."""

    def __init__(self, length: int):
        super().__init__(cs.Bytes(length))
        self.length = length

    def _decode(self, obj, context, path):
        return char_value(obj)

    def _encode(self, obj, context, path):
        raw = bytes.fromhex(obj["bytes"]) if isinstance(obj, dict) else obj.encode("utf-8")
        return raw.ljust(self.length, b"\0")


class Hex(cs.Adapter):
    """``bytes[...]``: raw bytes shown as a lowercase hex string."""

    def _decode(self, obj, context, path):
        return bytes(obj).hex()

    def _encode(self, obj, context, path):
        return bytes.fromhex(obj)


class Enum(cs.Adapter):
    """An enum: its value's name, or the integer when it has none."""

    def __init__(self, subcon, values: list[tuple[str, int]]):
        super().__init__(subcon)
        self.names = {v: n for n, v in values}
        self.values = dict(values)

    def _decode(self, obj, context, path):
        return self.names.get(obj, obj)

    def _encode(self, obj, context, path):
        return self.values[obj] if isinstance(obj, str) else obj


class Flags(cs.Adapter):
    """Flags: names in ascending value order, then one integer for unnamed bits."""

    def __init__(self, subcon, values: list[tuple[str, int]]):
        super().__init__(subcon)
        self.table = sorted(((v, n) for n, v in values))
        self.values = dict(values)

    def _decode(self, obj, context, path):
        return flags_value(self.table, obj)

    def _encode(self, obj, context, path):
        value = 0
        for item in obj:
            value |= self.values[item] if isinstance(item, str) else item
        return value


def ranged(subcon, lo: int, hi: int):
    """An integer checked against ``@range(lo, hi)``."""
    return cs.ExprValidator(subcon, lambda obj, ctx: lo <= obj <= hi)


def at_most(subcon, top: int):
    """A count checked against ``@max``."""
    return cs.ExprValidator(subcon, lambda obj, ctx: 0 <= obj <= top)


class Nested(cs.Construct):
    """A nested state: a full entry header (instance_id 0), then the payload of
    the version the header names."""

    def __init__(self, name: str, state_id: int, payloads: dict, byteorder: str, current: int):
        super().__init__()
        self.state = name
        self.state_id = state_id
        self.payloads = payloads  # version -> construct
        self.header = header(byteorder)
        self.current = current

    def _parse(self, stream, context, path):
        hdr = self.header._parsereport(stream, context, path)
        if hdr.state_id != self.state_id or hdr.instance_id != 0 or hdr.size < 0:
            raise cs.ValidationError(f"nested header is not state {self.state_id}, instance 0", path=path)
        if hdr.version_id not in self.payloads:
            raise cs.ValidationError(f"{self.state} version {hdr.version_id} not supported", path=path)
        raw = cs.stream_read(stream, hdr.size, path)
        fields = self.payloads[hdr.version_id].parse(raw)
        return {"state": self.state, "state_id": self.state_id, "version": hdr.version_id,
                "size": hdr.size, "fields": fields}

    def _build(self, obj, stream, context, path):
        version = obj.get("version", self.current)
        raw = self.payloads[version].build(obj["fields"])
        section = context.get("_root", context).get("section_type", SECTION) if hasattr(context, "get") \
            else SECTION
        self.header._build(dict(section_type=section, state_id=self.state_id, version_id=version,
                                instance_id=0, size=len(raw)), stream, context, path)
        cs.stream_write(stream, raw, len(raw), path)
        return obj

    def _sizeof(self, context, path):
        raise cs.SizeofError("a nested state has no fixed size", path=path)


def payload(*subcons, groups: dict | None = None):
    """An entry's payload: the members, and nothing after them."""
    return Record(*subcons, cs.Terminated, groups=groups)
