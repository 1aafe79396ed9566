"""Properties of the checker over random schemas (hypothesis).

* any schema against itself (and against its own snapshot) finds nothing;
* safe evolutions (a new state, a ``@since`` field with a bump, ``@removed``
  with a bump, renames) give no error;
* unsafe edits (delete, retype, insert without a version, reorder) give the
  rule that names them.

Schemas are drawn as a small structure (states and fields) that is easy to
evolve, then rendered to text; ``kstate.testing.schema_texts`` adds a wider
variety for the identity properties.
"""

from __future__ import annotations

import copy
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.checker import check
from kstate.snapshot import from_json, to_json

# modest by default (2 shared cores); KSTATE_CHECK_EXAMPLES=500 for a deeper run
SETTINGS = settings(max_examples=int(os.environ.get("KSTATE_CHECK_EXAMPLES", "25")), deadline=None,
                    suppress_health_check=list(HealthCheck))

PREAMBLE = """enum mode : u8 { OFF = 0, ON = 1, AUTO = 2, }
flags perm : u32 { R = 0x1, W = 0x2, X = 0x4, }
struct pt { x: u32; y: i16; }
"""
TYPES = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "bool", "char[4]", "bytes[4]",
         "addr(linear)", "folio", "mode", "perm", "pt", "u32[2]", "*u64")
# same wire type: never "changed" into each other
SAME_WIRE = {frozenset(("u64", "*u64"))}


@dataclass
class F:
    name: str
    type: str
    since: int | None = None
    removed: int | None = None
    pinned: bool = False  # a count field or its array: kept as is by the edits

    def render(self) -> str:
        ann = f" @since({self.since})" if self.since else ""
        if self.removed:
            ann += f' @removed({self.removed}, "gone")'
        return f"    {self.name}: {self.type}{ann};"

    @property
    def plain(self) -> bool:
        return not (self.since or self.removed or self.pinned)


@dataclass
class S:
    name: str
    id: int
    version: int
    min_version: int
    fields: list[F] = field(default_factory=list)

    def render(self) -> str:
        head = [f"state {self.name} {{", f"    id = {self.id};", f"    version = {self.version};",
                f"    min_version = {self.min_version};"]
        return "\n".join(head + [f.render() for f in self.fields] + ["}"])


def render(states: list[S]) -> str:
    return PREAMBLE + "\n".join(s.render() for s in states) + "\n"


@st.composite
def a_state(draw, name: str, sid: int) -> S:
    version = draw(st.integers(1, 3))
    s = S(name, sid, version, draw(st.integers(1, version)))
    n = draw(st.integers(1, 5))
    for i in range(n):
        f = F(f"{name}_f{i}", draw(st.sampled_from(TYPES)))
        if i > 0 and version > 1 and draw(st.integers(0, 2)) == 0:
            f.since = draw(st.integers(2, version))
        low = max(2, (f.since or 0) + 1)
        if i > 0 and low <= version and draw(st.integers(0, 3)) == 0:
            f.removed = draw(st.integers(low, version))
        s.fields.append(f)
    if draw(st.booleans()):
        s.fields.append(F(f"{name}_n", "u8", pinned=True))
        s.fields.append(F(f"{name}_arr", "u16[" + f"{name}_n" + "]", pinned=True))
    return s


@st.composite
def schemas(draw) -> list[S]:
    n = draw(st.integers(1, 3))
    ids = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n, unique=True))
    return [draw(a_state(f"s{i}", ids[i])) for i in range(n)]


def load(text: str) -> kstate.SchemaSet:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "schema.kstate"
        p.write_text(text)
        return kstate.load(p)


def errors(old, new) -> list:
    return [f for f in check(old, new) if f.severity == "error"]


# --- identity ------------------------------------------------------------------


@SETTINGS
@given(schemas())
def test_schema_against_itself_is_silent(states):
    s = load(render(states))
    assert check(s, s, "both") == []
    assert check(s, from_json(to_json(s), "snap"), "both") == []


