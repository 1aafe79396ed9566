"""Properties of the front end over random schemas (hypothesis)."""

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate import model as m
from kstate.errors import KstateError, SchemaError
from kstate.snapshot import from_json, to_json
from kstate.testing import schema_texts

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


WORK = Path(tempfile.mkdtemp(prefix="kstate-props-"))


def compile_text(text: str):
    path = WORK / "s.kstate"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return kstate.load(path)


@SETTINGS
@given(schema_texts())
def test_random_valid_schemas_compile_and_layouts_follow_since_and_removed(text):
    ss = compile_text(text)
    assert ss.states
    for state in ss.states.values():
        assert set(state.layouts) == set(range(state.min_version, state.version + 1))
        for v, layout in state.layouts.items():
            expected = [mb for mb in state.members
                        if (mb.since or 0) <= v and (mb.removed is None or v < mb.removed)]
            assert list(layout) == expected
            # [..] only last; counts before their arrays
            for i, mb in enumerate(layout):
                if isinstance(mb.shape, m.Rest):
                    assert i == len(layout) - 1
                if isinstance(mb.shape, m.Counted):
                    before = [n for n, _ in m.member_names(layout[:i])]
                    assert mb.shape.count in before


@SETTINGS
@given(schema_texts())
def test_snapshot_is_deterministic_and_round_trips(text):
    ss = compile_text(text)
    first = to_json(ss)
    assert to_json(compile_text(text)) == first
    again = from_json(first, "snapshot.json")
    assert to_json(again) == first
    for name, state in ss.states.items():
        other = again.states[name]
        for v in state.versions:
            assert [mb.wire for mb in state.layouts[v]] == [mb.wire for mb in other.layouts[v]]


MUTATIONS = ["delete", "insert", "duplicate", "swap"]
NOISE = list("{}[]();:=,@*/\"~-<>.|&^%") + ["state", "struct", "0x", "..", "///", "/*", "\\", "\x00",
                                             "\u00e9", "99999999999999999999", "@since(", "bits u8 {"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(schema_texts(), st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 10_000),
                                          st.sampled_from(NOISE)), min_size=1, max_size=4))
def test_mutated_schemas_fail_only_with_kstate_errors(text, edits):
    for kind, pos, noise in edits:
        pos = pos % (len(text) + 1)
        if kind == "delete":
            text = text[:pos] + text[pos + 1 + pos % 7:]
        elif kind == "insert":
            text = text[:pos] + noise + text[pos:]
        elif kind == "duplicate":
            text = text[:pos] + text[pos:pos + 20] + text[pos:]
        else:
            lines = text.splitlines()
            if len(lines) > 1:
                i = pos % (len(lines) - 1)
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
            text = "\n".join(lines)
    try:
        ss = compile_text(text)
    except SchemaError as err:
        assert err.diagnostics
        for d in err.diagnostics:
            assert d.span is not None and d.span.line >= 1 and d.span.column >= 1
            assert d.render(err.sources)  # renders without raising
        return
    except KstateError:
        return
    to_json(ss)  # whatever compiles also snapshots


def test_mutation_corpus_is_not_trivially_valid():
    # guards the property above: most mutations must actually break the text
    rnd = random.Random(7)
    broken = 0
    base = Path(__file__).resolve().parent.parent / "schemas" / "memfd.kstate"
    text = base.read_text()
    for _ in range(40):
        pos = rnd.randrange(len(text))
        try:
            compile_text(text[:pos] + rnd.choice("{};:@") + text[pos:])
        except SchemaError:
            broken += 1
    assert broken > 20
