"""The construct codecs as Python source, from a codec description.

``render(desc)`` writes one function per plain struct and per version of
every state, each returning a ``construct`` definition built from
``kstate.codec.constructs`` blocks::

    def payload_memfd_v3(bo, ns):
        return k.payload(
            "pos" / bo.u64,
            "nr_folios" / k.at_most(bo.u32, 1048576),
            "folios" / cs.Array(cs.this["nr_folios"], ns.struct("memfd_folio", bo)),
            ...
        )

The python backend writes this text into the generated modules; in memory
the same text is executed (``constructs_for``), so both paths share it.
References to other items go through ``ns`` (a ``Constructs`` registry), so
a module never imports another one.
"""

from __future__ import annotations

import construct as cs

from . import constructs as k
from .constructs import BYTEORDERS, Flags, Enum, Nested


def _count_ref(name: str, groups: dict[str, str]) -> str:
    group = groups.get(name)
    return f"cs.this[{group!r}][{name!r}]" if group else f"cs.this[{name!r}]"


def _element(typ: tuple, member: dict) -> str:
    kind = typ[0]
    fixed = member.get("fixed")
    if kind == "int":
        text = f"bo.{typ[1]}"
        if fixed is not None:
            return f"cs.Const({fixed}, {text})"
        if "range" in member:
            lo, hi = member["range"]
            return f"k.ranged({text}, {lo}, {hi})"
        return text
    if kind == "bool":
        if fixed is not None:
            return f"cs.ExprValidator(k.Bool01(), lambda obj, ctx: obj == {bool(fixed)!r})"
        return "k.Bool01()"
    if kind == "char":
        return f"k.Char({typ[1]})"
    if kind in ("addr", "folio"):
        return f"bo.{kind}"
    if kind == "enum":
        if fixed is not None:
            return f"ns.enum({typ[1]!r}, bo, fixed={fixed})"
        return f"ns.enum({typ[1]!r}, bo)"
    if kind == "struct":
        return f"ns.struct({typ[1]!r}, bo)"
    if kind == "state":
        return f"ns.nested({typ[1]!r}, bo)"
    raise ValueError(f"no construct for {typ!r}")


def _field(member: dict, groups: dict[str, str], counts: set[str]) -> str:
    typ = member["type"]
    shape = member.get("shape")
    name = member["name"]
    if typ[0] == "bytes":
        if shape[0] == "fixed":
            text = f"k.Hex(cs.Bytes({shape[1]}))"
        elif shape[0] == "count":
            text = f"k.Hex(cs.Bytes({_count_ref(shape[1], groups)}))"
        else:
            text = "k.Hex(cs.GreedyBytes)"
    else:
        elem = _element(typ, member)
        if shape is None:
            text = elem
        elif shape[0] == "fixed":
            text = f"cs.Array({shape[1]}, {elem})"
        elif shape[0] == "count":
            text = f"cs.Array({_count_ref(shape[1], groups)}, {elem})"
        else:
            text = f"cs.GreedyRange({elem})"
    if shape is not None and shape[0] != "fixed" and "max" in member:
        text = f"cs.ExprValidator({text}, lambda obj, ctx: len(obj) <= {member['max']})"
    elif name in counts and "max" in member and typ[0] == "int":
        text = f"k.at_most({text}, {member['max']})"
    return f"{name!r} / {text}"


def _members(members: list, indent: str) -> tuple[list[str], str]:
    """The member lines of a Record and its ``groups=`` argument."""
    groups: dict[str, str] = {}
    group_fields: dict[str, tuple] = {}
    for i, mb in enumerate(members):
        if "bits" in mb:
            key = f"bits:{i}"
            group_fields[key] = tuple(f[0] for f in mb["fields"])
            for f in mb["fields"]:
                groups[f[0]] = key
    counts = {mb["shape"][1] for mb in members if "bits" not in mb and mb.get("shape", ("",))[0] == "count"}
    lines = []
    for i, mb in enumerate(members):
        if "bits" in mb:
            widths = ", ".join(f"({f[0]!r}, {f[1]})" for f in mb["fields"])
            lines.append(f"{indent}'bits:{i}' / k.Bits(bo.{mb['bits']}, bo.name, {widths}),")
        else:
            lines.append(f"{indent}{_field(mb, groups, counts)},")
    return lines, repr(group_fields)