try:
    from kstate.testing import schema_texts
except ImportError:  # pragma: no cover - the lead's strategies are optional
    schema_texts = None

if schema_texts is not None:
    @SETTINGS
    @given(schema_texts())
    def test_random_schema_texts_against_themselves(text):
        s = load(text)
        assert check(s, s, "both") == []
        snap = from_json(to_json(s), "snap")
        assert check(snap, s, "both") == []


# --- safe evolutions -----------------------------------------------------------


@st.composite
def safe_evolutions(draw):
    old = draw(schemas())
    new = copy.deepcopy(old)
    expected_warnings: set[str] = set()
    for s in new:
        op = draw(st.sampled_from(("none", "since", "removed", "rename_field", "rename_state")))
        at_v = [f for f in s.fields if f.plain]
        if op == "since":
            s.version += 1
            pos = draw(st.integers(0, len(s.fields)))
            s.fields.insert(pos, F(f"{s.name}_new", draw(st.sampled_from(TYPES)), since=s.version))
        elif op == "removed" and at_v:
            victim = draw(st.sampled_from(at_v))
            s.version += 1
            victim.removed = s.version
        elif op == "rename_field" and at_v:
            victim = draw(st.sampled_from(at_v))
            victim.name += "_renamed"
            expected_warnings.add("FIELD_RENAMED")
        elif op == "rename_state":
            s.name += "_renamed"
            expected_warnings.add("STATE_RENAMED")
    if draw(st.booleans()):
        used = {s.id for s in new}
        fresh = next(i for i in range(501, 1000) if i not in used)
        new.append(draw(a_state("added", fresh)))
    return old, new, expected_warnings


@SETTINGS
@given(safe_evolutions())
def test_safe_evolutions_give_no_error(case):
    old, new, warnings = case
    o, n = load(render(old)), load(render(new))
    found = check(o, n)
    assert [f for f in found if f.severity == "error"] == []
    assert {f.rule for f in found} <= warnings | {"FIELD_RENAMED"}


# --- unsafe edits --------------------------------------------------------------


@st.composite
def unsafe_edits(draw):
    old = draw(schemas())
    new = copy.deepcopy(old)
    s = draw(st.sampled_from(new))
    plain = [i for i, f in enumerate(s.fields) if f.plain]
    ops = ["insert"]
    if plain:
        ops += ["delete", "retype"]
    pairs = list(zip(plain, plain[1:]))
    if pairs:
        ops.append("reorder")
    op = draw(st.sampled_from(ops))
    if op == "insert":
        pos = draw(st.integers(0, len(s.fields)))
        s.fields.insert(pos, F(f"{s.name}_inserted", draw(st.sampled_from(TYPES))))
        return old, new, s.id, {("FIELD_ADDED_UNVERSIONED", f"{s.name}_inserted")}
    if op == "delete":
        i = draw(st.sampled_from(plain))
        victim = s.fields.pop(i)
        return old, new, s.id, {("FIELD_DROPPED", victim.name)}
    if op == "retype":
        i = draw(st.sampled_from(plain))
        f = s.fields[i]
        others = [t for t in TYPES if t != f.type and frozenset((t, f.type)) not in SAME_WIRE]
        f.type = draw(st.sampled_from(others))
        return old, new, s.id, {("FIELD_TYPE_CHANGED", f.name), ("ARRAY_SHAPE_CHANGED", f.name)}
    a, b = draw(st.sampled_from(pairs))
    s.fields[a], s.fields[b] = s.fields[b], s.fields[a]
    return old, new, s.id, {("FIELD_REORDERED", s.fields[a].name), ("FIELD_REORDERED", s.fields[b].name)}


@SETTINGS
@given(unsafe_edits())
def test_unsafe_edits_are_caught(case):
    old, new, sid, want = case
    o, n = load(render(old)), load(render(new))
    found = {(f.rule, f.field) for f in errors(o, n) if f.state_id == sid}
    assert found & want, (found, want)
