"""Finding, reading and parsing the files of a schema set, imports included.

``read_sources(paths)`` returns every file's syntax tree (each file once,
imports followed, cycles reported) plus the ``SourceMap`` for caret
rendering.  Files are identified by real path; ``display`` is the path a user
sees (relative to the working directory when the file is below it) and
``rel`` is relative to the set's root folder (outputs mirror it).

What may be read (docs/security.md): the schema roots are the folders named,
and for a file named, its project folder (``_default_roots``).  Every file read, found in a folder or
imported, must be a ``.kstate`` file whose real path (symbolic links
resolved) lies inside a root; an import is a relative path (``..`` may
climb, but not above the roots).  Only regular files of at most
``MAX_SCHEMA_BYTES`` are read, and an error about a file that is not UTF-8
text shows no line of it.  Every path below the root must be a safe name
(``kstate.names.file_name_problem``), and no two files may share a C spelling.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import syntax as s
from .errors import Diagnostic, Reporter, SchemaError, SourceMap, Span, UsageError
from .names import c_file_ident, file_name_problem
from .parser import parse
from .suggest import nearest
from .readfile import FileRefused, read_regular

MAX_SCHEMA_BYTES = 4 * 1024 * 1024
MAX_IMPORT_DEPTH = 64


@dataclass
class SourceFile:
    real: Path
    display: str
    tree: s.SyntaxFile | None
    rel: str = ""
    imports: list[Path] = field(default_factory=list)  # resolved, in source order
    import_spans: list[Span] = field(default_factory=list)


def display_path(path: Path) -> str:
    """The path relative to the working directory: never absolute, so outputs
    do not depend on where the checkout lives."""
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def expand_paths(paths: list[str]) -> tuple[list[Path], list[Path]]:
    """The schema files named by ``paths`` and the folders they were found in."""
    files: list[Path] = []
    roots: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(q for q in path.rglob("*.kstate") if q.is_file())
            if not found:
                raise UsageError(f"{p}: no .kstate files in this folder")
            files.extend(found)
            roots.append(path.resolve())
        elif path.is_file():
            if path.suffix != ".kstate":
                raise UsageError(f"{p}: not a schema: a side is a .kstate file, a folder of them, "
                                 "a snapshot .json written by kstate compile, or git:REF[:PATH]")
            files.append(path)
            roots.append(path.resolve().parent)
        elif path.exists():
            raise UsageError(f"{p}: not a regular file (a FIFO, device or socket); kstate reads schemas "
                             f"only from regular files")
        else:
            raise UsageError(f"{p}: no such file or folder")
    return files, roots


def _near_import(folder: Path, wanted: str) -> str | None:
    """``did you mean "memfd.kstate"?`` among the schema files beside the
    importing one (and one folder down)."""
    try:
        names = sorted(str(p.relative_to(folder)) for pattern in ("*.kstate", "*/*.kstate")
                       for p in folder.glob(pattern))
    except OSError:
        return None
    found = nearest(wanted, names[:1000])
    return f'did you mean `import "{found}";`?' if found else None


def _default_roots(paths: list[str]) -> list[Path]:
    """A folder named is its own root.  A file named is in its project: the
    nearest folder above it holding ``.git`` or ``kstate.toml``; without one,
    the common folder of the file and the working directory (a build folder
    beside the sources, like Kbuild's ``O=``), or the file's own folder when
    that common folder is the filesystem's top."""
    cwd = Path.cwd().resolve()
    roots = []
    for p in paths:
        path = Path(p).resolve()
        if path.is_dir():
            roots.append(path)
            continue
        marked = next((f for f in path.parents if (f / ".git").exists() or (f / "kstate.toml").is_file()), None)
        if marked is not None:
            roots.append(marked)
            continue
        common = Path(os.path.commonpath([str(cwd), str(path.parent)]))
        roots.append(common if len(common.parts) > 1 else path.parent)
    return roots


def _inside(real: Path, roots: list[Path]) -> bool:
    return any(real == r or real.is_relative_to(r) for r in roots)


def _import_problem(text: str) -> str | None:
    if text.startswith("/") or "\\" in text or (len(text) > 1 and text[1] == ":"):
        return "an import is a path relative to the importing file, not an absolute path"
    if not text.endswith(".kstate"):
        return "only .kstate files can be imported"
    return None


def read_sources(paths: list[str], roots: list[Path] | None = None) -> tuple[list[SourceFile], SourceMap]:
    """Read ``paths`` and their imports; ``roots`` (folders) replaces the
    schema roots, the only places files may be read from."""
    files, found_roots = expand_paths(paths)
    roots = [r.resolve() for r in roots] if roots is not None else _default_roots(paths)
    for f in files:
        if not _inside(f.resolve(), roots):
            raise UsageError(f"{display_path(Path.cwd() / f)}: a symbolic link to a file outside the schema "
                             f"folder; kstate reads only files inside it")
    sources = SourceMap()
    report = Reporter()
    by_real: dict[Path, SourceFile] = {}
    order: list[SourceFile] = []

    def load(path: Path, depth: int, via: Span | None) -> SourceFile | None:
        real = path.resolve()
        if real in by_real:
            return by_real[real]
        display = display_path(path if path.is_absolute() else Path.cwd() / path)
        if depth > MAX_IMPORT_DEPTH:
            report.error("IMPORT_DEPTH", f"imports nest deeper than {MAX_IMPORT_DEPTH} files", via)
            return None
        try:
            raw = read_regular(real, MAX_SCHEMA_BYTES, "a schema file", display)
        except FileRefused as err:
            if via is None:
                raise
            code = {"FILE_TOO_LARGE": "FILE_TOO_LARGE"}.get(err.code, "IMPORT_NOT_FOUND")
            report.error(code, f"cannot read imported file {err.message}", via)
            return None
        # not text: say where, never show the line (it may hold anything)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            report.error("BAD_ENCODING", f"{display} is not valid UTF-8 (byte {err.start})",
                         Span(display, line, 1))
            return None
        sources.add(display, text)
        src = SourceFile(real, display, None)
        by_real[real] = src
        try:
            src.tree = parse(text, str(path), display)
        except SchemaError as err:
            report.diagnostics.extend(err.diagnostics)
            order.append(src)
            return src
        order.append(src)
        for item in src.tree.items:
            if isinstance(item, s.ImportDecl):
                problem = _import_problem(item.path.value)
                if problem is not None:
                    report.error("BAD_IMPORT", f"cannot import '{item.path.value}': {problem}", item.path.span)
                    continue
                child_path = (path.parent / item.path.value)
                if not _inside(child_path.resolve(), roots):
                    report.error("IMPORT_OUTSIDE_ROOT",
                                 f"'{item.path.value}' is outside the schema folder "
                                 f"{' '.join(display_path(r) for r in roots)}; "
                                 f"an import must stay inside the folder kstate was given "
                                 f"(symbolic links are followed, then checked)", item.path.span,
                                 help="give kstate the folder that holds both files, or move the "
                                      "imported file into this one")
                    continue
                if not child_path.resolve().is_file():
                    report.error("IMPORT_NOT_FOUND",
                                 f"imported file '{item.path.value}' not found "
                                 f"(looked for {display_path(child_path.resolve())})",
                                 item.path.span, help=_near_import(path.parent, item.path.value))
                    continue
                child = load(child_path, depth + 1, item.path.span)
                if child is not None:
                    src.imports.append(child.real)
                    src.import_spans.append(item.path.span)
        return src

    for f in files:
        load(f, 0, None)
    _find_cycles(order, by_real, report)
    if report.has_errors:
        raise SchemaError(report.diagnostics, sources)
    root = Path(os.path.commonpath([str(r) for r in found_roots] + [str(f.real.parent) for f in order]))
    for f in order:
        f.rel = f.real.relative_to(root).as_posix()
    order.sort(key=lambda f: f.rel)
    _check_names(order, report)
    if report.has_errors:
        raise SchemaError(report.diagnostics, sources)
    return order, sources


