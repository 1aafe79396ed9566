"""The fields an entry decoded before its error: lenient mode's ``partial``.

A payload decoder (``compiler.py``) builds its fields dict once, at the end,
so an entry whose decoder raises ``Fail`` has no fields.  In lenient mode the
decoder (``decoder.py``) then asks this module, on the error path only, for
the members before the one the error names: it compiles the *prefix* of the
layout (``layout[:n]``) with the same ``Compiler``, so the values and their
checks are exactly the full decoder's, and runs it over the same bytes.  The
fast path is not touched.

The member the error names is read off the diagnostic's path: the first
component after the entry's (or nested state's) path, a field name or a
``bits`` group (``{a, b}``, or one of its members for a count).  A bad count
is reported at its count field, so ``partial`` holds the members before the
count.  An error at the entry itself (a limit on the whole payload) names no
member: then there is no ``partial``.
"""

from __future__ import annotations

import re

from .compiler import Compiler
from .values import Fail

_NAME = re.compile(r"[^.\[]*")


def failed_member(layout: list, path: str, err_path: str) -> int | None:
    """The index in ``layout`` of the member ``err_path`` names under ``path`` (None: none)."""
    if not err_path.startswith(path + "."):
        return None
    rest = err_path[len(path) + 1:]
    if rest.startswith("{"):
        end = rest.find("}")
        name = rest[:end + 1] if end >= 0 else rest
    else:
        name = _NAME.match(rest).group()
    for i, mb in enumerate(layout):
        if "bits" in mb:
            names = [f[0] for f in mb["fields"]]
            if name in names or name == "{" + ", ".join(names) + "}":
                return i
        elif mb["name"] == name:
            return i
    return None


class PrefixDecoders:
    """Compiled decoders of layout prefixes, for one byte order (and array mode).

    The prefixes are states of a description of their own, keyed
    ``(state, n)``, that shares the enums and plain structs of the real one."""

    def __init__(self, desc: dict, byteorder: str, views: bool):
        self.layouts = desc["states"]
        self.states: dict = {}
        self.comp = Compiler({"enums": desc["enums"], "structs": desc["structs"], "states": self.states},
                             byteorder, views)

    def decoder(self, state: str, version: int, n: int):
        key = (state, n)
        entry = self.states.get(key)
        if entry is None:
            entry = self.states[key] = {"layouts": {}}
        if version not in entry["layouts"]:
            entry["layouts"][version] = self.layouts[state]["layouts"][version][:n]
        return self.comp.payload_decoder(key, version)


def partial_fields(ctx, state: str, version: int, buf, payload: int, end: int, path: str,
                   n: int | None) -> dict | None:
    """The fields of the first ``n`` members of ``state`` version ``version``, decoded
    from ``payload`` (None when ``n`` is None or they cannot be decoded within the
    limits).  Values built are charged to ``ctx.values``; diagnostics the re-decode
    repeats (warnings, nested states kept raw) are dropped: the full decode made them."""
    if n is None:
        return None
    if n == 0:
        return {}
    fn = ctx.codecs.prefix_decoder(state, version, n, ctx.byteorder, ctx.views)
    mark, budget = len(ctx.diags), ctx.values
    try:
        fields, _ = fn(buf, payload, end, path, ctx)
    except (Fail, RecursionError):
        ctx.values = budget
        return None
    finally:
        del ctx.diags[mark:]
    return fields
