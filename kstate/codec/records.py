"""Record definitions built with construct: the stream magic, the 20-byte
entry header, the EOF marker, and the integer fields the payloads are made
of.  The encoder builds bytes with these; the decoder's hot path uses
``struct`` formats taken from the same construct fields (``FormatField``
objects carry their ``struct`` format), so both agree by construction.
"""

from __future__ import annotations

import struct
from functools import lru_cache

import construct as cs

MAGIC = 0x3B37778C
MAGIC_LE = struct.pack("<I", MAGIC)
MAGIC_BE = struct.pack(">I", MAGIC)
SECTION, SUBSECTION, EOF = 2, 1, -1
HEADER_SIZE = 20

# schema integer type -> construct field, per byte order
_INTS = {
    "little": {"u8": cs.Int8ul, "u16": cs.Int16ul, "u32": cs.Int32ul, "u64": cs.Int64ul,
               "i8": cs.Int8sl, "i16": cs.Int16sl, "i32": cs.Int32sl, "i64": cs.Int64sl},
    "big": {"u8": cs.Int8ub, "u16": cs.Int16ub, "u32": cs.Int32ub, "u64": cs.Int64ub,
            "i8": cs.Int8sb, "i16": cs.Int16sb, "i32": cs.Int32sb, "i64": cs.Int64sb},
}
# schema integer type -> (struct code, width), read off the construct fields
INT_CODES = {name: (f.fmtstr[1:], f.sizeof()) for name, f in _INTS["little"].items()}
_BO = {"little": "<", "big": ">"}


def int_field(name: str, byteorder: str) -> cs.FormatField:
    """The construct field of a schema integer type (``u64`` ...) in ``byteorder``."""
    return _INTS[byteorder][name]


@lru_cache(maxsize=None)
def int_packer(name: str, byteorder: str):
    """``pack`` of a precompiled ``struct.Struct`` with the construct field's format:
    the encoder's hot path for integers (construct's ``build`` is far slower)."""
    return struct.Struct(int_field(name, byteorder).fmtstr).pack


@lru_cache(maxsize=None)
def header(byteorder: str) -> cs.Struct:
    """An entry header: five i32."""
    i32 = int_field("i32", byteorder)
    return cs.Struct("section_type" / i32, "state_id" / i32, "version_id" / i32,
                     "instance_id" / i32, "size" / i32)


@lru_cache(maxsize=None)
def magic(byteorder: str) -> cs.Const:
    return cs.Const(MAGIC, int_field("u32", byteorder))


@lru_cache(maxsize=None)
def eof(byteorder: str) -> cs.Const:
    return cs.Const(EOF, int_field("i32", byteorder))


@lru_cache(maxsize=None)
def header_struct(byteorder: str) -> struct.Struct:
    """The decoder's precompiled header reader, with the construct header's format."""
    return struct.Struct(fmt_of([sc.subcon.fmtstr[1:] for sc in header(byteorder).subcons], byteorder))


def fmt_of(codes: list[str], byteorder: str) -> str:
    return _BO[byteorder] + "".join(codes)