def _check_names(order: list[SourceFile], report: Reporter) -> None:
    """Every file's path below the root is a safe name; no two files (or a file
    and a folder) end up with the same generated name."""
    by_key: dict[str, SourceFile] = {}
    stems = {f.rel[: -len(".kstate")] for f in order}
    for f in order:
        where = Span(f.display, 1, 1)
        problem = file_name_problem(f.rel)
        if problem is not None:
            report.error("BAD_FILE_NAME", f"schema file name '{f.rel}' refused: {problem}", where,
                         help="rename the file or folder; the name becomes C #include lines, include "
                              "guards, Python module names and Make depfile text")
            continue
        stem = f.rel[: -len(".kstate")]
        key = c_file_ident(stem)
        other = by_key.setdefault(key, f)
        if other is not f:
            report.error("FILE_NAME_CLASH", f"'{f.rel}' and '{other.rel}' give the same generated name "
                         f"{key} (C include guard and macro)", where,
                         help="rename one of them ('-' and '_', '/' and '__', case are not told apart)")
        parts = stem.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in stems:
                report.error("FILE_NAME_CLASH", f"'{folder}.kstate' and the folder '{folder}/' give the "
                             f"same Python module name", where, help="rename the file or the folder")


def _find_cycles(order: list[SourceFile], by_real: dict[Path, SourceFile], report: Reporter) -> None:
    state: dict[Path, int] = {}  # 1 = on the stack, 2 = done
    reported: set[frozenset] = set()

    def visit(f: SourceFile, stack: list[SourceFile]) -> None:
        state[f.real] = 1
        stack.append(f)
        for target, span in zip(f.imports, f.import_spans):
            child = by_real[target]
            if state.get(target) == 1:
                cycle = stack[stack.index(child):]
                key = frozenset(c.real for c in cycle)
                if key not in reported:
                    reported.add(key)
                    names = " -> ".join(c.display for c in cycle + [child])
                    report.error("IMPORT_CYCLE", f"import cycle: {names}", span)
            elif state.get(target) is None:
                visit(child, stack)
        stack.pop()
        state[f.real] = 2

    for f in order:
        if f.real not in state:
            visit(f, [])
