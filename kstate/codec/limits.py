"""The codec's resource limits, in one place (docs/security.md explains each).

A decode (or encode) that would go past a limit stops with the diagnostic
``LIMIT_EXCEEDED`` (severity ``error``; an ``EncodeError`` when encoding)
instead of running out of memory, recursion or time.  The values are module
constants; ``decode(..., limits=Limits(values=...))`` and ``encode(...,
limits=...)`` override them for one call.  ``Limits()`` with no arguments
reads the module constants when it is made, so a test (or an embedding
program) may also change the constants themselves.

The schema front end has its own limits (``kstate.loader.MAX_SCHEMA_BYTES``,
``MAX_IMPORT_DEPTH``; ``kstate.parser.MAX_NESTING``, ``MAX_STATEMENT_TOKENS``;
``kstate.expr.MAX_SHIFT``; and, shared by ``.kstate`` files and snapshot
JSON, ``kstate.limits``: ``MAX_VERSION_SPAN``, ``MAX_NAME_LENGTH``, ...);
they are diagnostics of ``kstate compile`` and of loading a side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Bytes of stream one decode accepts (256 MiB).  The kernel's stream is a
#: few folios; 256 MiB holds a million-folio memfd sixteen times over.
MAX_STREAM_SIZE = 1 << 28

#: Bytes of JSON text ``kstate encode`` reads (1 GiB): the decode JSON of a
#: stream is a few times the stream's size; a pipe or device (``/dev/zero``)
#: is not read past this.
MAX_JSON_SIZE = 1 << 30

#: Entries (SECTION and SUBSECTION headers) one stream may hold (262,144).
#: Each decoded entry costs about 1 KiB of Python objects.
MAX_ENTRIES = 1 << 18

#: Decoded values one decode may build (16,777,216): every integer, string,
#: list, object and nested state counts one; an array of structs counts each
#: element's members.  Checked against the count *before* a list is built, so
#: an array of 1-byte elements in a huge entry cannot make hundreds of
#: millions of objects.  A memfd with @max(1 << 20) folios is 4.2 million.
MAX_VALUES = 1 << 24

#: Nested states inside nested states, on the wire (32 levels).  Schemas
#: cannot recurse, so this is reached only by a schema set that nests that
#: deep; the decoder, renderers and encoder recurse once per level.
MAX_NESTING_DEPTH = 32

#: Plain structs inside plain structs that the codec compiles (32 levels).
#: A payload decoder is generated Python source with one bracket level per
#: struct level; CPython's parser stops at 200.  A state whose layout nests
#: deeper decodes to LIMIT_EXCEEDED (not overridable per call: the compiled
#: decoders are cached per schema set).
MAX_TYPE_DEPTH = 32

#: Values one layout's generated decoder unrolls (65,536): plain structs and
#: arrays of up to 16 elements are decoded inline, so a struct of two copies
#: of a struct of two copies of ... doubles the code at each level.  A layout
#: past this decodes to LIMIT_EXCEEDED instead of compiling for hours.
MAX_LAYOUT_VALUES = 1 << 16


def _now(name: str):
    return field(default_factory=lambda: globals()[name])


@dataclass(frozen=True)
class Limits:
    """Per-call overrides of the module constants (defaults: their current values)."""

    stream_size: int = _now("MAX_STREAM_SIZE")
    entries: int = _now("MAX_ENTRIES")
    values: int = _now("MAX_VALUES")
    nesting_depth: int = _now("MAX_NESTING_DEPTH")


def struct_depths(structs: dict) -> dict:
    """How deep each plain struct of a description nests (a struct of scalars: 1).

    Iterative, so a schema set with thousands of chained structs cannot
    exhaust the recursion limit here; a cycle (impossible from the compiler,
    possible in a hand-made description) counts as too deep."""
    too_deep = 1 << 30

    def children(name):
        return [mb["type"][1] for mb in structs[name]
                if "bits" not in mb and mb["type"][0] == "struct"]

    depth: dict = {}
    for root in structs:
        if root in depth:
            continue
        stack, active = [root], {root}
        while stack:
            name = stack[-1]
            todo = None
            for c in children(name):
                if c in depth:
                    continue
                if c in active or c not in structs:
                    depth[c] = too_deep
                    continue
                todo = c
                break
            if todo is not None:
                stack.append(todo)
                active.add(todo)
                continue
            depth[name] = min(too_deep, 1 + max((depth[c] for c in children(name)), default=0))
            stack.pop()
            active.discard(name)
    return depth


def layout_depth(layout, depths: dict) -> int:
    """The deepest plain-struct nesting of a layout's members (0: scalars only)."""
    return max((depths.get(mb["type"][1], 1 << 30) for mb in layout
                if "bits" not in mb and mb["type"][0] == "struct"), default=0)


_SCALAR_SIZES = {"bool": 1, "addr": 8, "folio": 8, "bytes": 1}
_INT_SIZES = {f"{s}{b}": b // 8 for s in "ui" for b in (8, 16, 32, 64)}


def fixed_size(layout, structs: dict, enums: dict) -> int:
    """A lower bound of the bytes one payload of ``layout`` takes on the wire,
    from its fixed-size members alone (``char[N]``, fixed arrays, plain
    structs); counted and rest arrays, pointees and nested states count 0.
    The encoder compares it with ``stream_size`` before building anything,
    so a ``char[1 << 31]`` is refused without allocating 2 GiB of NULs.
    Call after ``layout_depth`` has bounded the struct nesting."""
    memo: dict = {}

    def of_type(t: tuple) -> int:
        kind = t[0]
        if kind == "int":
            return _INT_SIZES.get(t[1], 0)
        if kind == "char":
            return t[1]
        if kind == "enum":
            return _INT_SIZES.get(enums.get(t[1], {}).get("base"), 0)
        if kind == "struct":
            if t[1] not in memo:
                memo[t[1]] = 0  # a cycle (hand-made description) adds nothing
                memo[t[1]] = of_layout(structs.get(t[1], []))
            return memo[t[1]]
        return _SCALAR_SIZES.get(kind, 0)

    def of_layout(members) -> int:
        total = 0
        for mb in members:
            if "bits" in mb:
                total += _INT_SIZES.get(mb["bits"], 0)
                continue
            if mb.get("pointer"):
                continue
            shape = mb.get("shape")
            if shape is None:
                total += of_type(mb["type"])
            elif shape[0] == "fixed":
                total += shape[1] * of_type(mb["type"])
        return total

    return of_layout(layout)
