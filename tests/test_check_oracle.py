"""A decode-based oracle for the checker.

For random evolutions the checker calls compatible, streams that OLD's
codec writes (at OLD's version) decode under NEW's codec to the same values.
For random edits it calls breaking, at least one stream is misread or
rejected by NEW.  The streams: two built from the model (distinct values per
field, and extreme ones: unsigned maxima, signed minima) plus random ones
from ``kstate.testing``.  Changes that only alter a field's meaning, not its
bytes (``u64``/``addr``/``folio`` kinds), are left out of the breaking
oracle: no decoder can see them, which is why the checker judges wire
*types*.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from hypothesis import assume, given
from hypothesis import strategies as st

import kstate
from kstate import model as m
from kstate.checker import check
from kstate.testing import entries_of

try:  # tests/ is a rootdir on sys.path (no __init__.py) ...
    from test_check_props import SETTINGS, load, render, safe_evolutions, unsafe_edits
except ImportError:  # ... or a package
    from .test_check_props import SETTINGS, load, render, safe_evolutions, unsafe_edits

SAME_BYTES = {"u64", "addr(linear)", "folio", "*u64"}
# an enum over u8 reads the bytes a u8 wrote (unnamed values are warnings):
# a change the checker rightly refuses, but no stream shows it
SAME_BYTES_ENUM = {"u8", "mode"}
ENTRIES = 4


def _element(t: m.ValueType, i: int, extreme: bool):
    if isinstance(t, m.IntType):
        if extreme:
            return t.min if t.signed else t.max
        return (i * 37 + 1) % (t.max + 1)
    if isinstance(t, m.BoolType):
        return i % 2 == 0
    if isinstance(t, m.CharType):
        return chr(ord("a") + i % 26)
    if isinstance(t, (m.AddrType, m.FolioType)):
        return 2**64 - 1 if extreme else 4096 * (i + 1)
    if isinstance(t, m.EnumType):
        names = [v.name for v in t.decl.values]
        name = names[i % len(names)]
        return name if t.kind == "enum" else [name]
    if isinstance(t, m.StructType):
        return _fields(t.decl.members, i, extreme)
    raise TypeError(t)


def _value(f: m.Field, i: int, extreme: bool):
    if isinstance(f.type, m.BytesType):
        return bytes([(i + 1) % 256] * f.shape.length).hex()
    if f.shape is None:
        return _element(f.type, i, extreme)
    n = f.shape.length if isinstance(f.shape, m.Fixed) else 2
    return [_element(f.type, i + k, extreme) for k in range(n)]


def _fields(members, salt: int, extreme: bool) -> dict:
    counts = {f.shape.count for f in members if not f.is_bits and isinstance(f.shape, m.Counted)}
    return {f.name: _value(f, salt + i, extreme) for i, f in enumerate(members) if f.name not in counts}


def built_stream(schema_set, state, extreme: bool) -> bytes:
    entries = [{"state": state.name, "version": state.version, "instance_id": k + 1,
                "fields": _fields(state.layouts[state.version], k, extreme)} for k in range(2)]
    return schema_set.encode({"entries": entries})


def drawn_stream(schema_set, state, data) -> bytes:
    entries = [data.draw(entries_of(state, i + 1, version=state.version)) for i in range(ENTRIES)]
    return schema_set.encode({"entries": entries})


def fields_of(doc: dict) -> str:
    """The decoded values, as JSON (so that True and 1 differ); the safe evolutions
    rename a field by adding ``_renamed``, which is taken off again here."""
    return json.dumps([{k.removesuffix("_renamed"): v for k, v in (e.get("fields") or {}).items()}
                       for e in doc["entries"]])


def has_errors(doc: dict) -> bool:
    return any(d["severity"] == "error" for d in doc["diagnostics"])


@SETTINGS
@given(safe_evolutions(), st.data())
def test_compatible_means_same_values(case, data):
    old, new, _ = case
    o, n = load(render(old)), load(render(new))
    assert [f for f in check(o, n) if f.severity == "error"] == []
    for state in o.states.values():
        for blob in (built_stream(o, state, False), built_stream(o, state, True),
                     drawn_stream(o, state, data)):
            before, after = o.decode(blob), n.decode(blob)
            assert not has_errors(before)
            assert not has_errors(after), after["diagnostics"]
            assert fields_of(after) == fields_of(before)


@SETTINGS
@given(unsafe_edits(), st.data())
def test_breaking_means_some_stream_is_misread(case, data):
    old, new, sid, want = case
    o, n = load(render(old)), load(render(new))
    assert {f.rule for f in check(o, n) if f.severity == "error" and f.state_id == sid}
    before_types = {f.name: f.type for f in next(s for s in old if s.id == sid).fields}
    after_types = {f.name: f.type for f in next(s for s in new if s.id == sid).fields}
    retyped = {t for name in before_types.keys() & after_types.keys()
               if before_types[name] != after_types[name] for t in (before_types[name], after_types[name])}
    assume(not (retyped and (retyped <= SAME_BYTES or retyped <= SAME_BYTES_ENUM)))
    state = o.state_by_id(sid)
    blobs = [built_stream(o, state, False), built_stream(o, state, True), drawn_stream(o, state, data)]
    misread = []
    for blob in blobs:
        before, after = o.decode(blob), n.decode(blob)
        assert not has_errors(before), before["diagnostics"]
        misread.append(has_errors(after) or fields_of(after) != fields_of(before))
    assert any(misread[:2]), "the streams built from the model must show the break"


# --- the verdict, both ways --------------------------------------------------------
#
# The checks above go one way each (compatible => same values; a known break
# => some stream misread).  Here the verdict itself is compared, in both
# directions: for random renames (plain fields, counts, bits members used as
# counts) combined with bounds changes (@range, a count's @max, an array's
# @max, a [..] array's @max) and with history rewrites at older versions
# (@since/@removed moved, a field retyped, version and min_version changed),
# the checker reports an error for the state exactly when a stream the
# writer may write is misread or rejected by the reader.  The streams are the
# model's own: every version the reader must read (the writer's version, and
# each older version both describe), each with every value at the low end,
# at the high end and distinct values of what the writer's decoder accepts
# (a count at the tightest of its own and its array's bounds).

V_INTS = {"u8": (0, 255), "u16": (0, 65535), "u32": (0, 2**32 - 1), "i16": (-32768, 32767),
          "i32": (-2**31, 2**31 - 1)}
TAIL_CAP = 24  # elements a [..] array without @max gets in the high stream (reader @max <= 20)


@dataclass
class VF:
    """One line of a state body: an int, a count and its array, a bits group, or the [..] tail."""

    kind: str  # int | count | array | bits | tail
    name: str
    type: str = "u8"
    range: tuple[int, int] | None = None
    max: int | None = None
    since: int | None = None
    removed: int | None = None
    count: str | None = None  # array: the count's name (a field or a bits member)
    bits: list[list] = field(default_factory=list)  # bits: [name, width]
    retyped: bool = False  # once only: two retypes could come back to the same width

    def render(self) -> str:
        if self.kind == "bits":
            return "    bits u8 { " + " ".join(f"{n}: {w};" for n, w in self.bits) + " }"
        t = {"array": f"u16[{self.count}]", "tail": "u8[..]"}.get(self.kind, self.type)
        ann = f" @range({self.range[0]}, {self.range[1]})" if self.range else ""
        ann += f" @max({self.max})" if self.max is not None else ""
        ann += f" @since({self.since})" if self.since else ""
        ann += f' @removed({self.removed}, "gone")' if self.removed else ""
        return f"    {self.name}: {t}{ann};"

    def present(self, u: int) -> bool:
        return (self.since or 0) <= u < (self.removed or 1 << 30)


@dataclass
class VS:
    version: int
    min_version: int
    body: list[VF]

    def render(self) -> str:
        return ("state dev {\n    id = 7;\n" f"    version = {self.version};\n"
                f"    min_version = {self.min_version};\n"
                + "".join(f.render() + "\n" for f in self.body) + "}\n")


@st.composite
def v_states(draw) -> VS:
    version = draw(st.integers(1, 3))
    s = VS(version, draw(st.integers(1, version)), [])
    for i in range(draw(st.integers(1, 4))):
        f = VF("int", f"f{i}", draw(st.sampled_from(sorted(V_INTS))))
        if draw(st.booleans()):
            lo, hi = V_INTS[f.type]
            a, b = sorted(draw(st.lists(st.integers(max(lo, -50), min(hi, 300)), min_size=2, max_size=2)))
            f.range = (a, b)
        if version > 1 and draw(st.booleans()):
            f.since = draw(st.integers(1, version))
        if draw(st.booleans()) and (f.since or 1) < version:
            f.removed = draw(st.integers((f.since or 1) + 1, version))
        s.body.append(f)
    if draw(st.booleans()):
        cmax = draw(st.none() | st.integers(0, 12))
        s.body.insert(draw(st.integers(0, len(s.body))), VF("count", "n", "u8", max=cmax))
        s.body.append(VF("array", "arr", count="n", max=draw(st.none() | st.integers(0, 12))))
    if draw(st.booleans()):
        width = draw(st.integers(1, 4))
        s.body.append(VF("bits", "b", bits=[["bn", width], ["bk", draw(st.integers(1, 3))]]))
        s.body.append(VF("array", "barr", count="bn", max=draw(st.none() | st.integers(0, 12))))
    if draw(st.booleans()):
        s.body.append(VF("tail", "tail", max=draw(st.none() | st.integers(0, 12))))
    return s


def _names(s: VS) -> list[str]:
    out = []
    for f in s.body:
        out += [n for n, _ in f.bits] if f.kind == "bits" else [f.name]
    return out


@st.composite
def v_edit(draw, s: VS) -> None:
    """One random edit of ``s``, in place."""
    ints = [f for f in s.body if f.kind == "int"]
    bounded = [f for f in s.body if f.kind in ("count", "array", "tail")]
    fresh = [n for n in _names(s) if not n.endswith("_renamed")]
    ops = (["rename"] if fresh else []) + ["version", "min_version"] + (["range", "history"] if ints else []) \
        + (["max"] if bounded else []) + (["retype"] if any(not f.retyped for f in ints) else [])
    op = draw(st.sampled_from(ops))
    if op == "rename":
        name = draw(st.sampled_from(fresh))
        for f in s.body:
            if f.name == name and f.kind != "bits":
                f.name += "_renamed"
            if f.count == name:
                f.count += "_renamed"
            for b in f.bits:
                if b[0] == name:
                    b[0] += "_renamed"
    elif op == "range":
        f = draw(st.sampled_from(ints))
        lo, hi = V_INTS[f.type]
        if f.range is not None and draw(st.booleans()):
            a, b = f.range
            a, b = a + draw(st.integers(-2, 2)), b + draw(st.integers(-2, 2))
            f.range = (max(lo, min(a, b)), min(hi, max(a, b)))
        else:
            f.range = None if f.range is not None else (max(lo, draw(st.integers(-5, 5))), min(hi, 200))
    elif op == "max":
        f = draw(st.sampled_from(bounded))
        f.max = draw(st.none() | st.integers(0, 14)) if f.max is None else \
            draw(st.none() | st.integers(max(0, f.max - 2), f.max + 2))
    elif op == "retype":  # another width: the bytes differ
        f = draw(st.sampled_from([f for f in ints if not f.retyped]))
        f.retyped = True
        width = {"u8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4}
        f.type = draw(st.sampled_from([t for t in sorted(V_INTS) if width[t] != width[f.type]]))
        f.range = None
    elif op == "history":
        f = draw(st.sampled_from(ints))
        f.since = draw(st.none() | st.integers(1, s.version))
        low = (f.since or 1) + 1
        f.removed = draw(st.none() | st.integers(low, s.version)) if low <= s.version else None
    elif op == "version":
        s.version = max(1, s.version + draw(st.sampled_from((-1, 1))))
        s.min_version = min(s.min_version, s.version)
        for f in list(s.body):
            if f.since and f.since > s.version:
                s.body.remove(f)
            elif f.removed and f.removed > s.version:
                f.removed = None
        if not s.body:
            s.body.append(VF("int", "fresh", "u8", since=s.version if s.version > 1 else None))
    else:
        s.min_version = draw(st.integers(1, s.version))


@st.composite
def v_pairs(draw) -> tuple[VS, VS]:
    old = draw(v_states())
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        draw(v_edit(new))
    return old, new


def _interval(layout, name: str) -> tuple[int, int]:
    """What the writer's decoder accepts for field ``name`` of ``layout`` (a counted array's
    count is bounded by the array's @max too)."""
    by = dict(m.member_names(layout))
    f = by[name]
    if isinstance(f, m.BitsField):
        lo, hi = 0, f.max_value
    elif isinstance(f.shape, m.Rest):
        lo, hi = 0, f.max if f.max is not None else TAIL_CAP
    else:
        lo, hi = f.type.min, f.type.max
        if f.range:
            lo, hi = max(lo, f.range[0]), min(hi, f.range[1])
        if f.max is not None:
            hi = min(hi, f.max)
    for mb in layout:
        if not mb.is_bits and isinstance(mb.shape, m.Counted) and mb.shape.count == name and mb.max is not None:
            hi = min(hi, mb.max)
    return lo, hi


