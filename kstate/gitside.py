"""``git:REF[:PATH]`` sides: schemas as they stand at a commit of the current
repository, read straight from the object store (``git ls-tree`` and
``git cat-file``; no checkout, the working tree is never touched).

PATH is relative to the repository's top folder and defaults to
``schemas/``; it may name a folder, one ``.kstate`` file, or a snapshot JSON.
The ``.kstate`` files below PATH (for a file: of the whole commit, like the
working directory is the root of a file named on the command line) are
copied into a fresh temporary folder and compiled with the ordinary loader,
whose root is that folder; every source position is then renamed
``git:REF:path`` (the path inside the repository), so findings and errors
never name the temporary folder.  A bad ref, a missing PATH or no git
repository is a ``UsageError`` (exit 2).

The commit is untrusted (docs/security.md): tree entries are checked before
anything is read.  A name with an empty, ``.`` or ``..`` part, or an absolute
one, is refused; a symbolic link named ``*.kstate`` is refused (links in a
tree are never followed, and others are never read); only regular blobs
are read, each at most ``MAX_SCHEMA_BYTES`` and all together at most
``MAX_GIT_BYTES`` (sizes come from ``git ls-tree -l``, before any blob is
read).  Files are created exclusively inside the temporary folder, which
holds nothing else.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
from pathlib import Path

from . import model as m
from .build import build
from .errors import Diagnostic, SchemaError, SourceMap, Span, UsageError
from .loader import MAX_SCHEMA_BYTES, display_path, read_sources
from .snapshot import from_json

DEFAULT_PATH = "schemas"
MAX_GIT_BYTES = 64 * 1024 * 1024  # all the .kstate blobs of one side together
MAX_GIT_FILES = 10_000
from .limits import MAX_SNAPSHOT_BYTES  # noqa: E402  (as kstate.sides)
REGULAR_MODES = (b"100644", b"100755")


def _git(args: list[str], what: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], input=data, capture_output=True, check=False)
    except OSError as err:
        raise UsageError(f"{what}: cannot run git: {err.strerror}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"{what}: {detail[-1] if detail else 'git failed'}")
    return proc.stdout


def parse_spec(spec: str) -> tuple[str, str]:
    body = spec[len("git:"):]
    ref, _, path = body.partition(":")
    if not ref:
        raise UsageError(f"{spec}: no ref; write git:REF[:PATH], e.g. git:origin/main:schemas")
    path = path.strip()
    if path in (".", "./", "/"):
        return ref, "."  # the whole tree
    while path.startswith("./"):
        path = path[2:]
    path = path.strip("/") or DEFAULT_PATH
    if _unsafe(path):
        raise UsageError(f"{spec}: PATH must be a plain path inside the repository (no '.', '..' or "
                         f"empty parts)")
    return ref, path


def _unsafe(name: str) -> bool:
    """A tree path that is not a plain relative name: absolute, or with an
    empty, ``.`` or ``..`` part (or a NUL or backslash, which git never writes)."""
    return (name.startswith("/") or "\0" in name or "\\" in name
            or any(part in ("", ".", "..") for part in name.split("/")))


@dataclasses.dataclass(frozen=True)
class _Entry:
    mode: bytes
    oid: str
    size: int


def _tree(spec: str, commit: str) -> dict[str, _Entry]:
    """path -> entry of every blob at ``commit`` (names as git lists them, unchecked)."""
    out = _git(["ls-tree", "-r", "-z", "-l", "--full-tree", commit], spec)
    files: dict[str, _Entry] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 4 and parts[1] == b"blob":
            size = int(parts[3]) if parts[3].isdigit() else 0
            files[name.decode("utf-8", "surrogateescape")] = _Entry(parts[0], parts[2].decode(), size)
    return files


def _checked(spec: str, files: dict[str, _Entry], names: list[str], limit: int) -> None:
    """Refuse, before reading anything, an unsafe name, a link, or too many bytes."""
    if len(names) > MAX_GIT_FILES:
        raise UsageError(f"{spec}: more than {MAX_GIT_FILES} .kstate files")
    total = 0
    for name in names:
        e = files[name]
        where = f"{spec}: tree entry '{name}'"
        if _unsafe(name):
            raise UsageError(f"{where}: not a plain relative name (an absolute path or a '.', '..' or "
                             f"empty part); kstate reads only plain names from a commit")
        if e.mode == b"120000":
            raise UsageError(f"{where}: is a symbolic link; kstate does not follow links in a commit")
        if e.mode not in REGULAR_MODES:
            raise UsageError(f"{where}: not a regular file (mode {e.mode.decode()})")
        if e.size > limit:
            raise UsageError(f"{where}: {e.size} bytes, larger than {limit}, the most kstate reads")
        total += e.size
        if total > MAX_GIT_BYTES:
            raise UsageError(f"{spec}: the .kstate files add up to more than {MAX_GIT_BYTES} bytes, "
                             f"the most kstate reads from one commit")


def _blobs(spec: str, ids: list[str]) -> list[bytes]:
    """The contents of ``ids``, read in one ``git cat-file --batch``."""
    if not ids:
        return []
    out = _git(["cat-file", "--batch"], spec, ("\n".join(ids) + "\n").encode())
    blobs, pos = [], 0
    for _ in ids:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        if len(header) != 3:
            raise UsageError(f"{spec}: cannot read object {header[0].decode() if header else '?'}")
        size = int(header[2])
        blobs.append(out[nl + 1: nl + 1 + size])
        pos = nl + 1 + size + 1
    return blobs


def load_git(spec: str) -> m.SchemaSet:
    ref, path = parse_spec(spec)
    _git(["rev-parse", "--git-dir"], f"{spec}: not inside a git repository")
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
                      spec).decode().strip()
    except UsageError:
        raise UsageError(f"{spec}: '{ref}' is not a commit, branch or tag of this repository") from None
    files = _tree(spec, commit)
    label = f"git:{ref}"
    if path in files:
        if path.endswith(".json"):
            _checked(spec, files, [path], MAX_SNAPSHOT_BYTES)
            (raw,) = _blobs(spec, [files[path].oid])
            try:
                return from_json(raw.decode("utf-8"), spec)
            except UnicodeDecodeError:
                raise UsageError(f"{spec}: not UTF-8 text") from None
        if not path.endswith(".kstate"):
            raise UsageError(f"{spec}: {path} is neither a .kstate file nor a snapshot JSON")
        prefix = ""  # a file: the whole commit is its root
    else:
        prefix = "" if path == "." else path + "/"
        if not any(p.startswith(prefix) for p in files):
            raise UsageError(f"{spec}: no {path} at {ref}")
        if not any(p.startswith(prefix) and p.endswith(".kstate") for p in files):
            raise UsageError(f"{spec}: no .kstate files under {path} at {ref}")
    names = sorted(p for p in files if p.startswith(prefix) and p.endswith(".kstate"))
    _checked(spec, files, names, MAX_SCHEMA_BYTES)
    with tempfile.TemporaryDirectory(prefix="kstate-git-") as tmp:
        root = Path(tmp).resolve()
        texts: dict[str, bytes] = {}
        for name, blob in zip(names, _blobs(spec, [files[n].oid for n in names])):
            _create(spec, root, name, blob)
            texts[name] = blob
        return _load_tree(spec, label, root, path, prefix, texts)


def _create(spec: str, root: Path, name: str, data: bytes) -> None:
    """Write ``data`` at ``root/name``: a checked plain name, a new file, inside ``root``."""
    target = root / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.parent.resolve() != target.parent:  # cannot happen for a checked name
            raise UsageError(f"{spec}: tree entry '{name}' is outside the tree")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise UsageError(f"{spec}: tree entry '{name}' appears twice") from None
    except OSError as err:
        raise UsageError(f"{spec}: tree entry '{name}': cannot copy: {err.strerror or err}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _load_tree(spec: str, label: str, root: Path, path: str, prefix: str,
               texts: dict[str, bytes]) -> m.SchemaSet:
    try:
        sources, source_map = read_sources([str(root / path)], roots=[root / prefix])
    except SchemaError as err:
        raise _renamed_error(err, root, label, texts) from None
    rename = {s.display: f"{label}:{s.real.relative_to(root.resolve()).as_posix()}" for s in sources}
    smap = _renamed_sources(texts, label)
    try:
        schema_set = build(sources, source_map)
    except SchemaError as err:
        raise SchemaError([_rename_diag(d, rename) for d in err.diagnostics], smap) from None
    _rename_spans(schema_set, rename)
    schema_set.warnings = [_rename_diag(d, rename) for d in schema_set.warnings]
    schema_set.origin = spec
    schema_set.sources = smap
    return schema_set


def _renamed_sources(texts: dict[str, bytes], label: str) -> SourceMap:
    """The texts of the commit's .kstate files, under their ``git:REF:path`` names."""
    smap = SourceMap()
    for name, raw in texts.items():
        smap.add(f"{label}:{name}", raw.decode("utf-8", "replace"))
    return smap


