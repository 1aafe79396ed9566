"""Hypothesis strategies for kstate schemas, for kstate's tests and yours.

``schema_texts()`` draws the text of a valid single-file schema: enums,
flags, plain structs (with ``bits`` groups), and states with random fields,
versions (``@since``/``@removed``), arrays (``[N]``, ``[count]``, ``[..]``),
pointers, nested states and subsections.  Every drawn text compiles.

Needs ``hypothesis`` (a test dependency, not a runtime one).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import strategies as st

INT_NAMES = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64")
SCALARS = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "folio",
           "addr(vmemmap)", "addr(linear)")


@dataclass
class _Field:
    name: str
    type: str
    since: int | None = None
    removed: int | None = None
    annotations: list[str] = field(default_factory=list)
    fixed: str | None = None

    def render(self) -> str:
        anns = list(self.annotations)
        if self.since is not None:
            anns.append(f"@since({self.since})")
        if self.removed is not None:
            anns.append(f'@removed({self.removed}, "dropped in v{self.removed}")')
        fixed = f" = {self.fixed}" if self.fixed is not None else ""
        return f"    {self.name}: {self.type}{fixed}{''.join(' ' + a for a in anns)};"


@st.composite
def _enum(draw, name: str, kind: str) -> tuple[str, str]:
    base = draw(st.sampled_from(("u8", "u16", "u32", "u64")))
    n = draw(st.integers(1, 4))
    if kind == "flags":
        bits = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n, unique=True))
        values = [1 << b for b in bits]
    else:
        values = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n, unique=True))
    members = ", ".join(f"{name.upper()}_V{i} = {v}" for i, v in enumerate(values))
    return base, f"{kind} {name} : {base} {{ {members} }}"


@st.composite
def _struct(draw, name: str, enums: list[str]) -> str:
    lines = []
    n = draw(st.integers(1, 3))
    for i in range(n):
        kind = draw(st.sampled_from(("scalar", "char", "array", "bits", "enum" if enums else "scalar")))
        if kind == "scalar":
            lines.append(f"    m{i}: {draw(st.sampled_from(INT_NAMES + ('bool',)))};")
        elif kind == "char":
            lines.append(f"    m{i}: char[{draw(st.integers(1, 6))}];")
        elif kind == "array":
            lines.append(f"    m{i}: {draw(st.sampled_from(INT_NAMES))}[{draw(st.integers(1, 3))}];")
        elif kind == "enum":
            lines.append(f"    m{i}: {draw(st.sampled_from(enums))};")
        else:
            base = draw(st.sampled_from(("u8", "u16", "u32", "u64")))
            total = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}[base]
            widths = draw(st.lists(st.integers(1, max(1, total // 3)), min_size=1, max_size=3))
            body = " ".join(f"b{i}_{j}: {w};" for j, w in enumerate(widths))
            lines.append(f"    bits {base} {{ {body} }}")
    return f"struct {name} {{\n" + "\n".join(lines) + "\n}"


@st.composite
def _state(draw, name: str, sid: int, types: list[str], nested: list[str],
           subsection: str | None, prefix: str = "") -> str:
    version = draw(st.integers(1, 4))
    min_version = draw(st.integers(1, version))
    fields: list[_Field] = []
    n = draw(st.integers(0, 6))
    for i in range(n):
        kind = draw(st.sampled_from(("scalar", "scalar", "char", "bytes", "array", "pointer", "counted",
                                     "named", "named", "nested")))
        fname = f"{prefix}f{i}"
        if kind == "scalar":
            f = _Field(fname, draw(st.sampled_from(SCALARS)))
        elif kind == "char":
            f = _Field(fname, f"char[{draw(st.integers(1, 8))}]")
        elif kind == "bytes":
            f = _Field(fname, f"bytes[{draw(st.integers(1, 8))}]")
        elif kind == "array":
            f = _Field(fname, f"{draw(st.sampled_from(INT_NAMES))}[{draw(st.integers(1, 4))}]")
        elif kind == "pointer":
            f = _Field(fname, f"*{draw(st.sampled_from(INT_NAMES))}")
        elif kind == "counted":
            # the count comes first and is on the wire whenever the array is
            count = _Field(f"{prefix}n{i}", draw(st.sampled_from(("u8", "u16", "u32"))),
                           annotations=[f"@max({draw(st.integers(0, 8))})"])
            elem = draw(st.sampled_from(INT_NAMES + tuple(types)))
            f = _Field(fname, f"{elem}[{prefix}n{i}]")
            if version > 1 and draw(st.booleans()):
                count.since = f.since = draw(st.integers(2, version))
            fields.append(count)
            fields.append(f)
            continue
        elif kind == "named" and types:
            f = _Field(fname, draw(st.sampled_from(types)))
        elif kind == "nested" and nested:
            f = _Field(fname, draw(st.sampled_from(nested)))
        else:
            f = _Field(fname, "u32", fixed=hex(draw(st.integers(0, 2**32 - 1))))
        if version > 1 and draw(st.booleans()):
            f.since = draw(st.integers(2, version))
        low = max(2, (f.since or 0) + 1)
        if low <= version and draw(st.integers(0, 3)) == 0:
            f.removed = draw(st.integers(low, version))
        fields.append(f)
    if draw(st.integers(0, 4)) == 0:
        fields.append(_Field(f"{prefix}tail", f"{draw(st.sampled_from(INT_NAMES))}[..]",
                             annotations=[f"@max({draw(st.integers(0, 16))})"]))
    props = [f"    id = {sid};", f"    version = {version};"]
    if min_version != version or draw(st.booleans()):
        props.append(f"    min_version = {min_version};")
    body = props + [f.render() for f in fields]
    if subsection:
        body.append(f"    subsection {subsection};")
    return f"state {name} {{\n" + "\n".join(body) + "\n}"


@st.composite
def schema_texts(draw, max_states: int = 3) -> str:
    """The text of a valid single-file schema."""
    items: list[str] = []
    types: list[str] = []
    enums: list[str] = []
    for i in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(("enum", "flags")))
        _, text = draw(_enum(f"e{i}", kind))
        items.append(text)
        enums.append(f"e{i}")
    types.extend(enums)
    for i in range(draw(st.integers(0, 2))):
        items.append(draw(_struct(f"s{i}", enums)))
        types.append(f"s{i}")
    n_states = draw(st.integers(1, max_states))
    ids = draw(st.lists(st.integers(1, 1000), min_size=n_states + 2, max_size=n_states + 2, unique=True))
    nested: list[str] = []
    # an optional leaf state used as a nested field type, and one used as a subsection
    if draw(st.booleans()):
        items.append(draw(_state("leaf", ids[-1], types, [], None)))
        nested.append("leaf")
    sub = None
    if draw(st.booleans()):
        items.append(draw(_state("sub", ids[-2], types, [], None, prefix="x")))
        sub = "sub"
    for i in range(n_states):
        items.append(draw(_state(f"st{i}", ids[i], types, nested, sub if i == 0 else None)))
    return "\n\n".join(items) + "\n"


# --- hostile schemas: what a compiler must refuse or compile correctly ----------

#: Doc-comment text with control and bidi characters and comment/trigraph/string breakers.
DOC_NOISE = ("a", " ", "\u202e", "\u2066", "\u200f", "\u061c", "\x1b", "\x00", "\x0c", "\x7f", "*/", "/*",
             "??/", "\u2028", "\\", '"""', "-->", "<script>", "{{ x }}", "\u00e9")
