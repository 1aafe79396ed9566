"""Resource exhaustion from small inputs (issue 17.7): each is a fast, clear
error instead of minutes or gigabytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT, run_kstate

STATE = "state s {\n    id = 1;\n    version = 1;\n    x: u8;\n}\n"


def test_multiplying_constants_cannot_build_huge_integers(tmp_path):
    # the reproducer: a constant never holds more than 64 bits, so the
    # chain stops at its first line (BAD_CONST_VALUE), and the rest is not reported
    lines = ["const A = 1 << 4096;", "const B0 = A * A;"]
    lines += [f"const B{i} = B{i - 1} * B{i - 1};" for i in range(1, 30)]
    (tmp_path / "mul.kstate").write_text("\n".join(lines) + "\n" + STATE)
    proc = run_kstate("compile", "mul.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("mul.kstate:1:11: error[BAD_CONST_VALUE]: constant A = ")
    assert proc.stderr.count("error[") == 1  # the constants built on A are not reported again


def test_one_expression_cannot_build_huge_integers(tmp_path):
    (tmp_path / "mul.kstate").write_text("const A = ((1 << 4096) * (1 << 4096)) >> 4096 >> 4094;\n" + STATE)
    proc = run_kstate("compile", "mul.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("mul.kstate:1:24: error[LIMIT_EXCEEDED]: the value of this expression has "
                                  "8193 bits; kstate computes with at most 8192-bit integers")


def test_big_values_up_to_the_limit_still_work(tmp_path):
    (tmp_path / "ok.kstate").write_text("const A = ((1 << 4096) * (1 << 4095)) >> 4096 >> 4094;\nconst B = A / A;\n"
                                        "state s {\n    id = B;\n    version = 1;\n    x: u8;\n}\n")
    proc = run_kstate("compile", "ok.kstate", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def sides(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "a.kstate").write_text(STATE)
    return str(tmp_path / "a.kstate"), str(tmp_path / "a.kstate")


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder"])
def test_waivers_are_read_only_from_a_regular_file(tmp_path, sides, special):
    path = {"fifo": str(tmp_path / "w.toml"), "folder": str(tmp_path), "/dev/zero": "/dev/zero"}[special]
    if special == "fifo":
        os.mkfifo(path)  # no writer: a blocking open would hang forever
    proc = run_kstate("check", *sides, "--waivers", path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"kstate: error: {path}: ")
    assert ("is a folder" if special == "folder" else "not a regular file") in proc.stderr


def test_waiver_file_size_is_bounded(tmp_path, sides):
    big = tmp_path / "w.toml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n")
    proc = run_kstate("check", *sides, "--waivers", str(big))
    assert proc.returncode == 2
    assert "larger than 1048576 bytes, the most kstate reads for a waiver file" in proc.stderr


@pytest.mark.parametrize("argv", [
    ["check", "FIFO.json", "schemas"],
    ["decode", "FIFO.bin", "--schema", "schemas"],
    ["encode", "FIFO.json", "--schema", "schemas"],
    ["compile", "FIFO.kstate", "-o", "out"],
])
def test_no_input_file_may_be_a_fifo(tmp_path, argv):
    for a in argv:
        if a.startswith("FIFO"):
            os.mkfifo(tmp_path / a)
    os.symlink(ROOT / "schemas", tmp_path / "schemas")
    proc = run_kstate(*argv, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "FIFO" in proc.stderr and "not a regular file" in proc.stderr


# --- the encoder, kstate sample and kstate decode: sizes checked before building ---------

HUGE_CHAR = "state s {\n    id = 1;\n    version = 1;\n    name: char[1 << 30];\n}\n"


def test_encoder_refuses_a_huge_fixed_field_before_allocating_it(tmp_path):
    (tmp_path / "big.kstate").write_text(HUGE_CHAR)
    (tmp_path / "doc.json").write_text('{"entries": [{"state": "s", "fields": {"name": ""}}]}')
    proc = run_kstate("encode", "doc.json", "--schema", "big.kstate", "-o", "out.bin", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == ("kstate: error: entries[0].fields: expected a stream of at most 268435456 bytes, "
                           "but 's' version 1 takes at least 1073741824 bytes\n")
    assert not (tmp_path / "out.bin").exists()


def test_encoder_limit_in_process_is_exact(tmp_path):
    import kstate
    from kstate.codec import EncodeError, encode
    from kstate.codec.limits import Limits

    (tmp_path / "s.kstate").write_text("state s {\n    id = 1;\n    version = 1;\n    name: char[64];\n"
                                       "    data: bytes[32];\n    n: u32[4];\n}\n")
    ss = kstate.load(tmp_path / "s.kstate")
    doc = {"entries": [{"state": "s", "fields": {"name": "a", "data": "00" * 32, "n": [1, 2, 3, 4]}}]}
    assert encode(ss, doc, limits=Limits(stream_size=1000))
    with pytest.raises(EncodeError, match="takes at least 112 bytes"):
        encode(ss, doc, limits=Limits(stream_size=111))


@pytest.mark.parametrize("field", ["data: bytes[1 << 30];", "name: char[1 << 30];", "n: u64[1 << 22];"])
def test_sample_refuses_states_too_large_to_sample(tmp_path, field):
    (tmp_path / "big.kstate").write_text(f"state s {{\n    id = 1;\n    version = 1;\n    {field}\n}}\n")
    proc = run_kstate("sample", "big.kstate", "--state", "s", "-o", "s.bin", cwd=tmp_path)
    assert proc.returncode == 2
    assert "kstate sample writes payloads of at most 16777216 bytes" in proc.stderr
    assert not (tmp_path / ".hypothesis").exists()


def test_sample_of_long_fixed_arrays_is_quick_and_writes_only_its_output(tmp_path):
    (tmp_path / "s.kstate").write_text("state s {\n    id = 1;\n    version = 1;\n    data: bytes[100000];\n"
                                       "    n: u32[5000];\n    name: char[70000];\n}\n")
    proc = run_kstate("sample", "s.kstate", "--state", "s", "-o", "s.bin", "--seed", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.bin", "s.kstate"]  # no .hypothesis/
    proc = run_kstate("decode", "s.bin", "--schema", "s.kstate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fields = __import__("json").loads(proc.stdout)["entries"][0]["fields"]
    assert len(fields["data"]) == 200000 and len(set(fields["data"])) > 10  # random, not all zeros
    assert len(fields["n"]) == 5000


class _Recorder:
    """A text stream that keeps what is written and the size of the largest write."""

    def __init__(self):
        self.parts: list[str] = []
        self.largest = 0

    def write(self, s: str) -> int:
        self.parts.append(s)
        self.largest = max(self.largest, len(s))
        return len(s)

    def flush(self) -> None:
        pass


def test_decode_json_is_written_in_pieces(tmp_path, monkeypatch):
    """The JSON text of a big decode is never built whole: it is written in
    pieces of about 64 KiB, and is the same text ``json.dumps`` gives."""
    import json
    import sys

    import kstate
    from kstate.cli import run

    ss = kstate.load(ROOT / "schemas")
    n = 20000
    doc = {"entries": [{"state": "memfd", "instance_id": 1, "fields": {
        "pos": 0, "size": 0, "seals": [], "name": "m",
        "folios": [{"pfn": i, "flags": 0, "index": i} for i in range(n)]}}]}
    (tmp_path / "m.bin").write_bytes(ss.encode(doc))
    out = _Recorder()
    monkeypatch.setattr(sys, "stdout", out)
    assert run(["decode", str(tmp_path / "m.bin"), "--schema", str(ROOT / "schemas")]) == 0
    text = "".join(out.parts)
    assert len(text) > 2_000_000
    assert out.largest < 2 * 65536
    assert text == json.dumps(ss.decode((tmp_path / "m.bin").read_bytes()), indent=2) + "\n"


@pytest.mark.parametrize("line", ['[kstate]\nout = "/tmp/kstate-evil-out"', '[kstate]\nout = "../victim"',
                                  '[kstate]\nschemas = ["schemas", "/"]', '[check]\nwaivers = "/proc/self/environ"',
                                  '[kstate]\nout = "link/x"'])
def test_project_file_paths_stay_inside_its_folder(tmp_path, line):
    """kstate.toml is the project's, so in a pull request it is the
    attacker's: its paths cannot point kstate at files outside the project."""
    project = tmp_path / "project"
    (project / "schemas").mkdir(parents=True)
    (project / "schemas" / "a.kstate").write_text(STATE)
    os.symlink(tmp_path, project / "link")
    (project / "kstate.toml").write_text(line + "\n")
    proc = run_kstate("compile", cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.startswith("kstate.toml:2:1: error[BAD_CONFIG]: ")
    assert "is outside the folder of kstate.toml" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
    assert not Path("/tmp/kstate-evil-out").exists()


def test_a_fifo_named_kstate_toml_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "kstate.toml")  # opening it for reading would block forever
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "a.kstate").write_text(STATE)
    proc = run_kstate("compile", "schemas", "-o", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # not a project file: ignored
    assert (tmp_path / "out" / "c" / "a.h").is_file()
