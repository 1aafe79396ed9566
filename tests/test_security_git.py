"""Hostile git trees (issue 17.2): a ``git:REF:PATH`` side made from a crafted
commit reads nothing outside PATH, writes nothing outside its temporary
folder, never follows a link and never reads a huge blob.

The commits are built by the test with ``git hash-object --literally``
(``git mktree`` refuses names holding ``/`` or ``..``; an attacker's
repository need not), ``git mktree`` and ``git commit-tree``."""

from __future__ import annotations

import binascii
import subprocess
from pathlib import Path

import pytest

from conftest import run_kstate

GOOD = b"state s {\n    id = 1;\n    version = 1;\n    x: u8;\n}\n"
EVIL = b"state s {\n    id = 1;\n    version = 1;\n}\n"  # x dropped: would be FIELD_DROPPED


def git(repo: Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=data, capture_output=True,
                          check=True).stdout.decode().strip()


def blob(repo: Path, data: bytes) -> str:
    return git(repo, "hash-object", "-w", "--stdin", data=data)


def raw_tree(repo: Path, entries: list[tuple[str, bytes, str]]) -> str:
    raw = b"".join(mode.encode() + b" " + name + b"\0" + binascii.unhexlify(oid) for mode, name, oid in entries)
    return git(repo, "hash-object", "-t", "tree", "-w", "--literally", "--stdin", data=raw)


def commit(repo: Path, tree: str, branch: str) -> None:
    git(repo, "branch", "-f", branch, git(repo, "commit-tree", tree, "-m", branch))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "schemas" / "s.kstate").write_bytes(GOOD)
    (repo / "schemas" / "y.kstate").write_bytes(GOOD.replace(b"id = 1", b"id = 2").replace(b"state s", b"state y"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


def hostile_trees(repo: Path) -> dict[str, tuple[str, str]]:
    """branch -> (PATH, the message part expected)."""
    good, evil = blob(repo, GOOD), blob(repo, EVIL)
    trees = {}

    def schemas(*entries):
        return raw_tree(repo, [("40000", b"schemas", raw_tree(repo, [("100644", b"s.kstate", good), *entries]))])

    up = raw_tree(repo, [("100644", b"y.kstate", evil)])
    trees["dotdot-subtree"] = (schemas(("40000", b"..", up)), "schemas", "schemas/../y.kstate")
    trees["dotdot-name"] = (schemas(("100644", b"x/../../y.kstate", evil)), "schemas", "schemas/x/../../y.kstate")
    trees["absolute"] = (schemas(("100644", b"/tmp/kstate-abs-evil/x.kstate", evil)), "schemas", "schemas//tmp")
    trees["dot"] = (schemas(("40000", b".", raw_tree(repo, [("100644", b"t.kstate", evil)]))), "schemas",
                    "schemas/./t.kstate")
    link = blob(repo, b"/etc/passwd")
    trees["symlink"] = (schemas(("120000", b"l.kstate", link)), "schemas", "is a symbolic link")
    # a legal tree made by mktree: a symlinked folder is not followed, so it is not a problem
    sub_link = git(repo, "mktree", data=f"100644 blob {good}\ts.kstate\n120000 blob {blob(repo, b'/etc')}\tetc\n"
                   .encode())
    trees["symlinked-folder"] = (git(repo, "mktree", data=f"040000 tree {sub_link}\tschemas\n".encode()),
                                 "schemas", None)
    return {name: (tree, path, expect) for name, (tree, path, expect) in trees.items()}


@pytest.mark.parametrize("case", ["dotdot-subtree", "dotdot-name", "absolute", "dot", "symlink",
                                  "symlinked-folder"])
def test_hostile_tree_is_refused_and_writes_nothing(repo, tmp_path, case):
    tree, path, expect = hostile_trees(repo)[case]
    commit(repo, tree, "evil")
    before = snapshot(tmp_path)
    proc = run_kstate("check", "git:evil:" + path, "schemas", cwd=repo)
    assert "Traceback" not in proc.stderr
    assert snapshot(tmp_path) == before  # the working tree (and everything near it) unchanged
    assert not Path("/tmp/kstate-abs-evil").exists()
    if expect is None:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2
    assert proc.stderr.startswith("kstate: error: git:evil:schemas: ")
    assert expect in proc.stderr
    assert proc.stdout == ""


def test_only_files_below_path_are_read_and_blob_sizes_are_checked_first(repo):
    """A huge blob in an unrelated folder is not read; one below PATH is refused
    from its size in the tree listing, before it is read."""
    good = blob(repo, GOOD)
    big = blob(repo, b"/" * (4 * 1024 * 1024 + 1))
    other = raw_tree(repo, [("100644", b"huge.kstate", big)])
    tree = raw_tree(repo, [("40000", b"other", other),
                           ("40000", b"schemas", raw_tree(repo, [("100644", b"s.kstate", good)]))])
    commit(repo, tree, "big-elsewhere")
    proc = run_kstate("check", "git:big-elsewhere:schemas", "schemas", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    proc = run_kstate("check", "git:big-elsewhere:other", "schemas", cwd=repo)
    assert proc.returncode == 2
    assert "tree entry 'other/huge.kstate': 4194305 bytes, larger than 4194304" in proc.stderr


def test_path_with_dotdot_is_refused(repo):
    proc = run_kstate("check", "git:HEAD:schemas/../..", "schemas", cwd=repo)
    assert proc.returncode == 2
    assert "PATH must be a plain path inside the repository" in proc.stderr


def test_imports_stay_inside_path(repo):
    """PATH is the root: an import that climbs out of it is refused, even
    though the file exists in the commit."""
    (repo / "schemas" / "sub").mkdir()
    (repo / "schemas" / "sub" / "a.kstate").write_text('import "../s.kstate";\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "sub")
    proc = run_kstate("check", "git:HEAD:schemas/sub", "schemas/sub", cwd=repo)
    assert proc.returncode == 2
    assert "git:HEAD:schemas/sub/a.kstate:1:8: error[IMPORT_OUTSIDE_ROOT]" in proc.stderr
    proc = run_kstate("check", "git:HEAD:schemas", "schemas", cwd=repo)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("ref", ["--output=evil-out", "-c core.pager=touch evil-out"])
def test_a_ref_that_looks_like_an_option_is_only_a_ref(repo, ref):
    proc = run_kstate("check", f"git:{ref}:schemas", "schemas", cwd=repo)
    assert proc.returncode == 2
    assert "is not a commit, branch or tag of this repository" in proc.stderr
    assert not (repo / "evil-out").exists()