#: Sizes and bounds on both sides of every limit (64 bits, size_t, an entry's i32 size).
HUGE_VALUES = ("1 << 61", "1 << 64", "(1 << 31) - 1", "1 << 31", "2147483647", "1 << 70",
               "0xffffffffffffffff", "-(1 << 63)", "(1 << 64) - 1", "3", "1 << 4096", "-1")


@st.composite
def hostile_schema_texts(draw, names, max_states: int = 2) -> str:
    """A ``schema_texts()`` schema plus items that test the compiler's edges:
    names drawn from ``names`` (keywords, runtime names, ...) as a constant, an
    enum value, a field, a bits member, a struct and a state; doc comments of
    ``DOC_NOISE``; sizes, ``@max`` and constants of ``HUGE_VALUES``.  Some
    compile, some must be refused with a positioned error."""
    text = draw(schema_texts(max_states=max_states))
    pick = lambda: draw(st.sampled_from(sorted(names)))  # noqa: E731
    doc = lambda: "/// " + "".join(draw(st.lists(st.sampled_from(DOC_NOISE), max_size=10))) + "\n"  # noqa: E731
    huge = lambda: draw(st.sampled_from(HUGE_VALUES))  # noqa: E731
    parts = []
    if draw(st.booleans()):
        parts.append(f"{doc()}const {pick()} = {huge()};")
    if draw(st.booleans()):
        parts.append(f"{doc()}enum hostile_e : u16 {{ {pick()} = 1 }}")
    if draw(st.booleans()):
        parts.append(f"{doc()}struct {pick()} {{ {doc()}    x: u8; }}")
    body = [f"    {doc()}    {pick()}: u8;" if draw(st.booleans()) else "",
            f"    bits u8 {{ {pick()}: 2; }}" if draw(st.booleans()) else "",
            f"    hn: u32 @max({huge()});\n    ha: u8[hn];" if draw(st.booleans()) else "",
            f"    hf: u8[{huge()}];" if draw(st.booleans()) else ""]
    sname = pick() if draw(st.booleans()) else "hostile_s"
    parts.append(f"{doc()}state {sname} {{ id = 4000; version = 1;\n" + "\n".join(b for b in body if b)
                 + "\n    z: u8;\n}")
    return text + "\n" + "\n".join(parts) + "\n"


