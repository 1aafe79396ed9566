"""``git:REF[:PATH]`` sides: schemas as they stand at a commit of the current
repository, read straight from the object store (``git ls-tree`` and
``git cat-file``; no checkout, the working tree is never touched).

PATH is relative to the repository's top folder and defaults to
``schemas/``; it may name a folder, one ``.kstate`` file, or a snapshot JSON.
The ``.kstate`` files of the commit are copied into a temporary folder and
compiled with the ordinary loader; every source position is then renamed
``git:REF:path`` (the path inside the repository), so findings and errors
never name the temporary folder.  A bad ref, a missing PATH or no git
repository is a ``UsageError`` (exit 2).
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

from . import model as m
from .build import build
from .errors import Diagnostic, SchemaError, SourceMap, Span, UsageError
from .loader import read_sources
from .snapshot import from_json

DEFAULT_PATH = "schemas"


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
    return ref, path.strip("/") or DEFAULT_PATH


def _tree(spec: str, commit: str) -> dict[str, str]:
    """path -> blob id of every file at ``commit``."""
    out = _git(["ls-tree", "-r", "-z", "--full-tree", commit], spec)
    files: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob":
            files[name.decode("utf-8", "surrogateescape")] = parts[2].decode()
    return files


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
            (raw,) = _blobs(spec, [files[path]])
            try:
                return from_json(raw.decode("utf-8"), spec)
            except UnicodeDecodeError:
                raise UsageError(f"{spec}: not UTF-8 text") from None
        if not path.endswith(".kstate"):
            raise UsageError(f"{spec}: {path} is neither a .kstate file nor a snapshot JSON")
    else:
        prefix = "" if path == "." else path + "/"
        if not any(p.startswith(prefix) for p in files):
            raise UsageError(f"{spec}: no {path} at {ref}")
        if not any(p.startswith(prefix) and p.endswith(".kstate") for p in files):
            raise UsageError(f"{spec}: no .kstate files under {path} at {ref}")
    # every .kstate file of the commit, so imports that leave PATH still resolve
    names = sorted(p for p in files if p.endswith(".kstate"))
    with tempfile.TemporaryDirectory(prefix="kstate-git-") as tmp:
        root = Path(tmp)
        texts: dict[str, bytes] = {}
        for name, blob in zip(names, _blobs(spec, [files[n] for n in names])):
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            texts[name] = blob
        return _load_tree(spec, label, root, path, texts)


def _load_tree(spec: str, label: str, root: Path, path: str, texts: dict[str, bytes]) -> m.SchemaSet:
    try:
        sources, source_map = read_sources([str(root / path)])
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
    diags = [dataclasses.replace(d, message=d.message.replace(prefix, f"{label}:")) for d in diags]
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
