"""Small runtime helpers shared by generated decoders, the decoder and the
encoder: the ``Fail`` exception that carries an error diagnostic, ``Slow``
(the fast path gives an entry to the full decoder), and the JSON spelling
of ``char[N]`` and flags values."""

from __future__ import annotations


class Fail(Exception):
    """An error diagnostic raised while decoding one entry."""

    def __init__(self, code: str, offset: int, path: str, message: str):
        super().__init__(message)
        self.code = code
        self.offset = offset
        self.path = path
        self.message = message

    @classmethod
    def truncated(cls, off: int, end: int, path: str, info) -> "Fail":
        """TRUNCATED naming the first field of a run (``info``: (name, rel, size)) that
        does not fit before ``end``."""
        for name, rel, size in info:
            if off + rel + size > end:
                left = max(0, end - off - rel)
                return cls("TRUNCATED", off + rel, f"{path}.{name}",
                           f"expected {size} byte(s) for '{name}', found {left} left in the entry")
        return cls("TRUNCATED", off, path, "expected more bytes, found the end of the entry")


class Slow(Exception):
    """Raised by the fast variant of a payload decoder (``compiler.py``) when an
    entry needs the full decoder: an error, a warning, or a size its layout does
    not consume exactly.  It carries nothing; the full decoder says what it is."""


def char_value(raw: bytes):
    """``char[N]``: the text before the first NUL, or ``{"bytes": hex}``."""
    nul = raw.find(b"\0")
    text, rest = (raw, b"") if nul < 0 else (raw[:nul], raw[nul:])
    if rest.strip(b"\0"):
        return {"bytes": raw.hex()}
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": raw.hex()}


def flags_value(table, value: int) -> list:
    """Flags: names in ascending value order, then one int for the unnamed bits."""
    out = []
    rest = value
    for bit, name in table:
        if value & bit == bit:
            out.append(name)
            rest &= ~bit
    if rest:
        out.append(rest)
    return out
