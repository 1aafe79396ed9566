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

The in-memory source may describe a snapshot JSON, which is input: there
every name is ``_N[i]`` (an index into a tuple of the names) and every
number ``repr(int)`` of a true ``int``, so no text of the description is
ever executed (``_Text``).
"""

from __future__ import annotations

import construct as cs

from . import constructs as k
from ..names import is_identifier
from .constructs import BYTEORDERS, Flags, Enum, Nested


class _Text:
    """How the rendered source spells what came from the description.

    For the python backend (``mapped=False``) names are ``repr()`` literals
    and function names carry the item's name, so a generated module reads
    like a schema; every name must be an identifier.  In memory
    (``mapped=True``, what ``constructs_for`` executes) no text of the
    description reaches the source at all: a name is ``_N[i]``, an index
    into the tuple ``names`` that the namespace holds, and functions are
    numbered.  Either way numbers are ``repr(int)`` of a true ``int`` and
    integer types come from the fixed list ``INT_NAMES``."""

    def __init__(self, mapped: bool):
        self.mapped = mapped
        self.names: list[str] = []
        self._index: dict[str, int] = {}
        self._fns = 0

    def name(self, text) -> str:
        if type(text) is not str or (not self.mapped and not is_identifier(text)):
            raise ValueError(f"expected a name in the codec description, found {text!r:.60}")
        if not self.mapped:
            return repr(text)
        i = self._index.get(text)
        if i is None:
            i = self._index[text] = len(self.names)
            self.names.append(text)
        return f"_N[{i}]"

    def function(self, prefix: str, *parts) -> str:
        if self.mapped:
            self._fns += 1
            return f"_{prefix}{self._fns}"
        for part in parts:
            if not (type(part) is int or (type(part) is str and is_identifier(part))):
                raise ValueError(f"expected a name in the codec description, found {part!r:.60}")
        return prefix + "_" + "_".join(str(p) if type(p) is str else f"v{p}" for p in parts)


def _int(value) -> str:
    if type(value) is not int:
        raise ValueError(f"expected an int in the codec description, found {type(value).__name__}")
    return repr(value)


#: The integer types' attribute names on a byte order (``bo.u32``), spelled by us.
INT_NAMES = {n: n for n in ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64")}


def _int_type(name) -> str:
    try:
        return INT_NAMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"expected an integer type in the codec description, found {name!r:.60}") from None


def _count_ref(name: str, groups: dict[str, str], t: _Text) -> str:
    group = groups.get(name)
    return f"cs.this[{group!r}][{t.name(name)}]" if group else f"cs.this[{t.name(name)}]"


def _element(typ: tuple, member: dict, t: _Text) -> str:
    kind = typ[0]
    fixed = member.get("fixed")
    if kind == "int":
        text = f"bo.{_int_type(typ[1])}"
        if fixed is not None:
            return f"cs.Const({_int(fixed)}, {text})"
        if "range" in member:
            lo, hi = member["range"]
            return f"k.ranged({text}, {_int(lo)}, {_int(hi)})"
        return text
    if kind == "bool":
        if fixed is not None:
            return f"cs.ExprValidator(k.Bool01(), lambda obj, ctx: obj == {bool(int(_int(fixed)))!r})"
        return "k.Bool01()"
    if kind == "char":
        return f"k.Char({_int(typ[1])})"
    if kind == "addr":
        return "bo.addr"
    if kind == "folio":
        return "bo.folio"
    if kind == "enum":
        if fixed is not None:
            return f"ns.enum({t.name(typ[1])}, bo, fixed={_int(fixed)})"
        return f"ns.enum({t.name(typ[1])}, bo)"
    if kind == "struct":
        return f"ns.struct({t.name(typ[1])}, bo)"
    if kind == "state":
        return f"ns.nested({t.name(typ[1])}, bo)"
    raise ValueError(f"no construct for {typ!r:.60}")


def _field(member: dict, groups: dict[str, str], counts: set[str], t: _Text) -> str:
    typ = member["type"]
    shape = member.get("shape")
    name = member["name"]
    if typ[0] == "bytes":
        if shape[0] == "fixed":
            text = f"k.Hex(cs.Bytes({_int(shape[1])}))"
        elif shape[0] == "count":
            text = f"k.Hex(cs.Bytes({_count_ref(shape[1], groups, t)}))"
        else:
            text = "k.Hex(cs.GreedyBytes)"
    else:
        elem = _element(typ, member, t)
        if shape is None:
            text = elem
        elif shape[0] == "fixed":
            text = f"cs.Array({_int(shape[1])}, {elem})"
        elif shape[0] == "count":
            text = f"cs.Array({_count_ref(shape[1], groups, t)}, {elem})"
        else:
            text = f"cs.GreedyRange({elem})"
    if shape is not None and shape[0] != "fixed" and "max" in member:
        text = f"cs.ExprValidator({text}, lambda obj, ctx: len(obj) <= {_int(member['max'])})"
    elif name in counts and "max" in member and typ[0] == "int":
        text = f"k.at_most({text}, {_int(member['max'])})"
    return f"{t.name(name)} / {text}"


def _members(members: list, indent: str, t: _Text) -> tuple[list[str], str]:
    """The member lines of a Record and its ``groups=`` argument (the group keys
    ``'bits:I'`` are made here from the member's index)."""
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
            widths = ", ".join(f"({t.name(f[0])}, {_int(f[1])})" for f in mb["fields"])
            lines.append(f"{indent}'bits:{i}' / k.Bits(bo.{_int_type(mb['bits'])}, bo.name, "
                         f"{widths}),")
        else:
            lines.append(f"{indent}{_field(mb, groups, counts, t)},")
    def tup(names):  # as repr() spells a tuple
        inner = [t.name(n) for n in names]
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    spelled = ", ".join(f"{key!r}: {tup(names)}" for key, names in group_fields.items())
    return lines, "{" + spelled + "}"


def _function(name: str, builder: str, members: list, t: _Text) -> str:
    lines, groups = _members(members, "        ", t)
    body = "\n".join(lines)
    sep = "\n" if lines else ""
    return (f"def {name}(bo, ns):\n"
            f"    return k.{builder}(\n{body}{sep}        groups={groups},\n    )\n")


def struct_function(name: str) -> str:
    return _Text(False).function("struct", name)


def payload_function(state: str, version: int) -> str:
    return _Text(False).function("payload", state, version)


def render(desc: dict, mapped: bool = False) -> str:
    """Python source defining the construct codecs of ``desc`` and the tables
    ``STRUCT_CODECS`` {name: function} and ``PAYLOAD_CODECS`` {(state, version): function}.

    ``mapped``: spell every name as ``_N[i]`` (the source then needs ``_N``,
    ``render_names`` of the same call, in its namespace); see ``_Text``."""
    return _render(desc, _Text(mapped))[0]


def _render(desc: dict, t: _Text) -> tuple[str, tuple]:
    parts = []
    struct_fns, payload_fns = [], []
    for name, members in desc["structs"].items():
        fn = t.function("struct", name)
        struct_fns.append(f"    {t.name(name)}: {fn},")
        parts.append(_function(fn, "Record", members, t))
    for state, sd in desc["states"].items():
        for version, members in sd["layouts"].items():
            fn = t.function("payload", state, version)
            payload_fns.append(f"    ({t.name(state)}, {_int(version)}): {fn},")
            parts.append(_function(fn, "payload", members, t))
    tables = ["STRUCT_CODECS = {", *struct_fns, "}", "PAYLOAD_CODECS = {", *payload_fns, "}"]
    return "\n\n".join(parts + ["\n".join(tables)]) + "\n", tuple(t.names)


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


def execute(source: str, label: str, names: tuple = ()) -> dict:
    """Run construct source text; returns its namespace (the two tables)."""
    namespace: dict = {"cs": cs, "k": k, "_N": names}
    exec(compile(source, label, "exec"), namespace)  # noqa: S102 - our own generated text
    return namespace


def constructs_for(schema_set) -> Constructs:
    """The construct codecs of a schema set, from the same text the backend writes."""
    from .describe import describe

    cached = schema_set.__dict__.get("_kstate_constructs")
    if cached is None:
        desc = describe(schema_set)
        source, names = _render(desc, _Text(mapped=True))  # no text of desc in the source
        ns = execute(source, "<kstate constructs>", names)
        cached = Constructs(desc, ns["STRUCT_CODECS"], ns["PAYLOAD_CODECS"])
        schema_set.__dict__["_kstate_constructs"] = cached
    return cached