def _renamed_error(err: SchemaError, root: Path, label: str, texts: dict[str, bytes]) -> SchemaError:
    """A SchemaError from reading the temporary copy, with git:REF:path names."""
    prefix = root.resolve().as_posix().rstrip("/") + "/"
    rename: dict[str, str] = {}
    for d in err.diagnostics:
        if d.span is not None:
            full = Path(d.span.file)
            full = full if full.is_absolute() else (Path.cwd() / full)
            posix = full.resolve().as_posix()
            if posix.startswith(prefix):
                rename[d.span.file] = f"{label}:{posix[len(prefix):]}"
    diags = [_rename_diag(d, rename) for d in err.diagnostics]
    shown = display_path(root).rstrip("/") + "/"  # the loader names folders relative to the cwd

    def renamed(text: str) -> str:
        return text.replace(prefix, f"{label}:").replace(shown, f"{label}:")

    diags = [dataclasses.replace(d, message=renamed(d.message)) for d in diags]
    return SchemaError(diags, _renamed_sources(texts, label))


def _rename_diag(d: Diagnostic, rename: dict[str, str]) -> Diagnostic:
    if d.span is None or d.span.file not in rename:
        return d
    return dataclasses.replace(d, span=dataclasses.replace(d.span, file=rename[d.span.file]))


def _rename_spans(root: object, rename: dict[str, str]) -> None:
    """Rename the file of every ``Span`` reachable from ``root`` (the model is a graph)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                value = getattr(obj, f.name)
                if isinstance(value, Span):
                    if value.file in rename:
                        object.__setattr__(obj, f.name, dataclasses.replace(value, file=rename[value.file]))
                elif isinstance(value, (list, tuple, dict)) or (
                        dataclasses.is_dataclass(value) and not isinstance(value, type)):
                    stack.append(value)
        if isinstance(obj, m.SchemaFile) and obj.display in rename:
            obj.display = rename[obj.display]
