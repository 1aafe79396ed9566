"""Finding, reading and parsing the files of a schema set, imports included.

``read_sources(paths)`` returns every file's syntax tree (each file once,
imports followed, cycles reported) plus the ``SourceMap`` for caret
rendering.  Files are identified by real path; ``display`` is the path a user
sees (relative to the working directory when the file is below it) and
``rel`` is relative to the set's root folder (outputs mirror it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import syntax as s
from .errors import Diagnostic, Reporter, SchemaError, SourceMap, Span, UsageError
from .parser import parse
from .suggest import nearest

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


def read_sources(paths: list[str]) -> tuple[list[SourceFile], SourceMap]:
    files, roots = expand_paths(paths)
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
            if real.stat().st_size > MAX_SCHEMA_BYTES:
                message = f"{display} is larger than {MAX_SCHEMA_BYTES} bytes"
                if via is None:
                    raise UsageError(message)
                report.error("FILE_TOO_LARGE", message, via)
                return None
            raw = real.read_bytes()
        except OSError as err:
            if via is None:
                raise UsageError(f"{display}: cannot read: {err.strerror}") from None
            report.error("IMPORT_NOT_FOUND", f"cannot read imported file {display}: {err.strerror}", via)
            return None
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
                child_path = (path.parent / item.path.value)
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
    root = Path(os.path.commonpath([str(r) for r in roots] + [str(f.real.parent) for f in order]))
    for f in order:
        f.rel = f.real.relative_to(root).as_posix()
    order.sort(key=lambda f: f.rel)
    return order, sources


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
