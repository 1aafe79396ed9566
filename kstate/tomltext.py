"""TOML files kstate reads (``kstate.toml``, waiver files): tomllib's parse
error turned into a position and a message without the position in it."""

from __future__ import annotations

import re
import tomllib

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_WHERE = re.compile(r"\s*\(at (line \d+, column \d+|end of document)\)")


class TomlError(Exception):
    def __init__(self, pos: tuple[int, int] | None, message: str):
        super().__init__(message)
        self.pos = pos  # (line, column), 1-based; None at the end of the document
        self.message = message


def loads(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        at = _AT.search(msg)
        pos = (int(at.group(1)), int(at.group(2))) if at else None
        raise TomlError(pos, f"not valid TOML: {_WHERE.sub('', msg)}") from None
