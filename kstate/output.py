"""Rendering a schema set with the chosen backends, and writing the result.

``render_all`` produces ``{path: text}`` in memory.  ``plan`` compares it
with an output folder without writing (``compile --check`` prints it);
``write`` carries a plan out.  The rules (docs/pipelines.md):

- kstate removes only files it generated itself: the ones listed in the
  folder's manifest ``.kstate-outputs`` (written by every run) that the
  schemas no longer produce.  Any other file is never touched.
- Nothing is written through a symbolic link, and only regular files (or new
  paths) are written: every output path is validated before the first write.
- Every changed file goes into a temporary file beside its target first;
  only when all are written are they renamed over their targets, then the
  manifest last.  A run that fails before the renames leaves the folder as
  it was.
- Concurrent runs on one folder take turns (``flock`` on the folder itself).
- Temporary files an interrupted run left (``.NAME.XXXXXXXX`` beside an
  output) are removed, and ``--check`` reports them.
- Identical files are left untouched, except the manifest: its modification
  time is that of the last successful run, so Make can use it as the target
  that stands for all outputs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import model as m
from .backends import available
from .errors import UsageError
from .escape import printable

MANIFEST = ".kstate-outputs"
MANIFEST_HEAD = ("# Written by kstate compile: the files it generated in this folder.\n"
                 "# kstate removes a file here only when it is listed below and the schemas\n"
                 "# no longer produce it.  Do not edit.\n")
_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}$")  # tempfile.mkstemp(prefix=".NAME.")


def languages(spec: str | None) -> list[str]:
    backends = available()
    if spec is None:
        return list(backends)
    langs = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [l for l in langs if l not in backends]
    if unknown or not langs:
        raise UsageError(f"--lang: unknown language {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(backends)}")
    return [l for l in backends if l in langs]


def render_all(schema_set: m.SchemaSet, langs: list[str]) -> dict[str, str]:
    backends = available()
    out: dict[str, str] = {}
    for lang in langs:
        out.update(backends[lang].render(schema_set))
    return dict(sorted(out.items()))


def _bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode("utf-8")


def _show(outdir: Path, rel: str) -> str:
    return (outdir / rel).as_posix()


# --- validating paths ------------------------------------------------------------


def _lstat(path: Path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # a parent is a file: reported for that parent
    except OSError as err:
        raise UsageError(f"{path.as_posix()}: cannot inspect: {err.strerror or err}") from None


def check_target(path: Path, parents_from: Path | None = None) -> os.stat_result | None:
    """The target's stat when it is a regular file, None when it does not exist.

    A symbolic link, folder, FIFO or device at ``path``, or a link or
    non-folder among its parents below ``parents_from``, is a UsageError:
    kstate writes only regular files or new paths, never through a link.
    """
    if parents_from is not None:
        rel = path.relative_to(parents_from)
        cur = parents_from
        for part in rel.parts[:-1]:
            cur = cur / part
            st = _lstat(cur)
            if st is None:
                break
            if stat.S_ISLNK(st.st_mode):
                raise UsageError(f"{cur.as_posix()}: is a symbolic link; kstate does not write through "
                                 "links inside the output folder (remove the link, or give -o the real folder)")
            if not stat.S_ISDIR(st.st_mode):
                raise UsageError(f"{cur.as_posix()}: is not a folder, but outputs go below it; "
                                 "move it away")
    st = _lstat(path)
    if st is None:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(f"{path.as_posix()}: is a symbolic link; kstate writes only regular files or "
                         "new paths (remove the link)")
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path.as_posix()}: is a folder where kstate writes a file; move it away")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path.as_posix()}: is not a regular file (a FIFO, socket or device); "
                         "kstate writes only regular files or new paths")
    return st


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise UsageError(f"{path.as_posix()}: cannot read: {err.strerror or err}") from None


# --- the manifest ----------------------------------------------------------------


def _owner(rel: str, backends: dict) -> str | None:
    """The --lang whose output ``rel`` is (by its first path component)."""
    first = PurePosixPath(rel).parts[0]
    for lang, mod in backends.items():
        if first == mod.OWNS:
            return lang
    return None


def _valid_entry(rel: str) -> bool:
    p = PurePosixPath(rel)
    return (bool(rel) and not p.is_absolute() and ".." not in p.parts and "." not in p.parts
            and "\\" not in rel and str(p) == rel)


def read_manifest(outdir: Path) -> list[str]:
    """The files a previous run generated in ``outdir``; entries that are not
    plain relative paths below an output sub-folder are ignored."""
    path = outdir / MANIFEST
    if check_target(path) is None:
        return []
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path.as_posix()}: not UTF-8 text; delete it (kstate writes it anew, "
                         "but then does not remove outputs the schemas no longer produce)") from None
    backends = available()
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if _valid_entry(line) and _owner(line, backends) is not None:
            out.append(line)
    return out


def manifest_text(entries) -> str:
    return MANIFEST_HEAD + "".join(f"{e}\n" for e in sorted(set(entries)))


# --- planning --------------------------------------------------------------------


@dataclass
class Plan:
    outdir: Path
    write: dict[str, bytes] = field(default_factory=dict)  # changed or new, manifest included
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)  # generated earlier, no longer produced
    leftovers: list[str] = field(default_factory=list)  # temporary files of interrupted runs

    def problems(self) -> list[tuple[str, str]]:
        """(status, path) for ``compile --check``, in path order within each status."""
        out = [("missing", r) for r in self.missing] + [("stale", r) for r in self.stale]
        out.sort(key=lambda p: p[1])
        out += [("extra", r) for r in self.remove]
        out += [("extra", r) for r in self.leftovers]
        return out


def plan(outdir: Path, files: dict[str, str | bytes], langs: list[str]) -> Plan:
    """Compare ``files`` with ``outdir``; validates every path (UsageError)."""
    st = _lstat(outdir)
    if st is not None and not os.path.isdir(outdir):
        raise UsageError(f"{outdir.as_posix()}: is not a folder")
    backends = available()
    chosen = set(langs)
    p = Plan(outdir)
    for rel, content in files.items():
        target = outdir / rel
        data = _bytes(content)
        if check_target(target, outdir) is None:
            p.missing.append(rel)
            p.write[rel] = data
        elif _read(target) != data:
            p.stale.append(rel)
            p.write[rel] = data
    old = read_manifest(outdir) if st is not None else []
    keep = []
    for rel in old:
        if rel in files:
            continue
        target = outdir / rel
        try:
            exists = check_target(target, outdir) is not None
        except UsageError:
            exists = False  # not a regular file any more: not ours to remove
        if not exists:
            continue
        if _owner(rel, backends) in chosen:
            p.remove.append(rel)
        else:
            keep.append(rel)  # another --lang's output: stays, and stays listed
    p.remove.sort()
    text = _bytes(manifest_text(list(files) + keep))
    mpath = outdir / MANIFEST
    if check_target(mpath) is None:
        p.missing.append(MANIFEST)
        p.write[MANIFEST] = text
    elif _read(mpath) != text:
        p.stale.append(MANIFEST)
        p.write[MANIFEST] = text
    p.leftovers = _leftovers(outdir, set(files) | set(old) | {MANIFEST})
    return p


def _leftovers(outdir: Path, known: set[str]) -> list[str]:
    """``.NAME.XXXXXXXX`` files beside known outputs: temporary files of a run that was killed."""
    names: dict[str, set[str]] = {}
    for rel in known:
        parent, _, name = rel.rpartition("/")
        names.setdefault(parent, set()).add(name)
    found = []
    for parent, here in names.items():
        folder = outdir / parent if parent else outdir
        try:
            st = os.lstat(folder)
            if not stat.S_ISDIR(st.st_mode):
                continue
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            match = _TEMP.match(entry)
            if match and match.group("name") in here:
                rel = f"{parent}/{entry}" if parent else entry
                if stat.S_ISREG(os.lstat(outdir / rel).st_mode):
                    found.append(rel)
    return sorted(found)


# --- writing ---------------------------------------------------------------------


class _Lock:
    """An exclusive ``flock`` on the output folder: concurrent compiles take turns."""

    def __init__(self, folder: Path, shared: bool = False):
        self.folder, self.shared, self.fd = folder, shared, None

    def __enter__(self):
        if not os.path.isdir(self.folder):
            raise UsageError(f"{self.folder.as_posix()}: is not a folder")
        try:
            self.fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(self.fd, fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX)
        except OSError as err:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP):
                raise UsageError(f"{self.folder.as_posix()}: cannot lock: {err.strerror or err}") from None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)


def _mkdirs(path: Path, created: list[Path]) -> None:
    missing = []
    cur = path
    while _lstat(cur) is None:
        missing.append(cur)
        cur = cur.parent
    for d in reversed(missing):
        os.mkdir(d)
        created.append(d)


def _undo_dirs(created: list[Path]) -> None:
    for d in reversed(created):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _temp_beside(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def check(outdir: Path, files: dict[str, str | bytes], langs: list[str]) -> list[tuple[str, str]]:
    """``compile --check``: every missing, stale or extra path; writes nothing."""
    if _lstat(outdir) is None:
        return plan(outdir, files, langs).problems()
    with _Lock(outdir, shared=True):
        return plan(outdir, files, langs).problems()


def write(outdir: Path, files: dict[str, str | bytes], langs: list[str], report=None) -> list[str]:
    """Bring ``outdir`` up to date with ``files``; return the paths changed or removed.

    ``report(line)`` is told of every removal (``removed: DIR/c/old.h``)."""
    report = report or (lambda line: None)
    created: list[Path] = []
    temps: list[tuple[str, Path]] = []
    try:
        _mkdirs(outdir, created)
    except OSError as err:
        _undo_dirs(created)
        raise UsageError(f"cannot create {outdir.as_posix()}: {err.strerror or err}") from None
    with _Lock(outdir):
        try:
            p = plan(outdir, files, langs)
            # every new text into a temporary file beside its target ...
            for rel, data in p.write.items():
                if rel == MANIFEST:
                    continue
                target = outdir / rel
                _mkdirs(target.parent, created)
                temps.append((rel, _temp_beside(target, data)))
            if MANIFEST in p.write:
                temps.append((MANIFEST, _temp_beside(outdir / MANIFEST, p.write[MANIFEST])))
        except OSError as err:
            for _, tmp in temps:
                tmp.unlink(missing_ok=True)
            _undo_dirs(created)
            raise UsageError(f"cannot write to {outdir.as_posix()}: {err.strerror or err}") from None
        except BaseException:
            for _, tmp in temps:
                tmp.unlink(missing_ok=True)
            _undo_dirs(created)
            raise
        changed = []
        try:
            # ... then renamed over their targets (each atomically), the manifest last,
            # so an interrupted run still lists what it may have to remove next time
            for rel, tmp in temps[:-1] if temps and temps[-1][0] == MANIFEST else temps:
                os.replace(tmp, outdir / rel)
                changed.append(rel)
            for rel in p.remove:
                (outdir / rel).unlink()
                report(f"removed: {_show(outdir, rel)}")
                changed.append(rel)
                _prune(outdir, rel)
            for rel in p.leftovers:
                (outdir / rel).unlink(missing_ok=True)
                report(f"removed: {_show(outdir, rel)} (temporary file of an interrupted run)")
            if temps and temps[-1][0] == MANIFEST:
                os.replace(temps[-1][1], outdir / MANIFEST)
            else:  # the manifest's time is the last successful run's: Make's stamp
                os.utime(outdir / MANIFEST)
            temps = []
        except OSError as err:
            raise UsageError(f"cannot write to {outdir.as_posix()}: {err.strerror or err}") from None
        finally:
            for _, tmp in temps:
                tmp.unlink(missing_ok=True)
    return changed


def _prune(outdir: Path, rel: str) -> None:
    """Remove the folders a removal left empty (never ``outdir`` itself)."""
    parts = PurePosixPath(rel).parts[:-1]
    for k in range(len(parts), 0, -1):
        try:
            os.rmdir(outdir.joinpath(*parts[:k]))
        except OSError:
            return


def write_file(path: Path, data: bytes) -> None:
    """Write one file atomically: only a regular file or a new path (never a
    FIFO, device or link), through a temporary file renamed over it."""
    check_target(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        tmp = _temp_beside(parent / path.name, data)
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as err:
        raise UsageError(f"cannot write {path.as_posix()}: {err.strerror or err}") from None


def depfile(target: Path, outputs: list[str], outdir: Path, inputs: list[str]) -> str:
    """Make rules: every output depends on every input.  Spaces, ``#``, ``$``
    and ``:`` are escaped as GNU make reads them; a path holding a control
    character (a newline) cannot be written in a Make file at all and is
    refused.  Names below the schema root are already safe
    (``kstate.names``); this covers the folders above it and ``-o DIR``."""
    def esc(p: str) -> str:
        if any(ord(c) < 0x20 or ord(c) == 0x7f for c in p):
            raise UsageError(f"--depfile: the path {printable(p)} holds a control character and "
                             f"cannot be written in a Make depfile")
        return p.replace(" ", "\\ ").replace("#", "\\#").replace(
            "$", "$$").replace(":", "\\:")

    outs = " ".join(esc((outdir / o).as_posix()) for o in outputs)
    ins = " \\\n  ".join(esc(i) for i in inputs)
    return f"{outs}: \\\n  {ins}\n" + "".join(f"\n{esc(i)}:\n" for i in inputs)