def v_streams(schema_set, version: int) -> list[bytes]:
    """Entries of ``dev`` at ``version``: every value low, every value high, distinct values."""
    layout = schema_set.states["dev"].layouts[version]
    counts = {mb.shape.count: mb.name for mb in layout if not mb.is_bits and isinstance(mb.shape, m.Counted)}
    blobs = []
    for pick in ("lo", "hi", "mid"):
        fields = {}
        for i, (name, f) in enumerate(m.member_names(layout)):
            if name in counts:
                continue
            if isinstance(f, m.Field) and f.shape is not None:
                lo, hi = _interval(layout, f.shape.count if isinstance(f.shape, m.Counted) else name)
                n = {"lo": lo, "hi": hi, "mid": (lo + hi) // 2}[pick]
                fields[name] = [(i * 7 + k) % 200 for k in range(n)]
            else:
                lo, hi = _interval(layout, name)
                fields[name] = {"lo": lo, "hi": hi, "mid": lo + (i * 37 + 1) % (hi - lo + 1)}[pick]
        blobs.append(schema_set.encode({"entries": [
            {"state": "dev", "version": version, "instance_id": 1, "fields": fields}]}))
    return blobs


def misread(writer, reader) -> bool:
    """Some stream ``writer`` may write (at its version, or at an older version both describe)
    is rejected or read as other values by ``reader``."""
    w, r = writer.states["dev"], reader.states["dev"]
    older = range(max(w.min_version, r.min_version), min(w.version - 1, r.version) + 1)
    for version in [w.version, *older]:
        for blob in v_streams(writer, version):
            before, after = writer.decode(blob), reader.decode(blob)
            assert not has_errors(before), before["diagnostics"]
            if has_errors(after) or fields_of(after) != fields_of(before):
                return True
    return False


@SETTINGS
@given(v_pairs())
def test_verdict_is_the_bytes_verdict(pair):
    old, new = pair
    try:
        o, n = load(render_state(old)), load(render_state(new))
    except kstate.SchemaError:  # an edit made NEW invalid (e.g. a count after its array)
        assume(False)
    for direction, writer, reader in (("update", o, n), ("rollback", n, o)):
        errors = sorted(f.rule for f in check(o, n, direction) if f.severity == "error")
        assert bool(errors) == misread(writer, reader), (direction, errors, render_state(old),
                                                          render_state(new))


def render_state(s: VS) -> str:
    return s.render()
