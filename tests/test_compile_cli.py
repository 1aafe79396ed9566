"""``kstate compile``: outputs, --check, atomic failure, --depfile, determinism."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_kstate

SCHEMAS = ROOT / "schemas"


def copy_schemas(tmp_path):
    dst = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, dst)
    return dst


def test_compile_writes_docs_and_snapshot_for_each_schema_file(tmp_path):
    copy_schemas(tmp_path)
    res = run_kstate("compile", "--lang", "json,docs", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = tmp_path / "generated"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        ".kstate-outputs", "docs/iommu/iommu.md", "docs/kstate_test.md", "docs/kvm/guest_memfd.md", "docs/kvm/vm.md",
        "docs/memblock.md", "docs/memfd.md", "docs/pci.md", "docs/trace/ring_buffer.md",
        "kstate-snapshot.json"]
    snap = json.loads((out / "kstate-snapshot.json").read_text())
    assert snap["format"] == "kstate-snapshot" and snap["format_version"] == 1
    memfd = next(s for s in snap["states"] if s["name"] == "memfd")
    assert [(l["version"], l["fields"]) for l in memfd["layouts"]][0] == (
        1, ["pos", "size", "nr_folios", "folios", "name", "old_flags"])
    assert memfd["file"] == "memfd.kstate" and memfd["line"] == 22  # relative to the schema root
    assert "/" + "tmp" not in (out / "kstate-snapshot.json").read_text()
    assert "| `old_flags` | x | x |  |" in (out / "docs/memfd.md").read_text()


def test_check_reports_missing_stale_and_extra_and_writes_nothing(tmp_path):
    copy_schemas(tmp_path)
    res = run_kstate("compile", "--lang", "json,docs", "--check", cwd=tmp_path)
    assert res.returncode == 1
    assert "missing: generated/docs/memfd.md" in res.stdout
    assert not (tmp_path / "generated").exists()
    assert run_kstate("compile", "--lang", "json,docs", cwd=tmp_path).returncode == 0
    assert run_kstate("compile", "--lang", "json,docs", "--check", cwd=tmp_path).returncode == 0
    (tmp_path / "generated/docs/memfd.md").write_text("edited\n")
    (tmp_path / "generated/docs/mine.md").write_text("not kstate's\n")
    (tmp_path / "schemas/pci.kstate").unlink()  # pci.md was generated, and no longer is
    res = run_kstate("compile", "--lang", "json,docs", "--check", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stdout.splitlines() == ["stale: generated/.kstate-outputs", "stale: generated/docs/memfd.md",
                                       "stale: generated/kstate-snapshot.json", "extra: generated/docs/pci.md"]
    assert (tmp_path / "generated/docs/memfd.md").read_text() == "edited\n"
    # a normal run repairs the stale file and removes the extra one, not the file kstate did not write
    res = run_kstate("compile", "--lang", "json,docs", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == "removed: generated/docs/pci.md\n"
    assert not (tmp_path / "generated/docs/pci.md").exists()
    assert (tmp_path / "generated/docs/mine.md").read_text() == "not kstate's\n"
    assert run_kstate("compile", "--lang", "json,docs", "--check", cwd=tmp_path).returncode == 0


def test_a_failed_run_writes_nothing(tmp_path):
    schemas = copy_schemas(tmp_path)
    assert run_kstate("compile", "--lang", "json,docs", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()}
    text = (schemas / "pci.kstate").read_text().replace("nr_devices: u32", "nr_devices: nope")
    (schemas / "pci.kstate").write_text(text)
    (schemas / "memfd.kstate").write_text((schemas / "memfd.kstate").read_text().replace("pos", "posx"))
    res = run_kstate("compile", "--lang", "json,docs", cwd=tmp_path)
    assert res.returncode == 2
    assert "error[UNKNOWN_NAME]" in res.stderr and "Traceback" not in res.stderr
    after = {p: p.read_bytes() for p in (tmp_path / "generated").rglob("*") if p.is_file()}
    assert after == before


def test_output_is_deterministic_across_hash_seeds(tmp_path):
    copy_schemas(tmp_path)
    outputs = []
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = tmp_path / f"out{seed}"
        subprocess.run([sys.executable, "-m", "kstate", "compile", "--lang", "json,docs", "-o", str(out)],
                       cwd=tmp_path, env=env, check=True)
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1] == outputs[2]


def test_depfile_lists_outputs_and_schema_files(tmp_path):
    copy_schemas(tmp_path)
    res = run_kstate("compile", "--lang", "json", "--depfile", "gen.d", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    dep = (tmp_path / "gen.d").read_text()
    head = dep.split(":")[0]
    assert head.split() == ["generated/kstate-snapshot.json", "generated/.kstate-outputs"]
    for name in ("schemas/kstate_test.kstate", "schemas/memfd.kstate", "schemas/pci.kstate"):
        assert name in dep


def test_subfolders_are_mirrored(tmp_path):
    (tmp_path / "s" / "kvm").mkdir(parents=True)
    (tmp_path / "s" / "top.kstate").write_text("struct t { a: u8; }\n")
    (tmp_path / "s" / "kvm" / "gmem.kstate").write_text(
        'import "../top.kstate";\nstate g { id = 1; version = 1; x: t; }\n')
    res = run_kstate("compile", "s", "-o", "out", "--lang", "docs", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out/docs/kvm/gmem.md").is_file()
    assert (tmp_path / "out/docs/top.md").is_file()


def test_usage_errors_exit_2_without_traceback(tmp_path):
    for args in (["compile", "--lang", "cobol"], ["compile", "no/such/dir"], ["nosuchcommand"]):
        res = run_kstate(*args, cwd=tmp_path)
        assert res.returncode == 2, args
        assert "Traceback" not in res.stderr


def test_kstate_compile_alias_and_help(tmp_path):
    copy_schemas(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "import sys; from kstate.cli import compile_main; compile_main(['--lang', 'json'])"
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env)
    assert res.returncode == 0
    assert (tmp_path / "generated/kstate-snapshot.json").is_file()
    res = run_kstate("compile", "--help")
    assert res.returncode == 0 and "--depfile" in res.stdout and "--check" in res.stdout
