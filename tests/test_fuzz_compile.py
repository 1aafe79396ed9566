"""Time-bounded hypothesis version of tools/fuzz/fuzz_compile.py, beyond
tests/test_language_properties.py (which mutates generated schemas and only
snapshots them): the project's own schema files and the fuzz seed corpus,
mutated at the byte level, are compiled with *every* backend, and whatever
compiles also decodes a random blob and its own sample stream.  Only
``KstateError`` subclasses may come out."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kstate
from kstate.codec import decode, encode
from kstate.errors import KstateError, SchemaError
from kstate.output import languages, render_all

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "schemas").rglob("*.kstate"), *(ROOT / "tools" / "fuzz" / "seeds" / "schema").glob("*"),
                  ROOT / "tests" / "fixtures" / "codec" / "features.kstate",
                  ROOT / "tests" / "fixtures" / "attack" / "attack.kstate"])
NOISE = [b"{", b"}", b"[", b"]", b"(", b")", b";", b":", b"=", b",", b"@", b"*", b"/", b'"', b"..",
         b"///", b"/*", b"*/", b"\\", b"\x00", b"\xff", "\u00e9".encode(), b"\xe2\x80\xa8", b"99999999999999999999",
         b"@since(", b"@removed(1, \"x\")", b"bits u8 {", b"state", b"struct", b"import \"x.kstate\";",
         b"1 << 4096", b"((((((((", b"u8[..]", b"[n]", b"@max(", b"\r", b"\t", b"-"]
WORK = Path(tempfile.mkdtemp(prefix="kstate-test-fuzz-compile-"))
atexit.register(shutil.rmtree, WORK, True)
LANGS = languages(None)


def compile_all(data: bytes) -> None:
    path = WORK / "fuzz.kstate"
    path.write_bytes(data)
    try:
        ss = kstate.load(path)
    except SchemaError as err:
        assert err.diagnostics
        for d in err.diagnostics:
            d.render(err.sources)
        return
    except KstateError:
        return
    render_all(ss, LANGS)
    blob = b"\x8c\x77\x37\x3b" + data[:64] + b"\xff\xff\xff\xff"
    for lenient in (False, True):
        decode(ss, blob, lenient=lenient)
    for name, st_ in ss.states.items():
        doc = {"entries": [{"state": name, "fields": {}}]}
        try:
            encode(ss, doc)
        except KstateError:
            pass


EDIT = st.tuples(st.sampled_from(["delete", "insert", "duplicate", "flip"]), st.integers(0, 1 << 20),
                 st.sampled_from(NOISE), st.integers(0, 255))


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SOURCES), st.lists(EDIT, min_size=0, max_size=4))
def test_mutated_schema_files_compile_with_every_backend_or_fail_cleanly(source, edits):
    data = bytearray(source.read_bytes())
    for kind, pos, noise, byte in edits:
        pos %= len(data) + 1
        if kind == "delete":
            del data[pos:pos + 1 + byte % 9]
        elif kind == "insert":
            data[pos:pos] = noise
        elif kind == "duplicate":
            data[pos:pos] = data[pos:pos + byte]
        elif pos < len(data):
            data[pos] = byte
    compile_all(bytes(data))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_as_a_schema(data):
    compile_all(data)
