"""The python backend: generated modules are readable, import only the
runtime, and decode exactly like the codecs built in memory from the model."""

from __future__ import annotations

import ast
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import kstate
from kstate.backends import available
from kstate.codec import codecs_for, decode, encode, from_generated

FIXTURES = Path(__file__).parent / "fixtures" / "codec"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ss():
    return kstate.load(FIXTURES)


@pytest.fixture(scope="module")
def generated(ss, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    for rel, text in available()["python"].render(ss).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out / "python"


def test_backend_registered_and_files(ss):
    backend = available()["python"]
    assert backend.LANG == "python" and backend.OWNS == "python"
    files = backend.render(ss)
    assert sorted(files) == ["python/__init__.py", "python/features.py", "python/kstate_test.py",
                             "python/memfd.py", "python/pci.py"]
    assert backend.render(ss) == files  # deterministic


def test_generated_modules_import_only_the_runtime(generated):
    for path in generated.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module in ("importlib", "kstate.codec", "kstate.codec.describe", "kstate.codec.runtime",
                                       "kstate.codec.construct_source"), node.module
            elif isinstance(node, ast.Import):
                assert all(a.name in ("construct",) for a in node.names)


def test_generated_module_is_readable(generated):
    text = (generated / "memfd.py").read_text()
    assert "do not edit" in text
    assert "{'name': 'nr_folios', 'type': ('int', 'u32'), 'max': 1048576}," in text
    assert "# removed in 3: folded into seals; restore maps it" in text
    assert "MEMFD_ID = 16" in text and "MEMFD_VERSION = 3" in text and "MEMFD_MIN_VERSION = 1" in text


def test_generated_description_equals_in_memory(ss, generated):
    assert from_generated(generated).desc == codecs_for(ss).desc


def _blobs(ss):
    feat = {"state": "feat", "instance_id": 4, "fields": {
        "on": False, "level": 2, "c": "BLUE" if False else "GREEN", "p": ["W"], "pt": {"x": 5, "y": -5},
        "pk": {"lo": 1, "mid": 2, "hi": 3, "tag": 4}, "where_": 1, "f": 2, "ptr": 3, "small": [1, 2, 3],
        "big": list(range(20)), "digest": "01020304", "label": "lbl", "pts": [{"x": 1, "y": 1}],
        "blob": "ff", "kid": {"fields": {"a": 1, "b": 2}},
        "kids": [{"fields": {"a": 3, "b": 4}}, {"version": 1, "fields": {"a": 5}}], "tail": [1, 2]},
        "subsections": [{"state": "ext", "fields": {"x": 1}}]}
    good = encode(ss, {"entries": [feat]})
    out = [good, encode(ss, {"entries": [feat]}, "big")]
    bad = bytearray(good)
    bad[4 + 20 + 6] = 9  # unknown enum
    out.append(bytes(bad))
    bad[4 + 20 + 4] = 3  # bad bool
    out.append(bytes(bad))
    out.append(good[:-9])
    out.append(good + b"junk")
    return out


def test_generated_and_in_memory_decode_identically(ss, generated):
    gen = from_generated(generated)
    for blob in _blobs(ss):
        for lenient in (False, True):
            assert decode(gen, blob, lenient) == decode(ss, blob, lenient)
    doc = decode(ss, _blobs(ss)[0])
    assert encode(gen, doc) == encode(ss, doc)


def test_generated_package_codecs_in_a_fresh_interpreter(generated):
    """The package works on its own: import it, decode a stream built with struct."""
    pkg = generated.parent / "pkgcopy" / "kgen"
    shutil.copytree(generated, pkg)
    payload = struct.pack("<II", 1, 1) + struct.pack("<IHH", 7, 8, 9)
    blob = struct.pack("<I", 0x3B37778C) + struct.pack("<5i", 2, 32, 2, 0, len(payload)) + payload \
        + struct.pack("<i", -1)
    code = ("import sys, kgen; d = kgen.codecs().decode(bytes.fromhex(sys.argv[1])); "
            "print(d['entries'][0]['fields']['devices'])")
    res = subprocess.run([sys.executable, "-c", code, blob.hex()], cwd=pkg.parent, capture_output=True,
                         text=True, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[{'domain': 7, 'bdf': 8, 'refcount': 9}]"


def test_subfolder_maps_to_subpackage(tmp_path):
    (tmp_path / "schemas" / "kvm").mkdir(parents=True)
    (tmp_path / "schemas" / "kvm" / "gmem.kstate").write_text(
        "state gmem { id = 5; version = 1; n: u32; }\n")
    (tmp_path / "schemas" / "top.kstate").write_text("state top { id = 6; version = 1; b: bool; }\n")
    ss = kstate.load(tmp_path / "schemas")
    files = available()["python"].render(ss)
    assert {"python/kvm/gmem.py", "python/kvm/__init__.py", "python/top.py", "python/__init__.py"} <= set(files)
    for rel, text in files.items():
        (tmp_path / "gen" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "gen" / rel).write_text(text)
    gen = from_generated(tmp_path / "gen" / "python")
    assert sorted(gen.states) == ["gmem", "top"]
    blob = encode(gen, {"entries": [{"state": "gmem", "fields": {"n": 3}}]})
    assert decode(ss, blob)["entries"][0]["fields"] == {"n": 3}


def test_compile_command_writes_python(tmp_path):
    res = subprocess.run([sys.executable, "-m", "kstate", "compile", str(FIXTURES), "-o", str(tmp_path),
                          "--lang", "python"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "python" / "memfd.py").is_file()
    assert from_generated(tmp_path / "python").states["memfd"]["id"] == 16