# --- values: decode documents that encode cleanly ------------------------------

from . import model as m  # noqa: E402

MAX_ARRAY = 4  # elements drawn for [count] and [..] arrays (kept small for speed)
# Hypothesis draws at most a few KiB of choices per example: a longer fixed
# array is filled from a seeded Random (bytes) or from a few drawn elements.
MAX_DRAWN_LENGTH = 64

_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def _count_limit(state: m.State | None, f: m.Field) -> int:
    limit = MAX_ARRAY
    if f.max is not None:
        limit = min(limit, f.max)
    if state is not None and isinstance(f.shape, m.Counted):
        count = state.field(f.shape.count)
        if isinstance(count, m.Field):
            if count.max is not None:
                limit = min(limit, count.max)
            if count.range is not None:
                limit = min(limit, count.range[1])
            limit = min(limit, count.type.max)
        else:
            limit = min(limit, count.max_value)
        for other in (state.field(n) for n in (count.counts if isinstance(count, m.Field) else ())):
            if other is not None and other.max is not None:
                limit = min(limit, other.max)
    return max(0, limit)


def value_of(vt: m.ValueType) -> st.SearchStrategy:
    """Decoded-JSON values of one element of value type ``vt``."""
    if isinstance(vt, m.IntType):
        return st.integers(vt.min, vt.max)
    if isinstance(vt, m.BoolType):
        return st.booleans()
    if isinstance(vt, m.CharType):
        return st.text(_ASCII, max_size=vt.length)
    if isinstance(vt, (m.AddrType, m.FolioType)):
        return st.integers(0, 2**64 - 1)
    if isinstance(vt, m.EnumType):
        names = [v.name for v in vt.decl.values]
        if vt.kind == "enum":
            return st.sampled_from(names)
        order = {v.name: v.value for v in vt.decl.values}
        return st.sets(st.sampled_from(names)).map(lambda s: sorted(s, key=order.__getitem__))
    if isinstance(vt, m.StructType):
        return members_of(None, vt.decl.members)
    if isinstance(vt, m.StateType):
        return nested_of(vt.decl)
    raise TypeError(f"no values for {vt!r}")


def field_value(state: m.State | None, f: m.Field, length: int | None = None) -> st.SearchStrategy:
    """Values of field ``f``; ``length`` fixes the element count of a ``[count]`` array."""
    if isinstance(f.type, m.BytesType):
        if isinstance(f.shape, m.Fixed):
            return _exact_bytes(f.shape.length)
        if length is not None:
            return _exact_bytes(length)
        return st.binary(max_size=_count_limit(state, f)).map(bytes.hex)
    if f.fixed is not None:
        base = f.type.decl if isinstance(f.type, m.EnumType) else None
        if base is not None and base.kind == "enum" and base.name_of(f.fixed):
            return st.just(base.name_of(f.fixed))
        return st.just(bool(f.fixed) if isinstance(f.type, m.BoolType) else f.fixed)
    if f.range is not None:
        elem = st.integers(f.range[0], f.range[1])
    else:
        elem = value_of(f.type)
    if f.shape is None:
        return elem
    if isinstance(f.shape, m.Fixed):
        return _exact_list(elem, f.shape.length)
    if length is not None:
        return _exact_list(elem, length)
    return st.lists(elem, max_size=_count_limit(state, f))


