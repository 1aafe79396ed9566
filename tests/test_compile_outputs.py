"""``kstate compile`` in an output folder a project shares with other files:
only its own files are removed, nothing is written through links or onto
non-files, a failed run writes nothing, concurrent runs take turns, and the
outputs do not depend on the working directory.  Every test runs the real
command in a temporary tree (docs/pipelines.md)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_kstate

SCHEMAS = ROOT / "schemas"


def project(tmp_path):
    shutil.copytree(SCHEMAS, tmp_path / "schemas", ignore=shutil.ignore_patterns("history"))
    return tmp_path


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_compile_keeps_files_it_did_not_write_and_prints_each_removal(tmp_path):
    project(tmp_path)
    assert run_kstate("compile", cwd=tmp_path).returncode == 0
    gen = tmp_path / "generated"
    (gen / "c/mine.h").write_text("/* hand-written */\n")
    (gen / "docs/design.md").write_text("# the project's own design notes\n")
    (gen / "notes.txt").write_text("kept\n")
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout == "", res.stdout + res.stderr
    assert (gen / "c/mine.h").read_text() == "/* hand-written */\n"
    assert (gen / "docs/design.md").is_file() and (gen / "notes.txt").is_file()
    # `kstate compile -o .`: the project's own docs/ survive
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/design.md").write_text("# design\n")
    assert run_kstate("compile", "-o", ".", cwd=tmp_path).returncode == 0
    assert (tmp_path / "docs/design.md").read_text() == "# design\n"
    # a schema file goes away: its generated files are extra, then removed, each one printed
    (tmp_path / "schemas/pci.kstate").unlink()
    res = run_kstate("compile", "--check", cwd=tmp_path)
    assert res.returncode == 1
    extra = [line for line in res.stdout.splitlines() if line.startswith("extra:")]
    assert extra == ["extra: generated/c/pci.h", "extra: generated/docs/pci.md", "extra: generated/python/pci.py"]
    assert "mine.h" not in res.stdout and "design.md" not in res.stdout
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 0
    assert res.stdout.splitlines() == ["removed: generated/c/pci.h", "removed: generated/docs/pci.md",
                                       "removed: generated/python/pci.py"]
    assert not (gen / "c/pci.h").exists() and (gen / "c/mine.h").is_file()
    assert run_kstate("compile", "--check", cwd=tmp_path).returncode == 0


def test_a_manifest_cannot_make_compile_remove_files_outside_its_outputs(tmp_path):
    project(tmp_path)
    assert run_kstate("compile", "--lang", "docs", cwd=tmp_path).returncode == 0
    (tmp_path / "precious.txt").write_text("keep\n")
    (tmp_path / "generated/precious.txt").write_text("keep\n")
    manifest = tmp_path / "generated/.kstate-outputs"
    manifest.write_text(manifest.read_text() + "../precious.txt\nprecious.txt\n/etc/hostname\ndocs/../../precious.txt\n")
    res = run_kstate("compile", "--lang", "docs", cwd=tmp_path)
    assert res.returncode == 0 and "removed" not in res.stdout
    assert (tmp_path / "precious.txt").is_file() and (tmp_path / "generated/precious.txt").is_file()


def test_outputs_are_byte_identical_from_any_cwd_and_path_spelling(tmp_path):
    project(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(SCHEMAS / "memfd.kstate", tmp_path / "elsewhere/memfd.kstate")
    runs = [
        (tmp_path, ["schemas", "-o", "out1"]),
        (tmp_path / "schemas", [".", "-o", "../out2"]),
        (tmp_path / "schemas", ["./", "-o", "../out3"]),
        ("/", [str(tmp_path / "schemas"), "-o", str(tmp_path / "out4")]),
        (tmp_path / "schemas/kvm", ["../../schemas/", "-o", str(tmp_path / "out5")]),
    ]
    for cwd, args in runs:
        res = run_kstate("compile", *args, cwd=cwd)
        assert res.returncode == 0, res.stderr
    first = tree(tmp_path / "out1")
    assert "kstate-snapshot.json" in first and "docs/memfd.md" in first
    for k in range(2, 6):
        assert tree(tmp_path / f"out{k}") == first, k
    # compiled from the repository root, checked from schemas/: up to date
    res = run_kstate("compile", ".", "-o", "../out1", "--check", cwd=tmp_path / "schemas")
    assert res.returncode == 0, res.stdout
    # a file outside the cwd is named by its path below the schema root, not ../../elsewhere/
    res = run_kstate("compile", "../elsewhere/memfd.kstate", "-o", "../out6", "--lang", "json,docs",
                     cwd=tmp_path / "schemas")
    assert res.returncode == 0, res.stderr
    for name in ("kstate-snapshot.json", "docs/memfd.md"):
        text = (tmp_path / "out6" / name).read_text()
        assert "elsewhere" not in text and ".." not in text and str(tmp_path) not in text


def test_a_symlinked_subfolder_is_refused_and_nothing_is_written(tmp_path):
    project(tmp_path)
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim/keep.md").write_text("victim\n")
    (tmp_path / "gen").mkdir()
    os.symlink("../victim", tmp_path / "gen/docs")
    res = run_kstate("compile", "-o", "gen", cwd=tmp_path)
    assert res.returncode == 2
    assert "gen/docs: is a symbolic link" in res.stderr and "Traceback" not in res.stderr
    assert sorted(os.listdir(tmp_path / "victim")) == ["keep.md"]
    assert sorted(os.listdir(tmp_path / "gen")) == ["docs"]


def test_a_blocked_output_path_fails_before_any_file_is_replaced(tmp_path):
    project(tmp_path)
    assert run_kstate("compile", cwd=tmp_path).returncode == 0
    gen = tmp_path / "generated"
    (tmp_path / "schemas/memfd.kstate").write_text(
        (tmp_path / "schemas/memfd.kstate").read_text().replace("MEMFD_NAME_LEN = 16", "MEMFD_NAME_LEN = 32"))
    (tmp_path / "schemas/new.kstate").write_text("const NEW_ONE = 1;\n")
    (gen / "c/pci.h").unlink()
    (gen / "c/pci.h").mkdir()  # a folder where an output goes
    before = tree(gen)
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 2
    assert "generated/c/pci.h: is a folder where kstate writes a file" in res.stderr
    assert tree(gen) == before
    assert not (gen / "c/new.h").exists() and not (gen / "docs/new.md").exists()
    assert not [p for p in gen.rglob(".*") if p.name != ".kstate-outputs"]  # no temporary files left


def test_encode_and_sample_write_only_regular_files_or_new_paths(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    doc = b'{"byteorder": "little", "entries": []}'
    res = run_kstate("encode", "-", "--schema", SCHEMAS, "-o", fifo, input=doc, cwd=tmp_path)
    assert res.returncode == 2
    assert b"fifo: is not a regular file" in res.stderr and b"Traceback" not in res.stderr
    assert (fifo.lstat().st_mode & 0o170000) == 0o010000  # still a FIFO
    link = tmp_path / "link.bin"
    os.symlink(tmp_path / "target.bin", link)
    res = run_kstate("encode", "-", "--schema", SCHEMAS, "-o", link, input=doc, cwd=tmp_path)
    assert res.returncode == 2 and b"is a symbolic link" in res.stderr
    assert not (tmp_path / "target.bin").exists()
    res = run_kstate("encode", "-", "--schema", SCHEMAS, "-o", tmp_path / "out.bin", input=doc, cwd=tmp_path)
    assert res.returncode == 0 and len((tmp_path / "out.bin").read_bytes()) == 8  # the EOF entry
    res = run_kstate("sample", SCHEMAS, "--state", "pci", "-o", fifo, cwd=tmp_path)
    assert res.returncode == 2 and "not a regular file" in res.stderr


def test_leftover_temporary_files_are_reported_and_removed(tmp_path):
    project(tmp_path)
    assert run_kstate("compile", cwd=tmp_path).returncode == 0
    gen = tmp_path / "generated"
    (gen / "c/.memfd.h.k2j3h4l5").write_text("half a header")  # a run killed before its rename
    (gen / "..kstate-outputs.a1b2c3d4").write_text("half a manifest")
    (gen / "c/.mine.h.k2j3h4l5").write_text("not beside a kstate output: not kstate's")
    res = run_kstate("compile", "--check", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stdout.splitlines() == ["extra: generated/..kstate-outputs.a1b2c3d4",
                                       "extra: generated/c/.memfd.h.k2j3h4l5"]
    res = run_kstate("compile", cwd=tmp_path)
    assert res.returncode == 0
    assert res.stdout.splitlines() == [
        "removed: generated/..kstate-outputs.a1b2c3d4 (temporary file of an interrupted run)",
        "removed: generated/c/.memfd.h.k2j3h4l5 (temporary file of an interrupted run)"]
    assert (gen / "c/.mine.h.k2j3h4l5").is_file()
    assert run_kstate("compile", "--check", cwd=tmp_path).returncode == 0


def test_concurrent_compiles_into_one_folder_take_turns(tmp_path):
    project(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "kstate", "compile"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 for code, _ in results), results
    assert run_kstate("compile", "--check", cwd=tmp_path).returncode == 0
    assert not [p for p in (tmp_path / "generated").rglob(".*") if p.name != ".kstate-outputs"]


def test_a_compile_waits_for_the_folder_lock(tmp_path):
    """While another holder has the output folder's lock, compile waits and writes nothing."""
    import fcntl
    import time

    project(tmp_path)
    gen = tmp_path / "generated"
    gen.mkdir()
    fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "kstate", "compile"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wchan = ""
        for _ in range(1200):  # until it blocks on the lock, or ends (an unlocked compile)
            if proc.poll() is not None:
                break
            try:
                wchan = (Path("/proc") / str(proc.pid) / "wchan").read_text()
            except OSError:
                wchan = ""
            if "lock" in wchan:
                break
            time.sleep(0.05)
        still_waiting = proc.poll() is None
        written = os.listdir(gen)
    finally:
        os.close(fd)  # release: the compile goes on
    out, err = proc.communicate(timeout=300)
    assert still_waiting and written == [], (wchan, written, err)
    assert proc.returncode == 0, err
    assert (gen / ".kstate-outputs").is_file()