def _function(name: str, builder: str, members: list) -> str:
    lines, groups = _members(members, "        ")
    body = "\n".join(lines)
    sep = "\n" if lines else ""
    return (f"def {name}(bo, ns):\n"
            f"    return k.{builder}(\n{body}{sep}        groups={groups},\n    )\n")


def struct_function(name: str) -> str:
    return f"struct_{name}"


def payload_function(state: str, version: int) -> str:
    return f"payload_{state}_v{version}"


def render(desc: dict) -> str:
    """Python source defining the construct codecs of ``desc`` and the tables
    ``STRUCT_CODECS`` {name: function} and ``PAYLOAD_CODECS`` {(state, version): function}."""
    parts = []
    for name, members in desc["structs"].items():
        parts.append(_function(struct_function(name), "Record", members))
    for state, sd in desc["states"].items():
        for version, members in sd["layouts"].items():
            parts.append(_function(payload_function(state, version), "payload", members))
    tables = ["STRUCT_CODECS = {"]
    tables += [f"    {name!r}: {struct_function(name)}," for name in desc["structs"]]
    tables.append("}")
    tables.append("PAYLOAD_CODECS = {")
    tables += [f"    ({state!r}, {v}): {payload_function(state, v)},"
               for state, sd in desc["states"].items() for v in sd["layouts"]]
    tables.append("}")
    return "\n\n".join(parts + ["\n".join(tables)]) + "\n"


class Constructs:
    """The construct codecs of a description, built on first use and cached."""

    def __init__(self, desc: dict, struct_codecs: dict, payload_codecs: dict):
        self.desc = desc
        self.struct_codecs = struct_codecs
        self.payload_codecs = payload_codecs
        self._cache: dict = {}

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def payload(self, state: str, version: int, byteorder: str = "little"):
        """The construct of one version of a state's payload."""
        bo = BYTEORDERS[byteorder]
        return self._cached(("payload", state, version, byteorder),
                            lambda: self.payload_codecs[(state, version)](bo, self))

    def struct(self, name: str, bo):
        return self._cached(("struct", name, bo.name), lambda: self.struct_codecs[name](bo, self))

    def enum(self, name: str, bo, fixed: int | None = None):
        ed = self.desc["enums"][name]
        base = getattr(bo, ed["base"])
        if fixed is not None:
            base = cs.Const(fixed, base)
        adapter = Flags if ed["kind"] == "flags" else Enum
        return adapter(base, ed["values"])

    def nested(self, name: str, bo):
        sd = self.desc["states"][name]

        def make():
            payloads = {v: self.payload(name, v, bo.name) for v in sd["layouts"]}
            return Nested(name, sd["id"], payloads, bo.name, sd["version"])

        return self._cached(("nested", name, bo.name), make)


def execute(source: str, label: str) -> dict:
    """Run construct source text; returns its namespace (the two tables)."""
    namespace: dict = {"cs": cs, "k": k}
    exec(compile(source, label, "exec"), namespace)  # noqa: S102 - our own generated text
    return namespace


def constructs_for(schema_set) -> Constructs:
    """The construct codecs of a schema set, from the same text the backend writes."""
    from .describe import describe

    cached = schema_set.__dict__.get("_kstate_constructs")
    if cached is None:
        desc = describe(schema_set)
        ns = execute(render(desc), "<kstate constructs>")
        cached = Constructs(desc, ns["STRUCT_CODECS"], ns["PAYLOAD_CODECS"])
        schema_set.__dict__["_kstate_constructs"] = cached
    return cached