def _exact_bytes(n: int) -> st.SearchStrategy:
    """``n`` bytes as hex: drawn when short, else from a seeded Random (linear in ``n``)."""
    if n <= MAX_DRAWN_LENGTH:
        return st.binary(min_size=n, max_size=n).map(bytes.hex)
    return st.integers(0, 2**32 - 1).map(lambda seed: random.Random(seed).randbytes(n).hex())


def _exact_list(elem: st.SearchStrategy, n: int) -> st.SearchStrategy:
    """``n`` elements: drawn when few, else picked (seeded) from a few drawn ones."""
    if n <= MAX_DRAWN_LENGTH:
        return st.lists(elem, min_size=n, max_size=n)
    pool = st.lists(elem, min_size=1, max_size=8)
    return st.tuples(pool, st.integers(0, 2**32 - 1)).map(lambda ps: _fill(ps[0], ps[1], n))


def _fill(pool: list, seed: int, n: int) -> list:
    rnd = random.Random(seed)
    return [rnd.choice(pool) for _ in range(n)]


@st.composite
def members_of(draw, state: m.State | None, members) -> dict:
    """A ``fields`` object for ``members`` (count fields left out: the encoder
    derives them; arrays that share a count get the same length)."""
    arrays: dict[str, list[m.Field]] = {}
    for mb in members:
        if not mb.is_bits and isinstance(mb.shape, m.Counted):
            arrays.setdefault(mb.shape.count, []).append(mb)
    lengths = {count: draw(st.integers(0, min(_count_limit(state, f) for f in fs)))
               for count, fs in arrays.items()}
    out: dict = {}
    for mb in members:
        if mb.is_bits:
            for b in mb.fields:
                if b.name not in arrays:
                    out[b.name] = draw(st.integers(0, b.max_value))
        elif mb.name not in arrays:
            length = lengths.get(mb.shape.count) if isinstance(mb.shape, m.Counted) else None
            out[mb.name] = draw(field_value(state, mb, length))
    return out


@st.composite
def nested_of(draw, state: m.State):
    version = draw(st.sampled_from(list(state.versions)))
    return {"state": state.name, "version": version,
            "fields": draw(members_of(state, state.layouts[version]))}


@st.composite
def entries_of(draw, state: m.State, instance_id: int, version: int | None = None):
    """One SECTION entry of ``state`` (at ``version`` or a drawn one) with its subsections."""
    if version is None:
        version = draw(st.sampled_from(list(state.versions)))
    entry = {"state": state.name, "version": version, "instance_id": instance_id,
             "fields": draw(members_of(state, state.layouts[version]))}
    subs = []
    for sub in state.subsections_for(version):
        if sub.state is not None and draw(st.booleans()):
            sv = draw(st.sampled_from(list(sub.state.versions)))
            subs.append({"state": sub.name, "version": sv, "instance_id": instance_id,
                         "fields": draw(members_of(sub.state, sub.state.layouts[sv]))})
    if subs:
        entry["subsections"] = subs
    return entry


@st.composite
def documents(draw, schema_set: m.SchemaSet, max_entries: int = 4):
    """A decode document (docs/cli.md's JSON shape) that encodes without error."""
    roots = [s for s in schema_set.states.values() if s.parent is None]
    if not roots:
        return {"entries": []}
    picked = draw(st.lists(st.sampled_from(sorted(roots, key=lambda s: s.name)), max_size=max_entries))
    return {"entries": [draw(entries_of(state, i + 1)) for i, state in enumerate(picked)]}