def _run_with_closed_pipe(args, cwd):
    """Run kstate with stdout a pipe whose reading end is already closed (like `| head -0`)."""
    r, w = os.pipe()
    os.close(r)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        proc = subprocess.run([sys.executable, "-m", "kstate", *args], cwd=cwd, env=env, stdout=w,
                              stderr=subprocess.PIPE, text=True)
    finally:
        os.close(w)
    return proc


def test_check_into_a_closed_pipe_is_not_success(tmp_path):
    project(tmp_path)
    proc = _run_with_closed_pipe(["compile", "--check"], tmp_path)  # nothing generated yet: stale
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    # and through a real `| head -1` in a shell
    sh = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m kstate compile --check "
                                       f"-o big | head -1"], cwd=tmp_path, capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert sh.returncode != 0 and sh.stdout.startswith("missing: big/")


def test_closed_stdin_and_stdout_are_clean_errors(tmp_path):
    project(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    py = sys.executable
    res = subprocess.run(["bash", "-c", f"{py} -m kstate decode - --schema schemas <&-"], cwd=tmp_path,
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2, res.stderr
    assert "standard input is closed" in res.stderr and "internal error" not in res.stderr
    res = subprocess.run(["bash", "-c", f"{py} -m kstate compile --check >&-"], cwd=tmp_path,
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2, res.stderr
    assert "standard output is closed" in res.stderr and "internal error" not in res.stderr
    assert not (tmp_path / "generated").exists()
