"""What a schema set can be loaded from: ``.kstate`` files and folders, a
snapshot JSON written by ``kstate compile``, or ``git:REF[:PATH]``.

``load_side(specs)`` returns a ``SchemaSet`` whose ``origin`` is the text the
user gave, so findings and errors name the side as the user named it.
"""

from __future__ import annotations

from pathlib import Path

from . import model as m
from .build import build
from .errors import Diagnostic, SchemaError, Span, UsageError
from .limits import MAX_SNAPSHOT_BYTES
from .loader import read_sources
from .readfile import FileRefused, read_regular
from .snapshot import from_json


def _read_snapshot(spec: str) -> str:
    """A snapshot's text, read no further than MAX_SNAPSHOT_BYTES (a device or a
    pipe ends there)."""
    try:
        raw = read_regular(spec, MAX_SNAPSHOT_BYTES, "a snapshot JSON")  # regular files only
        too_large = False
    except FileRefused as err:
        if err.code != "FILE_TOO_LARGE":
            raise
        too_large = True
    if too_large:
        raise SchemaError([Diagnostic("FILE_TOO_LARGE", f"{spec} is larger than {MAX_SNAPSHOT_BYTES} bytes "
                                      "(the limit of a snapshot)", Span(spec, 1, 1))])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise SchemaError([Diagnostic("BAD_ENCODING", f"{spec} is not valid UTF-8 (byte {err.start})",
                                      Span(spec, line, 1))]) from None


def describe(specs: list[str]) -> str:
    return " ".join(specs)


def load_side(specs: list[str]) -> m.SchemaSet:
    if not specs:
        raise UsageError("no schema given")
    if any(s.startswith("git:") for s in specs):
        if len(specs) != 1:
            raise UsageError("a git:REF[:PATH] side stands alone; give it as the only path")
        from .gitside import load_git

        return load_git(specs[0])
    jsons = [s for s in specs if s.endswith(".json")]
    if jsons:
        if len(specs) != 1:
            raise UsageError("a snapshot JSON stands alone; give it as the only path")
        return from_json(_read_snapshot(jsons[0]), jsons[0])
    sources, source_map = read_sources(specs)
    schema_set = build(sources, source_map)
    schema_set.origin = describe(specs)
    schema_set.sources = source_map
    return schema_set
