"""Backends: model -> {output path: text}.

Each backend is a module of this package defining ``LANG`` (the ``--lang``
name), ``OWNS`` (the output sub-folder or file it owns; ``compile`` removes
files there that the schemas no longer produce) and ``render(schema_set) ->
dict[str, str]`` with paths relative to the output folder.  Backends read the
model; they never re-derive what it knows.
"""

from __future__ import annotations

import importlib
import pkgutil

ORDER = ("python", "c", "json", "docs")


def available() -> dict:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "LANG") and hasattr(mod, "render"):
            found[mod.LANG] = mod
    return {lang: found[lang] for lang in sorted(found, key=lambda l: (ORDER.index(l) if l in ORDER else 99, l))}