def examples(strategy: st.SearchStrategy, count: int, seed: int) -> list:
    """``count`` examples of ``strategy``, the same ones for the same seed.

    Hypothesis starts from the simplest value (all zeros); that one is kept
    only when nothing else comes out, so samples look like real data.
    """
    import random

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    drawn: list = []
    budget = count * 3 + 8

    @settings(max_examples=budget, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @hseed(seed)
    @given(strategy)
    def collect(x):
        if len(drawn) < budget:
            drawn.append(x)

    collect()
    pool = drawn[1:] or drawn
    rnd = random.Random(seed)
    return [pool[rnd.randrange(len(pool))] for _ in range(count)] if len(pool) < count \
        else rnd.sample(pool, count)


# --- hostile snapshots -----------------------------------------------------------

#: Values a snapshot mutation may put anywhere: edges of every limit and
#: integer type, wrong types, names that are keywords or other items' names,
#: code (that would create ``kstate-PWNED`` in the working directory), paths
#: that leave the tree.
SNAPSHOT_VALUES = (
    0, 1, -1, 2, 3, 16, 255, 256, 1023, 1024, 1025, 65535, (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
    1 << 32, (1 << 63) - 1, 1 << 63, 1 << 64, -(1 << 63) - 1, 10 ** 9, 10 ** 100, 10 ** 4000,
    True, False, None, 0.5, 1.0, 1e308, "", " ", "x", "u8", "u64", "int", "bool", "char", "state",
    "feat", "inner", "point", "color", "perms", "count", "fixed", "rest", "enum", "flags", "struct",
    "a" * 256, "x\ny", "x'y", "x'] = __import__('os').system('touch kstate-PWNED'); f['", "%s%d",
    "\u2028", "../up.kstate", "/abs.kstate", "a.kstate",
    '0 if __import__("os").system("touch kstate-PWNED") else 0', [], [1, 2], [[[]]], {}, {"kind": "int"},
    {"file": "x", "line": 1, "column": 1},
)


#: Keys whose values no other value of a snapshot is derived from.
FREE_KEYS = ("max", "range", "doc", "line", "column", "reason", "since", "id", "c_name", "custom",
             "save", "restore", "expr", "value")


def mutate_snapshot(doc, choose) -> str:
    """A mutation of snapshot document ``doc`` (a deep copy is changed), as JSON text.

    ``choose(n)`` picks a number in ``0 .. n-1``: a hypothesis ``draw`` in the
    test suite (``tests/test_fuzz_snapshot.py``), atheris' data provider in
    ``tools/fuzz/fuzz_snapshot.py``.  One to three edits, each at a random
    place of the tree: replace a value (from ``SNAPSHOT_VALUES``, another
    value of the document, or the old integer shifted or off by one), delete a
    key or an element, add an unknown key, duplicate or swap elements, nest
    arrays 100,000 deep, or cut the text short."""
    import copy
    import json

    doc = copy.deepcopy(doc)
    deep = "\x00deep"
    cut = None
    for _ in range(1 + choose(3)):
        spots = []  # (container, key) of every value

        def walk(node):
            items = node.items() if isinstance(node, dict) else enumerate(node) \
                if isinstance(node, list) else ()
            for k, v in list(items):
                spots.append((node, k))
                walk(v)

        walk(doc)
        if not spots:
            break
        free = [sp for sp in spots if sp[1] in FREE_KEYS]
        if free and choose(3) == 0:  # a value the snapshot does not derive: more mutants load
            spots = free
        parent, key = spots[choose(len(spots))]
        old = parent[key]
        op = choose(9)
        if op == 0:
            parent[key] = SNAPSHOT_VALUES[choose(len(SNAPSHOT_VALUES))]
        elif op == 1:
            other, okey = spots[choose(len(spots))]
            parent[key] = copy.deepcopy(other[okey])
        elif op == 2 and type(old) is int:
            parent[key] = (old << (1 + choose(40))) if choose(2) else old + (1, -1)[choose(2)]
        elif op == 3:
            del parent[key]
        elif op == 4 and isinstance(old, dict):
            old[("extra", "name", "bits", "kind", "x" * 300)[choose(5)]] = SNAPSHOT_VALUES[choose(20)]
        elif op == 5 and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(old))
        elif op == 6 and isinstance(parent, list) and len(parent) > 1:
            j = choose(len(parent))
            parent[key], parent[j] = parent[j], parent[key]
        elif op == 7:
            parent[key] = deep
        elif op == 8:
            cut = choose(1 << 20)
        else:
            parent[key] = None
    text = json.dumps(doc, indent=2)
    text = text.replace(json.dumps(deep), "[" * 100000 + "]" * 100000, 1)
    return text if cut is None else text[: cut % (len(text) + 1)]
