"""What a schema set can be loaded from: ``.kstate`` files and folders, a
snapshot JSON written by ``kstate compile``, or ``git:REF[:PATH]``.

``load_side(specs)`` returns a ``SchemaSet`` whose ``origin`` is the text the
user gave, so findings and errors name the side as the user named it.
"""

from __future__ import annotations

from pathlib import Path

from . import model as m
from .build import build
from .errors import UsageError
from .loader import read_sources
from .snapshot import from_json


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
        path = Path(jsons[0])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"{jsons[0]}: cannot read: {err.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{jsons[0]}: not UTF-8 text") from None
        return from_json(text, jsons[0])
    sources, source_map = read_sources(specs)
    schema_set = build(sources, source_map)
    schema_set.origin = describe(specs)
    schema_set.sources = source_map
    return schema_set
