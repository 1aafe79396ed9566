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

import json

from hypothesis import assume, given
from hypothesis import strategies as st

from kstate import model as m
from kstate.checker import check
from kstate.testing import entries_of

try:  # tests/ is a rootdir on sys.path (no __init__.py) ...
    from test_check_props import SETTINGS, load, render, safe_evolutions, unsafe_edits
except ImportError:  # ... or a package
    from .test_check_props import SETTINGS, load, render, safe_evolutions, unsafe_edits

SAME_BYTES = {"u64", "addr(linear)", "folio", "*u64"}
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
    assume(not (retyped and retyped <= SAME_BYTES))
    state = o.state_by_id(sid)
    blobs = [built_stream(o, state, False), built_stream(o, state, True), drawn_stream(o, state, data)]
    misread = []
    for blob in blobs:
        before, after = o.decode(blob), n.decode(blob)
        assert not has_errors(before), before["diagnostics"]
        misread.append(has_errors(after) or fields_of(after) != fields_of(before))
    assert any(misread[:2]), "the streams built from the model must show the break"
